"""The book's training engine: mini-batches, one training loop, its history, and scoring.

The chapters write their first training loops by hand (:doc:`/notebooks/01_three_steps` onwards;
:doc:`/notebooks/04_sigmoid_relu` checks its mini-batch loop against :func:`fit`, number for
number). Once the loop is understood, later chapters call :func:`fit`: the same loop with the
conveniences a real run needs, written once. A chapter supplies only its *step*: what one batch
does to the model (:func:`cross_entropy_step` for a classifier).

* :func:`minibatches` shuffles the examples each epoch (seeded) and cuts them into batches
  (taught in
  :doc:`/notebooks/10_batch_momentum`); :func:`sampled_batches` draws fresh random batches for
  training
  counted in steps.
* :func:`fit` runs ``num_epochs`` passes over the batches. With an ``optimizer`` it does, for
  every batch, ``zero_grad`` → ``loss.backward()`` → optional gradient-norm clipping →
  ``optimizer.step()`` → ``scheduler.step()``; with ``optimizer=None`` the step updates the
  parameters itself (the GAN's alternating step). It moves the model and every batch to the
  device, shows a progress bar (tqdm), evaluates after each epoch, can stop after ``max_steps``
  batches, stops with :class:`Diverged` (a ``ValueError``) when the loss becomes NaN or
  infinite, and returns a :class:`History`.
* :func:`train_classifier` is :func:`fit` with a cross-entropy step, AdamW and a one-cycle
  learning-rate schedule (:class:`TrainConfig`); :func:`accuracy` and :func:`predict_logits`
  score a classifier.

:func:`load_or_train` and :func:`checkpoint_path` (load a trained model from the cache, else
train and save it) live in :mod:`dlbook.checkpoints` and are re-exported here.

The design follows d2l's ``Trainer.fit`` and the ``training_step`` of PyTorch Lightning: the
loop is fixed, the model-specific part is a function. Introduced in :doc:`/notebooks/12_cnn`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .checkpoints import checkpoint_path, load_or_train  # noqa: F401 (re-exported)
from .checks import require_count, require_labels, require_real
from .runtime import device as default_device

__all__ = ["minibatches", "Minibatches", "sampled_batches", "SampledBatches", "fit", "FitState", "Callback", "History",
           "Diverged", "to_device", "cross_entropy_step", "TrainConfig", "train_classifier", "predict_logits",
           "accuracy", "load_or_train", "checkpoint_path"]


# --------------------------------------------------------------------------- mini-batches


class Minibatches:
    """Re-iterable mini-batches of one or more tensors that share their first dimension.

    Made by :func:`minibatches`; see there. ``len()`` is the number of batches per epoch.
    Each iteration (each epoch) draws a new order from one generator seeded once, so a run
    is reproducible and the k-th epoch's order does not depend on anything else.
    """

    def __init__(self, tensors: Sequence[torch.Tensor], batch_size: int, shuffle: bool,
                 seed: int | torch.Generator, drop_last: bool) -> None:
        self.tensors = tuple(tensors)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.num_examples = len(self.tensors[0])
        self.generator = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_examples // self.batch_size
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self):
        n, b = self.num_examples, self.batch_size
        stop = n - n % b if self.drop_last else n
        if not self.shuffle:
            for i in range(0, stop, b):
                yield tuple(t[i : i + b] for t in self.tensors)
            return
        order = torch.randperm(n, generator=self.generator)  # (N,), a new order every epoch
        for i in range(0, stop, b):
            idx = order[i : i + b]
            yield tuple(t[idx.to(t.device)] for t in self.tensors)

    def __repr__(self) -> str:
        return (f"Minibatches({self.num_examples} examples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, {len(self)} batches)")


def minibatches(*tensors: torch.Tensor, batch_size: int, shuffle: bool = True,
                seed: int | torch.Generator = 0, drop_last: bool = False) -> Minibatches:
    """Cut tensors into mini-batches: the rows ``idx`` of every tensor, for consecutive slices
    ``idx`` of a random order of 0..N-1.

    Args:
        *tensors: one or more tensors of shapes (N, ...), e.g. ``X`` (N, D) and ``y`` (N,);
            any dtype and device (the batches stay on it).
        batch_size: examples per batch, a positive integer; the last batch of an epoch may be
            shorter unless ``drop_last``.
        shuffle: draw a new random order every epoch (else keep the order 0..N-1).
        seed: seeds the order; iterating again gives the next epoch's order. A CPU
            ``torch.Generator`` may be passed instead, to share one random stream with other
            draws of a training step (noise, negative samples).
        drop_last: leave out a last, shorter batch.

    Returns:
        A re-iterable :class:`Minibatches`: ``for xb, yb in minibatches(X, y, batch_size=64)``
        yields tuples of tensors of shapes (B, ...); ``len()`` gives the batches per epoch.
        The order is the one of PyTorch's ``RandomSampler`` + ``BatchSampler`` with a generator
        seeded by ``seed`` (``torch.randperm``).

    Raises:
        ValueError: without tensors, for a non-tensor, for first dimensions that differ or are
            0, or a batch size that is not a positive integer.

    Introduced in :doc:`/notebooks/10_batch_momentum` (mini-batches).
    """
    if not tensors:
        raise ValueError("minibatches needs at least one tensor, got none")
    for t in tensors:
        if not isinstance(t, torch.Tensor) or t.ndim == 0:
            raise ValueError(f"minibatches expects tensors of shape (N, ...), got {type(t).__name__}"
                             + (" of shape ()" if isinstance(t, torch.Tensor) else ""))
    sizes = [len(t) for t in tensors]
    if len(set(sizes)) != 1 or sizes[0] == 0:
        raise ValueError(f"the tensors must share a non-zero first dimension N, got shapes "
                         f"{[tuple(t.shape) for t in tensors]}")
    if not isinstance(seed, torch.Generator) and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or a torch.Generator, got {seed!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if drop_last and batch_size > sizes[0]:
        raise ValueError(f"drop_last with batch_size={batch_size} > N={sizes[0]} leaves no batch")
    return Minibatches(tensors, int(batch_size), shuffle, seed, drop_last)


class SampledBatches:
    """Re-iterable batches drawn by a function; made by :func:`sampled_batches`."""

    def __init__(self, draw: Callable[[], Any], num_batches: int) -> None:
        self.draw = draw
        self.num_batches = num_batches

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self):
        for _ in range(self.num_batches):
            yield self.draw()

    def __repr__(self) -> str:
        return f"SampledBatches({self.num_batches} per epoch from {getattr(self.draw, '__name__', self.draw)!r})"


def sampled_batches(draw: Callable[[], Any], num_batches: int = 1) -> SampledBatches:
    """Batches drawn afresh by ``draw()`` (random windows of a text, random noise...), for
    training counted in steps rather than passes over a data set.

    ``fit(net, sampled_batches(draw), step, num_epochs=num_steps)`` runs ``num_steps`` steps,
    each on a new batch, and records one value per step (an "epoch" of one batch).

    Args:
        draw: returns one batch (a tensor, or a tuple of tensors), e.g.
            ``lambda: char_batches(ids, 32, 64, generator)``.
        num_batches: batches per epoch, a positive integer.

    Raises:
        ValueError: if ``draw`` is not callable or ``num_batches`` is not a positive integer.

    Introduced in the self-attention chapter.
    """
    if not callable(draw):
        raise ValueError(f"draw must be a function returning a batch, got {type(draw).__name__}")
    if isinstance(num_batches, bool) or not isinstance(num_batches, numbers.Integral) or num_batches < 1:
        raise ValueError(f"num_batches must be a positive integer, got {num_batches!r}")
    return SampledBatches(draw, int(num_batches))


# --------------------------------------------------------------------------- the history


class History:
    """What :func:`fit` records.

    * Per epoch, the mean over the epoch's batches (weighted by batch size) of every metric
      the step returns: ``history["train_loss"]`` or ``history.train_loss`` (a list of floats,
      one per epoch). The step's ``"loss"`` is recorded as ``"train_loss"``; other metrics
      keep their names (``"loss_d"``, ``"grad_norm"``...).
    * The values returned by ``evaluate``, under their own names (``history.val_accuracy``),
      one per evaluation; ``history.eval_epochs`` lists the epochs (1-based) they belong to.
    * ``history.per_batch[name]``: every batch's value of the step's metrics (the per-step
      curves of a GAN or a language model).
    * ``history.seconds``: wall-clock seconds of the whole run (CUDA synchronized).
    * ``history.epoch_seconds``: the cumulative training seconds at the end of each epoch,
      leaving out the time of ``evaluate`` and of callbacks (a curve of loss against time).

    Other attributes may be set freely (e.g. ``best_epoch`` by early stopping).
    Introduced in :doc:`/notebooks/12_cnn`.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.metrics: dict[str, list[float]] = {name: [] for name in names}
        self.per_batch: dict[str, list[float]] = {}
        self.eval_epochs: list[int] = []
        self.seconds: float = 0.0
        self.epoch_seconds: list[float] = []

    def record(self, name: str, value: float) -> None:
        """Append ``value`` (a float or a 0-d tensor) to the metric ``name``."""
        self.metrics.setdefault(name, []).append(_to_float(name, value))

    def __getitem__(self, name: str) -> list[float]:
        try:
            return self.metrics[name]
        except KeyError:
            raise KeyError(f"no metric {name!r} was recorded; recorded: {sorted(self.metrics)}") from None

    def __getattr__(self, name: str) -> list[float]:
        if name.startswith("_") or name in ("metrics", "per_batch", "eval_epochs", "seconds", "epoch_seconds"):
            raise AttributeError(name)
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(f"History has no metric or attribute {name!r}; metrics: {sorted(metrics)}")

    def __contains__(self, name: str) -> bool:
        return name in self.metrics

    def keys(self):
        """The names of the recorded metrics."""
        return self.metrics.keys()

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.metrics.items() if v)
        return f"History({last}; {self.seconds:.1f} s)"


class Diverged(ValueError):
    """Raised by :func:`fit` when the loss becomes NaN or infinite (a ``ValueError``).

    ``err.history`` holds what was recorded before the bad batch (``per_batch`` up to the
    batch before it), ``err.epoch`` and ``err.batch`` (1-based) say where it happened: a
    learning-rate sweep can catch it and mark the run as diverged.
    """

    def __init__(self, message: str, history: History, epoch: int, batch: int) -> None:
        super().__init__(message)
        self.history = history
        self.epoch = epoch
        self.batch = batch


def _to_float(name: str, value: Any) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"metric {name!r} must be a scalar, got a tensor of shape {tuple(value.shape)}")
        return value.item()
    if isinstance(value, numbers.Real):
        return float(value)
    raise ValueError(f"metric {name!r} must be a float or a 0-d tensor, got {type(value).__name__}")


# --------------------------------------------------------------------------- the engine


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in ``batch`` (a tensor, or tuples, lists and dicts of them) to
    ``device``; anything else is returned as it is."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, tuple):
        return tuple(to_device(b, device) for b in batch)
    if isinstance(batch, list):
        return [to_device(b, device) for b in batch]
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def _batch_size(batch: Any) -> int:
    """Examples in a batch: the length of its first tensor, else 1 (e.g. a step number)."""
    if isinstance(batch, torch.Tensor):
        return len(batch) if batch.ndim else 1
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor) and batch[0].ndim:
        return len(batch[0])
    return 1


@dataclasses.dataclass
class FitState:
    """What callbacks of :func:`fit` see: the model, the history so far, the epoch (1-based,
    the one running or just finished), the number of batches done, the last batch's metrics
    (floats), the device, and ``stop``: set it to True to end training after this batch or
    epoch."""

    model: nn.Module
    history: History
    device: torch.device
    epoch: int = 0
    step: int = 0
    metrics: dict = dataclasses.field(default_factory=dict)
    stop: bool = False


@dataclasses.dataclass
class Callback:
    """A named bundle of :func:`fit` hooks, each optional: ``Callback(on_batch_end=record)``.

    Each hook is called with the :class:`FitState`: ``on_fit_start`` before the first batch,
    ``on_batch_end`` after every optimizer step, ``on_epoch_end`` after each epoch's evaluation,
    ``on_fit_end`` once at the end. Any object with methods of these names works as a callback
    too; this class saves writing one for a single function.

    Raises:
        ValueError: if a hook given is not callable.
    """

    on_fit_start: Callable[[FitState], None] | None = None
    on_batch_end: Callable[[FitState], None] | None = None
    on_epoch_end: Callable[[FitState], None] | None = None
    on_fit_end: Callable[[FitState], None] | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            hook = getattr(self, field.name)
            if hook is not None and not callable(hook):
                raise ValueError(f"Callback {field.name} must be callable or None, got {type(hook).__name__}")


def _hook(callback: Any, name: str) -> Callable | None:
    hook = getattr(callback, name, None)
    if hook is None and name == "on_epoch_end" and callable(callback) and not any(
            hasattr(callback, h) for h in ("on_batch_end", "on_fit_start", "on_fit_end")):
        return callback  # a plain function is an end-of-epoch callback
    return hook


def fit(
    model: nn.Module,
    batches: Iterable,
    step: Callable[[nn.Module, Any], torch.Tensor | Mapping[str, Any]],
    *,
    num_epochs: int,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    max_norm: float | None = None,
    evaluate: Callable[[nn.Module], Mapping[str, float]] | None = None,
    eval_every: int = 1,
    device: torch.device | str | None = None,
    desc: str | None = "training",
    callbacks: Sequence[Any] = (),
    max_steps: int | None = None,
) -> History:
    """Train ``model`` in place: ``num_epochs`` passes over ``batches``, one ``step`` per batch.

    For each epoch: ``model.train()``; for each batch, move it to the device, call
    ``step(model, batch)``, and (with an ``optimizer``) ``zero_grad()`` → ``backward()`` on the
    loss → clip the gradients' joint norm to ``max_norm`` (if given) → ``optimizer.step()`` →
    ``scheduler.step()`` (if given, so once per batch). After the epoch: ``model.eval()`` and
    ``evaluate(model)`` (every ``eval_every`` epochs and after the last). At the end the model
    is left in eval mode.

    Args:
        model: the module trained (a container such as ``nn.ModuleDict`` holds several, e.g.
            a GAN's generator and discriminator); moved to ``device``.
        batches: a re-iterable of batches, e.g. :func:`minibatches`, a list of tuples, a
            ``DataLoader``, or ``range(k)`` for steps that draw their own data. Tensors in a
            batch (also inside tuples, lists, dicts) are moved to the device.
        step: ``step(model, batch)`` returns the batch's loss (a scalar tensor, recorded as
            ``"train_loss"``) or a dict of metrics (floats or 0-d tensors) in which ``"loss"``,
            if present, is the loss to minimize (recorded as ``"train_loss"``).
        num_epochs: passes over ``batches``, a positive integer.
        optimizer: updates the parameters from the step's ``"loss"``; ``None`` when the step
            updates the parameters itself (then nothing is backpropagated by the engine).
        scheduler: an ``lr_scheduler`` stepped after every optimizer step.
        max_norm: clip the joint gradient norm to this value (:func:`dlbook.optim.clip_grad_norm_`,
            as ``torch.nn.utils.clip_grad_norm_``); the norm before clipping is recorded as
            ``"grad_norm"``. Needs an optimizer.
        evaluate: ``evaluate(model) -> {name: float}``, called in eval mode (not under
            ``no_grad``, so attacks can take input gradients); each value is recorded under its
            name.
        eval_every: evaluate after every this many epochs (and after the last).
        device: where to train; :func:`dlbook.device` by default.
        desc: label of the progress bar (``None``: no bar).
        callbacks: objects with any of the methods ``on_fit_start(state)``,
            ``on_batch_end(state)``, ``on_epoch_end(state)``, ``on_fit_end(state)`` (a plain
            function is called as ``on_epoch_end``; :class:`Callback` wraps single functions
            under a hook's name), given a :class:`FitState`; setting
            ``state.stop = True`` ends training.
        max_steps: stop after this many batches in all (the last epoch may then be cut
            short; it is recorded over the batches it ran); ``None``: no limit.

    Returns:
        A :class:`History`: per-epoch means of the step's metrics (weighted by the size of
        each batch, the length of its first tensor), the evaluations, per-batch values, seconds.

    Raises:
        ValueError: for a non-positive ``num_epochs``, ``eval_every`` or ``max_steps``,
            ``max_norm`` without an optimizer or not positive, a step that returns no ``"loss"``
            while an optimizer is given, or a non-scalar metric.
        Diverged: (a ``ValueError``) for a loss that is NaN or infinite: the step's loss or
            any metric whose name contains "loss" (with an optimizer, training stops before the
            update that would spread it into the weights); it carries the history so far.

    Source: the training loop of
    :doc:`/notebooks/01_three_steps`, organized like d2l's ``Trainer.fit``.
    Introduced in :doc:`/notebooks/12_cnn`.
    """
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, numbers.Integral) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive integer, got {num_epochs!r}")
    if isinstance(eval_every, bool) or not isinstance(eval_every, numbers.Integral) or eval_every < 1:
        raise ValueError(f"eval_every must be a positive integer, got {eval_every!r}")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, numbers.Integral)
                                  or max_steps < 1):
        raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")
    if max_norm is not None and (optimizer is None or not max_norm > 0):
        raise ValueError(f"max_norm needs an optimizer and a positive value, got max_norm={max_norm!r}, "
                         f"optimizer={type(optimizer).__name__}")
    from .optim import clip_grad_norm_

    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    history = History()
    state = FitState(model=model, history=history, device=device)
    hooks = {name: [h for cb in callbacks if (h := _hook(cb, name)) is not None]
             for name in ("on_fit_start", "on_batch_end", "on_epoch_end", "on_fit_end")}
    try:
        per_epoch = len(batches)  # type: ignore[arg-type]
    except TypeError:
        per_epoch = None
    total = None if per_epoch is None else num_epochs * per_epoch
    if max_steps is not None and total is not None:
        total = min(total, max_steps)
    bar = tqdm(total=total, desc=desc,
               unit="batch", leave=False, disable=desc is None)
    start = time.perf_counter()
    for hook in hooks["on_fit_start"]:
        hook(state)
    training_seconds = 0.0
    for epoch in range(1, num_epochs + 1):
        state.epoch = epoch
        epoch_start = time.perf_counter()
        model.train()
        totals: dict[str, float] = {}
        count = 0
        for i, batch in enumerate(batches):
            batch = to_device(batch, device)
            out = step(model, batch)
            metrics = dict(out) if isinstance(out, Mapping) else {"loss": out}
            loss = metrics.get("loss")
            if optimizer is not None:
                if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                    raise ValueError("with an optimizer, the step must return the loss: a scalar tensor, or a "
                                     f"dict with one under 'loss'; got {type(loss).__name__}")
            values = {("train_loss" if k == "loss" else k): _to_float(k, v) for k, v in metrics.items()}
            for k, v in values.items():
                if "loss" in k and not math.isfinite(v):
                    what = "training loss" if k == "train_loss" else f"metric {k!r}"
                    bar.close()
                    history.seconds = time.perf_counter() - start
                    raise Diverged(
                        f"the {what} became {v} at epoch {epoch}, batch {i + 1}: training diverged "
                        "(try a smaller learning rate, gradient clipping with max_norm, or check the "
                        "inputs for NaN/inf)", history, epoch, i + 1)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                if max_norm is not None:
                    values["grad_norm"] = clip_grad_norm_(
                        [p for group in optimizer.param_groups for p in group["params"]], max_norm).item()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
            n = _batch_size(batch)
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + v * n
                history.per_batch.setdefault(k, []).append(v)
            count += n
            state.step += 1
            state.metrics = values
            bar.update(1)
            for hook in hooks["on_batch_end"]:
                hook(state)
            if max_steps is not None and state.step >= max_steps:
                state.stop = True
            if state.stop:
                break
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        training_seconds += time.perf_counter() - epoch_start
        history.epoch_seconds.append(training_seconds)
        if count:
            for k, total in totals.items():
                history.record(k, total / count)
        postfix = {k: f"{v[-1]:.4g}" for k, v in history.metrics.items() if v}
        if evaluate is not None and (epoch % eval_every == 0 or epoch == num_epochs or state.stop):
            model.eval()
            for k, v in evaluate(model).items():
                history.record(k, v)
                postfix[k] = f"{history.metrics[k][-1]:.4g}"
            history.eval_epochs.append(epoch)
        bar.set_postfix(postfix, refresh=False)
        for hook in hooks["on_epoch_end"]:
            hook(state)
        if state.stop:
            break
    bar.close()
    model.eval()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    history.seconds = time.perf_counter() - start
    for hook in hooks["on_fit_end"]:
        hook(state)
    return history


# --------------------------------------------------------------------------- classifiers


def cross_entropy_step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """The training step of a classifier, for :func:`fit`: the mean cross-entropy of
    ``model(X)`` against ``y`` on a batch ``(X, y)``.

    Args:
        model: maps X (B, ...) to logits (B, C).
        batch: ``(X, y)``, y of shape (B,) holding class indices (int64).

    Returns:
        A scalar tensor (nats per example).

    Introduced in :doc:`/notebooks/10_batch_momentum`.
    """
    X, y = batch
    return F.cross_entropy(model(X), y)


@dataclasses.dataclass
class TrainConfig:
    """Settings of :func:`train_classifier`. The defaults train the book's digit CNN.

    An experiment whose settings depend on the run scale keeps them in a
    :class:`dlbook.RunConfig` and builds a ``TrainConfig`` from it.
    """

    num_epochs: int = 8  # passes over the training set
    batch_size: int = 64  # examples per update
    lr: float = 3e-3  # peak learning rate (of the one-cycle schedule, or the constant rate)
    weight_decay: float = 0.0  # decoupled weight decay (AdamW); 0 gives plain Adam
    schedule: str = "onecycle"  # "onecycle" (warm-up then cosine decay) or "constant"
    seed: int = 0  # seeds the shuffling, the initialization is the caller's


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
    """Train ``net`` by mini-batch Adam(W) on (X, y), in place: a thin wrapper over :func:`fit`.

    Args:
        net: a module mapping a batch of X to logits of shape (B, C).
        X: inputs, shape (N, ...), float32 (e.g. images (N, 1, 28, 28) in [0, 1]).
        y: class indices, shape (N,), int64.
        config: a :class:`TrainConfig` (defaults if omitted).
        X_val, y_val: optional validation data, scored after every epoch.
        augment: optional function applied to each training batch of inputs (on the device).
        perturb: optional ``perturb(xb, yb) -> xb`` applied after ``augment``, which may use the
            labels and the current network (adversarial training,
            :doc:`/notebooks/21_adversarial_attacks`).
        loss_fn: ``loss_fn(logits, y)``; cross-entropy by default.
        device: where to train; :func:`dlbook.device` by default. The net is moved there.
        desc: label of the progress bar.

    Returns:
        A :class:`History` with ``train_loss`` (per-epoch mean) and ``val_accuracy`` (per
        epoch; empty without validation data).

    Raises:
        ValueError: on mismatched shapes, an unknown schedule, a non-positive ``num_epochs``,
            ``batch_size`` or ``lr``, labels that are not integers in [0, C) (with the default
            cross-entropy), or a loss that became NaN/inf.

    This is :func:`fit` with a cross-entropy step on :func:`minibatches` of (X, y).

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    config = config or TrainConfig()
    _check_xy(X, y)
    if config.schedule not in ("onecycle", "constant"):
        raise ValueError(f"schedule must be 'onecycle' or 'constant', got {config.schedule!r}")
    require_count(config.num_epochs, "num_epochs")
    require_count(config.batch_size, "batch_size")
    require_real(config.lr, "lr", low=0, strict_low=True)
    require_real(config.weight_decay, "weight_decay", low=0)
    y_max = None  # labels are checked against the net's number of outputs at the first batch
    if loss_fn is F.cross_entropy:
        require_labels(y)
        y_max = int(y.max())
    device = torch.device(device) if device is not None else default_device()
    net.to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    batches = minibatches(X, y, batch_size=config.batch_size, seed=config.seed)
    scheduler = None
    if config.schedule == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=config.num_epochs * len(batches))

    def step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        xb, yb = batch
        if augment is not None:
            xb = augment(xb)
        if perturb is not None:
            xb = perturb(xb, yb)
        logits = model(xb)
        if y_max is not None and logits.ndim == 2 and y_max >= logits.shape[1]:
            raise ValueError(f"y must be class indices in [0, {logits.shape[1]}) for a net with "
                             f"{logits.shape[1]} outputs, got labels up to {y_max}")
        return loss_fn(logits, yb)

    evaluate = None
    if X_val is not None and y_val is not None:
        def evaluate(model: nn.Module) -> dict[str, float]:
            return {"val_accuracy": accuracy(model, X_val, y_val, device=device)}

    history = fit(net, batches, step, num_epochs=config.num_epochs, optimizer=optimizer,
                  scheduler=scheduler, evaluate=evaluate, device=device, desc=desc)
    history.metrics.setdefault("val_accuracy", [])
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
    """Fraction of rows of X whose arg-max logit equals y (a float in [0, 1]).

    Runs ``net`` with :func:`predict_logits` and scores the logits with
    :func:`dlbook.metrics.accuracy` (use that one directly when the logits are at hand).
    """
    _check_xy(X, y)
    from .metrics import accuracy as _accuracy

    return _accuracy(predict_logits(net, X, batch_size=batch_size, device=device), y)

