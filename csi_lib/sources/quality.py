"""Coverage of every canonical column in a load."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import (
    COLUMNS,
)
from .mapping import CANONICAL_NAMES
from .result import LoadResult


def _distinct(s: pd.Series, column: str) -> int:
    """Count of distinct non-missing values, by the cheapest exact way for the column.

    A load keeps one row per ``request_id`` (exact copies collapse, differing rows
    with one id are quarantined: :func:`csi_lib.schema.validate`), so its ids are all
    distinct; timestamps are counted by sorting their integer values (several times
    faster than hashing them at millions of rows).
    """
    if column == "request_id":
        return int(s.notna().sum())
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        ns = np.sort(s.dropna().array.asi8)
        return int(np.count_nonzero(np.diff(ns))) + 1 if len(ns) else 0
    return int(s.nunique(dropna=True))


def data_quality(result: LoadResult) -> pd.DataFrame:
    """Coverage of every canonical (and kept) column in the loaded data.

    Returns
    -------
    pd.DataFrame
        One row per column: ``column``, ``source`` (the source column, or None),
        ``present`` (bool: the source provides it), ``non_null`` (count),
        ``coverage_pct`` (0..100 of kept rows), ``distinct`` (count of values),
        ``min`` and ``max`` (dates and numbers; None otherwise).

    Examples
    --------
    >>> quality = data_quality(res).set_index("column")   # res: the sample's LoadResult
    >>> quality.loc[["request_id", "closed_at", "csat"], ["present", "coverage_pct"]].round(1)
               present  coverage_pct
    column
    request_id     True         100.0
    closed_at      True          98.8
    csat           True          29.0
    """
    df = result.data
    n = len(df)
    extras = [c for c in df.columns if c not in COLUMNS]
    rows = []
    for col in [*CANONICAL_NAMES, *extras]:
        s = df[col] if col in df.columns else pd.Series(dtype="float64")
        source = result.columns_used.get(col)
        present = bool(source)
        non_null = int(s.notna().sum())
        lo = hi = None
        if non_null and (
            pd.api.types.is_datetime64_any_dtype(s.dtype)
            or (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype))
        ):
            lo, hi = s.min(), s.max()
        rows.append(
            {
                "column": col,
                "source": source or None,
                "present": present,
                "non_null": non_null,
                "coverage_pct": 100.0 * non_null / n if n else float("nan"),
                "distinct": _distinct(s, col),
                "min": lo,
                "max": hi,
            }
        )
    return pd.DataFrame(rows)
