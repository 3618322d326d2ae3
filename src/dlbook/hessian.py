"""The Hessian of a loss: second-order Taylor models, critical points and their eigenvalues.

Near a point θ' the loss is approximately a quadratic,

    L(θ) ≈ L(θ') + (θ − θ')ᵀ g + ½ (θ − θ')ᵀ H (θ − θ'),

with g the gradient and H the Hessian (the matrix of second derivatives) at θ'. At a
*critical point* (临界点) g = 0 and the eigenvalues of H decide what the point is: all
positive, a local minimum; all negative, a local maximum; both signs, a saddle point (鞍点).
An eigenvector u with a negative eigenvalue is a direction in which the loss goes down.

This module works on any loss written as a function of one flat parameter vector θ of shape
(P,) (:func:`flat_loss` turns a network and its data into such a function):

* :func:`hessian_dense` builds H with :func:`torch.func.hessian` (P² numbers: practical up to
  a few thousand parameters);
* :func:`hvp` computes a Hessian-vector product H v by differentiating twice ("double
  backprop", Pearlmutter 1994) without ever forming H, and :func:`hessian_by_hvp` builds H one
  column at a time from it (the from-scratch check of the dense result);
* :func:`hessian_eigen` finds the largest and smallest eigenvalues from Hessian-vector products
  only, with SciPy's Lanczos solver (``scipy.sparse.linalg.eigsh``) on a ``LinearOperator``;
* :func:`classify_critical_point` and :func:`minimum_ratio` read the eigenvalues the way the
  lecture does.

Source: the notes' section "local minima and saddle points" (Hung-yi Lee, ML 2021).
Introduced in :doc:`/notebooks/09_critical_points`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .checks import require_finite, require_real

__all__ = [
    "flat_loss",
    "hessian_dense",
    "hvp",
    "hvp_operator",
    "hessian_by_hvp",
    "hessian_eigen",
    "classify_critical_point",
    "minimum_ratio",
    "quadratic_model",
]

LossFn = Callable[[torch.Tensor], torch.Tensor]


def _check_theta(theta: torch.Tensor) -> torch.Tensor:
    if not isinstance(theta, torch.Tensor) or theta.ndim != 1 or theta.numel() == 0:
        shape = tuple(theta.shape) if isinstance(theta, torch.Tensor) else type(theta).__name__
        raise ValueError(f"theta must be a non-empty 1-D tensor of shape (P,), got {shape}")
    if not theta.is_floating_point():
        raise ValueError(f"theta must be a floating-point tensor, got dtype {theta.dtype}")
    require_finite(theta, "theta")
    return theta


def flat_loss(net: nn.Module, loss_fn: Callable, X: torch.Tensor, y: torch.Tensor
              ) -> tuple[LossFn, torch.Tensor]:
    """Write a network's loss on fixed data as a function of one flat parameter vector.

    Args:
        net: any module; its parameters (in ``named_parameters`` order) are concatenated.
        loss_fn: ``loss_fn(y_hat, y)`` returning a scalar, e.g. ``F.cross_entropy``.
        X: inputs of shape (N, ...), on the net's device and dtype.
        y: labels of shape (N, ...).

    Returns:
        ``(loss_at, theta)``: ``loss_at(theta)`` maps a tensor of shape (P,) to the scalar loss
        of the network with those parameters (the module itself is not changed: the call goes
        through :func:`torch.func.functional_call`), and ``theta`` is a detached copy of the
        net's current parameters, shape (P,).

    Raises:
        ValueError: if the net has no parameters, or X and y disagree on N.

    Introduced in :doc:`/notebooks/09_critical_points`.
    """
    names, shapes, numels = [], [], []
    for name, p in net.named_parameters():
        names.append(name)
        shapes.append(p.shape)
        numels.append(p.numel())
    if not names:
        raise ValueError("the network has no parameters")
    if X.shape[0] != y.shape[0]:
        raise ValueError("X and y must have the same first dimension, got "
                         f"{tuple(X.shape)} and {tuple(y.shape)}")
    theta = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).clone()  # (P,)

    def loss_at(th: torch.Tensor) -> torch.Tensor:
        if th.shape != theta.shape:
            raise ValueError(f"expected parameters of shape {tuple(theta.shape)}, "
                             f"got {tuple(th.shape)}")
        pieces = torch.split(th, numels)
        params = {n: piece.view(s) for n, piece, s in zip(names, pieces, shapes)}
        y_hat = torch.func.functional_call(net, params, (X,))
        return loss_fn(y_hat, y)

    return loss_at, theta


def _check_loss_at(loss_at: LossFn, theta: torch.Tensor) -> None:
    """Evaluate the loss once at ``theta`` so that a mistake is reported in the caller's terms
    (mixed float32/float64 tensors, a non-scalar loss) instead of from inside torch.func."""
    try:
        with torch.no_grad():
            loss = loss_at(theta.detach())
    except RuntimeError as err:
        text = str(err)
        if "dtype" in text or "scalar type" in text or "Double" in text or "Float" in text:
            raise ValueError(
                f"loss_at mixes floating dtypes: theta is {theta.dtype}, but the loss combines it "
                f"with tensors of another dtype ({text.splitlines()[0]}); give theta and the "
                "data one dtype") from err
        raise
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"loss_at must return a scalar tensor, got {shape}")


def hessian_dense(loss_at: LossFn, theta: torch.Tensor) -> torch.Tensor:
    """The full Hessian H[i, j] = ∂²L / ∂θ_i ∂θ_j at ``theta``, with :func:`torch.func.hessian`.

    Args:
        loss_at: θ of shape (P,) → scalar loss (differentiable by torch.func).
        theta: the point, shape (P,), floating point.

    Returns:
        H, shape (P, P), same dtype and device as ``theta``. Symmetric up to rounding.

    Raises:
        ValueError: if ``theta`` is not a 1-D floating-point tensor, or ``loss_at`` mixes
            dtypes (e.g. float64 parameters with float32 data) or does not return a scalar.

    Introduced in :doc:`/notebooks/09_critical_points`.
    """
    theta = _check_theta(theta)
    _check_loss_at(loss_at, theta)
    with warnings.catch_warnings():
        # PyTorch >= 2.10 warns from its own forward-mode set-up (it scripts a few internal
        # decompositions the first time forward-mode AD is used); nothing the caller can change.
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated",
                                category=DeprecationWarning)
        return torch.func.hessian(loss_at)(theta.detach())


def hvp(loss_at: LossFn, theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The Hessian-vector product H v, from scratch, by differentiating twice.

    The gradient g(θ) is computed with ``create_graph=True``, so that it is itself a
    differentiable function of θ; the derivative of the scalar gᵀv with respect to θ is then
    H v (v is held constant). The cost is about twice a gradient, never P².

    Args:
        loss_at: θ of shape (P,) → scalar loss.
        theta: the point, shape (P,).
        v: the vector, shape (P,), same dtype as ``theta``.

    Returns:
        H v, shape (P,).

    Raises:
        ValueError: if the shapes differ.

    Source: Pearlmutter (1994), Fast exact multiplication by the Hessian. Introduced in
    :doc:`/notebooks/09_critical_points`.
    """
    return hvp_operator(loss_at, theta)(v)


def hvp_operator(loss_at: LossFn, theta: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return ``v ↦ H v`` at a fixed ``theta``, computing the gradient graph only once.

    Every call differentiates the stored gradient again (``retain_graph=True``), which is what
    an iterative eigenvalue solver needs: hundreds of products at the same point.

    Args:
        loss_at: θ of shape (P,) → scalar loss.
        theta: the point, shape (P,), floating point.

    Returns:
        A function mapping v of shape (P,) to H v of shape (P,).

    Raises:
        ValueError: if ``theta`` is not 1-D floating point, or (when called) v has another shape.

    Introduced in :doc:`/notebooks/09_critical_points`.
    """
    theta = _check_theta(theta).detach().clone().requires_grad_(True)  # (P,)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(loss_at(theta), theta, create_graph=True)  # (P,)

    def apply(v: torch.Tensor) -> torch.Tensor:
        if v.shape != theta.shape:
            raise ValueError(f"v must have shape {tuple(theta.shape)}, got {tuple(v.shape)}")
        v = v.to(dtype=theta.dtype, device=theta.device)
        (hv,) = torch.autograd.grad(g, theta, grad_outputs=v, retain_graph=True)  # (P,)
        return hv.detach()

    return apply


def hessian_by_hvp(loss_at: LossFn, theta: torch.Tensor) -> torch.Tensor:
    """The full Hessian built column by column: column j is H e_j (a unit vector).

    P Hessian-vector products; the from-scratch counterpart of :func:`hessian_dense`.

    Returns:
        H, shape (P, P).

    Introduced in :doc:`/notebooks/09_critical_points`.
    """
    apply = hvp_operator(loss_at, theta)
    eye = torch.eye(theta.numel(), dtype=theta.dtype, device=theta.device)  # (P, P)
    return torch.stack([apply(e) for e in eye], dim=1)  # (P, P), column j = H e_j


def hessian_eigen(loss_at: LossFn, theta: torch.Tensor, k: int = 1, *, which: str = "both",
                  tol: float = 1e-8, maxiter: int | None = None, seed: int = 0) -> dict:
    """Extreme eigenvalues of the Hessian from Hessian-vector products (Lanczos, no P × P matrix).

    SciPy's ``eigsh`` (ARPACK's implicitly restarted Lanczos method) only ever asks for H v;
    here each product is one call of :func:`hvp_operator`, in ``theta``'s dtype (use float64
    for tight tolerances).

    Args:
        loss_at: θ of shape (P,) → scalar loss.
        theta: the point, shape (P,).
        k: how many eigenvalues at each end, 1 ≤ k < P.
        which: ``"largest"``, ``"smallest"`` or ``"both"`` (algebraic order: the smallest is the
            most negative).
        tol: relative accuracy asked of ARPACK.
        maxiter: the most Lanczos restarts (ARPACK's default if ``None``).
        seed: seeds the Lanczos start vector, so repeated calls give identical results.

    Returns:
        A dict with ``"largest"`` and/or ``"smallest"``: float64 arrays of shape (k,) sorted in
        ascending order, and ``"num_hvp"``: the number of Hessian-vector products used.

    Raises:
        ValueError: for ``which`` not one of the three, or k outside [1, P).
        scipy.sparse.linalg.ArpackNoConvergence: if Lanczos does not converge in ``maxiter``.

    Source: Lanczos (1950); Lehoucq, Sorensen and Yang, ARPACK (1998). Introduced in
    :doc:`/notebooks/09_critical_points`.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    theta = _check_theta(theta)
    P = theta.numel()
    if which not in ("largest", "smallest", "both"):
        raise ValueError(f"which must be 'largest', 'smallest' or 'both', got {which!r}")
    if not (isinstance(k, int) and 1 <= k < P):
        raise ValueError(f"k must be an integer in [1, {P}) for {P} parameters, got {k!r}")
    apply = hvp_operator(loss_at, theta)
    count = [0]

    def matvec(v: np.ndarray) -> np.ndarray:
        count[0] += 1
        hv = apply(torch.as_tensor(np.ravel(v), dtype=theta.dtype, device=theta.device))
        return hv.cpu().numpy().astype(np.float64)

    op = LinearOperator((P, P), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(P)
    out = {}
    for name, code in (("largest", "LA"), ("smallest", "SA")):
        if which in (name, "both"):
            values = eigsh(op, k=k, which=code, tol=tol, maxiter=maxiter, v0=v0,
                           return_eigenvectors=False)
            out[name] = np.sort(values)
    out["num_hvp"] = count[0]
    return out


def classify_critical_point(eigenvalues, tol: float = 1e-8) -> str:
    """Name a critical point by the signs of its Hessian's eigenvalues.

    Args:
        eigenvalues: the Hessian's eigenvalues, shape (P,) (array-like of floats).
        tol: eigenvalues with ``|λ|`` ≤ tol count as zero (≥ 0).

    Returns:
        ``"local minimum"`` (all > tol), ``"local maximum"`` (all < −tol), ``"saddle point"``
        (some > tol and some < −tol), or ``"undecided"`` (no negative and no positive pair, but
        some within tol of zero: the second-order test cannot tell; higher-order terms decide).

    Raises:
        ValueError: for an empty, non-1-D or non-finite array, or tol < 0.

    Source: the notes, "local minima and saddle points". Introduced in
    :doc:`/notebooks/09_critical_points`.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    require_finite(lam, "eigenvalues")
    require_real(tol, "tol", low=0)
    pos, neg = np.any(lam > tol), np.any(lam < -tol)
    if pos and neg:
        return "saddle point"
    if np.all(lam > tol):
        return "local minimum"
    if np.all(lam < -tol):
        return "local maximum"
    return "undecided"


def minimum_ratio(eigenvalues) -> float:
    """The lecture's "minimum ratio": the share of the Hessian's eigenvalues that are positive.

    1.0 at a strict local minimum; the smaller it is, the more directions lead downhill.

    Args:
        eigenvalues: shape (P,), array-like of floats.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: for an empty or non-1-D array.

    Source: the notes, "local minima and saddle points". Introduced in
    :doc:`/notebooks/09_critical_points`.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    require_finite(lam, "eigenvalues")
    return float(np.mean(lam > 0))


def quadratic_model(loss0: float, g, H, theta0) -> Callable:
    """The second-order Taylor model of a loss around ``theta0``.

    L(θ) ≈ L(θ') + (θ − θ')ᵀ g + ½ (θ − θ')ᵀ H (θ − θ'), with θ' = ``theta0``.

    Args:
        loss0: L(θ'), a float.
        g: the gradient at θ', shape (P,).
        H: the Hessian at θ', shape (P, P).
        theta0: θ', shape (P,).

    Returns:
        A function of θ with shape (..., P) (any leading batch shape, e.g. a grid) returning the
        model's value with shape (...), as float64 NumPy arrays.

    Raises:
        ValueError: if the shapes do not agree, or (when called) θ's last axis is not P.

    Introduced in :doc:`/notebooks/09_critical_points`.
    """
    g = np.asarray(g, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    theta0 = np.asarray(theta0, dtype=np.float64)
    P = theta0.shape[0] if theta0.ndim == 1 else -1
    if theta0.ndim != 1 or g.shape != (P,) or H.shape != (P, P):
        raise ValueError("expected theta0 (P,), g (P,), H (P, P); got "
                         f"{theta0.shape}, {g.shape}, {H.shape}")
    if not math.isfinite(float(loss0)):
        raise ValueError(f"loss0 must be a finite number, got {loss0!r}")

    def model(theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape[-1:] != (P,):
            raise ValueError(f"theta's last axis must have length {P}, got shape {theta.shape}")
        d = theta - theta0  # (..., P)
        return loss0 + d @ g + 0.5 * np.einsum("...i,ij,...j->...", d, H, d)

    return model
