"""Where the book's code runs and how big its runs are: device, seeding and scale.

Every chapter's setup cell calls three things from here:

* :func:`device` picks the accelerator: CUDA, else Apple's MPS, else the CPU. The environment
  variable ``DLBOOK_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) overrides the choice.
* :func:`seed` seeds Python's, NumPy's and PyTorch's random generators so that executing a
  chapter twice on the same machine prints the same numbers.
* :func:`scale` says how big the chapter's experiments are: ``"small"`` (the default on a CPU;
  every chapter then executes within :data:`CHAPTER_BUDGET_S` seconds on a 2-core laptop) or ``"full"``
  (the default when a GPU is present: more data, more epochs). ``DLBOOK_SCALE`` overrides it.
  :func:`scaled` picks one of two values by the current scale, for a single value.
* :class:`RunConfig` is the base of an experiment's settings: a dataclass (in the manner of
  nanoGPT's ``GPTConfig``) whose ``scale`` field says which run size it describes and whose
  scale-dependent fields are declared with :func:`per_scale`, e.g.
  ``num_steps: int = per_scale(small=500, full=5000)``. ``CharConfig()`` gives the settings of
  the current scale, ``CharConfig(scale="full")`` those of the full run, and any field can be
  set by hand (``CharConfig(lr=0.01)``).

:func:`time_call` measures how long a piece of code takes on the current device, waiting for
a GPU to finish its queued work before reading the clock (:doc:`/notebooks/10_batch_momentum`,
:doc:`/notebooks/13_self_attention` and :doc:`/notebooks/16_transformer` time batch
sizes, attention against recurrence and convolution, and decoding).

Introduced in :doc:`/notebooks/01_three_steps`.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch

__all__ = ["device", "seed", "scale", "scaled", "SCALES", "CHAPTER_BUDGET_S", "RunConfig", "per_scale", "PerScale",
           "time_call"]

SCALES = ("small", "full")
"""The two run sizes a chapter supports."""

CHAPTER_BUDGET_S = 90.0
"""Most wall-clock seconds one chapter may take to execute at the small scale on a 2-core CPU.

The one source of the book's time budget: the introduction refers to it and ``make bench``
(``.ci/bench.py``) fails when a chapter takes longer.
"""


def device() -> torch.device:
    """Return the device the book's tensors and models should live on.

    The order is CUDA, then MPS (Apple silicon), then the CPU. Set the environment variable
    ``DLBOOK_DEVICE`` to force one (for example ``DLBOOK_DEVICE=cpu`` to compare timings).

    Returns:
        A :class:`torch.device`.

    Raises:
        ValueError: if ``DLBOOK_DEVICE`` names a device type PyTorch does not know or the book
            cannot run on (anything but cpu, cuda, cuda:N and mps: meta, xla, hpu, ...), or one
            that is not available on this machine (``cuda`` without a GPU, ``mps`` off Apple
            silicon).

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    override = os.environ.get("DLBOOK_DEVICE", "").strip()
    if override:
        try:
            dev = torch.device(override)
        except RuntimeError as err:
            raise ValueError(
                f"DLBOOK_DEVICE={override!r} is not a device PyTorch knows "
                "(expected cpu, cuda, cuda:N or mps)"
            ) from err
        if dev.type not in ("cpu", "cuda", "mps") or (dev.type != "cuda" and dev.index is not None):
            raise ValueError(
                f"DLBOOK_DEVICE={override!r} is a device the book cannot run on "
                "(expected cpu, cuda, cuda:N or mps)"
            )
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"DLBOOK_DEVICE={override!r}, but CUDA is not available here")
        if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"DLBOOK_DEVICE={override!r}, but this machine has "
                             f"{torch.cuda.device_count()} CUDA devices (cuda:0 to cuda:N-1)")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"DLBOOK_DEVICE={override!r}, but MPS is not available here")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed(n: int = 0) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and all GPUs).

    Args:
        n: a non-negative integer seed.

    Raises:
        ValueError: if ``n`` is not a non-negative integer.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"seed expects a non-negative integer, got {n!r}")
    n = int(n)
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)  # also seeds every CUDA device


def scale() -> str:
    """Return the run size: ``"small"`` on a CPU, ``"full"`` on a GPU, unless overridden.

    ``DLBOOK_SCALE=small`` or ``DLBOOK_SCALE=full`` overrides the default (a full run on a CPU
    works, it just takes longer).

    Raises:
        ValueError: if ``DLBOOK_SCALE`` is set to anything else.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    override = os.environ.get("DLBOOK_SCALE", "").strip().lower()
    if override:
        if override not in SCALES:
            raise ValueError(f"DLBOOK_SCALE={override!r}; expected one of {SCALES}")
        return override
    return "small" if device().type == "cpu" else "full"


def scaled(small, full):
    """Return ``small`` at the small scale and ``full`` at the full scale.

    Example: ``num_epochs = scaled(small=5, full=30)``.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    return small if scale() == "small" else full


class PerScale(NamedTuple):
    """A field default of a :class:`RunConfig` with one value per scale; see :func:`per_scale`."""

    small: Any
    full: Any


def per_scale(small: Any, full: Any) -> Any:
    """Declare a :class:`RunConfig` field whose default depends on the run scale.

    ``num_epochs: int = per_scale(small=5, full=20)`` gives 5 in a config of scale
    ``"small"`` and 20 in one of scale ``"full"``; a value passed by hand wins at both scales.
    The values must be immutable (numbers, strings, tuples), as for any dataclass default.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    return dataclasses.field(default=PerScale(small, full))


@dataclasses.dataclass
class RunConfig:
    """Base class of an experiment's settings, with the run scale as a field.

    Subclass it as a dataclass; declare scale-dependent defaults with :func:`per_scale`::

        @dataclasses.dataclass
        class RaceConfig(RunConfig):
            num_epochs: int = per_scale(small=2, full=10)  # passes over the training set
            batch_size: int = 64  # examples per update

        RaceConfig()               # the current scale (dlbook.scale())
        RaceConfig(scale="full")   # the full run, on any machine
        RaceConfig(num_epochs=3)   # a field set by hand is kept at both scales

    Attributes:
        scale: ``"small"`` or ``"full"`` (keyword only); ``None`` (the default) means
            :func:`scale`, the current one. After construction it holds the scale used and every
            :func:`per_scale` field holds its value for that scale. To change the scale, build a
            new config (``dataclasses.replace`` keeps the values already chosen).

    Raises:
        ValueError: for a scale other than ``"small"``, ``"full"`` or ``None``.

    A subclass that defines ``__post_init__`` must call ``super().__post_init__()`` first.
    Introduced in :doc:`/notebooks/05_backpropagation`.
    """

    scale: str | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.scale is None:
            self.scale = scale()
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES} or None, got {self.scale!r}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, PerScale):
                setattr(self, f.name, value.small if self.scale == "small" else value.full)


def _synchronize() -> None:
    """Wait for queued GPU work: CUDA and MPS run asynchronously, the CPU clock would stop early."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        mps.synchronize()


def time_call(fn: Callable[[], object], *, repeats: int = 3, warmup: int = 1,
              reduce: str = "min") -> float:
    """Wall-clock seconds of one call of ``fn()``, synchronizing a GPU around every call.

    ``fn`` is called ``warmup`` times untimed (the first call of a network pays for memory
    allocation and kernel selection), then ``repeats`` times, each timed with
    :func:`time.perf_counter` between two synchronizations of the device. The fastest run is the
    least disturbed by other programs (``reduce="min"``); the median (``"median"``) is steadier
    when calls are short and many. Measured times depend on the machine and its load.

    Args:
        fn: the code to time, without arguments (wrap it in a ``lambda``).
        repeats: timed calls, ≥ 1.
        warmup: untimed calls before them, ≥ 0.
        reduce: ``"min"`` or ``"median"``.

    Returns:
        Seconds, a float.

    Raises:
        ValueError: for repeats < 1, warmup < 0 or an unknown reduce.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    if int(repeats) != repeats or repeats < 1 or int(warmup) != warmup or warmup < 0:
        raise ValueError(f"repeats must be ≥ 1 and warmup ≥ 0 (integers), got {repeats!r} and {warmup!r}")
    if reduce not in ("min", "median"):
        raise ValueError(f"reduce must be 'min' or 'median', got {reduce!r}")
    for _ in range(int(warmup)):
        fn()
    times = []
    for _ in range(int(repeats)):
        _synchronize()
        start = time.perf_counter()
        fn()
        _synchronize()
        times.append(time.perf_counter() - start)
    return float(np.min(times) if reduce == "min" else np.median(times))

