"""How well will a model do on data it has not seen? N-fold cross validation and a union bound.

Two tools for the same question:

* **N-fold cross validation** (N-fold 交叉验证) splits the training data into N folds, trains
  on N − 1 of them and measures the loss on the one left out, N times; the average of the N
  validation losses estimates the loss on new data and is used to choose between models.
  :func:`kfold_indices` makes the folds (the same folds as :class:`sklearn.model_selection.KFold`),
  :func:`cross_validate` runs the loop for any ``fit`` and ``loss``.

* **The union bound with Hoeffding's inequality.** A training set D_train of N examples drawn
  independently from D_all is *bad* if some hypothesis h in the set H has a training loss far
  from its loss on D_all: ``|L(h, D_train) − L(h, D_all)|`` > ε. For a loss in [0, 1],

      P(D_train is bad) ≤ Σ_h P(``|L(h, D_train) − L(h, D_all)|`` > ε) ≤ ``|H|`` · 2 exp(−2 N ε²),

  (:func:`hoeffding_union_bound`). :func:`threshold_generalization_gaps` measures the left-hand
  side by simulation for the notes' family of threshold classifiers.

Source: the notes' "guide to training" (cross validation, N-fold) and "Pokemon vs Digimon"
learning-theory sections. Introduced in :doc:`/notebooks/08_training_guide`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .checks import require_finite

__all__ = [
    "kfold_indices",
    "cross_validate",
    "hoeffding_union_bound",
    "threshold_losses",
    "GapSample",
    "threshold_generalization_gaps",
]


def kfold_indices(n: int, k: int, shuffle: bool = False, seed: int | None = None
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split the indices 0..n−1 into k folds; return (train, validation) index pairs.

    The folds are consecutive blocks of the (optionally shuffled) indices; the first ``n % k``
    folds get one extra index. This is exactly what :class:`sklearn.model_selection.KFold`
    does, including the shuffle (NumPy's legacy ``RandomState(seed).permutation``).

    Args:
        n: number of examples ≥ k.
        k: number of folds ≥ 2.
        shuffle: whether to permute the indices before cutting the folds.
        seed: seed of the permutation (used only with ``shuffle``).

    Returns:
        A list of k pairs ``(train_idx, val_idx)``, int64 arrays in increasing order; every
        index is in exactly one ``val_idx``, and ``train_idx`` holds the others.

    Raises:
        ValueError: if k < 2 or n < k.

    Introduced in :doc:`/notebooks/08_training_guide`.
    """
    if int(k) != k or k < 2:
        raise ValueError(f"k must be an integer ≥ 2, got {k!r}")
    if int(n) != n or n < k:
        raise ValueError(f"need at least k={k} examples, got n={n!r}")
    order = np.random.RandomState(seed).permutation(n) if shuffle else np.arange(n)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    folds, start = [], 0
    for size in sizes:
        val = np.sort(order[start : start + size])
        mask = np.ones(n, dtype=bool)
        mask[val] = False
        folds.append((np.flatnonzero(mask), val))
        start += size
    return folds


def cross_validate(fit: Callable, loss: Callable, X, y, k: int = 5, *, shuffle: bool = True,
                   seed: int | None = 0) -> np.ndarray:
    """N-fold cross validation: train on k − 1 folds, measure the loss on the fold left out.

    Args:
        fit: ``fit(X_train, y_train) -> model``.
        loss: ``loss(model, X_val, y_val) -> float``.
        X: inputs, indexable by an integer array along axis 0, length N.
        y: labels, length N.
        k: number of folds.
        shuffle, seed: as :func:`kfold_indices`.

    Returns:
        The k validation losses, float64 of shape (k,); their mean is the estimate.

    Raises:
        ValueError: if X and y differ in length, or as :func:`kfold_indices`.

    Introduced in :doc:`/notebooks/08_training_guide`.
    """
    if len(X) != len(y):
        raise ValueError(f"X and y must have one length, got {len(X)} and {len(y)}")
    losses = []
    for train_idx, val_idx in kfold_indices(len(y), k, shuffle, seed):
        model = fit(X[train_idx], y[train_idx])
        losses.append(float(loss(model, X[val_idx], y[val_idx])))
    return np.array(losses)


def hoeffding_union_bound(num_hypotheses: int, n, eps) -> np.ndarray:
    """The bound ``|H|`` · 2 exp(−2 N ε²) on P(D_train is bad), for a loss in [0, 1].

    Args:
        num_hypotheses: ``|H|`` ≥ 1.
        n: training-set size N (scalar or array).
        eps: tolerance ε > 0 (scalar or array; broadcasts with n).

    Returns:
        The bound, float64 (it may exceed 1, when it says nothing).

    Raises:
        ValueError: for ``|H|`` < 1, N < 1 or ε ≤ 0.

    Source: Hoeffding (1963) and the union bound, as in the notes. Introduced in
    :doc:`/notebooks/08_training_guide`.
    """
    n = np.asarray(n, dtype=np.float64)
    eps = np.asarray(eps, dtype=np.float64)
    if num_hypotheses < 1 or np.any(n < 1) or np.any(eps <= 0):
        raise ValueError(f"need |H| ≥ 1, N ≥ 1 and ε > 0, got {num_hypotheses}, {n}, {eps}")
    return num_hypotheses * 2.0 * np.exp(-2.0 * n * eps**2)


def threshold_losses(values, labels, thresholds) -> np.ndarray:
    """0/1 loss of every threshold classifier h_t(v) = [v > t] on one or many datasets.

    Args:
        values: the feature, shape (N,) or (M, N) for M datasets of N examples.
        labels: 0/1 labels of the same shape.
        thresholds: the hypotheses t, shape (H,), increasing.

    Returns:
        The fraction of examples misclassified, shape (H,) or (M, H), float64.

    Raises:
        ValueError: on mismatched shapes, non-increasing thresholds, or labels not 0/1.

    Introduced in :doc:`/notebooks/08_training_guide`.
    """
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    require_finite(values, "values")
    require_finite(thresholds, "thresholds")
    if values.shape != labels.shape or values.ndim not in (1, 2) or values.shape[-1] == 0:
        raise ValueError(f"values and labels must have one shape (N,) or (M, N), got {values.shape} and {labels.shape}")
    if thresholds.ndim != 1 or np.any(np.diff(thresholds) <= 0):
        raise ValueError(f"thresholds must be 1-D and increasing, got shape {thresholds.shape}")
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError("labels must be 0 or 1")
    single = values.ndim == 1
    values, labels = np.atleast_2d(values), np.atleast_2d(labels)
    m, n = values.shape
    h = len(thresholds)
    # bin j means thresholds[j-1] < v ≤ thresholds[j]; v ≤ t_i exactly when bin ≤ i
    bins = np.searchsorted(thresholds, values, side="left")  # (M, N) in 0..H
    flat = (np.arange(m)[:, None] * (h + 1) + bins).ravel()
    pos = np.bincount(flat, weights=(labels == 1).ravel(), minlength=m * (h + 1)).reshape(m, h + 1)
    neg = np.bincount(flat, weights=(labels == 0).ravel(), minlength=m * (h + 1)).reshape(m, h + 1)
    pos_below = np.cumsum(pos, axis=1)[:, :h]  # (M, H): label 1 but v ≤ t → wrong
    neg_above = neg.sum(axis=1, keepdims=True) - np.cumsum(neg, axis=1)[:, :h]  # label 0, v > t → wrong
    out = (pos_below + neg_above) / n
    return out[0] if single else out


@dataclasses.dataclass
class GapSample:
    """What :func:`threshold_generalization_gaps` returns.

    Attributes:
        loss_all: L(h, D_all) for every h, shape (H,).
        loss_train: L(h, D_train) for every draw and h, shape (M, H).
        max_gap: max_h ``|L(h, D_train) − L(h, D_all)|`` per draw, shape (M,).
        h_train: index of the best h on each D_train, shape (M,).
        h_all: index of the best h on D_all.
    """

    loss_all: np.ndarray
    loss_train: np.ndarray
    max_gap: np.ndarray
    h_train: np.ndarray
    h_all: int

    def prob_bad(self, eps) -> np.ndarray:
        """Fraction of draws with max_gap > ε (ε scalar or array)."""
        eps = np.asarray(eps, dtype=np.float64)
        return np.mean(self.max_gap[:, None] > eps.reshape(1, -1), axis=0).reshape(eps.shape)


def threshold_generalization_gaps(values, labels, thresholds, n: int, num_draws: int,
                                  seed: int = 0) -> GapSample:
    """Draw ``num_draws`` training sets of n examples from D_all (with replacement, i.i.d.) and
    measure how far each threshold classifier's training loss is from its loss on D_all.

    Args:
        values: the feature of every example of D_all, shape (N_all,).
        labels: their 0/1 labels, shape (N_all,).
        thresholds: the hypothesis set H, shape (H,), increasing.
        n: training-set size N ≥ 1.
        num_draws: number of simulated training sets M ≥ 1.
        seed: seed of :func:`numpy.random.default_rng`.

    Returns:
        A :class:`GapSample`.

    Raises:
        ValueError: for n or num_draws < 1, or as :func:`threshold_losses`.

    Source: the notes' "Pokemon vs Digimon" argument. Introduced in
    :doc:`/notebooks/08_training_guide`.
    """
    if n < 1 or num_draws < 1:
        raise ValueError(f"n and num_draws must be ≥ 1, got {n} and {num_draws}")
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels)
    loss_all = threshold_losses(values, labels, thresholds)  # (H,)
    idx = np.random.default_rng(seed).integers(0, len(values), size=(num_draws, n))  # (M, N)
    loss_train = threshold_losses(values[idx], labels[idx], thresholds)  # (M, H)
    max_gap = np.abs(loss_train - loss_all).max(axis=1)
    return GapSample(loss_all, loss_train, max_gap, np.argmin(loss_train, axis=1), int(np.argmin(loss_all)))
