"""The transformer from scratch: encoder and decoder blocks, a small encoder-decoder, decoding.

Built on :mod:`dlbook.attention`. An **encoder block** maps a sequence of vectors to a sequence
of the same length: self-attention, a residual connection and layer normalization, then a
position-wise feed-forward network, again with a residual connection and layer normalization.
A **decoder block** adds masked (causal) self-attention over the outputs produced so far and
cross-attention from those outputs to the encoder's output. Each block can copy the weights of
its PyTorch counterpart (``copy_from_torch``), so the tests and the chapter can check that the
two compute the same thing.

What is here:

* :class:`FeedForward`, :class:`EncoderLayer`, :class:`DecoderLayer`.
* :class:`Seq2SeqTransformer`: token embeddings plus sinusoidal positions, a stack of encoder
  layers, a stack of decoder layers and a linear layer to vocabulary scores.
* :class:`TransformerLM`: a single stack over one sequence, either bidirectional (BERT-like,
  trained to fill in masked tokens) or causal (GPT-like, trained to predict the next token).
* :func:`greedy_decode` and :func:`beam_search`: autoregressive decoding with BEGIN and END
  tokens. Both keep a key–value cache: the keys and values of the positions decoded so far
  (and of the encoder's output, for cross-attention) are computed once and reused, so each
  step runs the decoder on the new token alone; ``use_cache=False`` recomputes the whole
  prefix at every step instead (the same outputs, slower).

Layer normalization is :class:`dlbook.normalization.LayerNorm`. Shapes are batch first:
(B, L, d_model). Masks follow :mod:`dlbook.attention`: ``True`` marks
what may be attended to.

Sources: Vaswani et al. (2017), "Attention is all you need"; Ba, Kiros and Hinton (2016),
"Layer normalization"; Hung-yi Lee, Machine Learning 2021, "Transformer" lectures.

Introduced in :doc:`/notebooks/16_transformer`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import (
    MultiHeadAttention,
    causal_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from .checks import require_labels
from .normalization import LayerNorm

__all__ = [
    "FeedForward",
    "EncoderLayer",
    "DecoderLayer",
    "Seq2SeqTransformer",
    "TransformerLM",
    "greedy_decode",
    "beam_search",
]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class FeedForward(nn.Module):
    """The position-wise feed-forward network: FFN(x) = W_2 act(W_1 x + b_1) + b_2.

    Applied to every position separately (the same weights everywhere).

    Args:
        d_model: input and output size. d_ff: hidden size. activation: ``"relu"`` or ``"gelu"``.
        dropout: dropout after the activation (training only).

    Raises:
        ValueError: for an unknown activation.

    Source: Vaswani et al. (2017), section 3.3. Introduced in :doc:`/notebooks/16_transformer`.
    """

    def __init__(self, d_model: int, d_ff: int, activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        self.activation = activation
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., d_model) -> (..., d_model)."""
        return self.linear2(self.dropout(_ACTIVATIONS[self.activation](self.linear1(x))))


def _check_torch_layer(ours, theirs) -> None:
    if theirs.norm_first != ours.norm_first:
        raise ValueError(f"norm_first differs: ours {ours.norm_first}, theirs {theirs.norm_first}")
    act = theirs.activation
    name = {F.relu: "relu", F.gelu: "gelu"}.get(act, type(act).__name__.lower())
    if name != ours.ffn.activation:
        raise ValueError(f"activation differs: ours {ours.ffn.activation!r}, theirs {name!r}")
    if theirs.linear1.out_features != ours.ffn.linear1.out_features:
        raise ValueError(
            f"d_ff differs: ours {ours.ffn.linear1.out_features}, "
            f"theirs {theirs.linear1.out_features}"
        )


@torch.no_grad()
def _copy_linear_norm(dst: nn.Module, src: nn.Module) -> None:
    dst.weight.copy_(src.weight)
    dst.bias.copy_(src.bias)
    if hasattr(dst, "eps"):
        dst.eps = src.eps


class EncoderLayer(nn.Module):
    """One encoder block: self-attention and a feed-forward network, each with a residual
    connection and layer normalization.

    Post-norm (``norm_first=False``, the original transformer and the course's picture)::

        x = LN_1(x + SelfAttention(x));   x = LN_2(x + FFN(x))

    Pre-norm (``norm_first=True``, easier to train when deep)::

        x = x + SelfAttention(LN_1(x));   x = x + FFN(LN_2(x))

    Args:
        d_model: vector size. num_heads: attention heads (must divide d_model).
        d_ff: hidden size of the feed-forward network.
        dropout: dropout on the attention weights, inside the FFN and on each branch.
        activation: ``"relu"`` or ``"gelu"``. norm_first: pre-norm instead of post-norm.
        eps: layer-norm epsilon.

    Source: Vaswani et al. (2017), section 3.1. Equal to
    :class:`torch.nn.TransformerEncoderLayer` (``batch_first=True``, same ``norm_first`` and
    activation) once :meth:`copy_from_torch` has copied its weights.
    Introduced in :doc:`/notebooks/16_transformer`.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
        eps: float = 1e-5,
    ):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ffn = FeedForward(d_model, d_ff, activation, dropout)
        self.norm1, self.norm2 = LayerNorm(d_model, eps), LayerNorm(d_model, eps)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: x (B, L, d_model); key_mask (B, L), ``True`` at real tokens; mask (L, L).

        Returns: ``(output, weights)``: (B, L, d_model) and the self-attention weights
        (B, h, L, L).
        """
        if self.norm_first:
            h, weights = self.self_attn(self.norm1(x), mask=mask, key_mask=key_mask)
            x = x + self.dropout1(h)
            x = x + self.dropout2(self.ffn(self.norm2(x)))
        else:
            h, weights = self.self_attn(x, mask=mask, key_mask=key_mask)
            x = self.norm1(x + self.dropout1(h))  # add & norm
            x = self.norm2(x + self.dropout2(self.ffn(x)))  # add & norm
        return x, weights

    def copy_from_torch(self, layer: nn.TransformerEncoderLayer) -> EncoderLayer:
        """Copy the weights of a :class:`torch.nn.TransformerEncoderLayer`; returns ``self``.

        Raises:
            ValueError: if norm_first, the activation or the sizes differ.
        """
        _check_torch_layer(self, layer)
        self.self_attn.copy_from_torch(layer.self_attn)
        _copy_linear_norm(self.ffn.linear1, layer.linear1)
        _copy_linear_norm(self.ffn.linear2, layer.linear2)
        _copy_linear_norm(self.norm1, layer.norm1)
        _copy_linear_norm(self.norm2, layer.norm2)
        return self


class DecoderLayer(nn.Module):
    """One decoder block: masked self-attention, cross-attention to the encoder's output
    (the *memory*), and a feed-forward network, each with a residual connection and layer norm.

    Post-norm::

        y = LN_1(y + MaskedSelfAttention(y));  y = LN_2(y + CrossAttention(y, memory));
        y = LN_3(y + FFN(y))

    In cross-attention the queries come from the decoder and the keys and values from the
    encoder. Arguments as in :class:`EncoderLayer`.

    Source: Vaswani et al. (2017), section 3.1. Equal to
    :class:`torch.nn.TransformerDecoderLayer` (``batch_first=True``) once
    :meth:`copy_from_torch` has copied its weights. Introduced in :doc:`/notebooks/16_transformer`.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
        eps: float = 1e-5,
    ):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ffn = FeedForward(d_model, d_ff, activation, dropout)
        self.norm1, self.norm2, self.norm3 = (LayerNorm(d_model, eps) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))

    def forward(
        self,
        y: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
        memory_key_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Args:
            y: decoder input (B, T, d_model). memory: encoder output (B, S, d_model).
            mask: self-attention mask (T, T), usually :func:`~dlbook.attention.causal_mask`.
            key_mask: (B, T), ``True`` at real decoder tokens.
            memory_key_mask: (B, S), ``True`` at real source tokens.

        Returns:
            ``(output, self_weights, cross_weights)``: (B, T, d_model), (B, h, T, T), (B, h, T, S).
        """
        if memory.ndim != 3 or memory.shape[0] != y.shape[0] or memory.shape[-1] != y.shape[-1]:
            raise ValueError(
                f"memory must be (B, S, d_model) matching y {tuple(y.shape)}, "
                f"got {tuple(memory.shape)}"
            )
        if self.norm_first:
            h, w_self = self.self_attn(self.norm1(y), mask=mask, key_mask=key_mask)
            y = y + self.dropout1(h)
            h, w_cross = self.cross_attn(self.norm2(y), memory, memory, key_mask=memory_key_mask)
            y = y + self.dropout2(h)
            y = y + self.dropout3(self.ffn(self.norm3(y)))
        else:
            h, w_self = self.self_attn(y, mask=mask, key_mask=key_mask)
            y = self.norm1(y + self.dropout1(h))
            h, w_cross = self.cross_attn(y, memory, memory, key_mask=memory_key_mask)
            y = self.norm2(y + self.dropout2(h))
            y = self.norm3(y + self.dropout3(self.ffn(y)))
        return y, w_self, w_cross

    def copy_from_torch(self, layer: nn.TransformerDecoderLayer) -> DecoderLayer:
        """Copy the weights of a :class:`torch.nn.TransformerDecoderLayer`; returns ``self``.

        Raises:
            ValueError: if norm_first, the activation or the sizes differ.
        """
        _check_torch_layer(self, layer)
        self.self_attn.copy_from_torch(layer.self_attn)
        self.cross_attn.copy_from_torch(layer.multihead_attn)
        _copy_linear_norm(self.ffn.linear1, layer.linear1)
        _copy_linear_norm(self.ffn.linear2, layer.linear2)
        for ours, theirs in (
            (self.norm1, layer.norm1),
            (self.norm2, layer.norm2),
            (self.norm3, layer.norm3),
        ):
            _copy_linear_norm(ours, theirs)
        return self


class _Embedding(nn.Module):
    """Token embedding plus sinusoidal positional encoding: (B, L) ints -> (B, L, d_model)."""

    def __init__(self, vocab_size: int, d_model: int, max_len: int, dropout: float):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, d_model)
        self.register_buffer(
            "pe", sinusoidal_positional_encoding(max_len, d_model), persistent=False
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] > self.pe.shape[0]:
            raise ValueError(
                f"expected token ids (B, L) with L <= {self.pe.shape[0]}, got {tuple(x.shape)}"
            )
        require_labels(x, self.tokens.num_embeddings, name="token ids")
        return self.dropout(self.tokens(x) + self.pe[: x.shape[1]])  # (B, L, d_model)


class Seq2SeqTransformer(nn.Module):
    """A small encoder-decoder transformer over token ids.

    ``encode(src)`` embeds the source tokens (plus sinusoidal positions) and runs the encoder
    stack; ``decode(tgt_in, memory, src_key_mask)`` runs the decoder stack with a causal mask
    and returns scores over the target vocabulary for every position. Token ``pad_id`` is
    padding in both vocabularies: it is masked out of every attention.

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes (ids 0 .. size - 1).
        d_model: vector size. num_heads: heads per attention. d_ff: FFN hidden size.
        num_encoder_layers, num_decoder_layers: depth of each stack.
        dropout: dropout probability. max_len: longest sequence the positional encoding covers.
        pad_id: the padding token. norm_first: pre-norm blocks (post-norm by default).

    Source: Vaswani et al. (2017), figure 1. Introduced in :doc:`/notebooks/16_transformer`.
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_encoder_layers: int = 2,
        num_decoder_layers: int = 2,
        d_ff: int = 256,
        dropout: float = 0.0,
        max_len: int = 64,
        pad_id: int = 0,
        norm_first: bool = False,
    ):
        super().__init__()
        self.pad_id, self.norm_first = pad_id, norm_first
        self.src_embed = _Embedding(src_vocab_size, d_model, max_len, dropout)
        self.tgt_embed = _Embedding(tgt_vocab_size, d_model, max_len, dropout)
        self.encoder = nn.ModuleList(
            EncoderLayer(d_model, num_heads, d_ff, dropout, norm_first=norm_first)
            for _ in range(num_encoder_layers)
        )
        self.decoder = nn.ModuleList(
            DecoderLayer(d_model, num_heads, d_ff, dropout, norm_first=norm_first)
            for _ in range(num_decoder_layers)
        )
        self.enc_norm = LayerNorm(d_model) if norm_first else nn.Identity()
        self.dec_norm = LayerNorm(d_model) if norm_first else nn.Identity()
        self.out = nn.Linear(d_model, tgt_vocab_size)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """src: (B, S) token ids -> ``(memory (B, S, d_model), src_key_mask (B, S))``."""
        src_key_mask = src != self.pad_id  # (B, S)
        x = self.src_embed(src)  # (B, S, d_model)
        for layer in self.encoder:
            x, _ = layer(x, key_mask=src_key_mask)
        return self.enc_norm(x), src_key_mask

    def decode(
        self,
        tgt_in: torch.Tensor,
        memory: torch.Tensor,
        src_key_mask: torch.Tensor,
        return_attention: bool = False,
    ):
        """Scores for the next token at every position of ``tgt_in``.

        Args:
            tgt_in: (B, T) decoder input ids, starting with BEGIN.
            memory, src_key_mask: what :meth:`encode` returned.
            return_attention: also return the cross-attention weights of every layer.

        Returns:
            logits (B, T, V_tgt); with ``return_attention``, ``(logits, [(B, h, T, S), ...])``.
        """
        y = self.tgt_embed(tgt_in)  # (B, T, d_model)
        mask = causal_mask(tgt_in.shape[1], device=tgt_in.device)  # (T, T)
        cross = []
        for layer in self.decoder:
            y, _, w_cross = layer(y, memory, mask=mask, memory_key_mask=src_key_mask)
            cross.append(w_cross)
        logits = self.out(self.dec_norm(y))  # (B, T, V_tgt)
        return (logits, cross) if return_attention else logits

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: src (B, S), tgt_in (B, T) -> logits (B, T, V_tgt)."""
        memory, src_key_mask = self.encode(src)
        return self.decode(tgt_in, memory, src_key_mask)


class TransformerLM(nn.Module):
    """A single transformer stack over one sequence of tokens, with a vocabulary head.

    With ``causal=False`` every position sees the whole sequence (an encoder, as in BERT,
    trained to fill in masked tokens); with ``causal=True`` position t sees positions <= t
    only (a decoder without cross-attention, as in GPT, trained to predict token t + 1).

    Args:
        vocab_size: number of token ids. causal: mask later positions.
        d_model, num_heads, num_layers, d_ff, dropout, max_len, norm_first: as in
            :class:`Seq2SeqTransformer`.

    Source: Devlin et al. (2019), BERT; Radford et al. (2018), GPT. Introduced in
    :doc:`/notebooks/16_transformer`.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        d_ff: int = 256,
        dropout: float = 0.0,
        max_len: int = 256,
        causal: bool = True,
        norm_first: bool = True,
    ):
        super().__init__()
        self.causal = causal
        self.embed = _Embedding(vocab_size, d_model, max_len, dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, num_heads, d_ff, dropout, norm_first=norm_first)
            for _ in range(num_layers)
        )
        self.norm = LayerNorm(d_model) if norm_first else nn.Identity()
        self.out = nn.Linear(d_model, vocab_size)

    def forward(self, tokens: torch.Tensor, return_attention: bool = False):
        """tokens: (B, L) -> logits (B, L, V); with ``return_attention`` also the list of
        per-layer self-attention weights (B, h, L, L). Raises ValueError for token ids outside
        [0, V) or sequences longer than ``max_len``."""
        x = self.embed(tokens)  # (B, L, d_model)
        mask = causal_mask(tokens.shape[1], device=tokens.device) if self.causal else None
        weights = []
        for layer in self.layers:
            x, w = layer(x, mask=mask)
            weights.append(w)
        logits = self.out(self.norm(x))  # (B, L, V)
        return (logits, weights) if return_attention else logits


def _check_decode_args(src: torch.Tensor, max_len: int) -> None:
    if src.ndim != 2 or src.shape[0] < 1:
        raise ValueError(f"src must be token ids of shape (B, S), got {tuple(src.shape)}")
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")


def _heads(attn: MultiHeadAttention, x: torch.Tensor) -> torch.Tensor:
    """(B, L, d_model) -> (B, h, L, d_head), as MultiHeadAttention splits its projections."""
    B, L, _ = x.shape
    return x.view(B, L, attn.num_heads, attn.d_head).transpose(1, 2)


def _attend(attn: MultiHeadAttention, query, k, v, allowed) -> torch.Tensor:
    """``attn`` from query (B, n, d_model) to already projected keys and values k, v
    (B, h, L, d_head); ``allowed`` broadcasts to (B, h, n, L), ``True`` = may attend, or is
    ``None``. Returns (B, n, d_model), as :meth:`MultiHeadAttention.forward` in evaluation mode."""
    B, n, _ = query.shape
    heads, _ = scaled_dot_product_attention(_heads(attn, attn.W_q(query)), k, v, mask=allowed)
    return attn.W_o(heads.transpose(1, 2).reshape(B, n, attn.d_model))  # concatenate the heads


class _DecoderCache:
    """The key–value cache of incremental decoding for a :class:`Seq2SeqTransformer`.

    Holds, per decoder layer, the self-attention keys and values of every position decoded
    so far (B, h, t, d_head) and the cross-attention keys and values of the encoder's output
    (B, h, S, d_head), which do not change while decoding. :meth:`step` runs the decoder on
    new positions only and returns their scores; the result equals ``model.decode`` on the
    whole prefix, up to rounding (tested in tests/test_transformer.py).
    """

    def __init__(self, model: Seq2SeqTransformer, memory: torch.Tensor,
                 src_key_mask: torch.Tensor):
        self.model, self.length = model, 0
        self.memory_allowed = src_key_mask[:, None, None, :]  # (B, 1, 1, S)
        self.memory_kv = [
            (_heads(layer.cross_attn, layer.cross_attn.W_k(memory)),
             _heads(layer.cross_attn, layer.cross_attn.W_v(memory)))
            for layer in model.decoder
        ]
        self.self_kv: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(model.decoder)

    def reorder(self, rows: torch.Tensor) -> None:
        """Keep the cached rows ``rows`` (beam search's surviving beams). The memory's keys
        and values are the same for every beam of an example and stay as they are."""
        self.self_kv = [(k[rows], v[rows]) for k, v in self.self_kv]

    def step(self, new: torch.Tensor) -> torch.Tensor:
        """new: (B, n) token ids at the next n positions -> scores (B, n, V_tgt)."""
        model, start = self.model, self.length
        embed = model.tgt_embed
        if start + new.shape[1] > embed.pe.shape[0]:
            raise ValueError(
                f"expected at most {embed.pe.shape[0]} decoder positions, got {start + new.shape[1]}"
            )
        require_labels(new, embed.tokens.num_embeddings, name="token ids")
        n = new.shape[1]
        y = embed.dropout(embed.tokens(new) + embed.pe[start : start + n])  # (B, n, d_model)
        # new position start + i sees the cached positions and the new ones up to itself
        causal = None if n == 1 else causal_mask(start + n, device=new.device)[start:]
        for i, layer in enumerate(model.decoder):
            a = layer.norm1(y) if layer.norm_first else y
            attn = layer.self_attn
            k, v = _heads(attn, attn.W_k(a)), _heads(attn, attn.W_v(a))  # (B, h, n, d_head)
            if self.self_kv[i] is not None:
                k = torch.cat([self.self_kv[i][0], k], dim=2)
                v = torch.cat([self.self_kv[i][1], v], dim=2)
            self.self_kv[i] = (k, v)
            h = _attend(attn, a, k, v, causal)
            mem_k, mem_v = self.memory_kv[i]
            if layer.norm_first:
                y = y + layer.dropout1(h)
                h = _attend(layer.cross_attn, layer.norm2(y), mem_k, mem_v, self.memory_allowed)
                y = y + layer.dropout2(h)
                y = y + layer.dropout3(layer.ffn(layer.norm3(y)))
            else:
                y = layer.norm1(y + layer.dropout1(h))
                h = _attend(layer.cross_attn, y, mem_k, mem_v, self.memory_allowed)
                y = layer.norm2(y + layer.dropout2(h))
                y = layer.norm3(y + layer.dropout3(layer.ffn(y)))
        self.length = start + n
        return model.out(model.dec_norm(y))  # (B, n, V_tgt)


@torch.no_grad()
def greedy_decode(
    model: Seq2SeqTransformer,
    src: torch.Tensor,
    bos_id: int,
    eos_id: int,
    max_len: int,
    prefix: torch.Tensor | None = None,
    use_cache: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Autoregressive decoding that always takes the most likely next token.

    Starts every output with BEGIN (``bos_id``), feeds each chosen token back as the next
    decoder input and stops a sequence at END (``eos_id``) or after ``max_len`` tokens.

    Args:
        model: a :class:`Seq2SeqTransformer` (its ``pad_id`` fills finished sequences).
        src: (B, S) source token ids.
        bos_id, eos_id: the BEGIN and END tokens. max_len: most tokens to produce.
        prefix: optional (B, P) tokens forced after BEGIN (without END); decoding continues
            from them, as if the model had produced them. They are part of the returned
            tokens but not of the log-probability.
        use_cache: keep the keys and values of earlier positions (a key–value cache) and run
            the decoder on the new token only; ``False`` runs it on the whole prefix at every
            step. Both give the same outputs up to rounding.

    Returns:
        ``(tokens, log_prob)``: (B, T <= max_len) ids without BEGIN, END included, padding
        after END; and the total log-probability of each output (B,). PAD and BEGIN are
        never produced.

    Raises:
        ValueError: for a malformed ``src`` or max_len < 1.

    Introduced in :doc:`/notebooks/16_transformer`.
    """
    _check_decode_args(src, max_len)
    memory, src_key_mask = model.encode(src)
    B = src.shape[0]
    ys = torch.full((B, 1), bos_id, dtype=torch.long, device=src.device)  # (B, 1)
    if prefix is not None:
        if prefix.ndim != 2 or prefix.shape[0] != B or prefix.shape[1] >= max_len:
            raise ValueError(
                f"prefix must be (B, P) with B = {B} and P < max_len = {max_len}, "
                f"got {tuple(prefix.shape)}"
            )
        ys = torch.cat([ys, prefix.to(ys)], dim=1)  # (B, 1 + P)
    total = torch.zeros(B, device=src.device)
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    cache = _DecoderCache(model, memory, src_key_mask) if use_cache else None
    new = ys  # the positions the decoder has not seen yet
    for _ in range(max_len - (ys.shape[1] - 1)):
        logits = cache.step(new) if use_cache else model.decode(ys, memory, src_key_mask)
        logp = torch.log_softmax(logits[:, -1], dim=-1)  # (B, V)
        logp[:, [model.pad_id, bos_id]] = float("-inf")  # never produce PAD or BEGIN
        nxt = logp.argmax(dim=-1)  # (B,)
        total += torch.where(done, 0.0, logp.gather(1, nxt[:, None]).squeeze(1))
        nxt = torch.where(done, model.pad_id, nxt)
        new = nxt[:, None]
        ys = torch.cat([ys, new], dim=1)
        done |= nxt == eos_id
        if done.all():
            break
    return ys[:, 1:], total


@torch.no_grad()
def beam_search(
    model: Seq2SeqTransformer,
    src: torch.Tensor,
    bos_id: int,
    eos_id: int,
    max_len: int,
    beam_size: int = 4,
    use_cache: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Autoregressive decoding that keeps the ``beam_size`` most likely partial outputs.

    At every step each kept output is extended by every token, and the ``beam_size``
    extensions with the highest total log-probability are kept; finished outputs (ending in
    END) are carried along unchanged. At the end the most likely output is returned. With
    ``beam_size=1`` this is :func:`greedy_decode`. No length normalization is applied.

    Args:
        model, src, bos_id, eos_id, max_len: as in :func:`greedy_decode`.
        beam_size: number of partial outputs kept (>= 1). A beam at least as large as the
            number of possible outputs makes the search exhaustive.
        use_cache: as in :func:`greedy_decode`; the cache's rows follow the surviving beams.

    Returns:
        ``(tokens, log_prob)`` as in :func:`greedy_decode`.

    Raises:
        ValueError: for a malformed ``src``, max_len < 1 or a beam size out of range.

    Source: the beam search of neural machine translation (Sutskever et al., 2014).
    Introduced in :doc:`/notebooks/16_transformer`.
    """
    _check_decode_args(src, max_len)
    V = model.out.out_features
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    B, k, dev = src.shape[0], beam_size, src.device
    memory, src_key_mask = model.encode(src)
    memory = memory.repeat_interleave(k, dim=0)  # (B k, S, d_model)
    src_key_mask = src_key_mask.repeat_interleave(k, dim=0)  # (B k, S)
    ys = torch.full((B * k, 1), bos_id, dtype=torch.long, device=dev)  # (B k, 1)
    scores = torch.full((B, k), float("-inf"), device=dev)
    scores[:, 0] = 0.0  # all beams start equal: keep one copy
    done = torch.zeros(B, k, dtype=torch.bool, device=dev)
    pad_only = torch.full((V,), float("-inf"), device=dev)
    pad_only[model.pad_id] = 0.0  # a finished beam may only add padding, at no cost
    cache = _DecoderCache(model, memory, src_key_mask) if use_cache else None
    for _ in range(max_len):
        logits = cache.step(ys[:, -1:]) if use_cache else model.decode(ys, memory, src_key_mask)
        logp = torch.log_softmax(logits[:, -1], dim=-1).view(B, k, V)
        logp[..., [model.pad_id, bos_id]] = float("-inf")  # never produce PAD or BEGIN
        logp = torch.where(done[..., None], pad_only, logp)
        top, idx = (scores[..., None] + logp).view(B, k * V).topk(k, dim=-1)  # (B, k)
        beam, tok = idx // V, idx % V  # which beam each survivor extends, with which token
        rows = (torch.arange(B, device=dev)[:, None] * k + beam).view(-1)  # (B k,)
        ys = torch.cat([ys[rows], tok.view(-1, 1)], dim=1)
        if use_cache:
            cache.reorder(rows)
        done = done.gather(1, beam) | (tok == eos_id)
        scores = top
        if done.all():
            break
    best = scores.argmax(dim=-1)  # (B,)
    arange = torch.arange(B, device=dev)
    return ys.view(B, k, -1)[arange, best, 1:], scores[arange, best]
