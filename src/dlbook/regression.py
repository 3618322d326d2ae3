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
is not regularized). Introduced in chapter 6 (Regression: predicting Pokemon).
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
    "mean_squared_error",
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

    Introduced in chapter 6.
    """
    x = _as_1d(x, "x")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    return (x[:, None] / scale) ** np.arange(degree + 1)  # (N, d + 1)


def fit_ridge(X, y, lam: float = 0.0, unpenalized=(0,)) -> np.ndarray:
    """Minimize ``mean((X θ - y)^2) + lam * Σ_k θ_k^2`` exactly, by the normal equations.

    The sum of squares runs over every column k *except* those listed in ``unpenalized``: by
    default column 0, the bias column (all ones). A model with one bias per group (one per
    species, say) lists every bias column; ``unpenalized=()`` penalizes everything. With
    ``lam = 0`` this is ordinary least squares; the system is solved by least squares so that
    a rank-deficient X still gets the minimum-norm answer.

    Args:
        X: design matrix, shape (N, P).
        y: labels, shape (N,).
        lam: the regularization strength λ ≥ 0 (in units of y² per unit of θ²).
        unpenalized: indices of the columns whose parameters are not penalized (the biases:
            the notes explain why they should not be).

    Returns:
        θ, float64 of shape (P,).

    Raises:
        ValueError: on mismatched shapes, a negative or non-finite λ, or an unpenalized
            index out of range.

    Source: the notes' "predicting Pokemon", regularization. Introduced in chapter 6.
    """
    X = np.asarray(X, dtype=np.float64)
    y = _as_1d(y, "y")
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise ValueError(f"expected X of shape (N, P) and y of shape (N,), got {X.shape} and {y.shape}")
    if not (np.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be a finite number ≥ 0, got {lam!r}")
    n, p = X.shape
    free = np.asarray(unpenalized, dtype=int).reshape(-1)
    if free.size and (free.min() < -p or free.max() >= p):
        raise ValueError(f"unpenalized indices must be in range for {p} columns, got {free.tolist()}")
    D = np.eye(p)
    D[free, free] = 0.0
    A = X.T @ X / n + lam * D  # (P, P)
    rhs = X.T @ y / n  # (P,)
    return np.linalg.lstsq(A, rhs, rcond=None)[0]


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
        scale: what x is divided by (default: the largest |x| of the training data).

    Returns:
        A :class:`PolynomialModel`.

    Raises:
        ValueError: as :func:`polynomial_features` and :func:`fit_ridge`.

    Introduced in chapter 6.
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
    """Average of |y - y_hat| (in y's unit): the course's "average error" of a regression.

    Raises:
        ValueError: if y and y_hat are not 1-D arrays of one length.

    Introduced in chapter 6.
    """
    y, y_hat = _as_pair(y, y_hat)
    return float(np.mean(np.abs(y - y_hat)))


def mean_squared_error(y, y_hat) -> float:
    """Average of (y - y_hat)^2 (in y's unit squared).

    Raises:
        ValueError: if y and y_hat are not 1-D arrays of one length.

    Introduced in chapter 6.
    """
    y, y_hat = _as_pair(y, y_hat)
    return float(np.mean((y - y_hat) ** 2))
