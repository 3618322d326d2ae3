"""Trained models kept between chapters: load the checkpoint if it is there and sound, else train.

Many course notebooks follow the habit "load the checkpoint if it exists, else train and save
it". Done naively that habit fails in ways a reader cannot see: weights trained by older code
load without a word after an edit that keeps the shapes, a flipped bit loads as 3.4e38, a
truncated file stops the chapter with an error from deep inside PyTorch. :func:`load_or_train`
guards against each of these:

* **Keyed on what produced the weights.** The file name carries a hash of the training settings
  (``config``), the torch version, the device type and the *code*: the source of the builder and
  the trainer, of every function and class of the caller's they use, and every ``dlbook`` module
  they come from (:func:`code_fingerprint`). An edit to the architecture or the training loop
  therefore trains afresh.
* **Verified on load.** Each checkpoint ``<name>-<hash>.pt`` has a sidecar
  ``<name>-<hash>.pt.sha256`` with its SHA-256. A checkpoint whose checksum does not match, or
  that PyTorch cannot read, or whose tensors do not fit the model, is moved aside (renamed to
  ``*.pt.bad``), one :class:`CheckpointWarning` names the file, and the model is retrained.
* **Written safely.** A new checkpoint goes to a fresh temporary file in the same folder
  (:func:`tempfile.mkstemp`), is flushed to disk and then renamed over the old one, so a reader
  never sees half a file; temporary files left by an interrupted run are removed. The folder is
  checked for writing *before* training, so an unwritable cache does not throw a trained model
  away.

Checkpoints live in ``<cache>/checkpoints`` (:func:`dlbook.data.cache_dir`, set by
``DLBOOK_CACHE_DIR``), never in the repository. ``DLBOOK_RETRAIN=1`` (or ``true``, ``yes``,
``on``) ignores existing checkpoints; ``make clean`` or ``python -m dlbook.checkpoints clear``
deletes them all.

Introduced in :doc:`/notebooks/12_cnn`.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import sys
import sysconfig
import tempfile
import threading
import time
import types
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from filelock import FileLock
from torch import nn

from .runtime import device as default_device

__all__ = ["load_or_train", "checkpoint_path", "code_fingerprint", "retrain_requested",
           "checkpoint_dir", "clear_checkpoints", "CheckpointWarning"]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
_TMP_SUFFIX = ".tmp"


class CheckpointWarning(UserWarning):
    """A checkpoint could not be used (corrupt, unreadable or not fitting the model) and was
    moved aside; the model is retrained."""


def retrain_requested() -> bool:
    """Whether ``DLBOOK_RETRAIN`` asks to ignore existing checkpoints.

    Accepts ``1``, ``true``, ``yes``, ``on`` (retrain) and ``0``, ``false``, ``no``, ``off`` or
    unset (use checkpoints), in any case.

    Raises:
        ValueError: for any other value, naming it.

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    value = os.environ.get("DLBOOK_RETRAIN", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"DLBOOK_RETRAIN={os.environ['DLBOOK_RETRAIN']!r}; expected one of "
        f"{', '.join(_TRUE)} (retrain) or {', '.join(v for v in _FALSE if v)} (use checkpoints)")


# --------------------------------------------------------------------------- code fingerprint


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(os.path.realpath(r) for r in roots)


def _is_dlbook(module_name: str) -> bool:
    return module_name == "dlbook" or module_name.startswith("dlbook.")


def _is_library(module_name: str) -> bool:
    """A module of the standard library or an installed package (not the reader's code)."""
    if module_name in sys.builtin_module_names or module_name == "builtins":
        return True
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if module_name == "__main__" or file is None:
        return False
    real = os.path.realpath(file)
    return any(real.startswith(root + os.sep) for root in _library_roots())


def _code_text(code: types.CodeType) -> str:
    """A stable description of a code object when its source is not available (no file names,
    no line numbers)."""
    parts = [code.co_name, code.co_code.hex(), repr(code.co_names), repr(code.co_varnames)]
    for const in code.co_consts:
        parts.append(_code_text(const) if isinstance(const, types.CodeType) else repr(const))
    return "|".join(parts)


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


class _Fingerprint:
    def __init__(self):
        self.parts: dict[str, str] = {}
        self.seen: set[int] = set()

    def module(self, name: str) -> None:
        """Add a dlbook module's file and, transitively, every dlbook module it uses."""
        key = f"module:{name}"
        if key in self.parts:
            return
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        self.parts[key] = Path(file).read_text(encoding="utf-8") if file else name
        for value in list(vars(module).values()) if module else ():
            other = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
            if isinstance(other, str) and _is_dlbook(other):
                self.module(other)

    def visit(self, obj) -> None:
        if id(obj) in self.seen:
            return
        self.seen.add(id(obj))
        if isinstance(obj, functools.partial):
            for value in (obj.func, *obj.args, *obj.keywords.values()):
                self.visit(value)
            return
        if isinstance(obj, types.MethodType):
            self.visit(obj.__func__)
            self.visit(type(obj.__self__))
            return
        if isinstance(obj, types.ModuleType):
            if _is_dlbook(obj.__name__):
                self.module(obj.__name__)
            return
        if not isinstance(obj, (types.FunctionType, type)):
            if callable(obj) and not isinstance(obj, types.BuiltinFunctionType):
                self.visit(type(obj))  # a callable instance: its class's code
            return
        module = getattr(obj, "__module__", None) or ""
        if _is_dlbook(module):
            self.module(module)
            return
        if _is_library(module):
            return  # torch and friends: their version is part of the key
        try:
            source = inspect.getsource(obj)
        except (OSError, TypeError):
            source = _code_text(obj.__code__) if isinstance(obj, types.FunctionType) else ""
        self.parts[f"source:{module}.{obj.__qualname__}"] = source
        if isinstance(obj, type):
            for base in obj.__mro__[1:]:
                self.visit(base)
            for value in vars(obj).values():
                value = getattr(value, "__func__", value)  # staticmethod, classmethod
                if isinstance(value, (types.FunctionType, type)):
                    self.visit(value)
            return
        for name in sorted(_global_names(obj.__code__)):
            if name in obj.__globals__:
                self.visit(obj.__globals__[name])
        for cell in obj.__closure__ or ():
            try:
                self.visit(cell.cell_contents)
            except ValueError:  # an empty cell
                pass
        for value in (obj.__defaults__ or ()) + tuple((obj.__kwdefaults__ or {}).values()):
            self.visit(value)


_FINGERPRINT_LOCK = threading.Lock()


def code_fingerprint(*objects) -> str:
    """SHA-256 (64 hex digits) of the code behind ``objects`` (functions, classes, partials).

    Covers each object's source (or, when the source is unavailable, its byte code), the source
    of every function and class of the caller's that it uses (found through its global names,
    closure and defaults, recursively), and the whole file of every ``dlbook`` module reached,
    with the ``dlbook`` modules those use. Code of the standard library and installed packages
    is left out (their versions are keyed separately). Stable across processes.

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    fp = _Fingerprint()
    with _FINGERPRINT_LOCK:  # inspect parses classes with ast, which CPython 3.11 does not make thread-safe
        for obj in objects:
            fp.visit(obj)
    text = json.dumps(sorted(fp.parts.items()))
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- paths


def checkpoint_dir() -> Path:
    """The checkpoint folder: ``<cache>/checkpoints`` (see :func:`dlbook.data.cache_dir`)."""
    from .data import cache_dir

    return cache_dir() / "checkpoints"


def checkpoint_path(name: str, config: dict, code: str = "") -> Path:
    """Cache path of a checkpoint: ``<cache>/checkpoints/<name>-<hash>.pt``.

    The hash covers ``config`` (JSON-serializable: everything that determines the weights),
    ``code`` (a :func:`code_fingerprint` of what built and trained the model), the dlbook and
    torch versions and the device type.

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    from . import __version__

    key = json.dumps({"config": config, "code": code, "dlbook": __version__,
                      "torch": torch.__version__, "device": default_device().type},
                     sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return checkpoint_dir() / f"{name}-{digest}.pt"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _sha256(path: Path) -> str:
    from .data import sha256sum

    return sha256sum(path)


# --------------------------------------------------------------------------- writing


def _ensure_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".write-test.{os.getpid()}.", suffix=_TMP_SUFFIX, dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(
            f"the checkpoint folder {folder} is not writable ({err.__class__.__name__}: {err}); "
            "set DLBOOK_CACHE_DIR to a writable folder") from err


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_leftovers(folder: Path, max_age_s: float = 24 * 3600) -> None:
    """Delete temporary files of interrupted writes: those of processes that no longer run (the
    writer's process id is in the name), and any older than a day."""
    now = time.time()
    for tmp in folder.glob(f".*{_TMP_SUFFIX}"):
        parts = tmp.name.split(".")
        pid = int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else None
        try:
            stale = (pid is not None and pid != os.getpid() and not _pid_alive(pid)) or (
                now - tmp.stat().st_mtime > max_age_s)
            if stale:
                tmp.unlink()
        except OSError:
            pass  # gone already, or not ours to delete


def _atomic_write(path: Path, write: Callable) -> None:
    """Write ``path`` through ``write(file)`` into a fresh temporary file in the same folder,
    flushed to disk, then renamed over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=_TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _save(net: nn.Module, path: Path) -> None:
    state = net.state_dict()
    _atomic_write(path, lambda f: torch.save(state, f))
    digest = _sha256(path)
    _atomic_write(_sidecar(path), lambda f: f.write(f"{digest}  {path.name}\n".encode()))


# --------------------------------------------------------------------------- loading


def _load(net: nn.Module, path: Path) -> str | None:
    """Load ``path`` into ``net``; return None on success, else what is wrong with the file."""
    sidecar = _sidecar(path)
    try:
        expected = sidecar.read_text(encoding="ascii").split()[0].lower()
    except (OSError, UnicodeDecodeError, IndexError):
        return f"its checksum file {sidecar.name} is missing or unreadable"
    actual = _sha256(path)
    if actual != expected:
        return f"its SHA-256 is {actual}, but {sidecar.name} records {expected}"
    try:
        state = torch.load(path, map_location=default_device(), weights_only=True)
        net.load_state_dict(state)
    except Exception as err:  # noqa: BLE001 - any failure to read or fit means: retrain
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return f"it could not be loaded ({err.__class__.__name__}: {first_line[:200]})"
    return None


def _move_aside(path: Path) -> Path:
    bad = path.with_name(path.name + ".bad")
    os.replace(path, bad)
    sidecar = _sidecar(path)
    if sidecar.exists():
        os.replace(sidecar, bad.with_name(bad.name + ".sha256"))
    return bad


def load_or_train(name: str, build: Callable[[], nn.Module], fit: Callable[[nn.Module], object],
                  config: dict) -> nn.Module:
    """Return a trained model: loaded from its checkpoint if there is a sound one, else built,
    trained by ``fit(net)`` and saved.

    The checkpoint is keyed on ``config`` and on the code of ``build`` and ``fit`` (see
    :func:`code_fingerprint`), so an edit to either trains afresh. A checkpoint that fails its
    SHA-256 check, cannot be read or does not fit the model is moved aside (``*.pt.bad``) with one
    :class:`CheckpointWarning` naming it, and the model is retrained.

    Args:
        name: a short file-name-safe name, e.g. ``"digit_cnn"``.
        build: makes the untrained model (same architecture every call).
        fit: trains it in place.
        config: everything besides the code that determines the trained weights
            (JSON-serializable: settings, data sizes).

    Returns:
        The model, in eval mode, on :func:`dlbook.device`.

    Raises:
        ValueError: for a name with characters other than letters, digits, ``_`` and ``-``; for an
            unknown ``DLBOOK_RETRAIN`` value; if the checkpoint folder is not writable (checked
            before training).

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"name must be letters, digits, '_' or '-', got {name!r}")
    retrain = retrain_requested()
    path = checkpoint_path(name, config, code_fingerprint(build, fit))
    _ensure_writable(path.parent)
    _remove_leftovers(path.parent)
    # Notebooks executed in parallel (make book) may ask for the same model at once: one trains
    # it while the others wait for the lock, then load its checkpoint (and never read a
    # checkpoint whose checksum file is not written yet).
    locks = path.parent.parent / "locks"  # beside the checkpoints: a lock file outlives its lock
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(locks / f"{path.stem}.lock"):
        net = build().to(default_device())
        if path.is_file() and not retrain:
            problem = _load(net, path)
            if problem is None:
                print(f"Loaded the trained {name} from the checkpoint {path.name}.")
                return net.eval()
            bad = _move_aside(path)
            warnings.warn(f"The checkpoint {path} was not used: {problem}. It was moved to {bad.name} "
                          f"and {name} is trained again.", CheckpointWarning, stacklevel=2)
            net = build().to(default_device())  # a failed load may have changed some tensors
        fit(net)
        _save(net, path)
    print(f"Trained {name} and saved the checkpoint {path.name}.")
    return net.eval()


def clear_checkpoints() -> int:
    """Delete every checkpoint (and checksum, moved-aside and temporary file) in
    :func:`checkpoint_dir`; return how many files were removed.

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    folder = checkpoint_dir()
    count = 0
    if folder.is_dir():
        for item in folder.iterdir():
            if item.is_file() or item.is_symlink():
                item.unlink()
                count += 1
    return count


if __name__ == "__main__":  # python -m dlbook.checkpoints clear
    if sys.argv[1:] != ["clear"]:
        sys.exit("usage: python -m dlbook.checkpoints clear")
    print(f"Removed {clear_checkpoints()} files from {checkpoint_dir()}.")
