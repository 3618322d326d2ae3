"""Self-supervised pre-training: BERT's masked tokens and next sentences, GPT's next token,
masked image patches, and fine-tuning the pre-trained encoder.

Self-supervision makes the labels from the data itself. BERT hides some tokens of a text and
asks an encoder for them (masked language modelling), and asks whether the second of two
sentences followed the first (next-sentence prediction). GPT predicts every next token with a
causal decoder. The same idea works on images: hide patches, predict their pixels. The network
learnt this way is then **fine-tuned**: a small head (a linear layer) is put on it and the whole
is trained on a downstream task with few labels.

What is here:

* Tokens: :func:`train_wordpiece` (a WordPiece tokenizer, via the ``tokenizers`` library) with
  the special tokens :data:`SPECIAL_TOKENS`; :func:`pack_sequences` builds
  ``[CLS] a [SEP] (b [SEP])`` inputs with segment ids and padding.
* Masking: :func:`mask_tokens` (the 15 % / 80-10-10 recipe) and :func:`masked_lm_loss` (the
  cross-entropy on the chosen positions only); :func:`next_sentence_pairs` builds the pairs of
  next-sentence prediction; :func:`length_batches` packs batches of similar length with little
  padding.
* Networks: :class:`BertEncoder` (token, segment and position embeddings, then a stack of
  :class:`dlbook.transformer.EncoderLayer`), :class:`BertForPretraining` (masked-token and
  next-sentence heads), :class:`SequenceClassifier` (a linear head on the [CLS] vector),
  :class:`PatchEncoder` and :class:`MaskedPatchModel` (the image version).
* Steps for :func:`dlbook.train.fit`: :func:`bert_pretrain_step`, :func:`masked_patch_step`,
  :func:`classify_step`, :func:`next_token_step`; :func:`sample` draws text from a causal
  model with a temperature.

Shapes are batch first. Token ids are int64; ``IGNORE_INDEX`` (-100, as in
:func:`torch.nn.functional.cross_entropy`) marks positions without a label.

Sources: Devlin et al. (2019), BERT; Radford et al. (2018, 2019), GPT and GPT-2; He et al.
(2022), masked auto-encoders; Hung-yi Lee, Machine Learning 2021/2022, "Self-supervised
learning" lectures.

Introduced in chapter 18 (Self-supervised learning).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .attention import sinusoidal_positional_encoding
from .metrics import accuracy
from .transformer import EncoderLayer, LayerNorm

__all__ = [
    "SPECIAL_TOKENS",
    "PAD_ID",
    "UNK_ID",
    "CLS_ID",
    "SEP_ID",
    "MASK_ID",
    "IGNORE_INDEX",
    "train_wordpiece",
    "pack_sequences",
    "mask_tokens",
    "masked_lm_loss",
    "next_sentence_pairs",
    "length_batches",
    "BertEncoder",
    "BertForPretraining",
    "SequenceClassifier",
    "TokenClassifier",
    "patchify",
    "mask_patches",
    "PatchEncoder",
    "MaskedPatchModel",
    "bert_pretrain_step",
    "masked_patch_step",
    "classify_step",
    "token_classify_step",
    "next_token_step",
    "sample",
]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
"""The special tokens, in id order: padding, unknown, classification, separator, mask."""
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(len(SPECIAL_TOKENS))
IGNORE_INDEX = -100
"""Label of a position that is not predicted (the ``ignore_index`` of ``F.cross_entropy``)."""


# ----------------------------------------------------------------------------- tokens
def _learn_merges(word_counts: dict[tuple[str, ...], int], num_merges: int) -> list[str]:
    """Greedy pair merging on a word-frequency table, with deterministic tie-breaking.

    Each word is a tuple of pieces (its first character, then ``##c`` for each following one).
    Each round merges the adjacent pair of pieces with the highest total count (ties: the pair
    that sorts first), ``a`` + ``##b`` -> ``ab``; the new pieces are returned in order.
    """
    import heapq
    from collections import defaultdict

    words = [list(w) for w in word_counts]
    freqs = list(word_counts.values())
    pair_counts: dict[tuple[str, str], int] = defaultdict(int)
    where: dict[tuple[str, str], set[int]] = defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for pair in zip(w, w[1:]):
            pair_counts[pair] += f
            where[pair].add(i)
    heap = [(-c, pair) for pair, c in pair_counts.items()]
    heapq.heapify(heap)
    new_pieces: list[str] = []
    while heap and len(new_pieces) < num_merges:
        neg, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -neg or -neg <= 0:
            continue  # a stale entry: the count changed since it was pushed
        merged = pair[0] + pair[1][2:]
        new_pieces.append(merged)
        changed = set()
        for i in where.pop(pair):
            w, f = words[i], freqs[i]
            for old in zip(w, w[1:]):
                pair_counts[old] -= f
                changed.add(old)
            j, out = 0, []
            while j < len(w):
                if j + 1 < len(w) and (w[j], w[j + 1]) == pair:
                    out.append(merged)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for new in zip(out, out[1:]):
                pair_counts[new] += f
                where[new].add(i)
                changed.add(new)
        pair_counts.pop(pair, None)
        for other in changed:
            if pair_counts.get(other, 0) > 0:
                heapq.heappush(heap, (-pair_counts[other], other))
    return new_pieces


def train_wordpiece(lines: Sequence[str], vocab_size: int):
    """Learn a lower-casing WordPiece vocabulary (BERT's kind) from ``lines``; return a tokenizer.

    Text is normalized and split into words at spaces and punctuation as BERT does. The
    vocabulary starts from every character (``c`` at the start of a word, ``##c`` inside one)
    and grows by merging the most frequent adjacent pair of pieces until it has ``vocab_size``
    entries, as the ``tokenizers`` library's WordPiece trainer does; ties are broken by the
    order of the pieces, so the vocabulary is the same on every run (the library's trainer
    breaks ties by hash-map order and can differ between runs). Encoding is the library's
    WordPiece model: each word is cut greedily into the longest pieces in the vocabulary.

    Args:
        lines: the training text, one string per line.
        vocab_size: vocabulary size, special tokens included (> ``len(SPECIAL_TOKENS)``).

    Returns:
        A :class:`tokenizers.Tokenizer`; the ids of :data:`SPECIAL_TOKENS` are 0-4, then the
        characters in sorted order, then the merged pieces in the order they were learned.

    Raises:
        ValueError: for a vocabulary not larger than the special tokens, or no text.

    Source: Schuster and Nakajima (2012) and Wu et al. (2016), WordPiece; Sennrich et al. (2016),
    the frequency criterion; Devlin et al. (2019). Introduced in chapter 18.
    """
    from collections import Counter

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    if not isinstance(vocab_size, int) or vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must be an int > {len(SPECIAL_TOKENS)}, got {vocab_size!r}")
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise ValueError("lines holds no text")
    normalizer, pre_tokenizer = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    text = normalizer.normalize_str("\n".join(lines))  # a line break separates words like a space
    counts: Counter = Counter()
    for chunk, f in Counter(text.split()).items():  # cut each distinct chunk at punctuation once
        for word, _ in pre_tokenizer.pre_tokenize_str(chunk):
            counts[word] += f
    word_counts = {(w[0], *("##" + c for c in w[1:])): f for w, f in sorted(counts.items())}
    alphabet = sorted({piece for w in word_counts for piece in w})
    vocab = list(SPECIAL_TOKENS) + alphabet[: max(0, vocab_size - len(SPECIAL_TOKENS))]
    vocab += _learn_merges(word_counts, vocab_size - len(vocab))
    tokenizer = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer, tokenizer.pre_tokenizer = normalizer, pre_tokenizer
    assert [tokenizer.token_to_id(t) for t in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    return tokenizer


def pack_sequences(
    first: Sequence[Sequence[int]],
    second: Sequence[Sequence[int]] | None = None,
    max_len: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Build BERT inputs ``[CLS] a [SEP]`` or ``[CLS] a [SEP] b [SEP]``, padded to ``max_len``.

    Too long a pair is cut from the end of the longer part until it fits.

    Args:
        first: N token-id lists (without special tokens).
        second: None, or N token-id lists, the second sentence of each pair.
        max_len: length of every packed row (>= 5 for pairs, >= 3 for singles).

    Returns:
        ``(tokens, segments)``: int64 tensors of shape (N, max_len); segment 0 for [CLS], a and
        its [SEP], 1 for b and its [SEP], and 0 on padding ([PAD] = 0).

    Raises:
        ValueError: if ``second`` has another length than ``first``, or max_len is too small.

    Source: Devlin et al. (2019), section 3 (input representation). Introduced in chapter 18.
    """
    if second is not None and len(second) != len(first):
        raise ValueError(f"first and second must pair up: got {len(first)} and {len(second)} sequences")
    need = 5 if second is not None else 3
    if max_len < need:
        raise ValueError(f"max_len must be at least {need}, got {max_len}")
    tokens = torch.full((len(first), max_len), PAD_ID, dtype=torch.long)
    segments = torch.zeros((len(first), max_len), dtype=torch.long)
    for i, a in enumerate(first):
        a = list(a)
        if second is None:
            row, seg = [CLS_ID, *a[: max_len - 2], SEP_ID], None
        else:
            b = list(second[i])
            while len(a) + len(b) > max_len - 3:
                (a if len(a) >= len(b) else b).pop()
            row = [CLS_ID, *a, SEP_ID, *b, SEP_ID]
            seg = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        tokens[i, : len(row)] = torch.tensor(row)
        if seg is not None:
            segments[i, : len(seg)] = torch.tensor(seg)
    return tokens, segments


def _check_tokens(tokens: torch.Tensor, vocab_size: int) -> None:
    if not isinstance(tokens, torch.Tensor) or tokens.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"tokens must be an int64 tensor of ids, got {getattr(tokens, 'dtype', type(tokens))}")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(
            f"token ids must lie in [0, {vocab_size}), got ids from {int(tokens.min())} to {int(tokens.max())}"
        )


def mask_tokens(
    tokens: torch.Tensor,
    vocab_size: int,
    mask_rate: float = 0.15,
    *,
    num_special: int = len(SPECIAL_TOKENS),
    mask_id: int = MASK_ID,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking recipe: choose positions, corrupt them, keep the originals as labels.

    Each ordinary position (id >= ``num_special``; never [PAD], [CLS] or [SEP]) is chosen with
    probability ``mask_rate``. A chosen token is replaced by [MASK] with probability 0.8, by a
    uniformly drawn ordinary token with probability 0.1, and left unchanged with probability 0.1.
    The model must predict the original token at every chosen position.

    Args:
        tokens: (B, L) int64 ids in [0, vocab_size).
        vocab_size: V. mask_rate: probability of choosing a position, in (0, 1).
        num_special: ids below this are special tokens (never chosen nor drawn).
        mask_id: the id of [MASK]. generator: a CPU :class:`torch.Generator` for repeatability.

    Returns:
        ``(inputs, labels)``, both (B, L) int64 on the device of ``tokens``: the corrupted ids,
        and the original id at chosen positions, :data:`IGNORE_INDEX` elsewhere.

    Raises:
        ValueError: for a mask rate outside (0, 1), ids outside the vocabulary, or a tensor
            that is not (B, L) integer ids.

    Source: Devlin et al. (2019), section 3.1, task 1. Introduced in chapter 18.
    """
    if not 0.0 < float(mask_rate) < 1.0:
        raise ValueError(f"mask_rate must lie in (0, 1), got {mask_rate}")
    _check_tokens(tokens, vocab_size)
    if tokens.ndim != 2:
        raise ValueError(f"tokens must have shape (B, L), got {tuple(tokens.shape)}")
    if not 0 <= num_special < vocab_size:
        raise ValueError(f"num_special must lie in [0, {vocab_size}), got {num_special}")
    shape, dev = tokens.shape, tokens.device
    cpu = tokens.cpu().long()
    u_choose = torch.rand(shape, generator=generator)
    u_action = torch.rand(shape, generator=generator)
    random_ids = torch.randint(num_special, vocab_size, shape, generator=generator)
    chosen = (u_choose < mask_rate) & (cpu >= num_special)  # (B, L)
    inputs = cpu.clone()
    inputs[chosen & (u_action < 0.8)] = mask_id
    swap = chosen & (u_action >= 0.8) & (u_action < 0.9)
    inputs[swap] = random_ids[swap]
    labels = torch.where(chosen, cpu, torch.full_like(cpu, IGNORE_INDEX))
    return inputs.to(dev), labels.to(dev)


def masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the chosen positions only (labels != :data:`IGNORE_INDEX`).

    loss = -(1/``|M|``) Σ_{(b, t) ∈ M} log softmax(logits[b, t])[labels[b, t]], computed with a
    log-sum-exp; equal to ``F.cross_entropy(logits.flatten(0, 1), labels.flatten(),
    ignore_index=-100)``.

    Args:
        logits: (B, L, V) float scores. labels: (B, L) int64, a token id or IGNORE_INDEX.

    Returns:
        A scalar tensor (nats per chosen token).

    Raises:
        ValueError: for mismatched shapes, labels outside [0, V), or no chosen position.

    Source: Devlin et al. (2019), section 3.1. Introduced in chapter 18.
    """
    if logits.ndim != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(
            f"expected logits (B, L, V) and labels (B, L), got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    chosen = labels != IGNORE_INDEX  # (B, L)
    if not chosen.any():
        raise ValueError("labels choose no position: every label is IGNORE_INDEX")
    target = labels[chosen]  # (M,)
    V = logits.shape[-1]
    if target.min() < 0 or target.max() >= V:
        raise ValueError(f"labels must lie in [0, {V}) or be {IGNORE_INDEX}, "
                         f"got {int(target.min())}..{int(target.max())}")
    scores = logits[chosen]  # (M, V)
    log_z = torch.logsumexp(scores, dim=-1)  # (M,)
    return (log_z - scores.gather(1, target[:, None]).squeeze(1)).mean()


def next_sentence_pairs(
    sentences: Sequence, num_pairs: int | None = None, *, seed: int = 0
) -> tuple[list, list, torch.Tensor]:
    """Pairs for next-sentence prediction: half real successors, half random sentences.

    For a start position i, the pair is (s_i, s_{i+1}) with label 1 ("is next") with
    probability 1/2, else (s_i, s_j) with a random j ≠ i + 1 and label 0.

    Args:
        sentences: the sentences in their order in the text (any objects, e.g. id lists), >= 3.
        num_pairs: how many pairs (start positions drawn at random); default one per i.
        seed: seeds the draws.

    Returns:
        ``(firsts, seconds, is_next)``: two lists and a (num_pairs,) int64 tensor of 0/1.

    Raises:
        ValueError: for fewer than 3 sentences or a non-positive num_pairs.

    Source: Devlin et al. (2019), section 3.1, task 2. Introduced in chapter 18.
    """
    n = len(sentences)
    if n < 3:
        raise ValueError(f"need at least 3 sentences, got {n}")
    if num_pairs is not None and num_pairs < 1:
        raise ValueError(f"num_pairs must be positive, got {num_pairs}")
    rng = random.Random(seed)
    starts = list(range(n - 1)) if num_pairs is None else [rng.randrange(n - 1) for _ in range(num_pairs)]
    firsts, seconds, labels = [], [], []
    for i in starts:
        if rng.random() < 0.5:
            j, label = i + 1, 1
        else:
            j = rng.randrange(n - 1)
            j, label = (j if j < i + 1 else j + 1), 0  # any sentence but the successor
        firsts.append(sentences[i])
        seconds.append(sentences[j])
        labels.append(label)
    return firsts, seconds, torch.tensor(labels, dtype=torch.long)


def length_batches(
    first: Sequence[Sequence[int]],
    second: Sequence[Sequence[int]] | None = None,
    labels: torch.Tensor | None = None,
    *,
    batch_size: int,
    max_len: int = 64,
    bucket: int = 50,
    seed: int = 0,
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Packed batches of sequences of similar length, each padded only to its longest row.

    The order is shuffled; then each run of ``bucket`` batches' worth of sequences is sorted by
    length and cut into batches, and the batches are shuffled. Sequences of one batch thus have
    similar lengths, so little of each batch is padding: a batch of lines of 8 tokens costs a
    quarter of one padded to 32. Each batch is :func:`pack_sequences` with ``max_len`` set to
    the longest packed row of the batch (at most ``max_len``); the result for the real tokens
    does not depend on how much padding follows them, since padding is masked out of attention.

    Args:
        first: N token-id lists. second: None, or N token-id lists (pairs).
        labels: None, or (N,) int64 labels carried along (e.g. ``is_next``); default: a
            column of :data:`IGNORE_INDEX` (no label).
        batch_size: rows per batch (the last batch may be shorter). max_len: longest row.
        bucket: batches per sorted run (1: sort within each batch only). seed: the shuffles.

    Returns:
        A list of ``ceil(N / batch_size)`` tuples ``(tokens, segments, labels)``: (B, L_b),
        (B, L_b) and (B,) int64, with L_b <= max_len.

    Raises:
        ValueError: for lengths that do not match, a batch_size or bucket below 1, or a
            max_len too small (as :func:`pack_sequences`).

    Source: bucketing by length, as in Sutskever et al. (2014) and the BERT code's dynamic
    padding. Introduced in chapter 18.
    """
    n = len(first)
    if second is not None and len(second) != n:
        raise ValueError(f"first and second must pair up: got {n} and {len(second)} sequences")
    if labels is None:
        labels = torch.full((n,), IGNORE_INDEX, dtype=torch.long)
    if len(labels) != n:
        raise ValueError(f"labels must have one entry per sequence ({n}), got {len(labels)}")
    for name, v in (("batch_size", batch_size), ("bucket", bucket)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    extra = 3 if second is not None else 2
    if max_len < extra + 2:
        raise ValueError(f"max_len must be at least {extra + 2}, got {max_len}")
    length = [len(first[i]) + (len(second[i]) if second is not None else 0) for i in range(n)]
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    groups = []
    for start in range(0, n, batch_size * bucket):
        run = sorted(order[start:start + batch_size * bucket], key=lambda i: length[i])
        groups += [run[k:k + batch_size] for k in range(0, len(run), batch_size)]
    rng.shuffle(groups)
    batches = []
    for idx in groups:
        L = min(max_len, max(length[i] for i in idx) + extra)
        tokens, segments = pack_sequences([first[i] for i in idx],
                                          None if second is None else [second[i] for i in idx], max_len=L)
        batches.append((tokens, segments, labels[idx]))
    return batches


# ----------------------------------------------------------------------------- networks
class BertEncoder(nn.Module):
    """BERT's encoder: token + segment + position embeddings, then transformer encoder layers.

    Args:
        vocab_size: V. d_model: vector size. num_heads, num_layers, d_ff, dropout: of the
            :class:`~dlbook.transformer.EncoderLayer` stack (pre-norm, GELU). max_len: longest
            input. pad_id: the padding id, masked out of attention.

    ``forward(tokens, segments=None)``: tokens (B, L) int64 ids, segments (B, L) in {0, 1}
    (zeros if omitted) -> hidden vectors (B, L, d_model), one per position (position 0 is [CLS]).

    Raises:
        ValueError: ids outside [0, V), segments of another shape than tokens, L > max_len.

    Source: Devlin et al. (2019), section 3; positions are sinusoidal (Vaswani et al., 2017)
    rather than learned. Introduced in chapter 18.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, num_heads: int = 4, num_layers: int = 2,
                 d_ff: int = 128, dropout: float = 0.0, max_len: int = 64, pad_id: int = PAD_ID):
        super().__init__()
        self.vocab_size, self.d_model, self.pad_id = vocab_size, d_model, pad_id
        self.tokens = nn.Embedding(vocab_size, d_model)
        self.segments = nn.Embedding(2, d_model)
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model), persistent=False)
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, num_heads, d_ff, dropout, activation="gelu", norm_first=True)
            for _ in range(num_layers)
        )
        self.norm = LayerNorm(d_model)

    def forward(self, tokens: torch.Tensor, segments: torch.Tensor | None = None) -> torch.Tensor:
        _check_tokens(tokens, self.vocab_size)
        if tokens.ndim != 2 or tokens.shape[1] > self.pe.shape[0]:
            raise ValueError(f"tokens must be (B, L) with L <= {self.pe.shape[0]}, got {tuple(tokens.shape)}")
        if segments is None:
            segments = torch.zeros_like(tokens)
        elif segments.shape != tokens.shape:
            raise ValueError(f"segments must match tokens {tuple(tokens.shape)}, got {tuple(segments.shape)}")
        x = self.tokens(tokens) + self.segments(segments) + self.pe[: tokens.shape[1]]  # (B, L, d)
        key_mask = tokens != self.pad_id  # (B, L), True at real tokens
        if key_mask.all():
            key_mask = None  # no padding in the batch (as with length_batches): nothing to mask, same result
        for layer in self.layers:
            x, _ = layer(x, key_mask=key_mask)
        return self.norm(x)


class BertForPretraining(nn.Module):
    """A :class:`BertEncoder` with BERT's two pre-training heads.

    The masked-token head maps every hidden vector to V scores (a linear layer, GELU, layer
    normalization, a linear layer; BERT also ties the last layer's weights to the token embeddings,
    which we leave out); the next-sentence head maps the [CLS] vector to 2 scores
    (0: not next, 1: next).

    ``forward(tokens, segments=None, chosen=None)`` -> ``(mlm_logits, nsp_logits (B, 2))`` with
    mlm_logits (B, L, V), or (M, V) at the M positions where the bool (B, L) ``chosen`` is True
    (the head then runs on those positions only, which saves most of its work).

    Source: Devlin et al. (2019), section 3.1 and appendix A.1. Introduced in chapter 18.
    """

    def __init__(self, encoder: BertEncoder):
        super().__init__()
        d, V = encoder.d_model, encoder.vocab_size
        self.encoder = encoder
        self.mlm_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), LayerNorm(d), nn.Linear(d, V))
        self.nsp_head = nn.Linear(d, 2)

    def forward(self, tokens, segments=None, chosen=None):
        h = self.encoder(tokens, segments)  # (B, L, d)
        if chosen is not None:
            if chosen.shape != tokens.shape:
                raise ValueError(f"chosen must match tokens {tuple(tokens.shape)}, got {tuple(chosen.shape)}")
            return self.mlm_head(h[chosen]), self.nsp_head(h[:, 0])  # (M, V), (B, 2)
        return self.mlm_head(h), self.nsp_head(h[:, 0])


class SequenceClassifier(nn.Module):
    """A pre-trained (or fresh) encoder with a linear head on one vector per sequence.

    With ``pool="cls"`` the head reads the first output vector (the [CLS] position of a
    :class:`BertEncoder`, trained by next-sentence prediction); with ``pool="mean"`` the mean of
    the other output vectors (for a :class:`PatchEncoder`, whose [CLS] vector masked-patch
    pre-training never trains; the choice of He et al. (2022)). Only the head starts from
    random weights when the encoder is pre-trained; fine-tuning trains both.

    Args:
        encoder: maps a batch to (B, L, d_model) and has ``d_model``. num_classes: C.
        pool: ``"cls"`` or ``"mean"``.

    ``forward(*inputs)`` -> logits (B, C).

    Raises:
        ValueError: for another ``pool``.

    Source: Devlin et al. (2019), section 4 and figure 4. Introduced in chapter 18.
    """

    def __init__(self, encoder: nn.Module, num_classes: int, pool: str = "cls"):
        super().__init__()
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean', got {pool!r}")
        self.encoder, self.pool = encoder, pool
        self.head = nn.Linear(encoder.d_model, num_classes)

    def forward(self, *inputs):
        h = self.encoder(*inputs)  # (B, L, d)
        return self.head(h[:, 0] if self.pool == "cls" else h[:, 1:].mean(dim=1))


class TokenClassifier(nn.Module):
    """An encoder with a linear head on every output vector: one class per token.

    Args:
        encoder: a :class:`BertEncoder` (or any module mapping (B, L) ids to (B, L, d_model)).
        num_classes: C.

    ``forward(tokens, segments=None)`` -> logits (B, L, C).

    Source: Devlin et al. (2019), figure 4 (d), token-level tasks. Introduced in chapter 18.
    """

    def __init__(self, encoder: nn.Module, num_classes: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.d_model, num_classes)

    def forward(self, *inputs):
        return self.head(self.encoder(*inputs))


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Cut images into non-overlapping square patches, row by row.

    Args:
        images: (B, H, W) or (B, 1, H, W) floats; H and W multiples of ``patch_size``.

    Returns:
        (B, (H/p)(W/p), p²): one row of pixels per patch.

    Raises:
        ValueError: for another shape, a ``patch_size`` below 1, or sizes that it does not
            divide.

    Source: Dosovitskiy et al. (2021), ViT. Introduced in chapter 18.
    """
    if int(patch_size) != patch_size or patch_size < 1:
        raise ValueError(f"patch_size must be a positive integer, got {patch_size!r}")
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[1] % patch_size or images.shape[2] % patch_size:
        raise ValueError(
            f"expected images (B, H, W) with H, W multiples of {patch_size}, got {tuple(images.shape)}"
        )
    B, H, W = images.shape
    p = patch_size
    x = images.reshape(B, H // p, p, W // p, p).permute(0, 1, 3, 2, 4)  # (B, H/p, W/p, p, p)
    return x.reshape(B, (H // p) * (W // p), p * p)


def mask_patches(batch_size: int, num_patches: int, mask_rate: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Choose round(mask_rate · num_patches) patches of every image at random.

    Returns:
        (batch_size, num_patches) bool, ``True`` at the hidden patches (the same count per row).

    Raises:
        ValueError: for a batch_size below 1, a mask rate outside (0, 1) or one that hides no
            patch or all of them.

    Source: He et al. (2022), section 3 (random sampling). Introduced in chapter 18.
    """
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not 0.0 < float(mask_rate) < 1.0:
        raise ValueError(f"mask_rate must lie in (0, 1), got {mask_rate}")
    k = round(mask_rate * num_patches)
    if not 0 < k < num_patches:
        raise ValueError(f"mask_rate {mask_rate} hides {k} of {num_patches} patches; hide at least one, not all")
    order = torch.rand(batch_size, num_patches, generator=generator).argsort(dim=1)
    mask = torch.zeros(batch_size, num_patches, dtype=torch.bool)
    mask.scatter_(1, order[:, :k], True)
    return mask


class PatchEncoder(nn.Module):
    """A transformer encoder over image patches (a small vision transformer).

    Each p x p patch becomes a vector by a linear layer; a learned [CLS] vector is put in front,
    sinusoidal positions are added, and the :class:`~dlbook.transformer.EncoderLayer` stack
    runs. Hidden patches (``patch_mask``) are replaced by a learned mask vector before the
    positions are added, as [MASK] replaces hidden words.

    Args:
        image_size: H = W in pixels. patch_size: p. d_model, num_heads, num_layers, d_ff: sizes.

    ``forward(images, patch_mask=None)``: images (B, 1, H, W) or (B, H, W) floats,
    patch_mask (B, N) bool -> (B, 1 + N, d_model).

    Source: Dosovitskiy et al. (2021); the mask vector as in Xie et al. (2022), SimMIM (He et
    al. (2022) drop the hidden patches instead). Introduced in chapter 18.
    """

    def __init__(self, image_size: int = 28, patch_size: int = 7, d_model: int = 64, num_heads: int = 4,
                 num_layers: int = 2, d_ff: int = 128):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"patch_size must divide image_size, got {patch_size} and {image_size}")
        self.patch_size, self.d_model = patch_size, d_model
        self.num_patches = (image_size // patch_size) ** 2
        self.embed = nn.Linear(patch_size * patch_size, d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        self.mask_vector = nn.Parameter(torch.zeros(d_model))
        nn.init.normal_(self.cls, std=0.02)
        nn.init.normal_(self.mask_vector, std=0.02)
        self.register_buffer("pe", sinusoidal_positional_encoding(1 + self.num_patches, d_model), persistent=False)
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, num_heads, d_ff, 0.0, activation="gelu", norm_first=True)
            for _ in range(num_layers)
        )
        self.norm = LayerNorm(d_model)

    def forward(self, images: torch.Tensor, patch_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embed(patchify(images, self.patch_size))  # (B, N, d)
        if x.shape[1] != self.num_patches:
            raise ValueError(f"expected {self.num_patches} patches, got {x.shape[1]} from {tuple(images.shape)}")
        if patch_mask is not None:
            if patch_mask.shape != x.shape[:2]:
                raise ValueError(f"patch_mask must be {tuple(x.shape[:2])}, got {tuple(patch_mask.shape)}")
            x = torch.where(patch_mask[..., None], self.mask_vector, x)
        x = torch.cat([self.cls.expand(len(x), -1, -1), x], dim=1) + self.pe  # (B, 1 + N, d)
        for layer in self.layers:
            x, _ = layer(x)
        return self.norm(x)


class MaskedPatchModel(nn.Module):
    """A :class:`PatchEncoder` with a linear head that predicts the pixels of each patch.

    ``forward(images, patch_mask)`` -> predicted patches (B, N, p²).

    Source: He et al. (2022); Xie et al. (2022). Introduced in chapter 18.
    """

    def __init__(self, encoder: PatchEncoder):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.d_model, encoder.patch_size ** 2)

    def forward(self, images, patch_mask=None):
        return self.head(self.encoder(images, patch_mask)[:, 1:])


# ----------------------------------------------------------------------------- steps
def bert_pretrain_step(mask_rate: float = 0.15, *, seed: int = 0):
    """Make the pre-training step of :class:`BertForPretraining` for :func:`dlbook.train.fit`.

    Each call masks the batch afresh (:func:`mask_tokens`, seeded once) and returns the sum of
    the masked-token loss and the next-sentence loss, with both accuracies. A batch may hold
    single sentences instead of pairs: rows whose ``is_next`` is :data:`IGNORE_INDEX` have no
    next-sentence label and add only to the masked-token loss (RoBERTa's choice for all rows).

    The step is ``step(model, (tokens, segments, is_next)) -> dict`` with ``loss``,
    ``mlm_loss`` and ``mlm_accuracy`` (on the chosen positions) and, when some row has a
    next-sentence label, ``nsp_loss`` and ``nsp_accuracy`` (over those rows; read them from
    ``History.per_batch``, since batches without pairs do not report them); tokens and
    segments (B, L) int64, is_next (B,) int64 in {0, 1, IGNORE_INDEX}.

    Raises:
        ValueError: for a mask rate outside (0, 1) (when made) and, on a call, as
            :func:`mask_tokens` and :func:`masked_lm_loss` do, or for ``is_next`` that is not
            (B,) with values in {0, 1, IGNORE_INDEX}.

    Source: Devlin et al. (2019), section 3.1; Liu et al. (2019), RoBERTa, section 4.2 (no
    next-sentence task). Introduced in chapter 18.
    """
    if not 0.0 < float(mask_rate) < 1.0:
        raise ValueError(f"mask_rate must lie in (0, 1), got {mask_rate}")
    generator = torch.Generator().manual_seed(seed)

    def step(model: BertForPretraining, batch):
        tokens, segments, is_next = batch
        if is_next.shape != tokens.shape[:1]:
            raise ValueError(f"is_next must be ({len(tokens)},), got {tuple(is_next.shape)}")
        paired = is_next != IGNORE_INDEX  # (B,) rows with a next-sentence label
        if ((is_next[paired] != 0) & (is_next[paired] != 1)).any():
            raise ValueError(f"is_next must hold 0, 1 or {IGNORE_INDEX}, got {is_next.unique().tolist()}")
        inputs, labels = mask_tokens(tokens, model.encoder.vocab_size, mask_rate, generator=generator)
        chosen = labels != IGNORE_INDEX  # (B, L)
        mlm_logits, nsp_logits = model(inputs, segments, chosen)  # (M, V), (B, 2)
        target = labels[chosen]  # (M,)
        mlm = masked_lm_loss(mlm_logits[None], target[None])  # the M chosen positions only
        out = {"loss": mlm, "mlm_loss": mlm.detach(), "mlm_accuracy": accuracy(mlm_logits, target)}
        if paired.any():
            nsp = F.cross_entropy(nsp_logits[paired], is_next[paired])
            out.update(loss=mlm + nsp, nsp_loss=nsp.detach(),
                       nsp_accuracy=accuracy(nsp_logits[paired], is_next[paired]))
        return out

    return step


def masked_patch_step(mask_rate: float = 0.5, *, seed: int = 0):
    """Make the pre-training step of :class:`MaskedPatchModel` for :func:`dlbook.train.fit`.

    ``step(model, (images,)) -> loss``: images (B, 1, H, W) or (B, H, W) float pixels; the loss
    is a scalar tensor, the mean squared error between predicted and true pixels of the hidden
    patches only (a fresh random mask per call, drawn from a CPU generator seeded with ``seed``).

    Raises:
        ValueError: for a mask rate outside (0, 1) (when made) and, on a call, for images that
            :func:`patchify` rejects or a rate that hides no patch or all of them.

    Source: He et al. (2022), section 3 (reconstruction target). Introduced in chapter 18.
    """
    if not 0.0 < float(mask_rate) < 1.0:
        raise ValueError(f"mask_rate must lie in (0, 1), got {mask_rate}")
    generator = torch.Generator().manual_seed(seed)

    def step(model: MaskedPatchModel, batch):
        (images,) = batch
        N = model.encoder.num_patches
        mask = mask_patches(len(images), N, mask_rate, generator).to(images.device)  # (B, N)
        pred = model(images, mask)  # (B, N, p²)
        target = patchify(images, model.encoder.patch_size)
        return F.mse_loss(pred[mask], target[mask])

    return step


def classify_step(model: nn.Module, batch) -> dict:
    """Fine-tuning step: cross-entropy of ``model(*inputs)`` against the last tensor of the batch.

    ``batch = (*inputs, y)`` with y (B,) int64 class indices and ``model(*inputs)`` logits
    (B, C). Returns ``{"loss", "accuracy"}``: the mean cross-entropy (nats, with gradient) and
    the fraction of correct arg-max predictions (a Python float, :func:`dlbook.metrics.accuracy`).

    Raises:
        ValueError: if the logits are not (B, C) with the batch size of y, or y holds classes
            outside [0, C).

    Source: Devlin et al. (2019), section 4 (fine-tuning). Introduced in chapter 18.
    """
    *inputs, y = batch
    logits = model(*inputs)  # (B, C)
    if logits.ndim != 2 or y.shape != logits.shape[:1]:
        raise ValueError(f"expected logits (B, C) and y (B,), got {tuple(logits.shape)} and {tuple(y.shape)}")
    if len(y) and (y.min() < 0 or y.max() >= logits.shape[1]):
        raise ValueError(f"y must hold classes in [0, {logits.shape[1]}), got {int(y.min())}..{int(y.max())}")
    return {"loss": F.cross_entropy(logits, y),
            "accuracy": accuracy(logits, y)}


def token_classify_step(model: nn.Module, batch) -> dict:
    """Fine-tuning step of a per-token task: ``batch = (tokens, labels)``, both (B, L) int64,
    labels :data:`IGNORE_INDEX` where there is nothing to predict ([CLS], [SEP], padding).

    Returns ``{"loss", "accuracy"}``: the mean cross-entropy and the accuracy over the labelled
    positions (a Python float, :func:`dlbook.metrics.accuracy`).

    Raises:
        ValueError: if labels and tokens differ in shape, or no position carries a label.

    Source: Devlin et al. (2019), section 4 and figure 4 (d). Introduced in chapter 18.
    """
    tokens, labels = batch
    if labels.shape != tokens.shape:
        raise ValueError(f"labels must match tokens {tuple(tokens.shape)}, got {tuple(labels.shape)}")
    keep = labels != IGNORE_INDEX  # (B, L)
    if not keep.any():
        raise ValueError(f"labels hold no labelled position (all {IGNORE_INDEX}); expected at least one")
    logits = model(tokens)  # (B, L, C)
    return {"loss": F.cross_entropy(logits[keep], labels[keep]),
            "accuracy": accuracy(logits[keep], labels[keep])}


def next_token_step(model: nn.Module, batch) -> torch.Tensor:
    """GPT's step: ``batch = (X,)`` with X (B, L + 1) ids; predict X[:, 1:] from X[:, :-1].

    Returns the mean cross-entropy over all B·L positions (nats per token).

    Raises:
        ValueError: if X is not (B, L + 1) with L >= 1.

    Source: Radford et al. (2018), section 3.1. Introduced in chapter 18.
    """
    (X,) = batch
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"expected token ids (B, L + 1) with L >= 1, got {tuple(X.shape)}")
    logits = model(X[:, :-1])  # (B, L, V)
    return F.cross_entropy(logits.flatten(0, 1), X[:, 1:].flatten())


@torch.no_grad()
def sample(model: nn.Module, prompt: torch.Tensor, num_tokens: int, temperature: float = 1.0,
           *, context: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Continue ``prompt`` with a causal model, drawing each token from softmax(logits / T).

    A low temperature T sharpens the distribution towards the most likely token (greedy as
    T → 0); T = 1 samples the model's own distribution; a high T flattens it towards uniform.

    Args:
        model: maps (1, L) ids to (1, L, V) logits. prompt: (P,) or (1, P) int64 ids.
        num_tokens: tokens to add (>= 0). temperature: T > 0. context: most positions fed.
        generator: a CPU generator for repeatable draws.

    Returns:
        (P + num_tokens,) int64 ids on the CPU.

    Raises:
        ValueError: for T <= 0, num_tokens < 0, context < 1 or an empty prompt.

    Source: Radford et al. (2019), sampling with a temperature (Ackley, Hinton and
    Sejnowski, 1985). Introduced in chapter 18.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if num_tokens < 0:
        raise ValueError(f"num_tokens must be >= 0, got {num_tokens}")
    if context < 1:
        raise ValueError(f"context must be at least 1 position, got {context}")
    ids = prompt.reshape(1, -1).long()
    if ids.shape[1] == 0:
        raise ValueError("prompt is empty")
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    ids = ids.cpu()
    for _ in range(num_tokens):
        logits = model(ids[:, -context:].to(dev))[0, -1].float().cpu()  # (V,)
        probs = torch.softmax(logits / temperature, dim=-1)
        ids = torch.cat([ids, torch.multinomial(probs, 1, generator=generator)[None]], dim=1)
    model.train(was_training)
    return ids[0]
