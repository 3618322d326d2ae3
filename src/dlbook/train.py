"""Training and evaluating classifiers, and keeping trained models between chapters.

The chapters write their first training loops by hand (chapter 1 onwards). Once the loop is
understood, later chapters call :func:`train_classifier`, which is that same loop with the
conveniences a real run needs: mini-batches, a learning-rate schedule, optional data
augmentation, a validation score per epoch and a progress bar.

:func:`load_or_train` follows the habit of many course notebooks: load the checkpoint if it
exists, else train and save it. Checkpoints live in the per-user cache (never in the
repository), keyed by a hash of everything that determines the weights, so a changed setting
retrains. ``DLBOOK_RETRAIN=1`` ignores existing checkpoints.

Introduced in the CNN chapter.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .checkpoints import checkpoint_path, load_or_train  # noqa: F401 (re-exported)
from .runtime import device as default_device

__all__ = ["TrainConfig", "History", "train_classifier", "predict_logits", "accuracy",
           "load_or_train", "checkpoint_path"]


@dataclasses.dataclass
class TrainConfig:
    """Settings of :func:`train_classifier`. The defaults train the book's digit CNN."""

    num_epochs: int = 8  # passes over the training set
    batch_size: int = 64  # examples per update
    lr: float = 3e-3  # peak learning rate (of the one-cycle schedule, or the constant rate)
    weight_decay: float = 0.0  # decoupled weight decay (AdamW); 0 gives plain Adam
    schedule: str = "onecycle"  # "onecycle" (warm-up then cosine decay) or "constant"
    seed: int = 0  # seeds the shuffling, the initialization is the caller's


@dataclasses.dataclass
class History:
    """What :func:`train_classifier` records: per-epoch mean training loss, validation
    accuracy (empty without validation data) and the wall-clock seconds of the whole run."""

    train_loss: list[float] = dataclasses.field(default_factory=list)
    val_accuracy: list[float] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def _check_xy(X: torch.Tensor, y: torch.Tensor) -> None:
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"X and y must be tensors, got {type(X).__name__} and {type(y).__name__}")
    if y.ndim != 1 or X.shape[0] != y.shape[0] or len(y) == 0:
        raise ValueError(f"expected X of shape (N, ...) and y of shape (N,), got {tuple(X.shape)} and {tuple(y.shape)}")


def train_classifier(
    net: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig | None = None,
    *,
    X_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    perturb: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    device: torch.device | None = None,
    desc: str = "training",
) -> History:
    """Train ``net`` by mini-batch Adam(W) on (X, y), in place.

    Args:
        net: a module mapping a batch of X to logits of shape (B, C).
        X: inputs, shape (N, ...), float32 (e.g. images (N, 1, 28, 28) in [0, 1]).
        y: class indices, shape (N,), int64.
        config: a :class:`TrainConfig` (defaults if omitted).
        X_val, y_val: optional validation data, scored after every epoch.
        augment: optional function applied to each training batch of inputs (on the device).
        perturb: optional ``perturb(xb, yb) -> xb`` applied after ``augment``, which may use the
            labels and the current network (adversarial training, chapter 21).
        loss_fn: ``loss_fn(logits, y)``; cross-entropy by default.
        device: where to train; :func:`dlbook.device` by default. The net is moved there.
        desc: label of the progress bar.

    Returns:
        A :class:`History`.

    Raises:
        ValueError: on mismatched shapes, or an unknown schedule.

    Introduced in the CNN chapter.
    """
    config = config or TrainConfig()
    _check_xy(X, y)
    if config.schedule not in ("onecycle", "constant"):
        raise ValueError(f"schedule must be 'onecycle' or 'constant', got {config.schedule!r}")
    device = device or default_device()
    net.to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = (len(y) + config.batch_size - 1) // config.batch_size
    scheduler = None
    if config.schedule == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=config.num_epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(config.seed)
    history = History()
    start = time.perf_counter()
    bar = tqdm(total=config.num_epochs * steps_per_epoch, desc=desc, unit="batch", leave=False)
    for _ in range(config.num_epochs):
        net.train()
        order = torch.randperm(len(y), generator=generator)
        total, count = 0.0, 0
        for i in range(0, len(y), config.batch_size):
            idx = order[i : i + config.batch_size]
            xb, yb = X[idx].to(device), y[idx].to(device)
            if augment is not None:
                xb = augment(xb)
            if perturb is not None:
                xb = perturb(xb, yb)
            loss = loss_fn(net(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(idx)
            count += len(idx)
            bar.update(1)
        history.train_loss.append(total / count)
        postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
        if X_val is not None and y_val is not None:
            history.val_accuracy.append(accuracy(net, X_val, y_val, device=device))
            postfix["val acc"] = f"{history.val_accuracy[-1]:.4f}"
        bar.set_postfix(postfix)
    bar.close()
    net.eval()
    history.seconds = time.perf_counter() - start
    return history


@torch.no_grad()
def predict_logits(net: nn.Module, X: torch.Tensor, *, batch_size: int = 1000,
                   device: torch.device | None = None) -> torch.Tensor:
    """Logits of ``net`` (in eval mode) for every row of X, shape (N, C), float32, on the CPU."""
    device = device or next(net.parameters()).device
    was_training = net.training
    net.eval()
    out = [net(X[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(X), batch_size)]
    net.train(was_training)
    return torch.cat(out)


def accuracy(net: nn.Module, X: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1000,
             device: torch.device | None = None) -> float:
    """Fraction of rows of X whose arg-max logit equals y (a float in [0, 1])."""
    _check_xy(X, y)
    logits = predict_logits(net, X, batch_size=batch_size, device=device)
    return (logits.argmax(dim=1) == y.cpu()).float().mean().item()

