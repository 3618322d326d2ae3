"""Classification: the logistic unit, logistic and softmax regression, and a Gaussian generative classifier.

Two ways to classify, both in this module.

**Discriminative: model the posterior directly.** A logistic unit turns a score z = wᵀx + b into
the probability y_hat = P(C_1 | x) = σ(z) = 1 / (1 + e^(−z)) that the label is 1. For labels
y ∈ {0, 1} it can be trained with

* the cross-entropy  −(1/N) Σ [y_n ln y_hat_n + (1 − y_n) ln(1 − y_hat_n)] (the negative
  log-likelihood of the labels), or
* the mean squared error  (1/N) Σ (y_hat_n − y_n)².

By the chain rule, dL/dz per example is (y_hat − y) for the cross-entropy (the same form as
linear regression's) but 2 (y_hat − y) · y_hat (1 − y_hat) for the squared error: when the unit
is confidently wrong (y_hat near 0 or 1 on the wrong side), the factor y_hat (1 − y_hat) ≈ 0
makes the squared error's gradient vanish, and gradient descent stalls on a plateau of its
error surface. :func:`logistic_loss` and :func:`logistic_grad` compute both, for one feature
(broadcasting over grids of (w, b), so that an error surface is one vectorized call) or for
feature vectors. The cross-entropy is computed from z as softplus(z) − y z, which never takes
the logarithm of 0.

Softmax regression is the multi-class version: z = Wᵀx + b gives one score per class, the
softmax turns the scores into probabilities y_hat_k = e^(z_k) / Σ_j e^(z_j), and the loss is
the cross-entropy −(1/N) Σ_n ln y_hat_{n, y_n}. Its gradient is ∂L/∂W = (1/N) Xᵀ (Ŷ − Y), with
Y the one-hot labels.

**Generative: model how each class produces its examples.** P(x | C_k) is a multivariate
Gaussian N(μ_k, Σ_k) and P(C_k) the class's share; Bayes' rule turns them into the posterior

    P(C_k | x) = P(x | C_k) P(C_k) / Σ_j P(x | C_j) P(C_j).

Maximum likelihood gives μ_k = the mean of the class's training examples and Σ_k = their
covariance with the divisor N_k (not N_k − 1). Three variants of the covariance are offered:

* ``"full"``: one Σ_k per class. The boundary P(C_1 | x) = 0.5 is quadratic in x.
* ``"shared"``: one Σ for all classes, Σ = Σ_k (N_k / N) Σ_k. Fewer parameters, and the
  boundary becomes linear: P(C_1 | x) = σ(wᵀx + b) (see :meth:`GaussianClassifier.linear_boundary`),
  the same form as logistic regression.
* ``"diagonal"``: Σ_k diagonal, i.e. the features are independent within a class: the
  Gaussian *naive Bayes* classifier.

These computations are in log space (log-densities, then a log-sum-exp), so that tiny densities
in many dimensions do not underflow.

Source: the notes' "logistic regression" section (three steps, cross-entropy vs square error,
discriminative vs generative, multi-class), their "classifying Pokemon" section (generative
model, maximum likelihood, shared covariance, naive Bayes, posterior probability as a sigmoid)
and the review notes' logistic and softmax regression. The logistic unit with one feature is
introduced in :doc:`/notebooks/03_error_surfaces`; the rest in
:doc:`/notebooks/07_classification`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

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
    "COVARIANCES",
    "gaussian_log_density",
    "gaussian_mle",
    "GaussianClassifier",
]

LOSSES = ("cross_entropy", "mse")


def sigmoid(z) -> np.ndarray:
    """The logistic function σ(z) = 1 / (1 + e^(−z)), without overflow for large ``|z|``.

    Args:
        z: array of any shape, float.

    Returns:
        float64 array of z's shape, values in [0, 1].

    Introduced in :doc:`/notebooks/03_error_surfaces`.
    """
    z = np.asarray(z, dtype=np.float64)
    # e^(−|z|) never overflows; the two branches agree where both are exact
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


def _check_binary(X, y, loss: str = "cross_entropy") -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim not in (1, 2) or y.ndim != 1 or X.shape[0] != y.shape[0] or y.size == 0:
        raise ValueError(f"expected x of shape (N,) or X of shape (N, D) and y of shape (N,) with "
                         f"N ≥ 1, of the same length, got {X.shape} and {y.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("the features X must be finite: they hold NaN or infinite values")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"labels y must be 0 or 1, got values {np.unique(y)[:5]}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return X, y


def _scores(w, b, X) -> np.ndarray:
    """z = w x + b for every example: shape (*S, N) for weights of shape S (one feature) or ``(*S, D)``."""
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
        raise ValueError("w and b must be finite: they hold NaN or infinite values")
    if X.ndim == 1:  # one feature: w and b are numbers or grids of any broadcastable shape S
        return w[..., None] * X + b[..., None]  # (*S, N)
    if w.shape[-1:] != (X.shape[1],):
        raise ValueError(f"w must have shape (..., {X.shape[1]}) for X of shape {X.shape}, got {w.shape}")
    return w @ X.T + b[..., None]  # (*S, N)


def logistic_loss(w, b, X, y, loss: str = "cross_entropy"):
    """Mean loss of the logistic unit y_hat = σ(wᵀx + b) on binary examples (x, y).

    With one feature (``X`` of shape (N,)), ``w`` and ``b`` may be numbers or arrays of any
    broadcastable shape S, a grid of an error surface; with feature vectors (``X`` of shape
    (N, D)), ``w`` has shape (D,) (or ``(*S, D)``) and ``b`` shape S. The examples are averaged over.

    Args:
        w: weight(s), shape S (one feature) or ``(*S, D)``.
        b: bias(es), shape S (no unit: a score).
        X: features, shape (N,) or (N, D), float.
        y: labels, shape (N,), each 0 or 1.
        loss: ``"cross_entropy"`` (in nats) or ``"mse"`` (mean of (y_hat − y)², no unit).

    Returns:
        A float when S is empty, else a float64 array of shape S.

    Raises:
        ValueError: on mismatched shapes, NaN or infinite values, a label other than 0 or 1, or
            an unknown loss.

    Source: the notes' logistic regression ("Logistic Regression + Square Error") and the
    probability appendix of the Goodfellow notes (cross-entropy). Introduced in
    :doc:`/notebooks/03_error_surfaces` (one feature) and
    :doc:`/notebooks/07_classification` (feature vectors).
    """
    X, y = _check_binary(X, y, loss)
    z = _scores(w, b, X)  # (*S, N)
    if loss == "cross_entropy":
        # −[y ln σ(z) + (1 − y) ln(1 − σ(z))] = ln(1 + e^z) − y z
        out = np.mean(np.logaddexp(0.0, z) - y * z, axis=-1)
    else:
        out = np.mean((sigmoid(z) - y) ** 2, axis=-1)
    return float(out) if out.ndim == 0 else out


def logistic_grad(w, b, X, y, loss: str = "cross_entropy"):
    """Gradient (∂L/∂w, ∂L/∂b) of :func:`logistic_loss` at one point, by hand.

    With y_hat = σ(z), z = wᵀx + b and σ'(z) = y_hat (1 − y_hat), the chain rule gives
    dL/dz_n = (y_hat_n − y_n) for the cross-entropy and 2 (y_hat_n − y_n) y_hat_n (1 − y_hat_n)
    for the squared error; then ∂L/∂w = mean(dL/dz · x) and ∂L/∂b = mean(dL/dz).

    Args:
        w: a number (one feature, ``X`` of shape (N,)) or shape (D,).
        b: a number.
        X, y, loss: as :func:`logistic_loss`.

    Returns:
        ``(grad_w, grad_b)``: grad_w a float (one feature) or shape (D,), grad_b a float.

    Raises:
        ValueError: as :func:`logistic_loss`, or if w or b is not a single point.

    Introduced in :doc:`/notebooks/03_error_surfaces`.
    """
    X, y = _check_binary(X, y, loss)
    if np.ndim(b) != 0 or np.ndim(w) != X.ndim - 1:
        raise ValueError(f"w and b must be single numbers (one point), w of shape (D,) for X of shape "
                         f"(N, D), got shapes {np.shape(w)} and {np.shape(b)}")
    y_hat = sigmoid(_scores(w, b, X))  # (N,)
    dz = y_hat - y if loss == "cross_entropy" else 2.0 * (y_hat - y) * y_hat * (1.0 - y_hat)  # (N,)
    grad_w = float(np.mean(dz * X)) if X.ndim == 1 else X.T @ dz / len(y)
    return grad_w, float(np.mean(dz))


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

    Introduced in :doc:`/notebooks/07_classification`.
    """
    X, y = _check_binary(X, y, loss)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {X.shape}")
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
        Probabilities of the same shape; each row sums to 1. A score of −inf gets probability 0
        (a masked class); a NaN score makes its row NaN.

    Raises:
        ValueError: a score is +inf (the limit depends on how it was reached), or every score
            of a row is −inf (nothing to normalize).

    Introduced in :doc:`/notebooks/07_classification`.
    """
    Z = np.asarray(Z, dtype=np.float64)
    if np.isposinf(Z).any():
        raise ValueError(f"scores must be finite or -inf, got {int(np.isposinf(Z).sum())} +inf "
                         f"values in Z of shape {Z.shape}")
    top = Z.max(axis=-1, keepdims=True) if Z.size else Z
    if np.isneginf(top).any():
        raise ValueError(f"every score of {int(np.isneginf(top).sum())} rows of Z (shape {Z.shape}) "
                         "is -inf: a softmax needs at least one finite score per row")
    E = np.exp(Z - top)
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

    Introduced in :doc:`/notebooks/07_classification`.
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

    Introduced in :doc:`/notebooks/07_classification`.
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

    Introduced in :doc:`/notebooks/07_classification`.
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


COVARIANCES = ("full", "shared", "diagonal")


def _as_2d(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (N, D), got shape {X.shape}")
    return X


def gaussian_log_density(X, mean, cov) -> np.ndarray:
    """Log of the multivariate Gaussian density N(x; μ, Σ) at every row of X.

    log N(x; μ, Σ) = −½ [D log 2π + log det Σ + (x − μ)ᵀ Σ⁻¹ (x − μ)],
    computed with a Cholesky factor of Σ.

    Args:
        X: points, shape (N, D).
        mean: μ, shape (D,).
        cov: Σ, shape (D, D), symmetric positive definite.

    Returns:
        float64 array of shape (N,) (log of a density, in log units of 1 / (x's unit)^D).

    Raises:
        ValueError: on mismatched shapes, or if Σ is not positive definite (for example when a
            feature is an exact linear combination of the others).

    Introduced in :doc:`/notebooks/07_classification`.
    """
    X = _as_2d(X)
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    d = X.shape[1]
    if mean.shape != (d,) or cov.shape != (d, d):
        raise ValueError(f"expected mean of shape ({d},) and cov of shape ({d}, {d}) for X of shape "
                         f"{X.shape}, got {mean.shape} and {cov.shape}")
    try:
        L = np.linalg.cholesky(cov)  # (D, D), Σ = L Lᵀ
    except np.linalg.LinAlgError:
        raise ValueError("cov is not positive definite: is a feature a linear combination of the "
                         "others, or constant within a class?") from None
    z = np.linalg.solve(L, (X - mean).T)  # (D, N): L⁻¹ (x − μ)
    maha = np.sum(z**2, axis=0)  # (N,): (x − μ)ᵀ Σ⁻¹ (x − μ)
    log_det = 2.0 * np.sum(np.log(np.diag(L)))
    return -0.5 * (d * np.log(2 * np.pi) + log_det + maha)


def gaussian_mle(X) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood mean and covariance of the rows of X.

    μ* = (1/N) Σ_n x_n and Σ* = (1/N) Σ_n (x_n − μ*)(x_n − μ*)ᵀ (divisor N, the maximum
    likelihood estimate, not the unbiased N − 1).

    Args:
        X: examples of one class, shape (N, D), N ≥ 1.

    Returns:
        ``(mean, cov)`` of shapes (D,) and (D, D), float64.

    Raises:
        ValueError: if X is not a non-empty 2-D array, or holds NaN or ±inf (a Gaussian fitted
            to them has no finite parameters).

    Introduced in :doc:`/notebooks/07_classification`.
    """
    X = _as_2d(X)
    if not np.isfinite(X).all():
        raise ValueError(f"X must be finite, got {int((~np.isfinite(X)).sum())} NaN or infinite "
                         f"values of {X.size} (shape {X.shape})")
    mean = X.mean(axis=0)  # (D,)
    centred = X - mean  # (N, D)
    return mean, centred.T @ centred / len(X)


@dataclasses.dataclass
class GaussianClassifier:
    """A Gaussian generative classifier fitted by maximum likelihood.

    Create with :meth:`fit`. Attributes: ``classes`` (the labels, in order), ``priors``
    (P(C_k), shape (K,)), ``means`` (shape (K, D)), ``covs`` (shape (K, D, D); all equal for
    ``"shared"``, diagonal for ``"diagonal"``), ``covariance`` (the variant) and ``counts``
    (N_k, shape (K,)).
    """

    classes: np.ndarray
    priors: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    covariance: str
    counts: np.ndarray

    @classmethod
    def fit(cls, X, y, covariance: str = "full") -> GaussianClassifier:
        """Fit P(C_k) = N_k / N and N(μ_k, Σ_k) for every class by maximum likelihood.

        Args:
            X: features, shape (N, D).
            y: labels, shape (N,), any hashable values (at least two classes).
            covariance: ``"full"``, ``"shared"`` or ``"diagonal"`` (naive Bayes).

        Raises:
            ValueError: on mismatched shapes, an unknown covariance, or fewer than two classes.

        Introduced in :doc:`/notebooks/07_classification`.
        """
        X = _as_2d(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X {X.shape}, got {y.shape}")
        if covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"need at least two classes, got {classes.tolist()}")
        counts = np.array([np.sum(y == c) for c in classes])
        stats = [gaussian_mle(X[y == c]) for c in classes]
        means = np.stack([m for m, _ in stats])  # (K, D)
        covs = np.stack([S for _, S in stats])  # (K, D, D)
        if covariance == "shared":
            pooled = np.tensordot(counts / counts.sum(), covs, axes=1)  # (D, D)
            covs = np.broadcast_to(pooled, covs.shape).copy()
        elif covariance == "diagonal":
            covs = np.stack([np.diag(np.diag(S)) for S in covs])
        return cls(classes, counts / counts.sum(), means, covs, covariance, counts)

    def log_joint(self, X) -> np.ndarray:
        """log P(x | C_k) + log P(C_k) for every row and class: shape (N, K)."""
        X = _as_2d(X)
        if X.shape[1] != self.means.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features, the model was fitted on {self.means.shape[1]}")
        return np.stack([gaussian_log_density(X, m, S) + np.log(p)
                         for m, S, p in zip(self.means, self.covs, self.priors)], axis=1)

    def posterior(self, X) -> np.ndarray:
        """P(C_k | x) by Bayes' rule, shape (N, K); rows sum to 1.

        Introduced in :doc:`/notebooks/07_classification`.
        """
        a = self.log_joint(X)  # (N, K)
        a = a - a.max(axis=1, keepdims=True)  # log-sum-exp, stable
        p = np.exp(a)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The class with the largest posterior, shape (N,)."""
        return self.classes[np.argmax(self.log_joint(X), axis=1)]

    def accuracy(self, X, y) -> float:
        """Fraction of rows whose predicted class equals y."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def linear_boundary(self) -> tuple[np.ndarray, float]:
        """For two classes and a shared covariance: (w, b) with P(C_1 | x) = σ(wᵀx + b).

        C_1 is ``classes[0]``. With Σ shared,
        w = Σ⁻¹ (μ_1 − μ_2) and b = −½ μ_1ᵀ Σ⁻¹ μ_1 + ½ μ_2ᵀ Σ⁻¹ μ_2 + ln (N_1 / N_2).

        Returns:
            ``(w, b)``: w of shape (D,), b a float.

        Raises:
            ValueError: if the model has more than two classes or its covariance is not shared.

        Source: the notes' derivation of the posterior as a sigmoid. Introduced in
        :doc:`/notebooks/07_classification`.
        """
        if len(self.classes) != 2 or self.covariance != "shared":
            raise ValueError(f"linear_boundary needs two classes and covariance='shared', got "
                             f"{len(self.classes)} classes and {self.covariance!r}")
        S = self.covs[0]
        mu1, mu2 = self.means
        w = np.linalg.solve(S, mu1 - mu2)
        b = (-0.5 * mu1 @ np.linalg.solve(S, mu1) + 0.5 * mu2 @ np.linalg.solve(S, mu2)
             + np.log(self.counts[0] / self.counts[1]))
        return w, float(b)
