"""Regularizing a network: weight penalties, input-noise augmentation and early stopping.

Overfitting (过拟合) means a low training loss that comes with a high loss on new data. This
module holds the cures that act on *training* (the others, such as fewer parameters, shared
parameters or dropout, change the network itself):

* :func:`l2_penalty` and :func:`l1_penalty`: λ Σ w² and λ Σ ``|w|`` over the weights (never the
  biases, which only shift outputs). The L2 gradient 2λw shrinks every weight in proportion
  to its size (weight decay); the L1 gradient λ sign(w) pulls every weight by the same amount
  and drives small ones to exactly zero.
* :class:`EarlyStopping`: keep the parameters with the lowest validation loss and stop when
  it has not improved for ``patience`` evaluations.
* :func:`smooth_labels` and :func:`label_smoothing_cross_entropy`: label smoothing (标签平滑),
  training a classifier against (1 - ε) one-hot + ε uniform targets so that it cannot push its
  logits towards infinity (Szegedy et al., 2016).
* :func:`train_regressor`: full-batch Adam on the mean squared error, with any of the above and
  with Gaussian noise added to the inputs at every step (a simple data augmentation for
  measured, noisy features).

Source: the notes' "guide to training" (overfitting and its cures) and the review notes'
regularization section (L1, L2, early stopping, dropout). Introduced in
:doc:`/notebooks/08_training_guide`.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
from torch import nn

from .train import History, fit

__all__ = ["penalized_weights", "l2_penalty", "l1_penalty", "EarlyStopping", "train_regressor",
           "smooth_labels", "label_smoothing_cross_entropy"]


def penalized_weights(net: nn.Module) -> list[torch.Tensor]:
    """The parameters a weight penalty acts on: every parameter named ``*weight`` with at
    least two dimensions (linear and convolution weights; not biases, not normalization scales).

    Introduced in :doc:`/notebooks/08_training_guide`.
    """
    return [p for name, p in net.named_parameters() if name.endswith("weight") and p.ndim >= 2]


def l2_penalty(net: nn.Module) -> torch.Tensor:
    """Σ w² over :func:`penalized_weights`, a scalar tensor (multiply by λ in the loss).

    Introduced in :doc:`/notebooks/08_training_guide`.
    """
    weights = penalized_weights(net)
    if not weights:
        raise ValueError(f"{type(net).__name__} has no weight matrices to penalize")
    return sum((w**2).sum() for w in weights)


def l1_penalty(net: nn.Module) -> torch.Tensor:
    """Σ ``|w|`` over :func:`penalized_weights`, a scalar tensor (multiply by λ in the loss).

    Introduced in :doc:`/notebooks/08_training_guide`.
    """
    weights = penalized_weights(net)
    if not weights:
        raise ValueError(f"{type(net).__name__} has no weight matrices to penalize")
    return sum(w.abs().sum() for w in weights)


def smooth_labels(y: torch.Tensor, num_classes: int, eps: float) -> torch.Tensor:
    """Smoothed one-hot targets: (1 - eps) on the true class plus eps / K spread over all K classes.

    Args:
        y: class indices, shape (N,), integer, in [0, num_classes).
        num_classes: K.
        eps: the smoothing ε in [0, 1].

    Returns:
        Shape (N, K), float32; every row sums to 1.

    Raises:
        ValueError: for ε outside [0, 1], a y that is not 1-D integer, or classes out of range.

    Source: Szegedy et al. (2016), section 7; the review notes' regularization list.
    :doc:`/notebooks/08_training_guide`.
    """
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must be in [0, 1], got {eps!r}")
    if y.dim() != 1 or y.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"expected integer class indices of shape (N,), got {y.dtype} of shape {tuple(y.shape)}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"class indices must be in [0, {num_classes}), got range "
                         f"[{int(y.min())}, {int(y.max())}]")
    one_hot = torch.nn.functional.one_hot(y.long(), num_classes).float()
    return (1.0 - eps) * one_hot + eps / num_classes


def label_smoothing_cross_entropy(logits: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """Mean cross-entropy between softmax(logits) and the smoothed targets of :func:`smooth_labels`.

    Args:
        logits: shape (N, K), float.
        y: class indices, shape (N,).
        eps: the smoothing ε in [0, 1]; 0 gives the ordinary cross-entropy.

    Returns:
        A scalar tensor (nats per example), differentiable in ``logits``.

    Raises:
        ValueError: for logits that are not (N, K) with N matching y, or a bad ε / y.

    Matches ``F.cross_entropy(logits, y, label_smoothing=eps)``.
    :doc:`/notebooks/08_training_guide`.
    """
    if logits.dim() != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(f"expected logits (N, K) and y (N,), got {tuple(logits.shape)} and {tuple(y.shape)}")
    targets = smooth_labels(y, logits.shape[1], eps).to(logits.dtype)  # (N, K)
    return -(targets * torch.log_softmax(logits, dim=1)).sum(1).mean()


@dataclasses.dataclass
class EarlyStopping:
    """Remember the best validation loss and the parameters that gave it.

    Call :meth:`step` after every evaluation; it returns True when training should stop
    (no improvement for ``patience`` evaluations). :meth:`restore` loads the best parameters.

    Attributes:
        patience: evaluations without improvement before stopping (``None``: never stop,
            only remember the best).
        best_loss: the lowest validation loss seen.
        best_step: the training step it was seen at.
    """

    patience: int | None = None
    best_loss: float = float("inf")
    best_step: int = -1
    _best_state: dict | None = dataclasses.field(default=None, repr=False)
    _bad: int = dataclasses.field(default=0, repr=False)

    def step(self, val_loss: float, net: nn.Module, step: int) -> bool:
        """Record one evaluation; return whether to stop."""
        if val_loss < self.best_loss:
            self.best_loss, self.best_step, self._bad = float(val_loss), int(step), 0
            self._best_state = copy.deepcopy(net.state_dict())
            return False
        self._bad += 1
        return self.patience is not None and self._bad >= self.patience

    def restore(self, net: nn.Module) -> None:
        """Load the best parameters seen into ``net``."""
        if self._best_state is None:
            raise ValueError("no evaluation was recorded yet")
        net.load_state_dict(self._best_state)


@torch.no_grad()
def _mse(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    was_training = net.training
    net.eval()
    value = torch.mean((net(X).squeeze(-1) - y) ** 2).item()
    net.train(was_training)
    return value


def train_regressor(net: nn.Module, X: torch.Tensor, y: torch.Tensor, X_val: torch.Tensor,
                    y_val: torch.Tensor, *, num_steps: int, lr: float = 3e-3, l1: float = 0.0,
                    l2: float = 0.0, input_noise: float = 0.0, patience: int | None = None,
                    restore_best: bool = False, eval_every: int = 10, seed: int = 0,
                    desc: str | None = None) -> History:
    """Train ``net`` in place by full-batch Adam on the MSE, with optional regularization.

    The loss minimized is mean((net(x + noise) − y)²) + l1 · Σ|w| + l2 · Σw². The loop is
    :func:`dlbook.train.fit` on one full batch, so an epoch is one step; early stopping is a
    callback after each evaluation.

    Args:
        net: maps (N, D) to (N, 1) or (N,).
        X, y: training inputs (N, D) float32 and labels (N,), on the net's device.
        X_val, y_val: validation inputs and labels, same devices.
        num_steps: number of updates (each uses the whole training set).
        lr: Adam's learning rate.
        l1, l2: penalty strengths λ₁, λ₂ ≥ 0 (per unit of Σ|w| and Σw²).
        input_noise: standard deviation of Gaussian noise added to X at every step (≥ 0;
            the inputs are standardized, so it is in standard deviations).
        patience: stop after this many evaluations without a better validation loss
            (``None``: run all steps).
        restore_best: load the parameters of the best evaluation at the end (early stopping).
        eval_every: evaluate every this many steps (and after the last).
        seed: seeds the noise generator.
        desc: label of a progress bar (``None``: no bar).

    Returns:
        A :class:`~dlbook.train.History`: ``train_loss``, the loss minimized at each step (with
        penalties and noise); at every evaluation ``train_mse`` (training MSE of the clean
        inputs, without penalty) and ``val_loss`` (validation MSE), at the steps listed in
        ``steps``; ``best_step`` and ``best_val_loss``, where the validation loss was lowest.

    Raises:
        ValueError: on mismatched shapes or negative settings.

    Introduced in :doc:`/notebooks/08_training_guide`.
    """
    if X.ndim != 2 or y.shape != (X.shape[0],) or X_val.ndim != 2 or y_val.shape != (X_val.shape[0],):
        raise ValueError(f"expected X (N, D), y (N,), X_val (M, D), y_val (M,), got {tuple(X.shape)}, "
                         f"{tuple(y.shape)}, {tuple(X_val.shape)}, {tuple(y_val.shape)}")
    if min(l1, l2, input_noise) < 0 or num_steps < 1 or eval_every < 1:
        raise ValueError(f"need l1, l2, input_noise ≥ 0 and num_steps, eval_every ≥ 1, got {l1}, {l2}, "
                         f"{input_noise}, {num_steps}, {eval_every}")
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    generator = torch.Generator(device=X.device).manual_seed(seed)
    stopper = EarlyStopping(patience)

    def penalized_step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, targets = batch
        if input_noise > 0:
            inputs = inputs + input_noise * torch.randn(inputs.shape, generator=generator, device=inputs.device)
        loss = torch.mean((model(inputs).squeeze(-1) - targets) ** 2)
        if l1 > 0:
            loss = loss + l1 * l1_penalty(model)
        if l2 > 0:
            loss = loss + l2 * l2_penalty(model)
        return loss

    def evaluate(model: nn.Module) -> dict[str, float]:
        return {"train_mse": _mse(model, X, y), "val_loss": _mse(model, X_val, y_val)}

    def early_stopping(state) -> None:
        if state.history.eval_epochs and state.history.eval_epochs[-1] == state.epoch:
            state.stop = stopper.step(state.history.val_loss[-1], net, state.epoch)

    history = fit(net, [(X, y)], penalized_step, num_epochs=num_steps, optimizer=optimizer,
                  evaluate=evaluate, eval_every=eval_every, device=X.device, desc=desc,
                  callbacks=[early_stopping])
    history.steps = list(history.eval_epochs)
    history.best_step, history.best_val_loss = stopper.best_step, stopper.best_loss
    if restore_best:
        stopper.restore(net)
    net.eval()
    return history
