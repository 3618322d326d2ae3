"""Word embeddings from raw text: counting (co-occurrence, PPMI, SVD) and predicting (word2vec).

A word embedding gives every word of a vocabulary a short dense vector, learned from the
contexts the word appears in ("you shall know a word by the company it keeps"). Two families:

* **count-based**: count how often two words occur near each other
  (:func:`cooccurrence_counts`), reweight the counts by positive pointwise mutual information
  (:func:`ppmi`) and factorize the matrix (:func:`svd_embeddings`): the truncated SVD gives the
  vectors whose inner products reproduce the matrix best in the least-squares sense;
* **prediction-based**: train a shallow network to predict a word from its context (CBOW,
  :class:`CBOWNS`) or the context from the word (skip-gram, :class:`SkipGramNS`), with
  negative sampling instead of a softmax over the whole vocabulary. The loss and its gradients
  are also written out by hand (:func:`negative_sampling_grads`).

Sources: the course's lecture on word embedding; Mikolov et al. (2013a, 2013b) for CBOW,
skip-gram, negative sampling and subsampling; Levy and Goldberg (2014) and Levy et al. (2015)
for PPMI, SVD and context-distribution smoothing.

Introduced in :doc:`/notebooks/15_word_embeddings`.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import require_count, require_finite, require_float
from .train import fit, minibatches

__all__ = [
    "play_words",
    "build_vocab",
    "encode_words",
    "cooccurrence_counts",
    "ppmi",
    "svd_embeddings",
    "subsample_frequent",
    "skipgram_pairs",
    "cbow_examples",
    "negative_distribution",
    "negative_sampling_grads",
    "SkipGramNS",
    "CBOWNS",
    "train_negative_sampling",
    "nearest_neighbours",
]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def play_words(text: str) -> list[str]:
    """The spoken words of a play script, lowercased, in order.

    A line that ends with ``:`` right after a blank line (or at the start) names the speaker
    (``"KING RICHARD III:"``) and is dropped; from the rest, words are runs of letters with an
    optional apostrophe part (``"o'er"``, ``"king's"``).

    Returns:
        A list of str.

    Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    kept, previous = [], ""
    for line in text.split("\n"):
        if not (previous.strip() == "" and line.rstrip().endswith(":")):
            kept.append(line)
        previous = line
    return _WORD.findall("\n".join(kept).lower())


def build_vocab(words, min_count: int = 5) -> tuple[list[str], np.ndarray]:
    """The words seen at least ``min_count`` times, most frequent first (ties alphabetically).

    Returns:
        ``(itos, counts)``: the list of words and their counts, shape (V,), int64.

    Raises:
        ValueError: if ``min_count`` < 1 or no word is frequent enough.

    Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    counter = Counter(words)
    kept = sorted(((w, n) for w, n in counter.items() if n >= min_count), key=lambda p: (-p[1], p[0]))
    if not kept:
        raise ValueError(f"no word occurs {min_count} times or more (of {len(counter)} distinct words)")
    return [w for w, _ in kept], np.array([n for _, n in kept], dtype=np.int64)


def encode_words(words, itos) -> np.ndarray:
    """Words → indices into ``itos``, shape (N,), int64; words outside the vocabulary get -1.

    Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    stoi = {w: i for i, w in enumerate(itos)}
    return np.array([stoi.get(w, -1) for w in words], dtype=np.int64)


def _check_ids(ids, vocab_size=None):
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array, got dtype {ids.dtype} and shape {ids.shape}")
    if vocab_size is not None and ids.size and ids.max() >= vocab_size:
        raise ValueError(f"ids contain {ids.max()}, not below vocab_size={vocab_size}")
    return ids


def _check_ids_window(ids, window: int, vocab_size=None):
    ids = _check_ids(ids, vocab_size)
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    return ids


def cooccurrence_counts(ids, vocab_size: int, window: int) -> np.ndarray:
    """Count how often word j occurs within ``window`` positions of word i.

    Args:
        ids: word indices in text order, shape (N,); -1 marks a word outside the vocabulary
            (it keeps its position, so distances stay true, but is never counted).
        vocab_size: V.
        window: the largest distance counted, ≥ 1 (both sides).

    Returns:
        N_ij, shape (V, V), float64, symmetric.

    Raises:
        ValueError: for a bad window or ids out of range.

    Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    ids = _check_ids_window(ids, window, vocab_size)
    counts = np.zeros(vocab_size * vocab_size, dtype=np.float64)
    for d in range(1, window + 1):
        a, b = ids[:-d], ids[d:]  # pairs d positions apart
        ok = (a >= 0) & (b >= 0)
        counts += np.bincount(a[ok] * vocab_size + b[ok], minlength=vocab_size**2)
    C = counts.reshape(vocab_size, vocab_size)
    return C + C.T  # j after i and j before i


def ppmi(C, alpha: float = 0.75) -> np.ndarray:
    """Positive pointwise mutual information of a co-occurrence matrix.

    .. math::
        \\mathrm{PPMI}_{ij} = \\max\\Big(0, \\log \\frac{P(i, j)}{P(i)\\,P_α(j)}\\Big),\\quad
        P(i, j) = \\frac{N_{ij}}{\\sum N},\\ P(i) = \\sum_j P(i, j),\\
        P_α(j) = \\frac{(\\sum_i N_{ij})^α}{\\sum_k (\\sum_i N_{ik})^α},

    and 0 where :math:`N_{ij} = 0`. The exponent α < 1 (context-distribution smoothing) stops
    rare context words from getting huge values; α = 1 is the plain PPMI.

    Args:
        C: counts, shape (V, V), non-negative, not all zero.
        alpha: the smoothing exponent in (0, 1].

    Returns:
        Shape (V, V), float64.

    Raises:
        ValueError: for a non-square or negative or all-zero C, or alpha outside (0, 1].

    Source: Church and Hanks (1990); Levy et al. (2015). Introduced in
    :doc:`/notebooks/15_word_embeddings`.
    """
    C = np.asarray(C, dtype=np.float64)
    require_finite(C, "C")
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"C must be square, got shape {C.shape}")
    if (C < 0).any() or C.sum() == 0:
        raise ValueError("C must be non-negative with at least one count")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    total = C.sum()
    p_row = C.sum(axis=1) / total  # (V,)
    col = C.sum(axis=0) ** alpha
    p_col = col / col.sum()  # (V,)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(C / total) - np.log(p_row)[:, None] - np.log(p_col)[None, :]
    return np.where(C > 0, np.maximum(pmi, 0.0), 0.0)


def svd_embeddings(M, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Word and context vectors from the truncated SVD :math:`M ≈ U_k Σ_k V_k^\\top`.

    Returns :math:`W = U_k Σ_k^{1/2}` (word vectors) and :math:`C = V_k Σ_k^{1/2}` (context
    vectors), each (V, dim), float64, so that :math:`W C^\\top` is the best rank-``dim``
    approximation of M in the least-squares sense (Eckart-Young): the inner product of word i's
    vector and context j's vector approximates :math:`M_{ij}`. Singular values come in
    decreasing order; the sign of each pair of singular vectors is fixed so that the largest
    entry of each column of W is positive.

    The leading singular vectors are computed by randomized SVD (:func:`torch.svd_lowrank`,
    Halko et al. 2011, with ``dim + 16`` probe vectors and 4 power iterations), seeded by
    ``seed`` without touching the global random state: fast on a large matrix, and exact when
    ``dim + 16 >= min(M.shape)``.

    Raises:
        ValueError: if M is not 2-D or ``dim`` is not in [1, min(M.shape)].

    Source: Deerwester et al. (1990); Levy and Goldberg (2014). Introduced in
    :doc:`/notebooks/15_word_embeddings`.
    """
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2 or not 1 <= dim <= min(M.shape):
        raise ValueError(f"need a 2-D M and 1 <= dim <= min(M.shape), got {M.shape} and dim={dim}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        U, S, V = torch.svd_lowrank(torch.from_numpy(M), q=min(dim + 16, min(M.shape)), niter=4)
    U, S, V = U[:, :dim].numpy(), S[:dim].numpy(), V[:, :dim].numpy()
    signs = np.sign(U[np.abs(U).argmax(axis=0), np.arange(dim)])
    U, V = U * signs, V * signs
    root = np.sqrt(S)
    return U * root, V * root


def subsample_frequent(ids, counts, t: float = 1e-3, rng=None) -> np.ndarray:
    """Randomly drop occurrences of very frequent words ("the", "and").

    Each occurrence of word w, with frequency :math:`f_w` (its share of all words), is kept
    with probability :math:`\\min(1, \\sqrt{t / f_w} + t / f_w)`, the rule of the word2vec code.
    Words outside the vocabulary (-1) are dropped.

    Args:
        ids: shape (N,), int; counts: shape (V,), the vocabulary's counts; t: the threshold;
        rng: a :class:`numpy.random.Generator`.

    Returns:
        The kept ids, shape (M,), int64, in text order.

    Source: Mikolov et al. (2013b). Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    ids = _check_ids(ids, len(counts))
    rng = rng if rng is not None else np.random.default_rng(0)
    freq = np.asarray(counts, dtype=np.float64) / np.sum(counts)
    keep_prob = np.minimum(1.0, np.sqrt(t / freq) + t / freq)  # (V,)
    valid = ids >= 0
    keep = valid & (rng.random(len(ids)) < keep_prob[np.where(valid, ids, 0)])
    return ids[keep].astype(np.int64)


def skipgram_pairs(ids, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (centre, context) pair with the context at most ``window`` positions away.

    Args:
        ids: shape (N,), int, -1 for words outside the vocabulary (skipped).
        window: ≥ 1.

    Returns:
        ``(centres, contexts)``, each of shape (P,), int64, ordered by distance then position.

    Raises:
        ValueError: for window < 1.

    Source: Mikolov et al. (2013a). Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    ids = _check_ids_window(ids, window)
    centres, contexts = [], []
    for d in range(1, window + 1):
        for a, b in ((ids[:-d], ids[d:]), (ids[d:], ids[:-d])):
            ok = (a >= 0) & (b >= 0)
            centres.append(a[ok])
            contexts.append(b[ok])
    return np.concatenate(centres).astype(np.int64), np.concatenate(contexts).astype(np.int64)


def cbow_examples(ids, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For every in-vocabulary word, its ``2 · window`` neighbours (the context) and itself.

    Returns:
        ``(contexts, centres)``: contexts of shape (N', 2·window), int64, in the order
        w_{t-window}, ..., w_{t-1}, w_{t+1}, ..., w_{t+window}, with -1 where a neighbour is
        outside the text or the vocabulary; centres of shape (N',). Words whose context is
        entirely -1 are left out.

    Raises:
        ValueError: for window < 1.

    Source: Mikolov et al. (2013a). Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    ids = _check_ids_window(ids, window)
    padded = np.concatenate([np.full(window, -1), ids, np.full(window, -1)])
    offsets = [d for d in range(-window, window + 1) if d != 0]
    contexts = np.stack([padded[window + d: window + d + len(ids)] for d in offsets], axis=1)  # (N, 2w)
    keep = (ids >= 0) & (contexts >= 0).any(axis=1)
    return contexts[keep].astype(np.int64), ids[keep].astype(np.int64)


def negative_distribution(counts, power: float = 0.75) -> np.ndarray:
    """The noise distribution negatives are drawn from: :math:`P(w) ∝ \\mathrm{count}(w)^{0.75}`.

    Returns:
        Shape (V,), float64, summing to 1.

    Source: Mikolov et al. (2013b). Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    require_finite(np.asarray(counts, dtype=np.float64), "counts")
    weights = np.asarray(counts, dtype=np.float64) ** power
    if weights.ndim != 1 or not weights.sum() > 0:
        raise ValueError(f"counts must be a non-empty 1-D array with a positive sum, got shape {weights.shape}")
    return weights / weights.sum()


def negative_sampling_grads(v, u_pos, u_neg):
    """The negative-sampling loss and its gradients, derived by hand.

    For a batch of B examples, with input vector v, the vector u⁺ of the true output word
    and the vectors u⁻₁..u⁻_K of K sampled noise words,

    .. math::
        \\ell = -\\log σ(u^{+}\\!\\cdot v) - \\sum_{k=1}^{K} \\log σ(-u^{-}_k\\!\\cdot v),\\qquad
        \\frac{∂\\ell}{∂v} = (σ(u^{+}\\!\\cdot v) - 1)\\,u^{+} + \\sum_k σ(u^{-}_k\\!\\cdot v)\\,u^{-}_k,

    :math:`∂\\ell/∂u^{+} = (σ(u^{+}\\!\\cdot v) - 1)\\,v` and
    :math:`∂\\ell/∂u^{-}_k = σ(u^{-}_k\\!\\cdot v)\\,v`. The loss returned is the batch mean, and
    the gradients are those of the mean.

    Args:
        v: (B, d); u_pos: (B, d); u_neg: (B, K, d) (tensors of one float dtype).

    Returns:
        ``(loss, grad_v, grad_u_pos, grad_u_neg)`` with the shapes of the inputs (loss a scalar).

    Raises:
        ValueError: for mismatched shapes.

    Source: Mikolov et al. (2013b). Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    require_float(v=v, u_pos=u_pos, u_neg=u_neg)
    if v.ndim != 2 or u_pos.shape != v.shape or u_neg.ndim != 3 or u_neg.shape[::2] != v.shape:
        raise ValueError(f"expected v (B, d), u_pos (B, d), u_neg (B, K, d), got {tuple(v.shape)}, "
                         f"{tuple(u_pos.shape)}, {tuple(u_neg.shape)}")
    B = v.shape[0]
    s_pos = (u_pos * v).sum(dim=1)  # (B,)
    s_neg = torch.einsum("bkd,bd->bk", u_neg, v)  # (B, K)
    loss = -(F.logsigmoid(s_pos) + F.logsigmoid(-s_neg).sum(dim=1)).mean()
    e_pos = (torch.sigmoid(s_pos) - 1) / B  # (B,)  d loss / d s_pos
    e_neg = torch.sigmoid(s_neg) / B  # (B, K)  d loss / d s_neg
    grad_v = e_pos[:, None] * u_pos + torch.einsum("bk,bkd->bd", e_neg, u_neg)  # (B, d)
    grad_u_pos = e_pos[:, None] * v  # (B, d)
    grad_u_neg = e_neg[:, :, None] * v[:, None, :]  # (B, K, d)
    return loss, grad_v, grad_u_pos, grad_u_neg


def _ns_loss(v, u_pos, u_neg):
    s_pos = (u_pos * v).sum(dim=1)  # (B,)
    s_neg = torch.einsum("bkd,bd->bk", u_neg, v)  # (B, K)
    return -(F.logsigmoid(s_pos) + F.logsigmoid(-s_neg).sum(dim=1)).mean()


class _EmbeddingTables(nn.Module):
    """The two tables of word2vec, ``in_embed`` and ``out_embed`` (V, d), initialized as
    word2vec does: input vectors uniform in ±0.5/d, output vectors zero."""

    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        if min(vocab_size, dim) < 1:
            raise ValueError(f"vocab_size and dim must be positive, got {vocab_size} and {dim}")
        self.in_embed = nn.Embedding(vocab_size, dim)
        self.out_embed = nn.Embedding(vocab_size, dim)
        nn.init.uniform_(self.in_embed.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.out_embed.weight)


class SkipGramNS(_EmbeddingTables):
    """Skip-gram with negative sampling: predict a context word from the centre word.

    Two tables: ``in_embed`` (the word vectors kept at the end) and ``out_embed`` (the output
    layer, one vector per word as a *predicted* word). Initialized as word2vec does: input
    vectors uniform in ±0.5/d, output vectors zero.

    Forward: ``(centres (B,), contexts (B,), negatives (B, K))``, int64 → mean loss (scalar).

    Source: Mikolov et al. (2013a, 2013b). Introduced in :doc:`/notebooks/15_word_embeddings`.
    """

    def forward(self, centres, contexts, negatives):
        if centres.ndim != 1 or contexts.shape != centres.shape or negatives.shape[0] != len(centres):
            raise ValueError(f"expected centres (B,), contexts (B,), negatives (B, K), got "
                             f"{tuple(centres.shape)}, {tuple(contexts.shape)}, {tuple(negatives.shape)}")
        return _ns_loss(self.in_embed(centres), self.out_embed(contexts), self.out_embed(negatives))


class CBOWNS(_EmbeddingTables):
    """Continuous bag of words with negative sampling: predict the centre word from its context.

    The hidden vector is the *mean* of the input vectors of the context words: every context
    position uses the same table ``in_embed`` (shared weights), so the order of the context
    words does not matter and the parameter count does not grow with the window.

    Forward: ``(contexts (B, 2w) with -1 for missing words, centres (B,), negatives (B, K))``,
    int64 → mean loss (scalar).

    Source: Mikolov et al. (2013a). Introduced in :doc:`/notebooks/15_word_embeddings`.
    """

    def hidden(self, contexts):
        """Mean input vector of the valid context words: (B, 2w) → (B, d)."""
        mask = (contexts >= 0).to(self.in_embed.weight.dtype)  # (B, 2w)
        vectors = self.in_embed(contexts.clamp(min=0)) * mask[:, :, None]  # (B, 2w, d)
        return vectors.sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp(min=1)

    def forward(self, contexts, centres, negatives):
        if contexts.ndim != 2 or centres.shape != contexts.shape[:1] or negatives.shape[0] != len(centres):
            raise ValueError(f"expected contexts (B, 2w), centres (B,), negatives (B, K), got "
                             f"{tuple(contexts.shape)}, {tuple(centres.shape)}, {tuple(negatives.shape)}")
        return _ns_loss(self.hidden(contexts), self.out_embed(centres), self.out_embed(negatives))


def train_negative_sampling(net, inputs, targets, neg_probs, *, num_epochs=1, batch_size=1024,
                            num_negatives=5, lr=0.01, seed=0, snapshot_steps=(), desc="word vectors"):
    """Train :class:`SkipGramNS` or :class:`CBOWNS` by Adam on shuffled mini-batches.

    Args:
        net: the model; called as ``net(inputs[b], targets[b], negatives)``.
        inputs: (N,) centres for skip-gram, (N, 2w) contexts for CBOW; int64 tensors.
        targets: (N,) the word to predict (context word for skip-gram, centre for CBOW).
        neg_probs: (V,) the noise distribution (:func:`negative_distribution`).
        num_epochs, batch_size, num_negatives, lr, seed: the usual; the learning rate decays
            linearly to zero over the run.
        snapshot_steps: steps (0 = before training) after which a copy of ``in_embed`` is kept.

    The loop is :func:`dlbook.train.fit` on :func:`dlbook.train.minibatches`, with a step that
    draws the negatives (from the generator that shuffles the batches).

    Returns:
        ``(losses, snapshots)``: per-step loss, and a dict step → (V, d) CPU tensor.

    Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    if len(inputs) != len(targets):
        raise ValueError(f"inputs and targets must have one length, got {len(inputs)} and {len(targets)}")
    generator = torch.Generator().manual_seed(seed)  # draws the batch order and the negatives
    probs = torch.as_tensor(neg_probs, dtype=torch.float64)
    device = net.in_embed.weight.device
    batches = minibatches(inputs, targets, batch_size=batch_size, seed=generator)
    total = num_epochs * len(batches)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - s / total)

    def negative_sampling_step(model, batch):
        words, targets_b = batch  # (B,) or (B, 2w), and (B,)
        negatives = torch.multinomial(probs, len(targets_b) * num_negatives, replacement=True,
                                      generator=generator).view(len(targets_b), num_negatives)
        return model(words, targets_b, negatives.to(device))

    class Snapshots:
        """Copies of ``in_embed`` after the wanted steps (0: before training)."""

        wanted, taken = set(snapshot_steps), {}

        def on_fit_start(self, state) -> None:
            self.on_batch_end(state)

        def on_batch_end(self, state) -> None:
            if state.step in self.wanted:
                self.taken[state.step] = net.in_embed.weight.detach().cpu().clone()

    snapshots = Snapshots()
    history = fit(net, batches, negative_sampling_step, num_epochs=num_epochs, optimizer=optimizer,
                  scheduler=schedule, device=device, desc=desc, callbacks=[snapshots])
    return history.per_batch["train_loss"], snapshots.taken


def nearest_neighbours(E, itos, word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words whose vectors have the largest cosine similarity with ``word``'s.

    Args:
        E: word vectors, shape (V, d) (array or tensor); itos: the V words; word: the query.

    Returns:
        A list of (word, cosine similarity), most similar first, the query itself left out.

    Raises:
        ValueError: if the word is not in the vocabulary or the shapes disagree.

    Introduced in :doc:`/notebooks/15_word_embeddings`.
    """
    E = np.asarray(E.detach().cpu() if isinstance(E, torch.Tensor) else E, dtype=np.float64)
    if E.ndim != 2 or len(E) != len(itos):
        raise ValueError(f"E must have one row per word ({len(itos)}), got shape {E.shape}")
    require_finite(E, "E")
    require_count(k, "k")
    try:
        i = list(itos).index(word)
    except ValueError:
        raise ValueError(f"{word!r} is not in the vocabulary") from None
    unit = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit[i]  # (V,)
    sims[i] = -np.inf
    best = np.argsort(-sims, kind="stable")[:k]
    return [(itos[j], float(sims[j])) for j in best]
