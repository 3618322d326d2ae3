"""Gradients by finite differences, to check gradients computed by hand or by autograd.

A derivative is a limit of difference quotients, so a small step h gives an estimate that
needs nothing but evaluations of the function:

* forward difference   (f(θ + h eᵢ) − f(θ)) / h,          error O(h);
* central difference   (f(θ + h eᵢ) − f(θ − h eᵢ)) / (2h), error O(h²).

Too large an h leaves the truncation error of the Taylor expansion; too small an h loses the
difference to rounding (two nearly equal numbers are subtracted). The estimate costs one or two
evaluations of f per parameter, far too many to train a network with, but it is the standard
test that a hand-derived (or hand-coded backward) gradient is right: a *gradient check*.

Introduced in :doc:`/notebooks/02_gradient_descent`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .checks import require_finite

__all__ = ["numerical_gradient", "relative_error"]

SCHEMES = ("central", "forward")


def numerical_gradient(
    f: Callable[[np.ndarray], float], theta, h: float = 1e-6, scheme: str = "central"
) -> np.ndarray:
    """Estimate ∇f(θ) by finite differences, one coordinate at a time.

    Args:
        f: θ of shape (P,) → a scalar (a Python float or a one-element array). It is called
            2P times (central) or P + 1 times (forward) and must not change θ.
        theta: the point, shape (P,) (a scalar is treated as P = 1); it is not modified.
        h: the step, > 0, in θ's units. The default suits float64 and parameters of order 1;
            the best step grows with the scale of θ and with the rounding error of f.
        scheme: ``"central"`` (error O(h²)) or ``"forward"`` (error O(h)).

    Returns:
        float64 array of shape (P,): the estimated gradient.

    Raises:
        ValueError: for h ≤ 0, an unknown scheme, θ that is not a scalar or 1-D, or f returning
            more than one number.

    Source: the derivative as a limit of difference quotients; for its use as a gradient check
    see Goodfellow et al. (2016), section 11.5. Introduced in :doc:`/notebooks/02_gradient_descent`.
    """
    if not h > 0:
        raise ValueError(f"h must be positive, got {h!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    theta = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    if theta.ndim != 1:
        raise ValueError(f"theta must be a scalar or 1-D, got shape {theta.shape}")

    def value(point) -> float:
        out = np.asarray(f(point), dtype=np.float64)
        if out.size != 1:
            raise ValueError(f"f must return one number, got shape {out.shape}")
        return out.item()

    grad = np.empty_like(theta)  # (P,)
    f0 = value(theta.copy()) if scheme == "forward" else None
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = h
        if scheme == "central":
            grad[i] = (value(theta + step) - value(theta - step)) / (2 * h)
        else:
            grad[i] = (value(theta + step) - f0) / h
    return grad


def relative_error(a, b, eps: float = 1e-12) -> float:
    """Relative difference ‖a − b‖ / max(‖a‖, ‖b‖, eps) of two gradients (Euclidean norms).

    About 1e-10 or less between a float64 hand gradient and a central difference means they
    agree; 1e-3 or more means one of them is wrong.

    Args:
        a, b: arrays of one shape.
        eps: floor of the denominator, so that two zero vectors give 0.

    Returns:
        A float ≥ 0.

    Raises:
        ValueError: if the shapes differ.

    Introduced in :doc:`/notebooks/02_gradient_descent`.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, got {a.shape} and {b.shape}")
    require_finite(a, "a")
    require_finite(b, "b")
    scale = max(np.linalg.norm(a), np.linalg.norm(b), eps)
    return float(np.linalg.norm(a - b) / scale)
