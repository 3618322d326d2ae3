"""Argument checks shared by the package's public functions.

The book's rule is that bad input raises :class:`ValueError` naming what was expected and what
came, never a wrong answer and never an error from deep inside PyTorch. The checks that several
modules need (finite values, one floating dtype, class labels, positive counts) live here once.

Introduced with the package (:doc:`/notebooks/01_three_steps`); each function says which checks it
applies.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

__all__ = ["require_finite", "require_same_dtype", "require_labels", "require_count",
           "require_real"]


def require_real(value, name: str, *, low: float | None = None, high: float | None = None,
                 strict_low: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite real number in range.

    Raises:
        ValueError: for a non-number, NaN, ±inf, or a value below ``low`` (at or below it with
            ``strict_low``) or above ``high``.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if low is not None and (value < low or (strict_low and value == low)):
        raise ValueError(f"{name} must be {'>' if strict_low else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return float(value)


def require_count(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is an integer >= ``minimum``.

    Raises:
        ValueError: for a bool, a non-integer or a value below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def require_finite(x, name: str) -> None:
    """Raise ValueError if the tensor or array ``x`` holds NaN or ±inf (says how many)."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point() or x.is_complex():
            bad = int((~torch.isfinite(x)).sum())
            if bad:
                raise ValueError(f"{name} must be finite, got {bad} NaN or infinite values "
                                 f"of {x.numel()} (shape {tuple(x.shape)})")
        return
    arr = np.asarray(x)
    if arr.dtype.kind in "fc":
        bad = int((~np.isfinite(arr)).sum())
        if bad:
            raise ValueError(f"{name} must be finite, got {bad} NaN or infinite values "
                             f"of {arr.size} (shape {arr.shape})")


def require_same_dtype(**tensors: torch.Tensor | None) -> None:
    """Raise ValueError unless every given tensor (None skipped) has one dtype, naming each."""
    given = {name: t for name, t in tensors.items() if t is not None}
    dtypes = {t.dtype for t in given.values()}
    if len(dtypes) > 1:
        listing = ", ".join(f"{name} {str(t.dtype).removeprefix('torch.')}" for name, t in given.items())
        raise ValueError(f"expected one floating dtype for all arguments, got {listing}; "
                         "convert them first, e.g. with .float() or .double()")


def require_labels(y: torch.Tensor, num_classes: int | None = None, name: str = "y") -> None:
    """Check class labels: an integer tensor with values in [0, num_classes).

    Raises:
        ValueError: for a floating or boolean tensor, a negative label, or one >= ``num_classes``.
    """
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"{name} must be a tensor of integer indices, got {type(y).__name__}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer indices (int64), got dtype {y.dtype}")
    if y.numel() == 0:
        return
    low, high = int(y.min()), int(y.max())
    if low < 0 or (num_classes is not None and high >= num_classes):
        expected = f"[0, {num_classes})" if num_classes is not None else "non-negative"
        raise ValueError(f"{name} must be indices in {expected}, got values from {low} to {high}")


def require_float(**tensors: torch.Tensor | None) -> None:
    """Raise ValueError unless every given tensor (None skipped) is floating point and all share
    one dtype (float32 with float64 is refused rather than failing inside torch)."""
    for name, t in tensors.items():
        if t is not None and not (isinstance(t, torch.Tensor) and t.is_floating_point()):
            what = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a floating-point tensor, got {what}")
    require_same_dtype(**tensors)


def require_module_dtype(net: torch.nn.Module, X: torch.Tensor, name: str = "X") -> None:
    """Raise ValueError unless ``X`` is floating point with the dtype of ``net``'s parameters."""
    param = next(iter(net.parameters()), None)
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got "
                         f"{getattr(X, 'dtype', type(X).__name__)}")
    if param is not None and param.dtype != X.dtype:
        raise ValueError(f"{name} is {X.dtype} but the network's parameters are {param.dtype}; "
                         f"convert one of them (e.g. X.to({param.dtype}) or net.to({X.dtype}))")
