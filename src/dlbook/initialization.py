"""Parameter initialization: how the first weights are drawn, and what that does across depth.

* :func:`fans`: the fan-in and fan-out of a weight tensor (a linear or convolutional layer).
* :func:`xavier_std`, :func:`kaiming_std`: the standard deviations that keep the size of the
  signal constant from layer to layer, for tanh-like units (Glorot and Bengio, 2010:
  Var(w) = 2 / (fan_in + fan_out)) and for ReLU units (He et al., 2015: Var(w) = 2 / fan_in).
* :func:`init_weight_`: fill a weight tensor from scratch by one of the schemes
  ``"normal"``, ``"uniform"``, ``"xavier_normal"``, ``"xavier_uniform"``, ``"kaiming_normal"``,
  ``"kaiming_uniform"``, or with one ``"constant"``. With the same random state the Xavier and
  Kaiming schemes draw exactly what :mod:`torch.nn.init` draws.
* :func:`activation_stats`: push a batch through a deep fully connected network initialized by a
  given scheme and record the standard deviation of the activations of every layer: the
  measurement that shows vanishing or exploding signals, and why all-equal weights fail
  (every unit of a layer computes the same value: the symmetry is never broken).

Source: Goodfellow et al., *Deep Learning*, section 8.4; the review notes' "parameter
initialization" (Gaussian, uniform, fixed values); Glorot and Bengio (2010); He et al. (2015).
Introduced in :doc:`/notebooks/08_training_guide`.
"""

from __future__ import annotations

import math

import torch

__all__ = ["fans", "xavier_std", "kaiming_std", "init_weight_", "activation_stats", "SCHEMES"]

SCHEMES = ("normal", "uniform", "xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform",
           "constant")


def fans(weight: torch.Tensor) -> tuple[int, int]:
    """Fan-in and fan-out of a weight of shape (out, in) or ``(out, in, *kernel)``.

    Raises:
        ValueError: for a tensor with fewer than 2 dimensions.
    """
    if weight.dim() < 2:
        raise ValueError(f"expected a weight of shape (out, in, ...), got shape {tuple(weight.shape)}")
    receptive = math.prod(weight.shape[2:])
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def xavier_std(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Glorot/Xavier standard deviation gain * sqrt(2 / (fan_in + fan_out))."""
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fans must be positive, got fan_in={fan_in}, fan_out={fan_out}")
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def kaiming_std(fan_in: int, gain: float = math.sqrt(2.0)) -> float:
    """He/Kaiming standard deviation gain / sqrt(fan_in); the default gain sqrt(2) suits ReLU."""
    if fan_in < 1:
        raise ValueError(f"fan_in must be positive, got {fan_in}")
    return gain / math.sqrt(fan_in)


def init_weight_(weight: torch.Tensor, scheme: str, *, std: float = 0.01, value: float = 0.5,
                 gain: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill ``weight`` (shape (out, in, ...)) in place by ``scheme`` and return it.

    Args:
        weight: the tensor to fill.
        scheme: one of :data:`SCHEMES`. ``"normal"`` draws N(0, std²), ``"uniform"`` U(-a, a) with
            a = std·√3 (the same variance), ``"constant"`` sets every entry to ``value``; the
            Xavier schemes use :func:`xavier_std` (default gain 1), the Kaiming ones
            :func:`kaiming_std` (default gain √2, for ReLU). A uniform U(-a, a) has standard
            deviation a/√3.
        gain: overrides the scheme's default gain.
        generator: optional random generator.

    Raises:
        ValueError: for an unknown scheme, a weight with fewer than 2 dimensions or not of a
            floating-point dtype, or std ≤ 0.

    Matches ``torch.nn.init.xavier_normal_``, ``xavier_uniform_``, ``kaiming_normal_`` and
    ``kaiming_uniform_`` (mode fan_in, ReLU) draw for draw under the same random state.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    fan_in, fan_out = fans(weight)
    if not weight.is_floating_point():
        raise ValueError(f"weight must be a floating-point tensor, got dtype {weight.dtype}")
    if scheme == "constant":
        with torch.no_grad():
            return weight.fill_(value)
    if scheme in ("normal", "uniform"):
        if not std > 0:
            raise ValueError(f"std must be positive, got {std!r}")
        s = std
    elif scheme.startswith("xavier"):
        s = xavier_std(fan_in, fan_out, 1.0 if gain is None else gain)
    else:
        s = kaiming_std(fan_in, math.sqrt(2.0) if gain is None else gain)
    with torch.no_grad():
        if scheme.endswith("uniform"):
            bound = math.sqrt(3.0) * s
            return weight.uniform_(-bound, bound, generator=generator)
        return weight.normal_(0.0, s, generator=generator)


def activation_stats(X: torch.Tensor, widths: list[int], scheme: str, activation: str = "tanh", *,
                     std: float = 0.01, seed: int = 0) -> torch.Tensor:
    """Standard deviation of the activations of every layer of a freshly initialized deep network.

    Args:
        X: input batch, shape (N, D), float.
        widths: the sizes of the hidden layers, e.g. ``[256] * 10``.
        scheme: the weight initialization (see :func:`init_weight_`); biases are zero.
        activation: ``"tanh"``, ``"relu"``, ``"sigmoid"`` or ``"linear"``.
        std: the standard deviation of the ``"normal"`` and ``"uniform"`` schemes.
        seed: seed of the weights.

    Returns:
        Shape (len(widths),): the standard deviation over the batch and the units of the output of
        each hidden layer.

    Raises:
        ValueError: for X that is not 2-D, empty or not floating-point, an empty ``widths`` or
            an unknown activation.
    """
    funcs = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda z: z}
    if X.dim() != 2 or X.shape[0] == 0 or not X.is_floating_point():
        raise ValueError(f"expected a float X of shape (N, D) with N >= 1, got {X.dtype} {tuple(X.shape)}")
    if not widths:
        raise ValueError("widths must list at least one hidden layer")
    if activation not in funcs:
        raise ValueError(f"activation must be one of {sorted(funcs)}, got {activation!r}")
    gen = torch.Generator().manual_seed(seed)
    h, stds = X, []
    for width in widths:
        W = init_weight_(torch.empty(width, h.shape[1], dtype=X.dtype), scheme, std=std, generator=gen)
        h = funcs[activation](h @ W.T)  # (N, width)
        stds.append(h.std())
    return torch.stack(stds)
