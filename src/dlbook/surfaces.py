"""Error surfaces of a linear model: its loss over a grid of (w, b), its gradient and Hessian.

An *error surface* (误差曲面) is the loss L(w, b) drawn over a grid of two parameters. This
module evaluates a loss on such a grid in one vectorized call (the grid points broadcast
against the data; there is no Python loop over grid points). Gradient descent, which walks
on such a surface and records its path, is :func:`dlbook.optim.gradient_descent`.

Notation follows the notes: parameters θ (here w and b), learning rate η (``lr``), gradient g,
update θ ← θ − η g.

Introduced in :doc:`/notebooks/01_three_steps`;
:doc:`/notebooks/03_error_surfaces` adds the Hessian of the mean squared error of a
linear model, whose eigenvalues give the shape of its surface.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .checks import require_finite

__all__ = [
    "linear_model_loss",
    "linear_model_grad",
    "loss_surface",
    "linear_model_hessian",
]

LOSSES = ("mse", "mae")


def _check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError(
            f"x and y must be non-empty 1-D arrays of the same length, got shapes {x.shape} "
            f"and {y.shape}"
        )
    return x, y


def linear_model_loss(w, b, x, y, loss: str = "mse") -> np.ndarray:
    """Loss of the linear model y_hat = b + w·x on the examples (x, y).

    ``w`` and ``b`` may be scalars or arrays of any broadcastable shape S (a grid, for example);
    the examples are averaged over, so the result has shape S.

    Args:
        w: weight(s), shape S (any units: y's unit per x's unit).
        b: bias(es), shape S (y's unit).
        x: feature, shape (N,), float.
        y: label, shape (N,), float.
        loss: ``"mse"`` (mean squared error, y's unit squared) or ``"mae"`` (mean absolute
            error, y's unit).

    Returns:
        float64 array of shape S.

    Raises:
        ValueError: if x and y are not 1-D of one length, or the loss is unknown.

    Source: the notes' "three steps", step 2 (MAE and MSE). Introduced in
    :doc:`/notebooks/01_three_steps`.
    """
    x, y = _check_xy(x, y)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    w = np.asarray(w, dtype=np.float64)[..., None]  # (*S, 1)
    b = np.asarray(b, dtype=np.float64)[..., None]  # (*S, 1)
    err = b + w * x - y  # (*S, N)
    return np.mean(err**2 if loss == "mse" else np.abs(err), axis=-1)


def linear_model_grad(w: float, b: float, x, y, loss: str = "mse") -> np.ndarray:
    """Gradient (∂L/∂w, ∂L/∂b) of :func:`linear_model_loss` at one point, by hand.

    For MSE, ∂L/∂w = (2/N) Σ e_n x_n and ∂L/∂b = (2/N) Σ e_n with e_n = b + w x_n − y_n.
    For MAE the derivative of ``|e|`` is sign(e) (0 at e = 0, a subgradient).

    Returns:
        float64 array of shape (2,).

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    x, y = _check_xy(x, y)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    err = b + w * x - y  # (N,)
    d = 2.0 * err if loss == "mse" else np.sign(err)
    return np.array([np.mean(d * x), np.mean(d)])


def loss_surface(
    loss_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], w_values, b_values
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate a loss on the grid w_values × b_values in one vectorized call.

    Args:
        loss_fn: ``loss_fn(W, B)`` taking two arrays of the grid's shape (len(b_values),
            len(w_values)) and returning the loss at every grid point, same shape. It must
            broadcast (e.g. ``lambda W, B: linear_model_loss(W, B, x, y)``); it is called once.
        w_values: the first parameter's values, shape (nw,), increasing.
        b_values: the second parameter's values, shape (nb,), increasing.

    Returns:
        ``(W, B, L)``, each of shape (nb, nw): the meshgrid and the loss (rows follow b, as
        :func:`matplotlib.axes.Axes.contour` expects).

    Raises:
        ValueError: if a value list is not 1-D with at least two values, or ``loss_fn``
            returns another shape.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    w_values = np.asarray(w_values, dtype=np.float64)
    b_values = np.asarray(b_values, dtype=np.float64)
    for name, v in (("w_values", w_values), ("b_values", b_values)):
        if v.ndim != 1 or v.size < 2:
            raise ValueError(f"{name} must be 1-D with at least 2 values, got shape {v.shape}")
    W, B = np.meshgrid(w_values, b_values)  # (nb, nw)
    L = np.asarray(loss_fn(W, B), dtype=np.float64)
    if L.shape != W.shape:
        raise ValueError(f"loss_fn returned shape {L.shape}, expected the grid's {W.shape}")
    return W, B, L


def linear_model_hessian(X, bias: bool = True) -> np.ndarray:
    """Hessian of the mean squared error of the linear model y_hat = X θ (+ b), by hand.

    The MSE L(θ) = (1/N) ‖A θ − y‖² of a linear model is a quadratic function of θ, so its
    matrix of second derivatives is the same everywhere, H = (2/N) AᵀA, and it does not depend
    on the labels. Here A is X with a column of ones appended when ``bias`` is true (the bias is
    then the last parameter). The eigenvectors of H are the axes of the elliptic contours of the
    error surface; its eigenvalues are the curvatures along them. Gradient descent with a fixed
    learning rate converges exactly when η < 2 / λ_max, and the ratio λ_max / λ_min (the
    condition number) says how elongated the surface is.

    Args:
        X: features, shape (N,) for one feature or (N, D), float.
        bias: whether the model has a bias b (a constant feature 1).

    Returns:
        float64 array of shape (P, P), P = D + 1 with a bias, D without; symmetric, positive
        semi-definite. Units: (y's unit / θ's unit)², one entry per pair of parameters.

    Raises:
        ValueError: if X is not 1-D or 2-D with at least one row.

    Source: the notes' "Batch normalization" motivation (features on different scales give an
    error surface with very different slopes in different directions). Introduced in
    :doc:`/notebooks/01_three_steps`.
    """
    X = np.asarray(X, dtype=np.float64)
    require_finite(X, "X")
    if X.ndim == 1:
        X = X[:, None]  # (N, 1)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must have shape (N,) or (N, D) with N >= 1, got {X.shape}")
    A = np.c_[X, np.ones(len(X))] if bias else X  # (N, P)
    return 2.0 / len(A) * A.T @ A  # (P, P)
