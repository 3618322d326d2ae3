"""Networks that several chapters share: the book's digit classifier.

The CNN chapter builds this network step by step and explains each layer; the chapters on
GANs, auto-encoders, explainability and adversarial attacks reuse the trained network (through
:func:`trained_digit_cnn`) to score generated digits, to compare with, to explain and to attack.

Introduced in the CNN chapter.
"""

from __future__ import annotations

import torch
from torch import nn

from .data import mnist_tensors
from .train import TrainConfig, load_or_train, train_classifier

__all__ = ["digit_cnn", "trained_digit_cnn", "DIGIT_CNN_CONFIG"]


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
    Introduced in the CNN chapter.
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


DIGIT_CNN_CONFIG = TrainConfig(num_epochs=8, batch_size=64, lr=3e-3, schedule="onecycle", seed=0)
"""Training settings of the book's digit classifier (about 99 % test accuracy offline)."""


def trained_digit_cnn(source: str = "auto") -> nn.Module:
    """The book's digit classifier, trained on the MNIST training split (or loaded if cached).

    Trains :func:`digit_cnn` with :data:`DIGIT_CNN_CONFIG` on ``mnist_tensors("train")``; about
    15 seconds on a 2-core CPU at the offline scale. Returns it in eval mode on the book's device.

    Introduced in the CNN chapter.
    """
    X, y = mnist_tensors("train", source)

    def build():
        torch.manual_seed(DIGIT_CNN_CONFIG.seed)
        return digit_cnn()

    def fit(net):
        train_classifier(net, X, y, DIGIT_CNN_CONFIG, desc="digit CNN")

    config = {"model": "digit_cnn", "train": vars(DIGIT_CNN_CONFIG), "n_train": len(y)}
    return load_or_train("digit_cnn", build, fit, config)
