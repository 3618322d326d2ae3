"""Networks that several chapters share: fully connected networks and the book's digit classifier.

* :func:`mlp` builds a fully connected network (multilayer perceptron) from its layer sizes:
  linear layers with an activation between them, optionally batch normalization, dropout,
  spectral normalization and an output activation. The chapters from
  :doc:`/notebooks/04_sigmoid_relu` to :doc:`/notebooks/12_cnn` build their small regressors and
  classifiers with it, and :class:`MLP` wraps it for the GAN of
  :doc:`/notebooks/17_gan` (flattened inputs, an optional one-hot condition,
  reshaped outputs).
* :func:`digit_cnn` is the book's digit classifier: :doc:`/notebooks/12_cnn`
  builds it step by step and explains each layer; the chapters on GANs, auto-encoders,
  explainability and adversarial attacks reuse the trained network (through
  :func:`trained_digit_cnn`) to score generated digits, to compare with, to explain and to
  attack.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .data import mnist_tensors
from .runtime import scaled
from .train import TrainConfig, load_or_train, train_classifier

__all__ = ["ACTIVATIONS", "mlp", "MLP", "digit_cnn", "trained_digit_cnn", "DIGIT_CNN_CONFIG"]

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),  # the slope of the GAN literature
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
}
"""Activation names :func:`mlp` accepts, each mapped to a function that makes the layer."""


def _activation(name_or_factory, what: str) -> Callable[[], nn.Module]:
    if callable(name_or_factory):
        return name_or_factory
    if name_or_factory not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {sorted(ACTIVATIONS)} or a callable returning a "
                         f"module, got {name_or_factory!r}")
    return ACTIVATIONS[name_or_factory]


def mlp(sizes: Sequence[int], *, activation: str | Callable[[], nn.Module] = "relu",
        dropout: float = 0.0, batch_norm: bool = False, spectral_norm: bool = False,
        out_activation: str | Callable[[], nn.Module] | None = None,
        flatten: bool = False) -> nn.Sequential:
    """A fully connected network (multilayer perceptron) with the given layer sizes.

    ``sizes = (d_0, d_1, ..., d_L)`` gives L linear layers d_(l−1) → d_l. After every linear
    layer but the last come, in this order: batch normalization (``batch_norm``), the
    activation, dropout (``dropout > 0``). The last linear layer gives the output (scores, or a
    regression value), followed by ``out_activation`` when one is given. The layers are created
    in order, so a seeded ``torch.manual_seed`` before the call gives the same weights as the
    same ``nn.Sequential`` written by hand, and ``net[0]`` is the first linear layer (after
    the ``nn.Flatten`` when ``flatten``).

    Args:
        sizes: input size, hidden widths, output size; at least two positive integers.
        activation: a name in :data:`ACTIVATIONS` or a callable returning a module
            (``nn.ELU``, say).
        dropout: dropout probability after each hidden activation, in [0, 1).
        batch_norm: :class:`torch.nn.BatchNorm1d` after each hidden linear layer.
        spectral_norm: spectral normalization of every linear layer, with
            :func:`torch.nn.utils.parametrizations.spectral_norm` (a GAN's discriminator).
        out_activation: ``None``, a name in :data:`ACTIVATIONS` or a callable.
        flatten: start with :class:`torch.nn.Flatten`, for inputs such as (B, 1, 28, 28).

    Returns:
        An :class:`torch.nn.Sequential` mapping (B, d_0) (or (B, ...) with ``flatten``) to
        (B, d_L), in float32 on the CPU.

    Raises:
        ValueError: for fewer than two sizes, a size < 1, a dropout outside [0, 1) or an
            unknown activation.

    Source: the notes' "deep learning" lecture (fully connected feedforward network).
    Introduced in :doc:`/notebooks/04_sigmoid_relu`.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must be at least two positive integers (input, ..., output), got {sizes}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    act = _activation(activation, "activation")
    out_act = None if out_activation is None else _activation(out_activation, "out_activation")

    def linear(a: int, b: int) -> nn.Module:
        layer = nn.Linear(a, b)
        return nn.utils.parametrizations.spectral_norm(layer) if spectral_norm else layer

    layers: list[nn.Module] = [nn.Flatten()] if flatten else []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers.append(linear(a, b))
        if batch_norm:
            layers.append(nn.BatchNorm1d(b))
        layers.append(act())
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(linear(sizes[-2], sizes[-1]))
    if out_act is not None:
        layers.append(out_act())
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """:func:`mlp` for generators, discriminators and critics: flattened, optionally conditioned.

    Input (B, ...) is flattened to (B, in_dim); with ``num_classes > 0`` the one-hot class
    (the *condition* of a conditional GAN) is concatenated to it. The output (B, out_dim) is
    reshaped to ``(B, *out_shape)`` when ``out_shape`` is given. The layers are
    ``mlp((in_dim + num_classes, hidden, ..., hidden, out_dim), ...)``, in ``self.net``.

    Args:
        in_dim: input size (after flattening).
        out_dim: output size.
        hidden: width of each hidden layer.
        num_layers: number of hidden layers (≥ 1).
        num_classes: size of the one-hot condition, 0 for none.
        batch_norm: batch normalization after each hidden linear layer (generators).
        spectral_norm: spectral normalization of every linear layer (discriminators).
        leaky: LeakyReLU(0.2) instead of ReLU.
        dropout: dropout probability after each hidden layer, in [0, 1) (discriminators).
        out_activation: ``None``, ``"tanh"`` (images in [-1, 1]) or ``"sigmoid"``.
        out_shape: shape of one output, e.g. (1, 14, 14).

    Raises:
        ValueError: for non-positive sizes, an unknown activation or an out_shape whose size
            is not out_dim; in ``forward``, for a conditional network called without labels.

    Introduced in :doc:`/notebooks/17_gan`.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden: int = 128,
        num_layers: int = 2,
        *,
        num_classes: int = 0,
        batch_norm: bool = False,
        spectral_norm: bool = False,
        leaky: bool = False,
        dropout: float = 0.0,
        out_activation: str | None = None,
        out_shape: tuple[int, ...] | None = None,
    ):
        super().__init__()
        if min(in_dim, out_dim, hidden, num_layers) < 1 or num_classes < 0:
            raise ValueError(
                f"sizes must be positive, got in_dim={in_dim}, out_dim={out_dim}, "
                f"hidden={hidden}, num_layers={num_layers}, num_classes={num_classes}"
            )
        if out_activation not in (None, "tanh", "sigmoid"):
            raise ValueError(
                f"out_activation must be None, 'tanh' or 'sigmoid', got {out_activation!r}"
            )
        if out_shape is not None and math.prod(out_shape) != out_dim:
            raise ValueError(f"out_shape {out_shape} does not hold out_dim={out_dim} numbers")
        self.num_classes, self.out_shape = num_classes, out_shape
        self.net = mlp([in_dim + num_classes] + [hidden] * num_layers + [out_dim],
                       activation="leaky_relu" if leaky else "relu", dropout=dropout,
                       batch_norm=batch_norm, spectral_norm=spectral_norm,
                       out_activation=out_activation)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, ...) with in_dim numbers per example; y: (B,) class indices when conditional."""
        h = x.flatten(1)  # (B, in_dim)
        if self.num_classes:
            if y is None:
                raise ValueError(
                    "this network is conditional: pass the class labels y of shape (B,)"
                )
            h = torch.cat([h, F.one_hot(y, self.num_classes).to(h.dtype)], dim=1)  # (B, in_dim + C)
        out = self.net(h)  # (B, out_dim)
        return out.view(-1, *self.out_shape) if self.out_shape is not None else out


def digit_cnn(channels: tuple[int, int] = (16, 32), hidden: int = 128, dropout: float = 0.3,
              batch_norm: bool = True) -> nn.Sequential:
    """A small LeNet-style CNN for 28×28 grey digits.

    Layout (shapes for a batch of B images)::

        (B, 1, 28, 28) -> conv 3×3, pad 1 -> [batch norm] -> ReLU -> max pool 2  -> (B, c1, 14, 14)
                       -> conv 3×3, pad 1 -> [batch norm] -> ReLU -> max pool 2  -> (B, c2, 7, 7)
                       -> flatten -> linear -> ReLU -> dropout -> linear          -> (B, 10) logits

    Args:
        channels: (c1, c2), the feature maps of the two convolutional layers.
        hidden: width of the fully connected hidden layer.
        dropout: dropout probability before the last layer, in [0, 1).
        batch_norm: whether to normalize after each convolution.

    Raises:
        ValueError: for non-positive sizes or a dropout outside [0, 1).

    Source: LeCun et al. (1998), LeNet-5, with ReLU, max pooling and batch normalization.
    Introduced in :doc:`/notebooks/12_cnn`.
    """
    c1, c2 = channels
    if min(c1, c2, hidden) < 1:
        raise ValueError(f"channels and hidden must be positive, got {channels} and {hidden}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")

    def norm(c):
        return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), norm(c1), nn.ReLU(), nn.MaxPool2d(2),  # (B, c1, 14, 14)
        nn.Conv2d(c1, c2, 3, padding=1), norm(c2), nn.ReLU(), nn.MaxPool2d(2),  # (B, c2, 7, 7)
        nn.Flatten(),  # (B, c2 * 49)
        nn.Linear(c2 * 49, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, 10),  # (B, 10) logits
    )


DIGIT_CNN_CONFIG = TrainConfig(num_epochs=scaled(small=3, full=8), batch_size=128, lr=4e-3, schedule="onecycle",
                               seed=0)
"""Training settings of the book's digit classifier: three epochs of mini-batches of 128 at the
small scale (about 98.3 % test accuracy on the offline split, in about 9 s on one CPU core),
eight at the full scale."""


def trained_digit_cnn(source: str = "auto") -> nn.Module:
    """The book's digit classifier, trained on the MNIST training split (or loaded if cached).

    Trains :func:`digit_cnn` with :data:`DIGIT_CNN_CONFIG` on ``mnist_tensors("train")`` (about
    9 seconds on one CPU core at the small scale, a small part of a chapter's
    :data:`dlbook.runtime.CHAPTER_BUDGET_S`), or loads the checkpoint of an earlier run. The
    weights are kept in the channels-last memory layout (:data:`torch.channels_last`), which the
    CPU's convolutions run about a fifth faster in; the network computes the same function in
    either layout. Training runs on one CPU thread whatever the machine's core count, so that the
    weights (and every number the chapters state about them) are the same on every CPU. Returns
    it in eval mode on the book's device.

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    X, y = mnist_tensors("train", source)

    def build():
        torch.manual_seed(DIGIT_CNN_CONFIG.seed)
        return digit_cnn().to(memory_format=torch.channels_last)

    def fit(net):
        # On the CPU, train on one thread: the order of floating-point sums then does not depend on
        # the reader's core count, so every machine gets the same weights and the same accuracy
        # that the chapters state (with several threads the test accuracy moves by about 0.5 %).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            train_classifier(net, X, y, DIGIT_CNN_CONFIG, desc="digit CNN")
        finally:
            torch.set_num_threads(threads)

    config = {"model": "digit_cnn", "train": vars(DIGIT_CNN_CONFIG), "n_train": len(y)}
    return load_or_train("digit_cnn", build, fit, config)
