"""Time series as supervised data: the past days of a series as the features of the next.

A forecast "from the last k days" turns one series into a table: the row of day t holds the
values of days t - 1, ..., t - k (the features x_1, ..., x_k) and its label is the value of
day t. :func:`lagged_features` builds that table.

Introduced in chapter 1 (Machine learning in three steps); used again in chapter 4.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

__all__ = ["lagged_features"]


def lagged_features(series, num_days: int) -> np.ndarray:
    """The previous ``num_days`` values of a series, one row per time step.

    Column ``j - 1`` of row ``t`` holds ``x_j``, the value ``j`` steps before step ``t``
    (``series[t - j]``). The first rows have no value that far back; those entries are NaN,
    so a model can keep only the rows with a complete history
    (``~np.isnan(X).any(axis=1)``). The series is assumed evenly spaced with no gaps (for a
    daily series: one entry per calendar day).

    Args:
        series: a 1-D :class:`pandas.Series` or array-like of numbers, length T (any unit; the
            features keep it).
        num_days: k, how many steps to look back (a positive integer).

    Returns:
        A float64 array of shape (T, k). ``X[t, j - 1] == series[t - j]`` for ``t >= j``, NaN
        otherwise.

    Raises:
        ValueError: if ``num_days`` is not a positive integer, or the series is not 1-D
            (the message gives its shape).

    Source: the notes' linear models on daily views that look 1, 7, 28 or 56 days back.
    Introduced in chapter 1.
    """
    if isinstance(num_days, bool) or not isinstance(num_days, numbers.Integral) or num_days < 1:
        raise ValueError(f"num_days must be a positive integer, got {num_days!r}")
    values = series.to_numpy() if isinstance(series, pd.Series) else np.asarray(series)
    if values.ndim != 1:
        raise ValueError(f"series must be 1-D (T,), got shape {values.shape}")
    values = values.astype(np.float64)
    T, k = len(values), int(num_days)
    X = np.full((T, k), np.nan)  # (T, k)
    for j in range(1, min(k, T - 1) + 1):
        X[j:, j - 1] = values[:-j]  # day t sees the value of day t - j
    return X
