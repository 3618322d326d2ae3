"""Batch and layer normalization written from scratch: batch statistics, learned scale and shift, running averages.

For each feature (channel) the layer standardizes its input over the examples of a batch,
then rescales and shifts it with learned parameters:

    mu_i = mean of x_i over the batch,   var_i = mean of (x_i - mu_i)^2 over the batch,
    x_hat_i = (x_i - mu_i) / sqrt(var_i + eps),   y_i = gamma_i * x_hat_i + beta_i.

In *training* mode the batch's own statistics are used, and running averages of them are kept
for later; in *evaluation* mode the running averages replace the batch statistics, so that one
example can be predicted on its own and its prediction does not depend on the others. The
conventions are PyTorch's, so that :class:`BatchNorm1d` and :class:`BatchNorm2d` match
:class:`torch.nn.BatchNorm1d` and :class:`torch.nn.BatchNorm2d` in both modes, running
statistics included:

* ``momentum`` is the weight of the *new* value, ``running = (1 - momentum) * running +
  momentum * batch_value`` (0.1 by default): the opposite of the λ of momentum in
  :doc:`/notebooks/10_batch_momentum`
  and of Adam's β, which weigh the *old* value; ``momentum=None`` takes the plain average of
  all batches seen so far (``1 / num_batches_tracked``);
* the batch variance used to normalize is the biased one (divided by m, the number of values
  per feature), but the one fed into ``running_var`` is the unbiased one (divided by m − 1);
* ``running_mean`` starts at 0 and ``running_var`` at 1, ``gamma`` at 1 and ``beta`` at 0.

:func:`batch_norm_backward` is the backward pass derived by hand; the layers themselves let
autograd differentiate through :func:`batch_norm`.

:class:`LayerNorm` standardizes each example over its own features instead (the last
dimension): no batch statistics, so it behaves the same in training and evaluation and for a
batch of one; recurrent networks and transformers use it.

Source: Ioffe and Szegedy (2015); Ba, Kiros and Hinton (2016); the notes' "Batch normalization"
(Lee) and "批量归一化与层归一化" (Qiu's review notes). Introduced in
:doc:`/notebooks/11_adaptive_learning_rates`.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from .checks import require_float, require_real

__all__ = ["batch_norm", "batch_norm_backward", "BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _reduce_dims(x: torch.Tensor) -> list[int]:
    """All dimensions but the feature dimension 1: (N, C, *) -> [0, 2, 3, ...]."""
    return [0, *range(2, x.dim())]


def _per_feature(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reshape a (C,) vector to broadcast against x of shape (N, C, *)."""
    return v.reshape(1, -1, *([1] * (x.dim() - 2)))


def _check_input(x: torch.Tensor, num_features: int | None = None) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"expected a tensor of shape (N, C) or (N, C, *), got {shape}")
    if num_features is not None and x.shape[1] != num_features:
        raise ValueError(f"expected {num_features} features in dimension 1, got shape {tuple(x.shape)}")


def batch_norm(
    x: torch.Tensor,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Batch normalization of x over all its dimensions but the feature dimension 1.

    Args:
        x: (N, C) or ``(N, C, *)``, e.g. (N, C, L) or (N, C, H, W); any float dtype.
        running_mean, running_var: (C,) running statistics, or None. In training mode they are
            updated *in place* (``(1 - momentum) * old + momentum * new``, with the unbiased
            batch variance); in evaluation mode they are used instead of the batch statistics.
        weight, bias: (C,) gamma and beta, or None for 1 and 0.
        training: use the batch statistics (True) or the running ones (False).
        momentum: weight of the new batch statistics in the running averages, in [0, 1]
            (used in training mode only).
        eps: added to the variance before the square root.

    Returns:
        A tensor of the shape and dtype of x: ``gamma * (x - mu) / sqrt(var + eps) + beta``.

    Raises:
        ValueError: on x with fewer than 2 dimensions, on statistics or parameters not of shape
            (C,), on only one of the two running statistics, in training mode with a single
            value per feature (its variance is undefined), or in evaluation mode without running
            statistics; for a negative or non-finite eps, or a negative running variance.

    Same semantics as :func:`torch.nn.functional.batch_norm`. Source: Ioffe and Szegedy (2015).
    Introduced in :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check_input(x)
    num_features = x.shape[1]
    for name, v in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if v is not None and tuple(v.shape) != (num_features,):
            raise ValueError(f"{name} must have shape ({num_features},) for x of shape {tuple(x.shape)}, "
                             f"got {tuple(v.shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together (or both None)")
    require_real(eps, "eps", low=0)
    if running_var is not None and bool((running_var < 0).any()):
        raise ValueError(f"running_var must be non-negative (a variance), got a minimum of "
                         f"{running_var.min().item():.4g}")
    dims = _reduce_dims(x)
    if training:
        if not (isinstance(momentum, numbers.Real) and 0 <= momentum <= 1):
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        m = x.numel() // num_features  # values per feature: N, N*L or N*H*W
        if m < 2:
            raise ValueError(f"training mode needs more than 1 value per feature, got shape {tuple(x.shape)}")
        mean = x.mean(dim=dims)  # (C,)
        var = ((x - _per_feature(mean, x)) ** 2).mean(dim=dims)  # (C,) biased: divided by m
        if running_mean is not None and running_var is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
                running_var.mul_(1 - momentum).add_(momentum * var.detach() * m / (m - 1))  # unbiased
    else:
        if running_mean is None or running_var is None:
            raise ValueError("evaluation mode needs running_mean and running_var")
        mean, var = running_mean, running_var
    x_hat = (x - _per_feature(mean, x)) / torch.sqrt(_per_feature(var, x) + eps)  # (N, C, *)
    if weight is not None:
        x_hat = x_hat * _per_feature(weight, x)
    if bias is not None:
        x_hat = x_hat + _per_feature(bias, x)
    return x_hat


def batch_norm_backward(
    grad_out: torch.Tensor, x: torch.Tensor, weight: torch.Tensor | None = None, eps: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The backward pass of training-mode batch normalization, derived by hand.

    With m values per feature, x_hat the normalized input, s = sqrt(var + eps) and
    g = grad_out * gamma the gradient arriving at x_hat:

        dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / s,
        dL/dgamma = sum(grad_out * x_hat),   dL/dbeta = sum(grad_out),

    means and sums taken over the batch (all dimensions but 1). The two means couple the
    examples: the gradient for one example depends on all the others in its batch.

    Args:
        grad_out: ``(N, C, *)`` gradient of the loss with respect to the layer's output.
        x: ``(N, C, *)`` the layer's input (its batch statistics are recomputed).
        weight: (C,) gamma, or None for 1. eps: as in the forward pass.

    Returns:
        (grad_x, grad_weight, grad_bias) of shapes ``(N, C, *)``, (C,), (C,).

    Raises:
        ValueError: if grad_out and x differ in shape or x has fewer than 2 dimensions.

    Source: Ioffe and Szegedy (2015), section 3. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """
    _check_input(x)
    require_float(grad_out=grad_out, x=x, weight=weight)
    if grad_out.shape != x.shape:
        raise ValueError(f"grad_out must have the shape of x {tuple(x.shape)}, got {tuple(grad_out.shape)}")
    dims = _reduce_dims(x)
    mean = x.mean(dim=dims, keepdim=True)  # (1, C, 1, ...)
    std = torch.sqrt(((x - mean) ** 2).mean(dim=dims, keepdim=True) + eps)  # (1, C, 1, ...)
    x_hat = (x - mean) / std  # (N, C, *)
    g = grad_out if weight is None else grad_out * _per_feature(weight, x)  # (N, C, *)
    grad_x = (g - g.mean(dim=dims, keepdim=True)
              - x_hat * (g * x_hat).mean(dim=dims, keepdim=True)) / std  # (N, C, *)
    return grad_x, (grad_out * x_hat).sum(dim=dims), grad_out.sum(dim=dims)


class _BatchNorm(nn.Module):
    """Shared layer: parameters weight (gamma) and bias (beta), buffers as in PyTorch."""

    _input_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, device=None, dtype=None):
        super().__init__()
        if not (isinstance(num_features, numbers.Integral) and num_features > 0):
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
        if not (isinstance(eps, numbers.Real) and math.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be positive, got {eps!r}")
        if momentum is not None and not (isinstance(momentum, numbers.Real) and 0 <= momentum <= 1):
            raise ValueError(f"momentum must be in [0, 1] or None, got {momentum!r}")
        factory = {"device": device, "dtype": dtype}
        self.num_features, self.eps, self.momentum, self.affine = int(num_features), eps, momentum, affine
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory))  # gamma starts at 1
            self.bias = nn.Parameter(torch.zeros(num_features, **factory))  # beta starts at 0
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", torch.zeros(num_features, **factory))
        self.register_buffer("running_var", torch.ones(num_features, **factory))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, *) as the subclass allows -> same shape. Raises ValueError on other shapes."""
        _check_input(x)
        if x.dim() not in self._input_dims:
            expected = " or ".join(f"{d}-D" for d in self._input_dims)
            raise ValueError(f"{type(self).__name__} expects a {expected} input, got shape {tuple(x.shape)}")
        _check_input(x, self.num_features)
        momentum = self.momentum
        if self.training:
            self.num_batches_tracked.add_(1)
            if momentum is None:  # the plain average of all batches so far
                momentum = 1.0 / float(self.num_batches_tracked)
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=self.training, momentum=momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """Batch normalization of the features of a fully connected layer (or of 1-D sequences).

    Input (N, C): each of the C features is normalized over the N examples; input (N, C, L):
    each channel over the N examples and L positions. Parameters ``weight`` (gamma, starts at 1)
    and ``bias`` (beta, starts at 0) of shape (C,); buffers ``running_mean`` (starts at 0),
    ``running_var`` (starts at 1) and ``num_batches_tracked``, named as in
    :class:`torch.nn.BatchNorm1d`, so that state dicts carry over both ways.

    Args:
        num_features: C. eps: added to the variance. momentum: weight of each new batch in the
            running statistics (None: the plain average of all batches). affine: learn gamma and
            beta. device, dtype: of the parameters and buffers.

    Raises:
        ValueError: on a bad argument; in forward, on an input that is not (N, C) or (N, C, L)
            with C = num_features, or on a single value per feature in training mode.

    Source: Ioffe and Szegedy (2015). Introduced in :doc:`/notebooks/11_adaptive_learning_rates`.
    """

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of the channels of a convolutional layer.

    Input (N, C, H, W): each channel is normalized over the N examples and all H × W positions,
    so that a feature map keeps one scale and shift everywhere, as its filter is shared
    everywhere. Otherwise as :class:`BatchNorm1d`, and as :class:`torch.nn.BatchNorm2d`.

    Raises:
        ValueError: as :class:`BatchNorm1d`, for an input that is not (N, C, H, W).

    Source: Ioffe and Szegedy (2015), section 3.2. Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`.
    """

    _input_dims = (4,)


class LayerNorm(nn.Module):
    """Layer normalization: standardize each vector over its own features, then scale and shift.

    LN(x) = gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta, with the mean and the (biased)
    variance taken over the last dimension of each vector separately: unlike batch
    normalization it needs no batch statistics.

    Args:
        d_model: size of the last dimension. eps: added to the variance.

    Attributes:
        weight (gamma) and bias (beta), shape (d_model,), named as in :class:`torch.nn.LayerNorm`.

    Source: Ba, Kiros and Hinton (2016). Introduced in
    :doc:`/notebooks/11_adaptive_learning_rates`; used by the recurrent network of
    :doc:`/notebooks/14_rnn` and the transformer of :doc:`/notebooks/16_transformer`.
    """

    def __init__(self, d_model: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., d_model) -> (..., d_model). Raises ValueError on another last dimension."""
        if x.shape[-1] != self.weight.shape[0]:
            raise ValueError(f"expected (..., {self.weight.shape[0]}), got {tuple(x.shape)}")
        mean = x.mean(dim=-1, keepdim=True)  # (..., 1)
        var = x.var(dim=-1, unbiased=False, keepdim=True)  # (..., 1)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
