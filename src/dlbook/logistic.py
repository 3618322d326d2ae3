"""A logistic unit y_hat = σ(w x + b) and two losses for it: mean squared error and cross-entropy.

A logistic unit turns a score z = w x + b into a probability y_hat = σ(z) = 1 / (1 + e^(−z))
that the label is 1. For labels y ∈ {0, 1} it can be trained with

* the mean squared error  (1/N) Σ (y_hat_n − y_n)², or
* the cross-entropy       −(1/N) Σ [y_n log y_hat_n + (1 − y_n) log(1 − y_hat_n)].

By the chain rule, dL/dz per example is (y_hat − y) for the cross-entropy but
2 (y_hat − y) · y_hat (1 − y_hat) for the squared error: when the unit is confidently wrong
(y_hat near 0 or 1 on the wrong side), the factor y_hat (1 − y_hat) ≈ 0 makes the squared error's
gradient vanish, and gradient descent stalls on a plateau of its error surface.

As in :mod:`dlbook.surfaces`, the losses broadcast over grids of (w, b), so that an error surface
is one vectorized call. The cross-entropy is computed from z as softplus(z) − y z, which never
takes the logarithm of 0.

Introduced in chapter 3 (Error surfaces).
"""

from __future__ import annotations

import numpy as np

from .surfaces import _check_xy

__all__ = ["sigmoid", "logistic_unit_loss", "logistic_unit_grad"]

LOSSES = ("cross_entropy", "mse")


def sigmoid(z) -> np.ndarray:
    """The logistic function σ(z) = 1 / (1 + e^(−z)), without overflow for large |z|.

    Args:
        z: array of any shape, float.

    Returns:
        float64 array of z's shape, values in [0, 1].

    Introduced in chapter 3.
    """
    z = np.asarray(z, dtype=np.float64)
    # e^(−|z|) never overflows; the two branches agree where both are exact
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


def _check(x, y, loss) -> tuple[np.ndarray, np.ndarray]:
    x, y = _check_xy(x, y)  # non-empty 1-D arrays of one length, as for the linear model
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"labels y must be 0 or 1, got values {np.unique(y)[:5]}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return x, y


def logistic_unit_loss(w, b, x, y, loss: str = "cross_entropy") -> np.ndarray:
    """Loss of the logistic unit y_hat = σ(w x + b) on binary examples (x, y).

    ``w`` and ``b`` may be scalars or arrays of any broadcastable shape S (a grid of an error
    surface); the examples are averaged over, so the result has shape S.

    Args:
        w: weight(s), shape S (per unit of x).
        b: bias(es), shape S (no unit: a score).
        x: feature, shape (N,), float.
        y: labels, shape (N,), each 0 or 1.
        loss: ``"cross_entropy"`` (cross-entropy, in nats) or ``"mse"`` (mean squared error between the
            probability y_hat and the label, no unit).

    Returns:
        float64 array of shape S.

    Raises:
        ValueError: if x and y are not 1-D of one length, a label is not 0 or 1, or the loss is
            unknown.

    Source: the notes' logistic regression ("Logistic Regression + Square Error") and the
    probability appendix of the Goodfellow notes (cross-entropy). Introduced in chapter 3.
    """
    x, y = _check(x, y, loss)
    w = np.asarray(w, dtype=np.float64)[..., None]  # (*S, 1)
    b = np.asarray(b, dtype=np.float64)[..., None]  # (*S, 1)
    z = w * x + b  # (*S, N)
    if loss == "cross_entropy":
        # −[y log σ(z) + (1 − y) log(1 − σ(z))] = log(1 + e^z) − y z
        return np.mean(np.logaddexp(0.0, z) - y * z, axis=-1)
    return np.mean((sigmoid(z) - y) ** 2, axis=-1)


def logistic_unit_grad(w: float, b: float, x, y, loss: str = "cross_entropy") -> np.ndarray:
    """Gradient (∂L/∂w, ∂L/∂b) of :func:`logistic_unit_loss` at one point, by hand.

    With y_hat = σ(z), z = w x + b and σ'(z) = y_hat (1 − y_hat), the chain rule gives
    dL/dz_n = (y_hat_n − y_n) for the cross-entropy and 2 (y_hat_n − y_n) y_hat_n (1 − y_hat_n)
    for the squared error; then ∂L/∂w = mean(dL/dz · x) and ∂L/∂b = mean(dL/dz).

    Returns:
        float64 array of shape (2,).

    Raises:
        ValueError: as :func:`logistic_unit_loss`, or if w or b is not a single number.

    Introduced in chapter 3.
    """
    x, y = _check(x, y, loss)
    if np.ndim(w) != 0 or np.ndim(b) != 0:
        raise ValueError(
            f"w and b must be single numbers, got shapes {np.shape(w)} and {np.shape(b)}"
        )
    y_hat = sigmoid(w * x + b)  # (N,)
    dz = y_hat - y if loss == "cross_entropy" else 2.0 * (y_hat - y) * y_hat * (1.0 - y_hat)  # (N,)
    return np.array([np.mean(dz * x), np.mean(dz)])
