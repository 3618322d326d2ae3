"""Activation functions and their derivatives, written out by hand.

A neuron computes a weighted sum z of its inputs and passes it through an *activation
function* (激活函数) a = g(z). Without g, stacked layers collapse into one linear map; with
it, a network can bend. Backpropagation (:doc:`/notebooks/05_backpropagation`) needs g'(z) as well,
so every function
here comes with its derivative, written as a formula rather than obtained by autograd. The
tests compare both with :mod:`torch.nn.functional` and with autograd.

=============  =================================  ===============  ============  ===========
name           g(z)                               range            zero-centred  saturates
=============  =================================  ===============  ============  ===========
sigmoid        1 / (1 + e^{-z})                   (0, 1)           no            both sides
tanh           (e^z - e^{-z}) / (e^z + e^{-z})    (-1, 1)          yes           both sides
relu           max(0, z)                          [0, inf)         no            left
leaky_relu     max(0, z) + alpha min(0, z)        (-inf, inf)      no            none
elu            z if z > 0 else alpha (e^z - 1)    (-alpha, inf)    no            left
softplus       log(1 + e^z)                       (0, inf)         no            left
silu (swish)   z sigmoid(z)                       [-0.278, inf)    no            left
gelu           z Phi(z)                           [-0.170, inf)    no            left
identity       z                                  (-inf, inf)      yes           none
=============  =================================  ===============  ============  ===========

"Saturates" says on which side g'(z) tends to 0 (for ReLU it is exactly 0 for all z < 0).

Sources: the notes' activation-function review (Qiu, *Neural Networks and Deep Learning*,
section 4.1); Goodfellow et al. (2016), section 6.3 (hidden units); Nair and Hinton (2010)
for ReLU, Maas et al. (2013) for leaky ReLU, Clevert et al. (2016) for ELU, Hendrycks and
Gimpel (2016) for GELU, Ramachandran et al. (2017) for swish.

Introduced in :doc:`/notebooks/04_sigmoid_relu`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "sigmoid", "tanh", "relu",
           "leaky_relu", "elu", "softplus", "silu", "gelu"]


def _tensor(z) -> torch.Tensor:
    z = torch.as_tensor(z)
    if not torch.is_floating_point(z):
        z = z.to(torch.get_default_dtype())
    return z


def sigmoid(z) -> torch.Tensor:
    """The logistic sigmoid 1 / (1 + e^{-z}), elementwise, any shape; written to avoid
    overflow: for z < 0 it uses e^{z} / (1 + e^{z}). Introduced in
    :doc:`/notebooks/04_sigmoid_relu`."""
    z = _tensor(z)
    e = torch.exp(-z.abs())  # in (0, 1], never overflows
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def tanh(z) -> torch.Tensor:
    """The hyperbolic tangent, written through the sigmoid: tanh(z) = 2 sigmoid(2z) - 1.
    Introduced in :doc:`/notebooks/04_sigmoid_relu`."""
    return 2 * sigmoid(2 * _tensor(z)) - 1


def relu(z) -> torch.Tensor:
    """The rectified linear unit max(0, z), elementwise. Introduced in
    :doc:`/notebooks/04_sigmoid_relu`."""
    z = _tensor(z)
    return z.clamp(min=0)  # NaN stays NaN (a comparison would turn it into 0)


def leaky_relu(z, alpha: float = 0.01) -> torch.Tensor:
    """max(0, z) + alpha min(0, z): a ReLU with slope ``alpha`` for negative z (the notes'
    "modulated ReLU"; with a learned alpha it is the PReLU). Introduced in
    :doc:`/notebooks/04_sigmoid_relu`."""
    z = _tensor(z)
    return torch.where(z > 0, z, alpha * z)


def elu(z, alpha: float = 1.0) -> torch.Tensor:
    """The exponential linear unit: z for z > 0, alpha (e^z - 1) otherwise. Introduced in
    :doc:`/notebooks/04_sigmoid_relu`."""
    z = _tensor(z)
    return torch.where(z > 0, z, alpha * torch.expm1(torch.clamp(z, max=0)))


def softplus(z) -> torch.Tensor:
    """log(1 + e^z), a smooth ReLU, computed stably as max(z, 0) + log(1 + e^{-``|z|``}).
    Its derivative is the sigmoid. Introduced in :doc:`/notebooks/04_sigmoid_relu`."""
    z = _tensor(z)
    return torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs()))


def silu(z) -> torch.Tensor:
    """The sigmoid-weighted linear unit z sigmoid(z), also called swish. Introduced in
    :doc:`/notebooks/04_sigmoid_relu`."""
    z = _tensor(z)
    return z * sigmoid(z)


def _normal_cdf(z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


def gelu(z) -> torch.Tensor:
    """The Gaussian error linear unit z Phi(z), with Phi the standard normal distribution
    function (the exact form, not the tanh approximation). Introduced in
    :doc:`/notebooks/04_sigmoid_relu`."""
    z = _tensor(z)
    return z * _normal_cdf(z)


def _identity(z) -> torch.Tensor:
    return _tensor(z)


@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation function with its derivative, both elementwise on tensors of any shape.

    Attributes:
        name: the key in :data:`ACTIVATIONS`.
        fn: g(z).
        grad: g'(z), by a hand-derived formula.
        zero_centred: whether g's outputs are centred on 0 for inputs centred on 0.
        saturates: where g' tends to 0 (``"both"``, ``"left"`` or ``"none"``).
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    grad: Callable[[torch.Tensor], torch.Tensor]
    zero_centred: bool
    saturates: str

    def __call__(self, z) -> torch.Tensor:
        return self.fn(z)


def _sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1 - s)  # at most 1/4, at z = 0


def _tanh_grad(z):
    t = tanh(z)
    return 1 - t**2  # at most 1, at z = 0


def _relu_grad(z):
    z = _tensor(z)
    return (z > 0).to(z.dtype)  # 0 at z = 0, as PyTorch's autograd


def _leaky_relu_grad(z, alpha=0.01):
    z = _tensor(z)
    return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, alpha))


def _elu_grad(z, alpha=1.0):
    z = _tensor(z)
    return torch.where(z > 0, torch.ones_like(z), alpha * torch.exp(torch.clamp(z, max=0)))


def _silu_grad(z):
    s = sigmoid(z)
    return s * (1 + _tensor(z) * (1 - s))


def _gelu_grad(z):
    z = _tensor(z)
    density = torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return _normal_cdf(z) + z * density


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_grad, False, "both"),
    "tanh": Activation("tanh", tanh, _tanh_grad, True, "both"),
    "relu": Activation("relu", relu, _relu_grad, False, "left"),
    "leaky_relu": Activation("leaky_relu", leaky_relu, _leaky_relu_grad, False, "none"),
    "elu": Activation("elu", elu, _elu_grad, False, "left"),
    "softplus": Activation("softplus", softplus, sigmoid, False, "left"),
    "silu": Activation("silu", silu, _silu_grad, False, "left"),
    "gelu": Activation("gelu", gelu, _gelu_grad, False, "left"),
    "identity": Activation("identity", _identity, lambda z: torch.ones_like(_tensor(z)), True, "none"),
}
"""Every activation of the book by name, with its hand-written derivative."""


def get_activation(name: str) -> Activation:
    """Return the :class:`Activation` called ``name`` (a key of :data:`ACTIVATIONS`).

    Raises:
        ValueError: for an unknown name (the message lists the known ones).

    Introduced in :doc:`/notebooks/04_sigmoid_relu`.
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; known: {sorted(ACTIVATIONS)}") from None
