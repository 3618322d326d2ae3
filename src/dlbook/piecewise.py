"""Piecewise linear curves built from hard sigmoids, sigmoids and ReLUs.

The notes build a flexible model in three moves:

1. a *piecewise linear curve* (分段线性曲线) is a constant plus a sum of *hard sigmoids*: each
   hard sigmoid is flat, ramps up (or down) between two break points, then is flat again;
2. a hard sigmoid is close to a smooth sigmoid c / (1 + e^{-(b + w x)}), and equal to the
   difference of two ReLUs;
3. so a sum of sigmoids or of ReLUs can follow any piecewise linear curve, and piecewise
   linear curves can follow any continuous curve as closely as we like.

:func:`piecewise_linear_as_hard_sigmoids` does move 1 exactly, :func:`hard_sigmoid_from_relus`
and :func:`sigmoid_for_hard_sigmoid` do move 2, and :func:`relu_network_from_knots` builds a
one-hidden-layer ReLU network that *is* a given piecewise linear curve (move 3).

Source: the notes' section on piecewise linear curves, sigmoid and ReLU (Lee, ML 2021,
lecture "Introduction of machine / deep learning").

Introduced in :doc:`/notebooks/04_sigmoid_relu`.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

__all__ = [
    "hard_sigmoid",
    "hard_sigmoid_from_relus",
    "sigmoid_for_hard_sigmoid",
    "HardSigmoidSum",
    "piecewise_linear_as_hard_sigmoids",
    "relu_network_from_knots",
]


def _tensor(x) -> torch.Tensor:
    x = torch.as_tensor(x)
    return x if torch.is_floating_point(x) else x.to(torch.get_default_dtype())


def _check_ramp(start: float, end: float) -> None:
    if not float(start) < float(end):
        raise ValueError(f"a hard sigmoid needs start < end, got start={start}, end={end}")


def hard_sigmoid(x, start: float, end: float, height: float) -> torch.Tensor:
    """The hard sigmoid: 0 for x <= start, ``height`` for x >= end, a straight ramp between.

    Args:
        x: inputs, any shape (float; a tensor or anything :func:`torch.as_tensor` takes).
        start, end: the two break points, start < end (x's unit).
        height: the rise from the left level to the right level (the output's unit; negative
            for a step down).

    Returns:
        A tensor of x's shape.

    Raises:
        ValueError: if start >= end.

    Introduced in :doc:`/notebooks/04_sigmoid_relu`.
    """
    _check_ramp(start, end)
    x = _tensor(x)
    return height * torch.clamp((x - start) / (end - start), 0.0, 1.0)


def hard_sigmoid_from_relus(x, start: float, end: float, height: float) -> torch.Tensor:
    """The same hard sigmoid as :func:`hard_sigmoid`, as the difference of two ReLUs:

    height / (end - start) * (max(0, x - start) - max(0, x - end)).

    The first ReLU starts the ramp at ``start``, the second cancels its slope from ``end``
    on. Raises ``ValueError`` if start >= end. Introduced in :doc:`/notebooks/04_sigmoid_relu`.
    """
    _check_ramp(start, end)
    x = _tensor(x)
    slope = height / (end - start)
    return slope * (torch.relu(x - start) - torch.relu(x - end))


def sigmoid_for_hard_sigmoid(start: float, end: float, height: float) -> tuple[float, float, float]:
    """Parameters (w, b, c) of c * sigmoid(b + w x) that best mimic a hard sigmoid by shape.

    The sigmoid is centred where the ramp is centred (b + w x = 0 at x = (start + end) / 2),
    reaches the same height c = ``height``, and has the ramp's slope at its centre: the slope
    of c * sigmoid(b + w x) at its centre is c w / 4, so w = 4 / (end - start).

    Returns:
        (w, b, c) as floats.

    Raises:
        ValueError: if start >= end.

    Introduced in :doc:`/notebooks/04_sigmoid_relu`.
    """
    _check_ramp(start, end)
    w = 4.0 / (end - start)
    b = -w * (start + end) / 2
    return w, b, float(height)


@dataclasses.dataclass(frozen=True)
class HardSigmoidSum:
    """A constant plus a sum of hard sigmoids: y = constant + sum_i hard_sigmoid(x, s_i, e_i, h_i).

    Attributes:
        constant: the level left of every ramp.
        starts, ends, heights: one entry per hard sigmoid (tuples of equal length).
    """

    constant: float
    starts: tuple[float, ...]
    ends: tuple[float, ...]
    heights: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.heights)

    def __call__(self, x) -> torch.Tensor:
        x = _tensor(x)
        y = torch.full_like(x, self.constant)
        for s, e, h in zip(self.starts, self.ends, self.heights):
            y = y + hard_sigmoid(x, s, e, h)
        return y

    def pieces(self, x) -> torch.Tensor:
        """Each hard sigmoid evaluated on x: shape ``(len(self), *x.shape)``."""
        x = _tensor(x)
        return torch.stack([hard_sigmoid(x, s, e, h)
                            for s, e, h in zip(self.starts, self.ends, self.heights)])


def _check_knots(knots_x, knots_y) -> tuple[torch.Tensor, torch.Tensor]:
    kx = _tensor(knots_x)
    ky = _tensor(knots_y).to(kx.dtype)
    if kx.ndim != 1 or kx.shape != ky.shape or len(kx) < 2:
        raise ValueError(
            f"knots_x and knots_y must be 1-D of one length >= 2, got {tuple(kx.shape)} "
            f"and {tuple(ky.shape)}")
    if not bool(torch.all(kx[1:] > kx[:-1])):
        raise ValueError(f"knots_x must be strictly increasing, got {kx.tolist()}")
    return kx, ky


def piecewise_linear_as_hard_sigmoids(knots_x, knots_y) -> HardSigmoidSum:
    """Write the curve through the knots as a constant plus one hard sigmoid per segment.

    The curve joins (x_0, y_0), ..., (x_K, y_K) by straight segments and is flat outside
    [x_0, x_K] (as :func:`numpy.interp`). Segment k (from x_{k-1} to x_k) becomes a hard
    sigmoid with start x_{k-1}, end x_k and height y_k - y_{k-1}; the constant is y_0. Left of
    x_k every later hard sigmoid is still 0 and every earlier one has reached its height, so
    the sum passes through every knot.

    Args:
        knots_x: break points, shape (K + 1,), strictly increasing.
        knots_y: the curve's values there, shape (K + 1,).

    Returns:
        A :class:`HardSigmoidSum` with K hard sigmoids.

    Raises:
        ValueError: for fewer than two knots, shapes that differ, or knots_x not increasing.

    Source: the notes' "red curve = constant + sum of blue functions". Introduced in
    :doc:`/notebooks/04_sigmoid_relu`.
    """
    kx, ky = _check_knots(knots_x, knots_y)
    return HardSigmoidSum(
        constant=float(ky[0]),
        starts=tuple(kx[:-1].tolist()),
        ends=tuple(kx[1:].tolist()),
        heights=tuple((ky[1:] - ky[:-1]).tolist()),
    )


def relu_network_from_knots(knots_x, knots_y) -> nn.Sequential:
    """A one-hidden-layer ReLU network equal to the piecewise linear curve through the knots.

    With slopes s_k = (y_k - y_{k-1}) / (x_k - x_{k-1}) (and s_0 = s_{K+1} = 0, the flat
    parts), the curve is y_0 + sum_{k=0}^{K} (s_{k+1} - s_k) max(0, x - x_k): hidden unit k
    switches on at knot x_k and changes the slope by s_{k+1} - s_k. That is K + 1 ReLUs for K
    segments (one fewer per segment than two ReLUs per hard sigmoid, because neighbouring
    hard sigmoids share a break point).

    Args:
        knots_x: break points, shape (K + 1,), strictly increasing.
        knots_y: values, shape (K + 1,).

    Returns:
        ``nn.Sequential(nn.Linear(1, K + 1), nn.ReLU(), nn.Linear(K + 1, 1))`` in the default
        dtype, mapping inputs of shape (N, 1) to outputs of shape (N, 1).

    Raises:
        ValueError: as :func:`piecewise_linear_as_hard_sigmoids`.

    Source: the constructive half of the universal approximation theorem for ReLU networks
    (see Goodfellow et al. 2016, section 6.4.1). Introduced in :doc:`/notebooks/04_sigmoid_relu`.
    """
    kx, ky = _check_knots(knots_x, knots_y)
    dtype = torch.get_default_dtype()
    slopes = (ky[1:] - ky[:-1]) / (kx[1:] - kx[:-1])  # (K,)
    padded = torch.cat([slopes.new_zeros(1), slopes, slopes.new_zeros(1)])  # (K + 2,)
    num_units = len(kx)
    net = nn.Sequential(nn.Linear(1, num_units), nn.ReLU(), nn.Linear(num_units, 1)).to(dtype)
    with torch.no_grad():
        net[0].weight.fill_(1.0)  # (K + 1, 1)
        net[0].bias.copy_(-kx)  # unit k is max(0, x - x_k)
        net[2].weight.copy_((padded[1:] - padded[:-1])[None, :])  # (1, K + 1) slope changes
        net[2].bias.fill_(float(ky[0]))
    return net
