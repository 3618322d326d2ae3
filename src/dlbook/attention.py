"""Self-attention from scratch: scores, masks, multi-head attention and positional encoding.

A self-attention layer takes a set of vectors a_1 ... a_n and returns as many vectors
b_1 ... b_n, each of which looks at the whole set. Every input is mapped to a query
q = W_q a, a key k = W_k a and a value v = W_v a; the relevance of position j to position i is a
score alpha_ij (here the scaled dot product q_i . k_j / sqrt(d_k)), a softmax over j turns the
scores into weights, and b_i is the weighted sum of the values. In matrix form, with one row per
position::

    Q = X W_q,  K = X W_k,  V = X W_v,  A' = softmax(Q K^T / sqrt(d_k)),  B = A' V

What is here:

* :func:`scaled_dot_product_attention` (the formula above, with an optional mask) and
  :func:`additive_attention_scores` (the other relevance function of the course).
* :class:`MultiHeadAttention`, several attention heads side by side, with
  :meth:`~MultiHeadAttention.copy_from_torch` to load the weights of a
  :class:`torch.nn.MultiheadAttention` (the tests and the chapter check that the two agree).
* Masks: :func:`padding_mask` (ignore the padding of short sequences in a batch),
  :func:`causal_mask` (the decoder's "sequence mask": no peeking at later positions) and
  :func:`local_mask` (truncated attention over a window, like a convolution's receptive field).
* :func:`sinusoidal_positional_encoding`, the hand-crafted position vectors of the transformer.
* :func:`layer_costs`, multiply-adds, sequential steps and path lengths of a self-attention, a
  recurrent and a convolutional layer.

Mask convention: every mask here is boolean and ``True`` marks what **may be attended to**, as in
:func:`torch.nn.functional.scaled_dot_product_attention`. (:class:`torch.nn.MultiheadAttention`
uses the opposite convention for its ``key_padding_mask`` and boolean ``attn_mask``: ``True``
there means *ignore*; pass ``~mask``.)

Sources: Hung-yi Lee, Machine Learning 2021, "Self-attention" lectures; Vaswani et al. (2017),
"Attention is all you need"; Bahdanau et al. (2015) for additive attention.

Introduced in :doc:`/notebooks/13_self_attention`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import require_float, require_real

__all__ = [
    "scaled_dot_product_attention",
    "additive_attention_scores",
    "MultiHeadAttention",
    "padding_mask",
    "causal_mask",
    "local_mask",
    "sinusoidal_positional_encoding",
    "layer_costs",
]


def _check_qkv(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> None:
    require_float(query=query, key=key, value=value)
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(
            "query, key and value need at least 2 dimensions (..., L, d), got shapes "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"query and key must have the same last dimension d_k, got {tuple(query.shape)} "
            f"and {tuple(key.shape)}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"key and value must have the same number of positions, got {tuple(key.shape)} "
            f"and {tuple(value.shape)}"
        )
    try:
        torch.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except RuntimeError:
        raise ValueError(
            "the leading (batch) dimensions of query, key and value must broadcast, got shapes "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        ) from None


def scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention of every query to every key: softmax(Q K^T * scale) V.

    Args:
        query: shape (..., L_q, d_k), float.
        key: shape (..., L_k, d_k).
        value: shape (..., L_k, d_v).
        mask: optional boolean tensor broadcastable to (..., L_q, L_k); ``True`` where the
            query may attend to the key. Masked scores are set to -inf before the softmax, so
            their weights are exactly 0. A query with no allowed key gets all-zero weights (and
            a zero output) rather than NaN.
        scale: the factor of the scores; default 1 / sqrt(d_k) (the *scaled* dot product).
            ``scale=1`` gives the plain dot product.

    Returns:
        ``(output, weights)``: output of shape (..., L_q, d_v) and the attention weights of
        shape (..., L_q, L_k), each row summing to 1 (or 0 for a fully masked row).

    Raises:
        ValueError: if the shapes do not fit together (the mask included), the mask is not
            boolean, or the scale is negative or not finite.

    Source: Vaswani et al. (2017), eq. (1). Equal to
    :func:`torch.nn.functional.scaled_dot_product_attention` (which returns only the output).
    Introduced in :doc:`/notebooks/13_self_attention`.
    """
    _check_qkv(query, key, value)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scale = require_real(scale, "scale", low=0)
    scores = query @ key.transpose(-2, -1) * scale  # (..., L_q, L_k)
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            raise ValueError(f"mask must be boolean (True = may attend), got "
                             f"{getattr(mask, 'dtype', type(mask).__name__)}")
        try:
            fits = torch.broadcast_shapes(mask.shape, scores.shape) == scores.shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(f"mask must broadcast to the scores' shape (..., L_q, L_k) = "
                             f"{tuple(scores.shape)}, got {tuple(mask.shape)}")
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (..., L_q, L_k)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)  # a fully masked row: NaN -> 0
    return weights @ value, weights  # (..., L_q, d_v), (..., L_q, L_k)


def additive_attention_scores(
    query: torch.Tensor, key: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, w: torch.Tensor
) -> torch.Tensor:
    """Additive relevance scores: alpha_ij = w . tanh(W_q q_i + W_k k_j).

    The query and the key are each multiplied by a matrix, added (equivalently: concatenated
    and multiplied by [W_q W_k]), passed through tanh, and a vector w turns the result into a
    number. Row-vector convention: ``q_i @ W_q``.

    Args:
        query: shape (..., L_q, d_q).
        key: shape (..., L_k, d_k).
        W_q: shape (d_q, h).
        W_k: shape (d_k, h).
        w: shape (h,).

    Returns:
        Scores of shape (..., L_q, L_k) (before any softmax).

    Raises:
        ValueError: if the shapes do not fit together.

    Source: Bahdanau, Cho and Bengio (2015); the "additive" module of the course.
    Introduced in :doc:`/notebooks/13_self_attention`.
    """
    if query.ndim < 2 or key.ndim < 2:
        raise ValueError(
            f"query and key need shape (..., L, d), got {tuple(query.shape)}, {tuple(key.shape)}"
        )
    require_float(query=query, key=key, W_q=W_q, W_k=W_k, w=w)
    if (
        W_q.ndim != 2
        or W_k.ndim != 2
        or w.ndim != 1
        or not (W_q.shape[1] == W_k.shape[1] == w.shape[0])
    ):
        raise ValueError(
            f"expected W_q (d_q, h), W_k (d_k, h), w (h,), got {tuple(W_q.shape)}, "
            f"{tuple(W_k.shape)}, {tuple(w.shape)}"
        )
    if query.shape[-1] != W_q.shape[0] or key.shape[-1] != W_k.shape[0]:
        raise ValueError(
            f"query (..., L, {W_q.shape[0]}) and key (..., L, {W_k.shape[0]}) expected by the "
            f"weights, got {tuple(query.shape)} and {tuple(key.shape)}"
        )
    hq = (query @ W_q).unsqueeze(-2)  # (..., L_q, 1, h)
    hk = (key @ W_k).unsqueeze(-3)  # (..., 1, L_k, h)
    return torch.tanh(hq + hk) @ w  # (..., L_q, L_k)


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate query, key, value and output projections.

    Each of the ``num_heads`` heads gets its own slice of d_model / num_heads dimensions of
    the projected queries, keys and values, attends on its own, and the heads' outputs are
    concatenated and mixed by the output projection W_o. Batch first: inputs (B, L, d_model).

    Args:
        d_model: size of the input and output vectors.
        num_heads: number of heads; must divide d_model.
        bias: whether the four projections have biases.
        dropout: dropout probability on the attention weights during training (0 by default).

    Attributes:
        W_q, W_k, W_v, W_o: the four :class:`torch.nn.Linear` projections (d_model -> d_model).

    Raises:
        ValueError: if num_heads does not divide d_model.

    Source: Vaswani et al. (2017), section 3.2.2. Equal to :class:`torch.nn.MultiheadAttention`
    (``batch_first=True``) once :meth:`copy_from_torch` has copied its weights.
    Introduced in :doc:`/notebooks/13_self_attention`.
    """

    def __init__(self, d_model: int, num_heads: int, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        if d_model < 1 or num_heads < 1 or d_model % num_heads != 0:
            raise ValueError(
                f"num_heads must divide d_model, got d_model={d_model}, num_heads={num_heads}"
            )
        self.d_model, self.num_heads, self.d_head = d_model, num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, L, _ = x.shape
        return x.view(B, L, self.num_heads, self.d_head).transpose(1, 2)  # (B, h, L, d_head)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``query`` to ``key``/``value`` (self-attention when both are omitted).

        Args:
            query: shape (B, L_q, d_model).
            key, value: shape (B, L_k, d_model); default: ``query`` (self-attention).
            mask: optional boolean (L_q, L_k) or (B, L_q, L_k), ``True`` = may attend
                (e.g. :func:`causal_mask`).
            key_mask: optional boolean (B, L_k), ``True`` at real (non-padding) keys
                (e.g. :func:`padding_mask`).

        Returns:
            ``(output, weights)``: (B, L_q, d_model) and the per-head weights (B, h, L_q, L_k).

        Raises:
            ValueError: on shapes that do not fit.
        """
        key = query if key is None else key
        value = key if value is None else value
        if (
            query.ndim != 3
            or key.ndim != 3
            or value.ndim != 3
            or query.shape[-1] != self.d_model
            or key.shape[-1] != self.d_model
            or value.shape[-1] != self.d_model
        ):
            raise ValueError(
                f"expected (B, L, {self.d_model}) inputs, got query {tuple(query.shape)}, "
                f"key {tuple(key.shape)}, value {tuple(value.shape)}"
            )
        B, L_q, L_k = query.shape[0], query.shape[1], key.shape[1]
        full = None
        if mask is not None:
            if mask.ndim not in (2, 3) or mask.shape[-2:] != (L_q, L_k) or (
                    mask.ndim == 3 and mask.shape[0] not in (1, B)):
                raise ValueError(
                    f"mask must be (L_q, L_k) = ({L_q}, {L_k}) or (B, L_q, L_k) with B = {B}, "
                    f"got {tuple(mask.shape)}"
                )
            full = mask if mask.ndim == 2 else mask[:, None]  # (L_q, L_k) or (B, 1, L_q, L_k)
        if key_mask is not None:
            if key_mask.shape != (B, L_k):
                raise ValueError(
                    f"key_mask must be (B, L_k) = ({B}, {L_k}), got {tuple(key_mask.shape)}"
                )
            km = key_mask[:, None, None, :]  # (B, 1, 1, L_k)
            full = km if full is None else full & km
        q = self._split(self.W_q(query))  # (B, h, L_q, d_head)
        k = self._split(self.W_k(key))  # (B, h, L_k, d_head)
        v = self._split(self.W_v(value))  # (B, h, L_k, d_head)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)  # (B, h, L_q, L_k)
        if full is not None:
            scores = scores.masked_fill(~full, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        if full is not None:
            weights = weights.masked_fill(~full, 0.0)
        heads = self.dropout(weights) @ v  # (B, h, L_q, d_head)
        out = heads.transpose(1, 2).reshape(B, L_q, self.d_model)  # concatenate the heads
        return self.W_o(out), weights  # (B, L_q, d_model), (B, h, L_q, L_k)

    @torch.no_grad()
    def copy_from_torch(self, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a :class:`torch.nn.MultiheadAttention` into this module.

        PyTorch stores W_q, W_k and W_v stacked in ``in_proj_weight`` (3 d_model, d_model).

        Returns:
            ``self``.

        Raises:
            ValueError: if the sizes, the number of heads or the use of biases differ, or if
                ``mha`` has separate key/value sizes (kdim, vdim).
        """
        if mha.embed_dim != self.d_model or mha.num_heads != self.num_heads:
            raise ValueError(
                f"sizes differ: ours d_model={self.d_model}, h={self.num_heads}; theirs "
                f"embed_dim={mha.embed_dim}, num_heads={mha.num_heads}"
            )
        if mha.in_proj_weight is None:
            raise ValueError(
                "mha has separate kdim/vdim projections; only equal sizes are supported"
            )
        if (mha.in_proj_bias is None) != (self.W_q.bias is None):
            raise ValueError("one module has biases and the other does not")
        for i, lin in enumerate((self.W_q, self.W_k, self.W_v)):
            d = self.d_model
            lin.weight.copy_(mha.in_proj_weight[i * d : (i + 1) * d])
            if lin.bias is not None:
                lin.bias.copy_(mha.in_proj_bias[i * d : (i + 1) * d])
        self.W_o.weight.copy_(mha.out_proj.weight)
        if self.W_o.bias is not None:
            self.W_o.bias.copy_(mha.out_proj.bias)
        return self


def padding_mask(lengths, max_len: int | None = None) -> torch.Tensor:
    """Mark the real positions of a padded batch: ``mask[b, j] = j < lengths[b]``.

    Args:
        lengths: the true length of each sequence, shape (B,), integers >= 0.
        max_len: the padded length L (default: the largest length).

    Returns:
        Boolean tensor of shape (B, L), ``True`` at real tokens, ``False`` at padding.

    Raises:
        ValueError: for negative lengths or a length above ``max_len``.

    Source: the "padding mask" of the transformer (Vaswani et al., 2017). Introduced in
    :doc:`/notebooks/13_self_attention`.
    """
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1 or (lengths < 0).any():
        raise ValueError(f"lengths must be a 1-D tensor of non-negative integers, got {lengths}")
    L = int(lengths.max()) if max_len is None else int(max_len)
    if (lengths > L).any():
        raise ValueError(f"a length exceeds max_len={L}: {lengths.tolist()}")
    return torch.arange(L, device=lengths.device)[None, :] < lengths[:, None]  # (B, L)


def causal_mask(length: int, device=None) -> torch.Tensor:
    """The decoder's sequence mask: position i may attend to positions j <= i.

    Returns:
        Boolean (length, length), lower-triangular ``True``.

    Raises:
        ValueError: if length < 1.

    Source: masked self-attention of the transformer decoder (Vaswani et al., 2017).
    Introduced in :doc:`/notebooks/13_self_attention`.
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def local_mask(length: int, window: int, device=None) -> torch.Tensor:
    """Truncated (local) self-attention: position i may attend to j with ``|i - j|`` <= window.

    Restricting attention to a band makes each output depend on a window of 2 * window + 1
    inputs, like the receptive field of a convolution (used for long inputs such as speech).

    Returns:
        Boolean (length, length) band matrix.

    Raises:
        ValueError: if length < 1 or window < 0.

    Introduced in :doc:`/notebooks/13_self_attention`.
    """
    if length < 1 or window < 0:
        raise ValueError(f"need length >= 1 and window >= 0, got length={length}, window={window}")
    i = torch.arange(length, device=device)
    return (i[:, None] - i[None, :]).abs() <= window


def sinusoidal_positional_encoding(
    num_positions: int, d_model: int, base: float = 10000.0
) -> torch.Tensor:
    """The transformer's position vectors: PE[p, 2i] = sin(p / base^(2i/d)), PE[p, 2i+1] = cos(...).

    Each pair of dimensions is a sine and a cosine of one frequency; the frequencies fall
    geometrically from 1 to about 1/base radians per position, so every position gets a unique
    vector and PE[p + k] is a fixed rotation of PE[p] for every p.

    Args:
        num_positions: number of positions L (>= 1).
        d_model: vector size (even, >= 2).
        base: the wavelength scale (10000 in the paper).

    Returns:
        float32 tensor of shape (L, d_model), values in [-1, 1].

    Raises:
        ValueError: for L < 1 or an odd or too small d_model.

    Source: Vaswani et al. (2017), section 3.5. Introduced in :doc:`/notebooks/13_self_attention`.
    """
    if num_positions < 1 or d_model < 2 or d_model % 2:
        raise ValueError(
            f"need num_positions >= 1 and an even d_model >= 2, got {num_positions}, {d_model}"
        )
    pos = torch.arange(num_positions, dtype=torch.float64)[:, None]  # (L, 1)
    freq = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d/2,)
    angle = pos * freq  # (L, d/2)
    pe = torch.empty(num_positions, d_model, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle)
    return pe.float()


def layer_costs(seq_len: int, d_model: int, kernel_size: int = 3) -> dict[str, dict[str, int]]:
    """Cost of one layer mapping n vectors of size d to n vectors of size d, three ways.

    * ``self-attention``: Q, K, V and output projections (4 n d^2 multiply-adds), the scores
      Q K^T (n^2 d) and the weighted sum of the values (n^2 d).
    * ``RNN``: h_t = tanh(W_x x_t + W_h h_{t-1}), 2 d^2 per step, n steps one after another.
    * ``CNN``: a 1-D convolution with d filters of width k over d channels ("same" padding),
      k d^2 per position.

    Biases and non-linearities are not counted.

    Args:
        seq_len: n >= 1. d_model: d >= 1. kernel_size: k >= 2.

    Returns:
        ``{layer: {"multiply_adds", "sequential_steps", "max_path_length"}}``:
        ``sequential_steps`` is how many operations must wait for the previous one
        (1 = all positions at once), ``max_path_length`` the number of layers (or steps) a
        signal needs to go from the first position to the last: 1 for attention, n - 1 for the
        RNN, ceil((n - 1) / (k - 1)) stacked convolutions for the CNN.

    Raises:
        ValueError: for sizes out of range.

    Source: Vaswani et al. (2017), Table 1, with exact counts. Introduced in
    :doc:`/notebooks/13_self_attention`.
    """
    n, d, k = int(seq_len), int(d_model), int(kernel_size)
    if n < 1 or d < 1 or k < 2:
        raise ValueError(f"need seq_len >= 1, d_model >= 1, kernel_size >= 2, got {n}, {d}, {k}")
    return {
        "self-attention": {
            "multiply_adds": 4 * n * d * d + 2 * n * n * d,
            "sequential_steps": 1,
            "max_path_length": 1,
        },
        "RNN": {"multiply_adds": 2 * n * d * d, "sequential_steps": n, "max_path_length": n - 1},
        "CNN": {
            "multiply_adds": n * k * d * d,
            "sequential_steps": 1,
            "max_path_length": -(-(n - 1) // (k - 1)),
        },
    }
