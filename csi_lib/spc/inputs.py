"""The arguments of :func:`csi_lib.spc.xmr` checked and placed on the series: values,
better direction, baseline and recalculation points (a clear error for each mistake)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from csi_lib.errors import ConfigError, InputError

from .rules import BETTER


def _check_better(better: str) -> str:
    if better not in BETTER:
        raise ConfigError(
            f"unknown better direction {better!r}",
            column="better",
            hint="use one of " + ", ".join(repr(b) for b in BETTER),
        )
    return better


def _positions_from(index: pd.Index, label: Any) -> int:
    """Position of the first index entry at or after ``label``."""
    found = _slice_of(
        index, label, None, placing=repr(label), column="recalc_from",
        hint="give a date (e.g. '2025-09-01') or a value of the series' index",
    )  # fmt: skip
    return int(found.start or 0)


def _slice_of(
    index: pd.Index, start: Any, stop: Any, *, placing: str, column: str, hint: str
) -> slice:
    """The positions of ``start`` to ``stop`` (labels, inclusive) on the index, or a
    :class:`ConfigError` saying what could not be placed."""
    try:
        return index.slice_indexer(start, stop)
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"cannot place {placing} on the series' index", column=column, hint=hint
        ) from exc


def _baseline_mask(index: pd.Index, baseline: slice | tuple | None) -> np.ndarray:
    if baseline is None:
        return np.ones(len(index), dtype=bool)
    if isinstance(baseline, tuple):
        if len(baseline) != 2:
            raise ConfigError(
                "the baseline must be a (start, end) pair",
                column="baseline",
                hint="for example baseline=('2025-01', '2025-06')",
            )
        baseline = slice(*baseline)
    if not isinstance(baseline, slice):
        raise ConfigError(
            f"the baseline must be a slice or a (start, end) pair, not {type(baseline).__name__}",
            column="baseline",
        )
    positions = _slice_of(
        index, baseline.start, baseline.stop,
        placing=f"the baseline {baseline.start!r} to {baseline.stop!r}", column="baseline",
        hint="give dates (e.g. ('2025-01', '2025-06')) or values of the series' index",
    )  # fmt: skip
    mask = np.zeros(len(index), dtype=bool)
    mask[positions] = True
    if not mask.any():
        raise ConfigError(
            f"the baseline {baseline.start!r} to {baseline.stop!r} contains no point of the series",
            column="baseline",
            hint="choose a baseline inside the series' time span",
        )
    return mask


def _as_series(values: pd.Series) -> pd.Series:
    if not isinstance(values, pd.Series):
        raise InputError(
            f"xmr() needs a pandas Series of values, not {type(values).__name__}",
            hint="index the values by period start, e.g. series.set_index('period_start')['value']",
        )
    if values.index.has_duplicates:
        dup = values.index[values.index.duplicated()][0]
        raise InputError(
            f"the series has more than one value for {dup!r}",
            column=str(values.name) if values.name is not None else None,
            hint="give one value per period (filter the KPI and breakdown first)",
        )
    try:
        x = pd.to_numeric(values, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise InputError(
            "the series has values that are not numbers",
            column=str(values.name) if values.name is not None else None,
            hint="pass the KPI values (floats, NaN for missing)",
        ) from exc
    if not x.index.is_monotonic_increasing:
        x = x.sort_index(kind="stable")
    return x


def _segments(index: pd.Index, recalc_from: Any | Iterable[Any] | None) -> np.ndarray:
    """Segment number of each point (0, 1, ...): a new segment starts at each ``recalc_from``."""
    starts = [] if recalc_from is None else recalc_from
    if isinstance(starts, str) or not isinstance(starts, Iterable):
        starts = [starts]
    segment = np.zeros(len(index), dtype=int)
    for pos in sorted({_positions_from(index, label) for label in starts} - {0}):
        segment[pos:] += 1
    return segment


def _partial_mask(given: pd.Index, index: pd.Index, partial: Any) -> np.ndarray:
    """Which points of the series (``index``: sorted as the chart is) are partial periods:
    from a boolean mask aligned with the values as given (``given``: their index), a
    boolean Series (by its index), or labels of the index."""
    if partial is None:
        return np.zeros(len(index), dtype=bool)
    if isinstance(partial, pd.Series) and partial.dtype == bool:
        return partial.reindex(index, fill_value=False).to_numpy(dtype=bool)
    arr = np.asarray(partial)
    if arr.dtype == bool:
        if len(arr) != len(given):
            raise ConfigError(
                f"partial has {len(arr)} flags for {len(given)} points",
                column="partial",
                hint="give one flag per value, or the labels of the partial points",
            )
        return pd.Series(arr, index=given).reindex(index).to_numpy(dtype=bool)
    labels = [partial] if isinstance(partial, str) or not isinstance(partial, Iterable) else partial
    missing = [label for label in labels if label not in index]
    if missing:
        raise ConfigError(
            f"cannot place the partial point {missing[0]!r} on the series' index",
            column="partial",
            hint="give labels of the series' index, or a boolean mask",
        )
    return index.isin(list(labels))
