"""Logistic and softmax regression, trained by gradient descent, with gradients by hand.

Logistic regression models the posterior probability of class 1 directly:

    y_hat = P(C_1 | x) = σ(z),  z = wᵀx + b,  σ(z) = 1 / (1 + e^(−z)).

Its loss is the cross-entropy between the label y ∈ {0, 1} and y_hat,

    L(w, b) = −(1/N) Σ_n [y_n ln y_hat_n + (1 − y_n) ln(1 − y_hat_n)],

which is the negative log-likelihood of the labels (maximum likelihood). Its gradient is
remarkably simple: ∂L/∂w = −(1/N) Σ_n (y_n − y_hat_n) x_n, the same form as linear regression's.
With the square error (y_hat − y)² instead, the gradient carries an extra factor
y_hat (1 − y_hat), which vanishes when y_hat is near 0 or 1, *whether the prediction is right or
wrong*: far from the target, training stalls. :func:`logistic_grad` computes both.

Softmax regression is the multi-class version: z = Wᵀx + b gives one score per class, the
softmax turns the scores into probabilities y_hat_k = e^(z_k) / Σ_j e^(z_j), and the loss is
the cross-entropy −(1/N) Σ_n ln y_hat_{n, y_n}. Its gradient is ∂L/∂W = (1/N) Xᵀ (Ŷ − Y), with
Y the one-hot labels.

Chapter 3 met the logistic unit with one feature (:mod:`dlbook.logistic`); this module trains
it on feature vectors and extends it to many classes.

Source: the notes' "logistic regression" section (three steps, cross-entropy vs square error,
discriminative vs generative, multi-class) and the review notes' logistic and softmax regression.
Introduced in chapter 7 (Classification: generative models and logistic regression).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .logistic import sigmoid  # σ(z), written in chapter 3 (one home for each helper)

__all__ = [
    "sigmoid",
    "LOSSES",
    "logistic_loss",
    "logistic_grad",
    "LogisticFit",
    "fit_logistic",
    "softmax",
    "softmax_loss",
    "softmax_grad",
    "fit_softmax",
]

LOSSES = ("cross_entropy", "mse")


def _check_binary(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
        raise ValueError(f"expected X of shape (N, D) and y of shape (N,), got {X.shape} and {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("binary labels y must be 0 or 1")
    return X, y


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def logistic_loss(w, b: float, X, y, loss: str = "cross_entropy") -> float:
    """Mean loss of logistic regression y_hat = σ(Xw + b) on labels y ∈ {0, 1}.

    Args:
        w: weights, shape (D,).
        b: bias.
        X: features, shape (N, D).
        y: labels, shape (N,), 0 or 1.
        loss: ``"cross_entropy"`` (in nats) or ``"mse"`` (mean of (y_hat − y)²).

    Returns:
        The mean loss, a float.

    Raises:
        ValueError: on mismatched shapes, labels other than 0/1, or an unknown loss.

    Introduced in chapter 7.
    """
    X, y = _check_binary(X, y)
    _check_loss(loss)
    z = X @ np.asarray(w, dtype=np.float64) + b  # (N,)
    if loss == "mse":
        return float(np.mean((sigmoid(z) - y) ** 2))
    # −[y ln σ(z) + (1 − y) ln σ(−z)], with ln σ(z) = −log(1 + e^(−z)) computed stably
    return float(np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)))


def logistic_grad(w, b: float, X, y, loss: str = "cross_entropy") -> tuple[np.ndarray, float]:
    """Gradient (∂L/∂w, ∂L/∂b) of :func:`logistic_loss`, by hand.

    Cross-entropy: ∂L/∂w = −(1/N) Σ (y − y_hat) x and ∂L/∂b = −(1/N) Σ (y − y_hat).
    Square error: ∂L/∂w = (2/N) Σ (y_hat − y) y_hat (1 − y_hat) x, and likewise for b.

    Returns:
        ``(grad_w, grad_b)``: shape (D,) and a float.

    Raises:
        ValueError: as :func:`logistic_loss`.

    Introduced in chapter 7.
    """
    X, y = _check_binary(X, y)
    _check_loss(loss)
    y_hat = sigmoid(X @ np.asarray(w, dtype=np.float64) + b)  # (N,)
    if loss == "cross_entropy":
        delta = y_hat - y  # (N,)
    else:
        delta = 2 * (y_hat - y) * y_hat * (1 - y_hat)  # (N,)
    return X.T @ delta / len(y), float(np.mean(delta))


@dataclasses.dataclass
class LogisticFit:
    """What :func:`fit_logistic` returns.

    Attributes:
        w: final weights, shape (D,).
        b: final bias.
        losses: the loss before each update and after the last, shape (T + 1,).
        path: (w, b) as one row per recorded step, shape (R, D + 1); ``steps`` says which.
        steps: the step numbers recorded in ``path``, shape (R,).
    """

    w: np.ndarray
    b: float
    losses: np.ndarray
    path: np.ndarray
    steps: np.ndarray

    def predict_proba(self, X) -> np.ndarray:
        """P(C_1 | x) for every row of X (N, D): shape (N,)."""
        return sigmoid(np.asarray(X, dtype=np.float64) @ self.w + self.b)

    def accuracy(self, X, y) -> float:
        """Fraction of rows where (P(C_1 | x) > 0.5) equals the 0/1 label y."""
        return float(np.mean((self.predict_proba(X) > 0.5) == (np.asarray(y) == 1)))


def fit_logistic(X, y, lr: float, num_steps: int, *, loss: str = "cross_entropy", w0=None,
                 b0: float = 0.0, record_steps=()) -> LogisticFit:
    """Train logistic regression by full-batch gradient descent: θ ← θ − η ∇L(θ).

    Args:
        X: features, shape (N, D) (standardize them first: one learning rate then suits all).
        y: labels, shape (N,), 0 or 1.
        lr: learning rate η > 0.
        num_steps: number of updates T ≥ 0.
        loss: ``"cross_entropy"`` or ``"mse"``.
        w0: starting weights, shape (D,) (default zeros).
        b0: starting bias.
        record_steps: step numbers (0..T) at which to keep a copy of (w, b) in ``path``.

    Returns:
        A :class:`LogisticFit`.

    Raises:
        ValueError: for lr ≤ 0, num_steps < 0, a w0 of the wrong shape, or as
            :func:`logistic_loss`.

    Introduced in chapter 7.
    """
    X, y = _check_binary(X, y)
    _check_loss(loss)
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if int(num_steps) != num_steps or num_steps < 0:
        raise ValueError(f"num_steps must be a non-negative integer, got {num_steps!r}")
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w0 must have shape ({X.shape[1]},), got {w.shape}")
    b = float(b0)
    record = set(int(s) for s in record_steps)
    losses, path, steps = [], [], []
    for t in range(int(num_steps) + 1):
        losses.append(logistic_loss(w, b, X, y, loss))
        if t in record:
            path.append(np.r_[w, b])
            steps.append(t)
        if t == num_steps:
            break
        gw, gb = logistic_grad(w, b, X, y, loss)
        w, b = w - lr * gw, b - lr * gb
    return LogisticFit(w, b, np.array(losses), np.array(path).reshape(len(path), X.shape[1] + 1),
                       np.array(steps, dtype=int))


def softmax(Z) -> np.ndarray:
    """Softmax over the last axis: exp(z_k) / Σ_j exp(z_j), shifted by the max for stability.

    Args:
        Z: scores (logits), shape (..., K).

    Returns:
        Probabilities of the same shape; each row sums to 1.

    Introduced in chapter 7.
    """
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def _check_multiclass(W, b, X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or W.ndim != 2 or W.shape[0] != X.shape[1] or b.shape != (W.shape[1],):
        raise ValueError(f"expected X (N, D), W (D, K), b (K,), got {X.shape}, {W.shape}, {b.shape}")
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer class indices of shape ({X.shape[0]},), got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= W.shape[1]):
        raise ValueError(f"class indices must be in 0..{W.shape[1] - 1}, got {y.min()}..{y.max()}")
    return W, b, X, y


def softmax_loss(W, b, X, y) -> float:
    """Mean cross-entropy of softmax regression, −(1/N) Σ_n ln softmax(W ᵀx_n + b)_{y_n}.

    Args:
        W: weights, shape (D, K).
        b: biases, shape (K,).
        X: features, shape (N, D).
        y: class indices, shape (N,), integers in 0..K−1.

    Returns:
        The loss in nats.

    Raises:
        ValueError: on mismatched shapes or class indices out of range.

    Introduced in chapter 7.
    """
    W, b, X, y = _check_multiclass(W, b, X, y)
    Z = X @ W + b  # (N, K)
    m = Z.max(axis=1, keepdims=True)
    log_norm = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))  # (N,): ln Σ_j e^(z_j)
    return float(np.mean(log_norm - Z[np.arange(len(y)), y]))


def softmax_grad(W, b, X, y) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of :func:`softmax_loss` by hand: ∂L/∂W = Xᵀ (Ŷ − Y) / N, ∂L/∂b = mean(Ŷ − Y).

    Returns:
        ``(grad_W, grad_b)`` of shapes (D, K) and (K,).

    Raises:
        ValueError: as :func:`softmax_loss`.

    Introduced in chapter 7.
    """
    W, b, X, y = _check_multiclass(W, b, X, y)
    delta = softmax(X @ W + b)  # (N, K): Ŷ
    delta[np.arange(len(y)), y] -= 1.0  # Ŷ − Y
    return X.T @ delta / len(y), delta.mean(axis=0)


def fit_softmax(X, y, num_classes: int, lr: float, num_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train softmax regression from zeros by full-batch gradient descent.

    Args:
        X: features, shape (N, D).
        y: class indices, shape (N,).
        num_classes: K ≥ 2.
        lr: learning rate η > 0.
        num_steps: number of updates ≥ 0.

    Returns:
        ``(W, b, losses)``: shapes (D, K), (K,) and (num_steps + 1,).

    Raises:
        ValueError: for K < 2, lr ≤ 0, or as :func:`softmax_loss`.

    Introduced in chapter 7.
    """
    if int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer ≥ 2, got {num_classes!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {X.shape}")
    W, b = np.zeros((X.shape[1], int(num_classes))), np.zeros(int(num_classes))
    losses = [softmax_loss(W, b, X, y)]
    for _ in range(int(num_steps)):
        gW, gb = softmax_grad(W, b, X, y)
        W, b = W - lr * gW, b - lr * gb
        losses.append(softmax_loss(W, b, X, y))
    return W, b, np.array(losses)
