"""Linear regression on polynomial features, with and without L2 regularization (ridge).

A polynomial model of degree d is still a *linear* model: it is linear in its parameters,

    y_hat = b + w_1 x + w_2 x^2 + ... + w_d x^d,

so it is fitted like any linear model once the features ``x, x^2, ..., x^d`` are computed. The
loss is the mean squared error plus, for ridge regression, ``λ Σ_i w_i^2``. The bias ``b`` is
not penalized: it only moves the curve up or down and has nothing to do with how smooth the
curve is. Setting the gradient of this loss to zero gives the normal equations

    (Xᵀ X / N + λ D) θ = Xᵀ y / N,      D = diag(0, 1, ..., 1),

which :func:`fit_ridge` solves directly. High powers of a feature measured in hundreds (combat
power, for example) overflow the numerical range of the normal equations, so
:func:`polynomial_features` divides ``x`` by a fixed ``scale`` before raising it to powers.

Source: the notes' "predicting Pokemon" section (polynomial models, regularization, why the bias
is not regularized). Introduced in :doc:`/notebooks/06_regression`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .checks import require_finite

__all__ = [
    "polynomial_features",
    "fit_ridge",
    "PolynomialModel",
    "fit_polynomial",
    "mean_absolute_error",
]


def _as_1d(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {x.shape}")
    return x


def polynomial_features(x, degree: int, scale: float = 1.0) -> np.ndarray:
    """Powers of one feature: the design matrix of a polynomial model, with a column of ones.

    Args:
        x: the feature, shape (N,), any float dtype (converted to float64).
        degree: the highest power d, an integer ≥ 0.
        scale: a positive number ``x`` is divided by before raising it to powers (in x's
            unit), so that ``(x / scale) ** d`` stays near 1 and the normal equations stay
            well conditioned.

    Returns:
        float64 array of shape (N, d + 1): column k holds ``(x / scale) ** k``, so column 0 is
        all ones (the bias).

    Raises:
        ValueError: if x is not a non-empty 1-D array, the degree is not a non-negative
            integer, or the scale is not positive.

    Introduced in :doc:`/notebooks/06_regression`.
    """
    x = _as_1d(x, "x")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    return (x[:, None] / scale) ** np.arange(degree + 1)  # (N, d + 1)


def fit_ridge(X, y, lam: float = 0.0, unpenalized=(0,), weights=None) -> np.ndarray:
    """Minimize ``(1/N) Σ_n w_n (x_n θ - y_n)^2 + lam * Σ_k θ_k^2`` exactly: the book's one ridge solver.

    The sum of squares runs over every column k *except* those listed in ``unpenalized``: by
    default column 0, the bias column (all ones). A model with one bias per group (one per
    species, say) lists every bias column; ``unpenalized=()`` penalizes everything. The example
    weights w_n default to 1 (the mean squared error); LIME's locally weighted fit passes its
    kernel weights. With ``lam = 0`` this is (weighted) least squares; the normal equations are
    solved by least squares so that a rank-deficient X still gets the minimum-norm answer.
    When there are fewer examples than penalized columns (``lam > 0``), the unpenalized columns
    are projected out and the N × N (dual) system ``θ = X̃ᵀ (X̃ X̃ᵀ + N λ I)⁻¹ ỹ`` is solved
    instead of the P × P one: the same minimizer, at the cost of the smaller system.

    Args:
        X: design matrix, shape (N, P).
        y: labels, shape (N,), or several targets at once, shape (N, K).
        lam: the regularization strength λ ≥ 0 (in units of y² per unit of θ²).
        unpenalized: indices of the columns whose parameters are not penalized (the biases:
            the notes explain why they should not be).
        weights: optional non-negative example weights w_n, shape (N,).

    Returns:
        θ, float64 of shape (P,) (or (P, K) for targets of shape (N, K)).

    Raises:
        ValueError: on mismatched shapes, NaN or infinite values, a negative or non-finite λ,
            negative weights, or an unpenalized index out of range.

    Source: the notes' "predicting Pokemon", regularization. Introduced in
    :doc:`/notebooks/06_regression`; used for the probes and LIME of
    :doc:`/notebooks/20_explainability`.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim not in (1, 2) or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError(f"expected X of shape (N, P) and y of shape (N,) or (N, K), got {X.shape} "
                         f"and {y.shape}")
    if not (np.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be a finite number ≥ 0, got {lam!r}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite: they hold NaN or infinite values")
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or not np.all(w >= 0):
        raise ValueError(f"weights must be finite and non-negative, of shape ({n},), got shape {w.shape}")
    free = np.asarray(unpenalized, dtype=int).reshape(-1)
    if free.size and (free.min() < -p or free.max() >= p):
        raise ValueError(f"unpenalized indices must be in range for {p} columns, got {free.tolist()}")
    free = np.unique(free % p)
    penalized = np.setdiff1d(np.arange(p), free)
    if lam > 0 and n < penalized.size:
        return _ridge_dual(X, y, lam, free, penalized, w)
    D = np.eye(p)
    D[free, free] = 0.0
    Xw = X * w[:, None]  # (N, P)
    A = X.T @ Xw / n + lam * D  # (P, P)
    rhs = Xw.T @ y / n  # (P,) or (P, K)
    return np.linalg.lstsq(A, rhs, rcond=None)[0]


def _ridge_dual(X, y, lam, free, penalized, w) -> np.ndarray:
    """:func:`fit_ridge` through the N × N system, for N smaller than the penalized columns."""
    n = len(X)
    s = np.sqrt(w)  # (N,)
    Xs, ys = X * s[:, None], y * (s[:, None] if y.ndim == 2 else s)
    F, Xp = Xs[:, free], Xs[:, penalized]  # (N, F), (N, P - F)

    def residual(V):  # what the unpenalized columns cannot explain: (I - F F⁺) V
        return V - F @ np.linalg.lstsq(F, V, rcond=None)[0] if free.size else V

    Xt, yt = residual(Xp), residual(ys)
    theta = np.zeros((X.shape[1],) + y.shape[1:])
    theta[penalized] = Xt.T @ np.linalg.solve(Xt @ Xt.T + n * lam * np.eye(n), yt)
    if free.size:
        theta[free] = np.linalg.lstsq(F, ys - Xp @ theta[penalized], rcond=None)[0]
    return theta


@dataclasses.dataclass
class PolynomialModel:
    """A fitted polynomial ``y_hat = Σ_k θ_k (x / scale)^k``.

    Attributes:
        theta: coefficients, shape (degree + 1,), θ_0 the bias.
        scale: what x is divided by before taking powers.
        lam: the λ it was fitted with.
    """

    theta: np.ndarray
    scale: float
    lam: float = 0.0

    @property
    def degree(self) -> int:
        return len(self.theta) - 1

    def predict(self, x) -> np.ndarray:
        """Predictions for x of shape (N,): float64 of shape (N,)."""
        return polynomial_features(x, self.degree, self.scale) @ self.theta


def fit_polynomial(x, y, degree: int, lam: float = 0.0, scale: float | None = None) -> PolynomialModel:
    """Fit a polynomial of one feature by ridge regression (:func:`fit_ridge`).

    Args:
        x: feature, shape (N,).
        y: labels, shape (N,).
        degree: highest power d ≥ 0.
        lam: λ ≥ 0; the bias is never penalized.
        scale: what x is divided by (default: the largest ``|x|`` of the training data).

    Returns:
        A :class:`PolynomialModel`.

    Raises:
        ValueError: as :func:`polynomial_features` and :func:`fit_ridge`.

    Introduced in :doc:`/notebooks/06_regression`.
    """
    x = _as_1d(x, "x")
    require_finite(x, "x")
    if scale is None:
        scale = float(np.max(np.abs(x))) or 1.0
    theta = fit_ridge(polynomial_features(x, degree, scale), y, lam)
    return PolynomialModel(theta=theta, scale=float(scale), lam=float(lam))


def _as_pair(y, y_hat) -> tuple[np.ndarray, np.ndarray]:
    y, y_hat = _as_1d(y, "y"), _as_1d(y_hat, "y_hat")
    if y.shape != y_hat.shape:
        raise ValueError(f"y and y_hat must have one shape, got {y.shape} and {y_hat.shape}")
    return y, y_hat


def mean_absolute_error(y, y_hat) -> float:
    """Average of ``|y - y_hat|`` (in y's unit): the course's "average error" of a regression.

    Raises:
        ValueError: if y and y_hat are not 1-D arrays of one length.

    Introduced in :doc:`/notebooks/06_regression`.
    """
    y, y_hat = _as_pair(y, y_hat)
    return float(np.mean(np.abs(y - y_hat)))
