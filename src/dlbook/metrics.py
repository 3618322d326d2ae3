"""Scores: classification accuracy, ROC curve and AUC, Fréchet distance, class statistics.

:func:`accuracy` scores any classifier's outputs against labels; every chapter that trains a
classifier uses it (directly or through :func:`dlbook.train.accuracy`, which first runs a network).

Two chapters need numbers that say how good something is without a single "correct answer"
per example:

* :doc:`/notebooks/17_gan` scores a generator by the classes a trained classifier sees in its
  samples (:func:`class_histogram`, :func:`entropy`, :func:`inception_score`) and by how far the
  classifier's features of generated images lie from those of real ones
  (:func:`frechet_distance`, the idea behind the FID of Heusel et al., 2017);
* :doc:`/notebooks/19_autoencoders` scores anomaly detectors by their ROC curve and the area
  under it (:func:`roc_curve`, :func:`roc_auc`), and by classifier confidence
  (:func:`max_softmax_probability`, :func:`softmax_entropy`).

Everything is written from the definitions with NumPy or PyTorch; the tests compare each
function with scikit-learn or SciPy.

Introduced in :doc:`/notebooks/17_gan`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .checks import require_finite, require_float

__all__ = [
    "accuracy",
    "roc_curve",
    "roc_auc",
    "auc_by_ranks",
    "mean_and_covariance",
    "frechet_distance",
    "classifier_features",
    "class_histogram",
    "entropy",
    "inception_score",
    "max_softmax_probability",
    "softmax_entropy",
]


# --------------------------------------------------------------------------- accuracy


def accuracy(y_hat, y) -> float:
    """Fraction of examples whose predicted class equals the label.

    Args:
        y_hat: either scores of shape (N, C) (logits, probabilities or log-probabilities; the
            predicted class is the arg-max over the last axis), or predicted class indices of
            shape (N,) with an integer dtype. A ``torch.Tensor`` (any device) or NumPy array.
        y: the labels, integer class indices of shape (N,), tensor or array.

    Returns:
        The accuracy, a Python float in [0, 1].

    Raises:
        ValueError: if ``y`` is not a 1-D integer array, if ``y_hat`` is neither (N, C) scores nor
            (N,) integer indices (a 1-D float array is refused: threshold it first), if the two
            disagree on N, or if N is 0.

    Source: the error rate's complement, as scored from :doc:`/notebooks/07_classification` on.
    """
    # NumPy input is copied: torch warns about (and must not share) a read-only array
    y_hat = y_hat.detach().cpu() if isinstance(y_hat, torch.Tensor) else torch.from_numpy(np.array(y_hat))
    y = y.detach().cpu() if isinstance(y, torch.Tensor) else torch.from_numpy(np.array(y))
    if y.ndim != 1 or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"y must be integer class indices of shape (N,), got shape {tuple(y.shape)} "
                         f"and dtype {y.dtype}")
    if y_hat.ndim == 2:
        if y_hat.shape[1] == 0:
            raise ValueError(f"y_hat scores need at least one class, got shape {tuple(y_hat.shape)}")
        predicted = y_hat.argmax(dim=1)
    elif y_hat.ndim == 1 and not (y_hat.is_floating_point() or y_hat.is_complex() or y_hat.dtype == torch.bool):
        predicted = y_hat
    else:
        raise ValueError("y_hat must be scores of shape (N, C) or integer class indices of shape (N,), got "
                         f"shape {tuple(y_hat.shape)} and dtype {y_hat.dtype}")
    if len(predicted) != len(y):
        raise ValueError(f"y_hat and y must have the same number of examples, got {len(predicted)} and {len(y)}")
    if len(y) == 0:
        raise ValueError("accuracy of zero examples is undefined: y_hat and y are empty")
    return (predicted == y).double().mean().item()


# --------------------------------------------------------------------------- ROC and AUC


def _check_scores(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 1 or labels.shape != scores.shape or len(scores) == 0:
        raise ValueError(
            f"expected scores and labels of one shape (N,), got {scores.shape} and {labels.shape}"
        )
    if not np.all(np.isin(labels, (0, 1))):
        raise ValueError(
            f"labels must be 0 (normal) or 1 (anomaly), got values {np.unique(labels)[:5]}"
        )
    labels = labels.astype(np.int64)
    if labels.min() == labels.max():
        raise ValueError("labels hold a single class; an ROC curve needs both 0 and 1")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite")
    return scores, labels


def roc_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The receiver operating characteristic of a detector that flags high scores.

    Every threshold t flags the examples with ``score >= t`` as positive (anomalous). Sweeping
    t from above the largest score down to the smallest traces the curve from (0, 0) to (1, 1).
    Tied scores move together, so each distinct score is one point.

    Args:
        scores: shape (N,), larger means "more anomalous" (any real unit).
        labels: shape (N,), 1 for a positive (anomaly), 0 for a negative (normal).

    Returns:
        ``(fpr, tpr, thresholds)``, each of shape (K + 1,) for K distinct scores: the false
        positive rate FP / negatives, the true positive rate TP / positives, and the threshold
        (``+inf`` first, for the point (0, 0)), thresholds decreasing.

    Raises:
        ValueError: for mismatched or empty shapes, labels other than 0/1, a single class, or
            non-finite scores.

    Source: Fawcett (2006), An introduction to ROC analysis. Introduced in
    :doc:`/notebooks/19_autoencoders`.
    """
    scores, labels = _check_scores(scores, labels)
    order = np.argsort(-scores, kind="mergesort")  # (N,) descending
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)  # true positives when the first i+1 examples are flagged
    fp = np.cumsum(1 - y)
    last_of_tie = np.r_[s[1:] != s[:-1], True]  # keep one point per distinct score
    tpr = np.r_[0.0, tp[last_of_tie] / tp[-1]]
    fpr = np.r_[0.0, fp[last_of_tie] / fp[-1]]
    thresholds = np.r_[np.inf, s[last_of_tie]]
    return fpr, tpr, thresholds


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve by the trapezoidal rule (0.5 = chance, 1 = perfect).

    Args and Raises: as :func:`roc_curve`.

    Returns:
        The area, a float in [0, 1].

    Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def auc_by_ranks(scores, labels) -> float:
    """The same area read as a probability: P(score of a random positive > that of a random
    negative), ties counting one half (the Mann-Whitney U statistic divided by P·N).

    Compares every positive with every negative, so it needs memory P × N: for checking.

    Args and Raises: as :func:`roc_curve`.

    Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    scores, labels = _check_scores(scores, labels)
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]  # (P, N)
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


# --------------------------------------------------------------------------- Fréchet distance


def mean_and_covariance(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of features of shape (N, D), in float64.

    Raises:
        ValueError: unless features is 2-D with at least two rows.

    Introduced in :doc:`/notebooks/17_gan`.
    """
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 2 or F.shape[0] < 2:
        raise ValueError(f"features must have shape (N, D) with N >= 2, got {F.shape}")
    require_finite(F, "features")
    mu = F.mean(axis=0)  # (D,)
    centered = F - mu  # (N, D)
    return mu, centered.T @ centered / (F.shape[0] - 1)


def _sqrt_psd(S: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by its eigendecomposition."""
    eigenvalues, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ V.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Fréchet (2-Wasserstein) distance between two Gaussians N(mu1, S1), N(mu2, S2):

    ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^(1/2) S2 S1^(1/2))^(1/2))``.

    The matrix ``S1^(1/2) S2 S1^(1/2)`` is symmetric positive semi-definite and has the same
    eigenvalues as ``S1 S2``, so the trace of its square root equals ``Tr((S1 S2)^(1/2))``
    of the usual formula, without a square root of a non-symmetric matrix.

    Args:
        mu1, mu2: means, shape (D,).
        sigma1, sigma2: covariances, shape (D, D), symmetric positive semi-definite.

    Returns:
        The distance, in squared feature units (a float >= 0 up to rounding).

    Raises:
        ValueError: for inconsistent shapes, non-finite values, or a covariance that is not
            symmetric positive semi-definite (up to rounding).

    Source: Dowson and Landau (1982); used on Inception features as the FID by Heusel et al.
    (2017). Introduced in :doc:`/notebooks/17_gan`.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    D = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.ndim != 1 or mu2.shape != (D,) or sigma1.shape != (D, D) or sigma2.shape != (D, D):
        raise ValueError(
            f"expected means (D,) and covariances (D, D); got {mu1.shape}, {sigma1.shape}, "
            f"{mu2.shape}, {sigma2.shape}"
        )
    for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        require_finite(value, name)
    for name, S in (("sigma1", sigma1), ("sigma2", sigma2)):
        size = max(1.0, float(np.abs(S).max(initial=0.0)))
        if not np.allclose(S, S.T, rtol=0, atol=1e-8 * size):
            raise ValueError(f"{name} must be a symmetric covariance matrix, got one with "
                             f"max |S - S^T| = {np.abs(S - S.T).max():.3g}")
        smallest = float(np.linalg.eigvalsh(S).min(initial=0.0))
        if smallest < -1e-8 * size:
            raise ValueError(f"{name} must be positive semi-definite (a covariance), got an "
                             f"eigenvalue of {smallest:.4g}")
    root1 = _sqrt_psd(sigma1)  # (D, D)
    middle = root1 @ sigma2 @ root1  # (D, D), symmetric PSD
    middle = (middle + middle.T) / 2  # remove rounding asymmetry
    trace_cross = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0.0, None)))
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_cross)


@torch.no_grad()
def classifier_features(
    net: nn.Sequential, X: torch.Tensor, *, batch_size: int = 1000
) -> torch.Tensor:
    """Activations of the layer before the last of a sequential classifier (its penultimate
    features), for every row of X, in eval mode.

    Args:
        net: an :class:`torch.nn.Sequential` whose last module maps features to logits
            (the book's :func:`dlbook.models.digit_cnn`: 128 features).
        X: inputs of shape (N, ...) the network accepts, e.g. (N, 1, 28, 28).
        batch_size: rows per forward pass.

    Returns:
        Shape (N, D), float32, on the CPU.

    Raises:
        ValueError: if net is not sequential.

    Introduced in :doc:`/notebooks/17_gan`.
    """
    if not isinstance(net, nn.Sequential) or len(net) < 2:
        raise ValueError(
            f"net must be an nn.Sequential of at least two modules, got {type(net).__name__}"
        )
    body = net[:-1]
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    out = [
        body(X[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(X), batch_size)
    ]
    net.train(was_training)
    return torch.cat(out)


# --------------------------------------------------------------------------- class statistics


def class_histogram(predicted, num_classes: int) -> np.ndarray:
    """Fraction of examples predicted as each class, shape (num_classes,), summing to 1.

    Args:
        predicted: class indices, shape (N,), integers in [0, num_classes).

    Raises:
        ValueError: for an empty input or indices out of range.

    Introduced in :doc:`/notebooks/17_gan`.
    """
    predicted = np.asarray(predicted.cpu() if isinstance(predicted, torch.Tensor) else predicted)
    if predicted.ndim != 1 or len(predicted) == 0:
        raise ValueError(f"predicted must have shape (N,) with N >= 1, got {predicted.shape}")
    if predicted.min() < 0 or predicted.max() >= num_classes:
        raise ValueError(
            f"class indices must be in [0, {num_classes}), got {predicted.min()}..{predicted.max()}"
        )
    return np.bincount(predicted, minlength=num_classes) / len(predicted)


def entropy(p, axis: int = -1) -> np.ndarray | float:
    """Shannon entropy -Σ p log p in nats along ``axis`` (0 log 0 = 0).

    Args:
        p: probabilities (non-negative, summing to 1 along ``axis``), any shape.

    Returns:
        An array with ``axis`` removed (a float for a 1-D input). Its maximum, for K classes, is
        log K (the uniform distribution).

    Raises:
        ValueError: for negative entries or rows that do not sum to 1 (within 1e-6).

    Introduced in :doc:`/notebooks/17_gan`.
    """
    p = np.asarray(p, dtype=np.float64)
    if np.any(p < 0) or not np.allclose(p.sum(axis=axis), 1.0, atol=1e-6):
        raise ValueError("p must be non-negative and sum to 1 along the axis")
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    out = -terms.sum(axis=axis) + 0.0  # + 0.0 turns -0.0 into 0.0
    return float(out) if np.ndim(out) == 0 else out


def inception_score(probs) -> float:
    """exp(E_x KL(p(y|x) || p(y))): high when each sample is classified confidently (sharp
    p(y|x)) and the samples cover the classes evenly (flat p(y)). Between 1 and K.

    Args:
        probs: class probabilities of N samples, shape (N, K), rows summing to 1.

    Raises:
        ValueError: for a shape other than (N, K) or rows that are not distributions.

    Source: Salimans et al. (2016), here with the book's digit classifier in place of
    Inception. Introduced in :doc:`/notebooks/17_gan`.
    """
    probs = np.asarray(probs.cpu() if isinstance(probs, torch.Tensor) else probs, dtype=np.float64)
    if probs.ndim != 2 or probs.size == 0:
        raise ValueError(f"probs must have shape (N, K) with N, K >= 1, got {probs.shape}")
    marginal = probs.mean(axis=0)  # (K,) p(y)
    # E_x KL(p(y|x) || p(y)) = H(p(y)) - E_x H(p(y|x))
    return float(np.exp(entropy(marginal) - np.mean(entropy(probs, axis=1))))


def max_softmax_probability(logits: torch.Tensor) -> torch.Tensor:
    """Confidence of a classifier: the largest softmax probability per row.

    Args:
        logits: shape (N, K).

    Returns:
        Shape (N,), values in [1/K, 1]. A low value suggests an input unlike the training data.

    Raises:
        ValueError: unless logits are 2-D.

    Source: Hendrycks and Gimpel (2017). Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, K), got {tuple(logits.shape)}")
    require_float(logits=logits)
    return torch.softmax(logits, dim=1).max(dim=1).values


def softmax_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of the softmax distribution per row, computed stably from logits:
    H = logsumexp(a) - Σ softmax(a) · a.

    Args:
        logits: shape (N, K).

    Returns:
        Shape (N,), values in [0, log K]. A high value means the classifier hesitates.

    Raises:
        ValueError: unless logits are 2-D.

    Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, K), got {tuple(logits.shape)}")
    require_float(logits=logits)
    p = torch.softmax(logits, dim=1)  # (N, K)
    return torch.logsumexp(logits, dim=1) - (p * logits).sum(dim=1)
