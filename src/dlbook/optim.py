"""Optimizers from scratch: gradient descent, momentum, Nesterov, AdaGrad, RMSProp, Adadelta, Adam, clipping.

:func:`gradient_descent` is plain gradient descent θ ← θ − η g on a function of a NumPy
parameter vector, keeping every point it visits (a :class:`GDPath`) so that the path can be
drawn on an error surface (:mod:`dlbook.surfaces`); it stops on a budget of updates, a small
gradient, a small change of the loss, or divergence.

The optimizers of deep learning work on PyTorch parameters instead. Each is a small class with
PyTorch's interface (it subclasses :class:`torch.optim.Optimizer` for the plumbing: parameter
groups, ``zero_grad``,
``state_dict``, and so that PyTorch's learning-rate schedulers drive it), but its ``step`` is
written out here, one line per formula. Each follows PyTorch's exact conventions, so that the
book's tests can check it against ``torch.optim`` step by step:

* ``SGD``: v ← μ v + g, θ ← θ − η v (Nesterov: θ ← θ − η (g + μ v));
* ``Adagrad``: s ← s + g², θ ← θ − η g / (√s + ε), with ε *outside* the root;
* ``RMSprop``: s ← α s + (1 − α) g², θ ← θ − η g / (√s + ε), ε outside the root;
* ``Adadelta``: s ← ρ s + (1 − ρ) g², Δ = √(d + ε) / √(s + ε) · g, d ← ρ d + (1 − ρ) Δ²,
  θ ← θ − η Δ;
* ``Adam``: m ← β₁ m + (1 − β₁) g, s ← β₂ s + (1 − β₂) g², θ ← θ − η m̂ / (√ŝ + ε) with
  m̂ = m / (1 − β₁ᵗ) and ŝ = s / (1 − β₂ᵗ).

(The notes write momentum as m ← λ m − η g, θ ← θ + m; with a constant η this is the same
path, with m = −η v. Qiu's textbook puts ε inside the square root; PyTorch, and this module,
outside. :doc:`/notebooks/11_adaptive_learning_rates` discusses both.)

:func:`clip_grad_value_` and :func:`clip_grad_norm_` clip gradients in place, as PyTorch's
functions of the same names do. :func:`optimize_path` runs any optimizer, ours or PyTorch's,
on a function of a parameter vector and records the path, for drawing on an error surface.

Sources: Polyak (1964) momentum; Nesterov (1983) and Sutskever et al. (2013); Duchi, Hazan and
Singer (2011) AdaGrad; Tieleman and Hinton (2012) RMSProp; Zeiler (2012) Adadelta; Kingma and
Ba (2015) Adam; Pascanu, Mikolov and Bengio (2013) clipping. The notes: "adaptive learning
rate" (Lee) and chapter 7 of Qiu's review notes. Gradient descent is introduced in
:doc:`/notebooks/01_three_steps` (:doc:`/notebooks/02_gradient_descent`
adds the stopping rule on the change of the loss), momentum in
:doc:`/notebooks/10_batch_momentum`, the adaptive methods in
:doc:`/notebooks/11_adaptive_learning_rates`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np
import torch

__all__ = ["GDPath", "gradient_descent", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam",
           "clip_grad_value_", "clip_grad_norm_", "optimize_path"]


@dataclasses.dataclass
class GDPath:
    """What :func:`gradient_descent` returns.

    Attributes:
        params: every point visited, shape (T + 1, P), float64; row 0 is the start.
        losses: the loss at each point, shape (T + 1,), or ``None`` if no loss was given.
        stopped: why it stopped: ``"max_steps"``, ``"small_gradient"`` (‖g‖ ≤ tol),
            ``"small_loss_change"`` (``|L_t − L_{t−1}|`` ≤ loss_tol,
            :doc:`/notebooks/02_gradient_descent`) or ``"diverged"``
            (a parameter or gradient became inf or NaN).
    """

    params: np.ndarray
    losses: np.ndarray | None
    stopped: str

    @property
    def num_steps(self) -> int:
        """Number of updates taken (T)."""
        return len(self.params) - 1

    @property
    def final(self) -> np.ndarray:
        """The last point, shape (P,)."""
        return self.params[-1]


def gradient_descent(
    grad_fn: Callable[[np.ndarray], np.ndarray],
    theta0,
    lr: float,
    num_steps: int,
    *,
    tol: float = 0.0,
    loss_fn: Callable[[np.ndarray], float] | None = None,
    loss_tol: float = 0.0,
) -> GDPath:
    """Plain gradient descent θ ← θ − η ∇L(θ) that records its path.

    It stops after ``num_steps`` updates, as soon as ‖∇L(θ)‖ ≤ ``tol`` (the gradient is
    practically zero: a critical point), as soon as an update changes the loss by at most
    ``loss_tol`` (progress has become too slow to be worth waiting for), or when the iterates
    blow up (inf or NaN, the sign of a learning rate that is too large).

    Args:
        grad_fn: θ of shape (P,) → gradient of shape (P,).
        theta0: starting point, shape (P,) (a scalar is treated as P = 1).
        lr: learning rate η > 0.
        num_steps: the most updates to take, ≥ 0.
        tol: stop when the gradient's Euclidean norm is at most this (≥ 0; 0 never stops early
            unless the gradient is exactly zero).
        loss_fn: optional θ → L(θ), recorded at each point.
        loss_tol: stop when one update changes the loss by at most this (≥ 0; needs
            ``loss_fn``; 0 never stops early unless the loss stops changing exactly). Added in
            :doc:`/notebooks/02_gradient_descent`.

    Returns:
        A :class:`GDPath`.

    Raises:
        ValueError: for lr ≤ 0, num_steps < 0, tol < 0, loss_tol < 0, loss_tol > 0 without
            ``loss_fn``, or a gradient of the wrong shape.

    Source: the notes' "three steps", step 3 (optimization), and its two reasons to stop (a
    budget of updates, a zero gradient). Introduced in :doc:`/notebooks/01_three_steps`.
    """
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if int(num_steps) != num_steps or num_steps < 0:
        raise ValueError(f"num_steps must be a non-negative integer, got {num_steps!r}")
    if tol < 0:
        raise ValueError(f"tol must be non-negative, got {tol!r}")
    if loss_tol < 0:
        raise ValueError(f"loss_tol must be non-negative, got {loss_tol!r}")
    if loss_tol > 0 and loss_fn is None:
        raise ValueError("loss_tol > 0 needs loss_fn, to measure the change of the loss")
    theta = np.atleast_1d(np.asarray(theta0, dtype=np.float64)).copy()
    if theta.ndim != 1:
        raise ValueError(f"theta0 must be a scalar or 1-D, got shape {theta.shape}")
    path = [theta.copy()]

    def scalar_loss(th) -> float:
        value = np.asarray(loss_fn(th), dtype=np.float64)
        if value.size != 1:
            raise ValueError(f"loss_fn must return one number, got shape {value.shape}")
        return value.item()

    losses = [scalar_loss(theta)] if loss_fn is not None else None
    stopped = "max_steps"
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(num_steps)):
            g = np.atleast_1d(np.asarray(grad_fn(theta), dtype=np.float64))
            if g.shape != theta.shape:
                raise ValueError(f"grad_fn returned shape {g.shape}, expected {theta.shape}")
            if not np.all(np.isfinite(g)):
                stopped = "diverged"
                break
            if np.linalg.norm(g) <= tol:
                stopped = "small_gradient"
                break
            theta = theta - lr * g
            path.append(theta.copy())
            if losses is not None:
                losses.append(scalar_loss(theta))
            if not np.all(np.isfinite(theta)):
                stopped = "diverged"
                break
            if losses is not None and loss_tol > 0 and abs(losses[-1] - losses[-2]) <= loss_tol:
                stopped = "small_loss_change"
                break
    return GDPath(np.array(path), None if losses is None else np.array(losses), stopped)


def _positive(name: str, value: float, allow_zero: bool = False) -> None:
    ok = isinstance(value, numbers.Real) and math.isfinite(value)
    if not (ok and (value >= 0 if allow_zero else value > 0)):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


def _unit(name: str, value: float) -> None:
    if not (isinstance(value, numbers.Real) and 0 <= value < 1):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")


class _Optimizer(torch.optim.Optimizer):
    """Shared loop: call ``_update(p, g, state, group)`` for every parameter with a gradient."""

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        """Update every parameter from its ``.grad``; returns ``closure()`` if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, self.state[p], group)
        return loss

    def _update(self, p, g, state, group):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


class SGD(_Optimizer):
    """Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum.

    Each step, with g the gradient of the current mini-batch:

    * plain (μ = 0): θ ← θ − η g;
    * momentum: v ← μ v + g, θ ← θ − η v (v starts at 0, so v₁ = g₁);
    * Nesterov: v ← μ v + g, θ ← θ − η (g + μ v). This is the look-ahead method written in the
      variable θ + μ·(last step);
      :doc:`/notebooks/11_adaptive_learning_rates` shows the change of variables.

    Args:
        params: an iterable of tensors (``net.parameters()``) or of parameter-group dicts.
        lr: the learning rate η > 0.
        momentum: μ in [0, 1) (the notes' λ).
        nesterov: use Nesterov momentum (needs μ > 0).

    Raises:
        ValueError: for η ≤ 0, μ outside [0, 1), or Nesterov without momentum.

    Matches ``torch.optim.SGD(params, lr, momentum, nesterov=...)`` (dampening 0, no weight
    decay). Introduced in :doc:`/notebooks/10_batch_momentum` (momentum) and
    :doc:`/notebooks/11_adaptive_learning_rates` (Nesterov).
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0, nesterov: bool = False):
        _positive("lr", lr)
        _unit("momentum", momentum)
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0, got momentum=0")
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov))

    def _update(self, p, g, state, group):
        mu, lr = group["momentum"], group["lr"]
        if mu == 0:
            p.sub_(lr * g)
            return
        v = state.setdefault("velocity", torch.zeros_like(p))
        v.mul_(mu).add_(g)  # v ← μ v + g
        direction = g + mu * v if group["nesterov"] else v
        p.sub_(lr * direction)


class Adagrad(_Optimizer):
    """AdaGrad: each parameter's step is divided by the root of its summed squared gradients.

    s ← s + g²,  θ ← θ − η / (1 + (t − 1)·decay) · g / (√s + ε).

    Args:
        params: tensors or parameter groups.
        lr: η > 0.
        eps: ε ≥ 0, added *after* the square root (PyTorch's convention).
        lr_decay: the optional 1/t-style decay of η (0: none).

    Raises:
        ValueError: for η ≤ 0, ε < 0 or decay < 0.

    Matches ``torch.optim.Adagrad(params, lr, lr_decay, eps=eps)`` with no initial accumulator.
    Source: Duchi, Hazan and Singer (2011). Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, eps: float = 1e-10,
                 lr_decay: float = 0.0):
        _positive("lr", lr)
        _positive("eps", eps, allow_zero=True)
        _positive("lr_decay", lr_decay, allow_zero=True)
        super().__init__(params, dict(lr=lr, eps=eps, lr_decay=lr_decay))

    def _update(self, p, g, state, group):
        state["step"] = state.get("step", 0) + 1
        s = state.setdefault("sum_sq", torch.zeros_like(p))
        s.add_(g * g)  # s ← s + g²
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        p.sub_(lr * g / (s.sqrt() + group["eps"]))


class RMSprop(_Optimizer):
    """RMSProp: like AdaGrad, but the squared gradients are averaged with exponential decay.

    s ← α s + (1 − α) g²  (s starts at 0),  θ ← θ − η g / (√s + ε).

    Args:
        params: tensors or parameter groups.
        lr: η > 0.
        alpha: the decay α in [0, 1) (the weight of the past; PyTorch's default 0.99).
        eps: ε ≥ 0, added after the square root.

    Raises:
        ValueError: for η ≤ 0, α outside [0, 1) or ε < 0.

    Matches ``torch.optim.RMSprop(params, lr, alpha, eps)`` (not centered, no momentum).
    Source: Tieleman and Hinton (2012), Coursera lecture 6.5. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8):
        _positive("lr", lr)
        _unit("alpha", alpha)
        _positive("eps", eps, allow_zero=True)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    def _update(self, p, g, state, group):
        a = group["alpha"]
        s = state.setdefault("mean_sq", torch.zeros_like(p))
        s.mul_(a).add_((1 - a) * g * g)  # s ← α s + (1 − α) g²
        p.sub_(group["lr"] * g / (s.sqrt() + group["eps"]))


class Adadelta(_Optimizer):
    """Adadelta: RMSProp whose step size is itself a running RMS of past steps (units match θ).

    s ← ρ s + (1 − ρ) g²,  Δ = √(d + ε) / √(s + ε) · g,  d ← ρ d + (1 − ρ) Δ²,  θ ← θ − η Δ.

    Args:
        params: tensors or parameter groups.
        lr: η > 0 (1.0 in the original method).
        rho: the decay ρ in [0, 1).
        eps: ε > 0, inside both square roots.

    Raises:
        ValueError: for η ≤ 0, ρ outside [0, 1) or ε ≤ 0.

    Matches ``torch.optim.Adadelta(params, lr, rho, eps)``. Source: Zeiler (2012).
    Introduced in :doc:`/notebooks/11_adaptive_learning_rates`.
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6):
        _positive("lr", lr)
        _unit("rho", rho)
        _positive("eps", eps)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps))

    def _update(self, p, g, state, group):
        rho, eps = group["rho"], group["eps"]
        s = state.setdefault("mean_sq", torch.zeros_like(p))
        d = state.setdefault("mean_sq_step", torch.zeros_like(p))
        s.mul_(rho).add_((1 - rho) * g * g)
        delta = (d + eps).sqrt() / (s + eps).sqrt() * g
        d.mul_(rho).add_((1 - rho) * delta * delta)
        p.sub_(group["lr"] * delta)


class Adam(_Optimizer):
    """Adam: momentum on the gradient plus RMSProp's scaling, both with bias correction.

    m ← β₁ m + (1 − β₁) g,  s ← β₂ s + (1 − β₂) g²  (both start at 0),
    m̂ = m / (1 − β₁ᵗ),  ŝ = s / (1 − β₂ᵗ),  θ ← θ − η m̂ / (√ŝ + ε).

    Args:
        params: tensors or parameter groups.
        lr: η > 0.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε ≥ 0, added after the square root.

    Raises:
        ValueError: for η ≤ 0, a β outside [0, 1) or ε < 0.

    Matches ``torch.optim.Adam(params, lr, betas, eps)`` (no weight decay, no AMSGrad).
    Source: Kingma and Ba (2015). Introduced in :doc:`/notebooks/11_adaptive_learning_rates`.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        _positive("lr", lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        _unit("beta1", betas[0])
        _unit("beta2", betas[1])
        _positive("eps", eps, allow_zero=True)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps))

    def _update(self, p, g, state, group):
        b1, b2 = group["betas"]
        state["step"] = t = state.get("step", 0) + 1
        m = state.setdefault("mean", torch.zeros_like(p))
        s = state.setdefault("mean_sq", torch.zeros_like(p))
        m.mul_(b1).add_((1 - b1) * g)  # first moment: momentum
        s.mul_(b2).add_((1 - b2) * g * g)  # second moment: RMSProp
        m_hat = m / (1 - b1**t)  # bias correction: both averages start at 0
        s_hat = s / (1 - b2**t)
        p.sub_(group["lr"] * m_hat / (s_hat.sqrt() + group["eps"]))


def _grads(params) -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):
        params = [params]
    return [p.grad for p in params if p.grad is not None]


def clip_grad_value_(params, clip_value: float) -> None:
    """Clip every gradient entry into [−c, c], in place: g ← max(min(g, c), −c).

    Args:
        params: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        clip_value: c > 0.

    Raises:
        ValueError: for c ≤ 0.

    Matches :func:`torch.nn.utils.clip_grad_value_`. Source: Qiu's notes, chapter 7 (阈值截断).
    Introduced in :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _positive("clip_value", clip_value)
    for g in _grads(params):
        g.clamp_(min=-clip_value, max=clip_value)


def clip_grad_norm_(params, max_norm: float, eps: float = 1e-6) -> torch.Tensor:
    """Rescale all gradients together so that their joint Euclidean norm is at most ``max_norm``.

    With ‖g‖ the norm of all gradients concatenated: g ← g · min(1, b / (‖g‖ + ε)). The
    direction is kept; only the length shrinks.

    Args:
        params: a tensor or an iterable of tensors whose ``.grad`` is rescaled in place.
        max_norm: b > 0.
        eps: ε ≥ 0 guarding the division (PyTorch uses 1e-6).

    Returns:
        ‖g‖ before clipping, a 0-dim tensor.

    Raises:
        ValueError: for b ≤ 0 or ε < 0.

    Matches :func:`torch.nn.utils.clip_grad_norm_`. Source: Pascanu, Mikolov and Bengio
    (2013); Qiu's notes, chapter 7 (按模截断). Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _positive("max_norm", max_norm)
    _positive("eps", eps, allow_zero=True)
    grads = _grads(params)
    if not grads:
        return torch.tensor(0.0)
    acc = torch.float32 if grads[0].device.type == "mps" else torch.float64  # MPS has no float64
    total = torch.sqrt(sum((g.to(acc) ** 2).sum() for g in grads)).to(grads[0].dtype)
    factor = torch.clamp(max_norm / (total + eps), max=1.0)
    for g in grads:
        g.mul_(factor)
    return total


def optimize_path(make_optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
                  loss_fn: Callable[[torch.Tensor], torch.Tensor], theta0, num_steps: int, *,
                  lr_at: Callable[[int], float] | None = None,
                  clip: Callable[[torch.Tensor], object] | None = None) -> GDPath:
    """Run an optimizer on a loss of one parameter vector and record every point it visits.

    Args:
        make_optimizer: builds the optimizer from ``[theta]``, e.g.
            ``lambda p: Adam(p, lr=0.1)`` or ``lambda p: torch.optim.Adam(p, lr=0.1)``.
        loss_fn: θ of shape (P,) (a float64 tensor) → scalar tensor.
        theta0: the start, shape (P,).
        num_steps: number of updates, ≥ 0.
        lr_at: optional schedule: step index t (0-based) → learning rate of update t.
        clip: optional ``clip(theta)`` called after ``backward`` and before the step, e.g.
            ``lambda th: clip_grad_norm_(th, 1.0)``.

    Returns:
        A :class:`GDPath` with ``params`` of shape (T + 1, P), the loss at
        each point, and ``stopped`` = ``"max_steps"`` or ``"diverged"`` (inf or NaN).

    Raises:
        ValueError: for num_steps < 0 or a θ₀ that is not a scalar or 1-D.

    Introduced in :doc:`/notebooks/10_batch_momentum`.
    """
    if int(num_steps) != num_steps or num_steps < 0:
        raise ValueError(f"num_steps must be a non-negative integer, got {num_steps!r}")
    start = np.atleast_1d(np.asarray(theta0, dtype=np.float64))
    if start.ndim != 1:
        raise ValueError(f"theta0 must be a scalar or 1-D, got shape {start.shape}")
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)  # (P,)
    opt = make_optimizer([theta])
    path, losses, stopped = [start.copy()], [], "max_steps"
    for t in range(int(num_steps) + 1):
        loss = loss_fn(theta)
        losses.append(loss.item())
        if t == num_steps:
            break
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            clip(theta)
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(t)
        opt.step()
        point = theta.detach().numpy().copy()
        path.append(point)
        if not np.all(np.isfinite(point)):
            stopped = "diverged"
            losses.append(float("nan"))
            break
    return GDPath(np.array(path), np.array(losses), stopped)
