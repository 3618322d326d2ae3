"""Where the book's code runs and how big its runs are: device, seeding and scale.

Every chapter's setup cell calls three things from here:

* :func:`device` picks the accelerator: CUDA, else Apple's MPS, else the CPU. The environment
  variable ``DLBOOK_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) overrides the choice.
* :func:`seed` seeds Python's, NumPy's and PyTorch's random generators so that executing a
  chapter twice on the same machine prints the same numbers.
* :func:`scale` says how big the chapter's experiments are: ``"small"`` (the default on a CPU;
  every chapter then executes within :data:`CHAPTER_BUDGET_S` seconds on a 2-core laptop) or ``"full"``
  (the default when a GPU is present: more data, more epochs). ``DLBOOK_SCALE`` overrides it.
  :func:`scaled` picks one of two values by the current scale, which is how chapters size runs.

:func:`time_call` measures how long a piece of code takes on the current device, waiting for
a GPU to finish its queued work before reading the clock (:doc:`/notebooks/10_batch_momentum`,
:doc:`/notebooks/13_self_attention` and :doc:`/notebooks/16_transformer` time batch
sizes, attention against recurrence and convolution, and decoding).

Introduced in :doc:`/notebooks/01_three_steps`.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

import numpy as np
import torch

__all__ = ["device", "seed", "scale", "scaled", "SCALES", "CHAPTER_BUDGET_S", "time_call"]

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

    Introduced in :doc:`/notebooks/10_batch_momentum`.
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
