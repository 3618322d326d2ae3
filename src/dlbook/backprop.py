"""Backpropagation by hand for a multilayer perceptron: a forward pass, then a backward pass.

A fully connected network with layers l = 1, ..., L computes, for a batch of inputs X,

    a^(0) = X,    z^(l) = a^(l-1) W^(l)T + b^(l),    a^(l) = g_l(z^(l)),    y_hat = a^(L),

with g_l the hidden activation for l < L and the output activation for l = L. For a loss C,
the chain rule splits the derivative of C with respect to a weight in two factors,

    dC/dW^(l)_ij = sum over examples of  dz^(l)_i/dW^(l)_ij  *  dC/dz^(l)_i
                 =                         a^(l-1)_j         *  delta^(l)_i .

* The **forward pass** (:func:`mlp_forward`) computes every a^(l-1): the first factor is the
  input that the weight multiplies.
* The **backward pass** (:func:`mlp_backward`) computes every delta^(l) = dC/dz^(l), starting
  at the output, delta^(L) = dC/dy_hat * g_L'(z^(L)), and running the network backwards:
  delta^(l) = (delta^(l+1) W^(l+1)) * g_l'(z^(l)). Each layer of this backward network
  multiplies by the transposed weights and by the constant g'(z) fixed in the forward pass.

Multiplying the two gives every gradient in one forward and one backward sweep, at about
the cost of two or three forward passes, however many parameters there are.

Weights have PyTorch's layout (``nn.Linear.weight``: (out_features, in_features)), so a
network moves between this module and ``torch.nn`` by copying tensors (:func:`mlp_module`).
Activations and their derivatives come from :mod:`dlbook.activations`.

Source: the notes' backpropagation section (Lee, ML 2021: chain rule, forward pass, backward
pass); Rumelhart, Hinton and Williams (1986); Goodfellow et al. (2016), section 6.5.

Introduced in :doc:`/notebooks/05_backpropagation`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .activations import Activation, get_activation

__all__ = ["ForwardCache", "Gradients", "mlp_forward", "mlp_backward", "mse_loss_grad",
           "cross_entropy_loss_grad", "mlp_module", "mlp_parameters"]


@dataclasses.dataclass
class ForwardCache:
    """What the forward pass keeps for the backward pass.

    Attributes:
        inputs: a^(l-1) for l = 1..L, the input of each layer, shapes (N, d_{l-1}).
        pre_activations: z^(l) for l = 1..L, shapes (N, d_l).
        weights: W^(l), shapes (d_l, d_{l-1}).
        activations: g_l for l = 1..L.
    """

    inputs: list[torch.Tensor]
    pre_activations: list[torch.Tensor]
    weights: list[torch.Tensor]
    activations: list[Activation]


@dataclasses.dataclass
class Gradients:
    """What the backward pass returns.

    Attributes:
        weights: dC/dW^(l), shapes (d_l, d_{l-1}), summed over the batch.
        biases: dC/db^(l), shapes (d_l,).
        deltas: delta^(l) = dC/dz^(l), shapes (N, d_l), one row per example.
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    deltas: list[torch.Tensor]


def _check_layers(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor], in_features: int):
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError(f"need one bias per weight matrix and at least one layer, got "
                         f"{len(weights)} weights and {len(biases)} biases")
    width = in_features
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        if W.ndim != 2 or W.shape[1] != width or b.shape != (W.shape[0],):
            raise ValueError(
                f"layer {l}: expected W of shape (d_{l}, {width}) and b of shape (d_{l},), got "
                f"{tuple(W.shape)} and {tuple(b.shape)}")
        width = W.shape[0]


def mlp_forward(X: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                hidden: str = "sigmoid", output: str = "identity") -> tuple[torch.Tensor, ForwardCache]:
    """Forward pass of a fully connected network, keeping what backpropagation needs.

    Args:
        X: inputs, shape (N, d_0), float.
        weights: W^(1), ..., W^(L), shapes (d_l, d_{l-1}).
        biases: b^(1), ..., b^(L), shapes (d_l,).
        hidden: activation of layers 1..L-1 (a key of :data:`dlbook.activations.ACTIVATIONS`).
        output: activation of layer L (``"identity"`` for regression or logits).

    Returns:
        (y_hat, cache): the output, shape (N, d_L), and a :class:`ForwardCache`.

    Raises:
        ValueError: if X is not 2-D, the shapes do not chain, or an activation is unknown.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, d_0), got {tuple(X.shape)}")
    _check_layers(weights, biases, X.shape[1])
    acts = [get_activation(hidden)] * (len(weights) - 1) + [get_activation(output)]
    cache = ForwardCache([], [], list(weights), acts)
    a = X  # (N, d_0)
    for W, b, g in zip(weights, biases, acts):
        z = a @ W.T + b  # (N, d_l)
        cache.inputs.append(a)
        cache.pre_activations.append(z)
        a = g(z)  # (N, d_l)
    return a, cache


def mlp_backward(cache: ForwardCache, grad_output: torch.Tensor) -> Gradients:
    """Backward pass: dC/dW, dC/db and dC/dz for every layer, from dC/dy_hat.

    Args:
        cache: the :class:`ForwardCache` of :func:`mlp_forward`.
        grad_output: dC/dy_hat, shape (N, d_L), the derivative of the loss with respect to the
            network's output (:func:`mse_loss_grad` or :func:`cross_entropy_loss_grad`).

    Returns:
        :class:`Gradients` (weight and bias gradients summed over the batch, as the loss is).

    Raises:
        ValueError: if grad_output's shape differs from the output's.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    z_out = cache.pre_activations[-1]
    if grad_output.shape != z_out.shape:
        raise ValueError(f"grad_output must have the output's shape {tuple(z_out.shape)}, "
                         f"got {tuple(grad_output.shape)}")
    num_layers = len(cache.weights)
    grads_W: list[torch.Tensor] = [None] * num_layers
    grads_b: list[torch.Tensor] = [None] * num_layers
    deltas: list[torch.Tensor] = [None] * num_layers
    delta = grad_output * cache.activations[-1].grad(z_out)  # (N, d_L): output layer
    for l in reversed(range(num_layers)):
        deltas[l] = delta
        grads_W[l] = delta.T @ cache.inputs[l]  # (d_l, d_{l-1}): delta times the input a^(l-1)
        grads_b[l] = delta.sum(dim=0)  # (d_l,): the bias's input is 1
        if l > 0:  # the backward network: multiply by W^T, then by g'(z) of the layer below
            delta = (delta @ cache.weights[l]) * cache.activations[l - 1].grad(cache.pre_activations[l - 1])
    return Gradients(grads_W, grads_b, deltas)


def mse_loss_grad(y_hat: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean squared error over all elements and its derivative with respect to y_hat.

    C = mean((y_hat - y)^2) (as ``F.mse_loss``), dC/dy_hat = 2 (y_hat - y) / y_hat.numel().

    Args:
        y_hat: predictions, shape (N, d).
        y: labels, the same shape.

    Returns:
        (C, dC/dy_hat): a scalar tensor and a tensor of y_hat's shape.

    Raises:
        ValueError: if the shapes differ.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    if y_hat.shape != y.shape:
        raise ValueError(f"y_hat and y must have one shape, got {tuple(y_hat.shape)} and {tuple(y.shape)}")
    err = y_hat - y
    return (err**2).mean(), 2 * err / err.numel()


def cross_entropy_loss_grad(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax cross-entropy averaged over the batch, and its derivative w.r.t. the logits.

    C = -(1/N) sum_n log softmax(logits_n)[y_n] (as ``F.cross_entropy``) and
    dC/dlogits = (softmax(logits) - onehot(y)) / N.

    Args:
        logits: shape (N, K), float.
        y: class indices, shape (N,), int64 in [0, K).

    Returns:
        (C, dC/dlogits): a scalar tensor and a tensor of shape (N, K).

    Raises:
        ValueError: for shapes other than (N, K) and (N,), or a class index out of range.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    if logits.ndim != 2 or y.shape != (logits.shape[0],):
        raise ValueError(f"expected logits (N, K) and y (N,), got {tuple(logits.shape)} and {tuple(y.shape)}")
    K = logits.shape[1]
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= K):
        raise ValueError(f"class indices must lie in [0, {K}), got values from {int(y.min())} to {int(y.max())}")
    shifted = logits - logits.max(dim=1, keepdim=True).values  # (N, K), for stability
    log_p = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))  # (N, K)
    N = logits.shape[0]
    loss = -log_p[torch.arange(N), y].mean()
    grad = (torch.exp(log_p) - F.one_hot(y, K).to(logits.dtype)) / N  # (N, K)
    return loss, grad


_TORCH_ACTIVATIONS = {
    "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU, "softplus": nn.Softplus, "silu": nn.SiLU, "gelu": nn.GELU,
    "identity": nn.Identity,
}


def mlp_module(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
               hidden: str = "sigmoid", output: str = "identity") -> nn.Sequential:
    """The same network as ``mlp_forward(X, weights, biases, hidden, output)``, as PyTorch
    layers (``nn.Linear`` and activation modules) holding copies of the parameters.

    Raises:
        ValueError: if the shapes do not chain or an activation is unknown.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    _check_layers(weights, biases, weights[0].shape[1] if len(weights) else 0)
    for name in (hidden, output):
        get_activation(name)
    layers: list[nn.Module] = []
    for l, (W, b) in enumerate(zip(weights, biases)):
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype)
        with torch.no_grad():
            linear.weight.copy_(W)
            linear.bias.copy_(b)
        layers += [linear, _TORCH_ACTIVATIONS[hidden if l < len(weights) - 1 else output]()]
    return nn.Sequential(*layers)


def mlp_parameters(net: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The weights and biases of every ``nn.Linear`` in ``net``, in order, detached copies.

    Raises:
        ValueError: if ``net`` has no ``nn.Linear`` layer.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(net).__name__} has no nn.Linear layer")
    return ([m.weight.detach().clone() for m in linears], [m.bias.detach().clone() for m in linears])
