"""Learning-rate schedules: the learning rate as a function of the update number.

Every function takes the update index t (0 for the first update; an int or an integer array)
and returns the learning rate of that update (a float, or an array of t's shape). They are
closed formulas, so a schedule can be drawn in one call and compared with PyTorch's
``torch.optim.lr_scheduler`` classes, whose learning rates they reproduce:

* ``step_decay``: η₀ γ^⌊t / k⌋, piecewise constant (PyTorch: ``StepLR``);
* ``exponential_decay``: η₀ γ^t; γ = e^{−β} gives natural exponential decay (``ExponentialLR``);
* ``inverse_time_decay``: η₀ / (1 + β t) (Adagrad's ``lr_decay``; no scheduler class);
* ``cosine_decay``: η_min + ½ (η₀ − η_min)(1 + cos(π t / T)) (``CosineAnnealingLR``);
* ``linear_warmup``: η₀ · min(1, (t + 1) / T_w) (``LinearLR``);
* ``warmup_cosine``: linear warm-up, then cosine decay to 0 (``SequentialLR`` of the two);
* ``inverse_sqrt_warmup``: d^{−½} · min((t+1)^{−½}, (t+1) T_w^{−3/2}), the Transformer's;
* ``triangular_cyclic``: up and down between η_min and η_max (``CyclicLR``);
* ``cosine_restarts``: cosine decay restarted every T₀ updates
  (``CosineAnnealingWarmRestarts``).

Sources: the notes, "learning rate scheduling" (Lee: decay and warm-up) and chapter 7 of Qiu's
review notes (decay, warm-up, cyclic schedules); Loshchilov and Hutter (2017) for cosine decay
and restarts; Smith (2017) for cyclic rates; Vaswani et al. (2017) for the inverse square root
with warm-up; Goyal et al. (2017) for linear warm-up. Introduced in
:doc:`/notebooks/11_adaptive_learning_rates`.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["step_decay", "exponential_decay", "inverse_time_decay", "cosine_decay",
           "linear_warmup", "warmup_cosine", "inverse_sqrt_warmup", "triangular_cyclic",
           "cosine_restarts"]


def _steps(t) -> np.ndarray:
    arr = np.asarray(t)
    if arr.dtype.kind not in "iu" or np.any(arr < 0):
        raise ValueError(f"t must be a non-negative integer or integer array, got {t!r}")
    return arr.astype(np.float64)


def _out(t, values):
    return float(values) if np.ndim(t) == 0 else values


def _check(name: str, value, low: float = 0.0, strict: bool = True, high: float | None = None):
    ok = isinstance(value, numbers.Real) and np.isfinite(value)
    ok = ok and (value > low if strict else value >= low) and (high is None or value <= high)
    if not ok:
        bound = f"{'>' if strict else '≥'} {low}" + (f" and ≤ {high}" if high is not None else "")
        raise ValueError(f"{name} must be a number {bound}, got {value!r}")


def step_decay(t, lr0: float, step_size: int, gamma: float = 0.1):
    """Piecewise-constant decay: multiply η by γ every ``step_size`` updates.

    Raises ValueError for lr0 ≤ 0, step_size < 1 or γ outside (0, 1]. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("lr0", lr0)
    _check("step_size", step_size, low=1, strict=False)
    _check("gamma", gamma, high=1.0)
    t = _steps(t)
    return _out(t, lr0 * gamma ** np.floor(t / step_size))


def exponential_decay(t, lr0: float, gamma: float):
    """Exponential decay η₀ γ^t (natural exponential decay η₀ e^{−βt} is γ = e^{−β}).

    Raises ValueError for lr0 ≤ 0 or γ outside (0, 1]. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("lr0", lr0)
    _check("gamma", gamma, high=1.0)
    t = _steps(t)
    return _out(t, lr0 * gamma**t)


def inverse_time_decay(t, lr0: float, beta: float):
    """Inverse time decay η₀ / (1 + β t).

    Raises ValueError for lr0 ≤ 0 or β < 0. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("lr0", lr0)
    _check("beta", beta, strict=False)
    t = _steps(t)
    return _out(t, lr0 / (1 + beta * t))


def cosine_decay(t, lr0: float, total_steps: int, lr_min: float = 0.0):
    """Cosine decay from η₀ at t = 0 to η_min at t = T, then rising again (a full period 2T).

    Raises ValueError for lr0 ≤ 0, T < 1 or η_min outside [0, η₀]. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("lr0", lr0)
    _check("total_steps", total_steps, low=1, strict=False)
    _check("lr_min", lr_min, strict=False, high=lr0)
    t = _steps(t)
    return _out(t, lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * t / total_steps)))


def linear_warmup(t, lr0: float, warmup_steps: int):
    """Linear warm-up: η₀ (t + 1) / T_w for the first T_w updates, then η₀.

    Qiu's notes write α_t = (t / T) α₀, counting from t = 1; here t counts from 0, so the first
    update already gets η₀ / T_w rather than 0.

    Raises ValueError for lr0 ≤ 0 or T_w < 1. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("lr0", lr0)
    _check("warmup_steps", warmup_steps, low=1, strict=False)
    t = _steps(t)
    return _out(t, lr0 * np.minimum(1.0, (t + 1) / warmup_steps))


def warmup_cosine(t, lr0: float, warmup_steps: int, total_steps: int):
    """Linear warm-up for T_w updates, then cosine decay to 0 over the remaining T − T_w.

    Raises ValueError for lr0 ≤ 0, T_w < 1 or T ≤ T_w. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("warmup_steps", warmup_steps, low=1, strict=False)
    if not (isinstance(total_steps, numbers.Integral) and total_steps > warmup_steps):
        raise ValueError(f"total_steps must be an integer > warmup_steps={warmup_steps}, "
                         f"got {total_steps!r}")
    t_arr = _steps(t)
    warm = linear_warmup(t_arr.astype(np.int64), lr0, warmup_steps)
    after = np.maximum(t_arr - warmup_steps, 0).astype(np.int64)
    decay = cosine_decay(after, lr0, total_steps - warmup_steps)
    return _out(t, np.where(t_arr < warmup_steps, warm, decay))


def inverse_sqrt_warmup(t, d_model: int, warmup_steps: int, scale: float = 1.0):
    """The Transformer's schedule: linear warm-up, then decay as 1 / √t.

    η_t = scale · d^{−½} · min((t + 1)^{−½}, (t + 1) · T_w^{−3/2}); the peak is at t + 1 = T_w.

    Raises ValueError for d_model < 1, T_w < 1 or scale ≤ 0.
    Source: Vaswani et al. (2017), section 5.3. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("d_model", d_model, low=1, strict=False)
    _check("warmup_steps", warmup_steps, low=1, strict=False)
    _check("scale", scale)
    n = _steps(t) + 1
    return _out(t, scale * d_model**-0.5 * np.minimum(n**-0.5, n * warmup_steps**-1.5))


def triangular_cyclic(t, lr_min: float, lr_max: float, half_period: int):
    """Cyclic learning rate: rise linearly from η_min to η_max in ``half_period`` updates, fall back
    in as many, repeat.

    Raises ValueError for η_min < 0, η_max ≤ η_min or half_period < 1.
    Source: Smith (2017). Introduced in :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("lr_min", lr_min, strict=False)
    _check("lr_max", lr_max, low=lr_min)
    _check("half_period", half_period, low=1, strict=False)
    t = _steps(t)
    phase = np.abs((t / half_period) % 2 - 1)  # 1 at the start of a cycle, 0 at its peak
    return _out(t, lr_min + (lr_max - lr_min) * (1 - phase))


def cosine_restarts(t, lr0: float, period: int, lr_min: float = 0.0):
    """Cosine decay from η₀ to η_min over ``period`` updates, then a restart at η₀ ("warm restart").

    Raises ValueError for lr0 ≤ 0, period < 1 or η_min outside [0, η₀].
    Source: Loshchilov and Hutter (2017), SGDR. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check("period", period, low=1, strict=False)
    t_arr = _steps(t)
    return _out(t, cosine_decay((t_arr % period).astype(np.int64), lr0, period, lr_min))
