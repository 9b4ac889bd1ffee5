"""Distance to the target, the share of the gap closed and the projection of when the target is reached."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import kinds

#: KPIs that measure how customers *feel* (reported beside the quantitative ones).
QUALITATIVE_KPIS: tuple[str, ...] = ("csat_mean", "pct_satisfied", "csat_response_rate")

#: Projection horizon, in periods of the cycle's frequency (36 months / weeks).
HORIZON = 36
#: Fewest action-period points for a projection.
MIN_POINTS_FOR_PROJECTION = 3

_STEP: dict[str, pd.DateOffset] = {
    "month": pd.DateOffset(months=1),
    "week": pd.DateOffset(weeks=1),
}
_PERIOD_FORMAT: dict[str, str] = {"month": "%B %Y", "week": "week of %d %B %Y"}


# --------------------------------------------------------------------------- distance, gap


def distance_to_target(
    value: float, *, kind: str, target_value: float, tolerance: float | None = None
) -> float:
    """How far ``value`` is from meeting a target, in the KPI's unit (0 = met, NaN = unknown):
    :func:`csi_lib.kinds.distance`.

    Examples
    --------
    >>> distance_to_target(34.0, kind="minimize", target_value=28.0)
    6.0
    >>> distance_to_target(4.5, kind="within", target_value=4.0, tolerance=0.3)
    0.2
    """
    return kinds.distance(kind, value, target_value, tolerance)


@dataclass(frozen=True)
class GapClosed:
    """Share of the gap between the baseline and the target closed so far.

    Attributes
    ----------
    share:
        Percent 0..100 (clipped: a move away from the target is 0, reaching
        or passing the target is 100); NaN when the baseline already met the
        target or a value is missing.
    text:
        The share in words ("50% of the gap closed", "target reached",
        "moved away from the target", ...).
    state:
        What happened, for code (never the words): ``"closing"``, ``"reached"``,
        ``"moved away"``, ``"held"`` (met at the baseline, still met), ``"lost"`` (met at
        the baseline, no longer), ``"no data"``, ``"no baseline"``.
    """

    share: float
    text: str
    state: str = "closing"


def gap_closed(
    baseline: float,
    current: float,
    *,
    kind: str,
    target_value: float,
    tolerance: float | None = None,
) -> GapClosed:
    """Share of the gap between the baseline value and the target closed by ``current``.

    ``share = 100 * (1 - distance(current) / distance(baseline))`` with the
    distances of :func:`distance_to_target`, clipped to 0..100.

    Examples
    --------
    Baseline 40 h, target 28 h, now 34 h: the gap is 12 h, 6 h of it closed.

    >>> gap_closed(40.0, 34.0, kind="minimize", target_value=28.0)
    GapClosed(share=50.0, text='50% of the gap closed', state='closing')
    >>> gap_closed(40.0, 44.0, kind="minimize", target_value=28.0).text
    'moved away from the target'
    """
    d_base = distance_to_target(baseline, kind=kind, target_value=target_value, tolerance=tolerance)
    d_now = distance_to_target(current, kind=kind, target_value=target_value, tolerance=tolerance)
    if math.isnan(d_now):
        return GapClosed(math.nan, "no data yet", "no data")
    if math.isnan(d_base):
        return GapClosed(math.nan, "no baseline value", "no baseline")
    if d_base == 0:
        if d_now == 0:
            return GapClosed(math.nan, "met at the baseline, still met", "held")
        return GapClosed(math.nan, "met at the baseline, no longer met", "lost")
    if d_now == 0:
        return GapClosed(100.0, "target reached", "reached")
    raw = 100.0 * (1.0 - d_now / d_base)
    if raw < 0:
        return GapClosed(0.0, "moved away from the target", "moved away")
    return GapClosed(raw, f"{raw:.0f}% of the gap closed", "closing")


# --------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class Projection:
    """When a target will be reached at the current trend.

    Attributes
    ----------
    status:
        ``"already reached"``, ``"projected"``, ``"not at the current rate"``,
        ``"too early"`` or ``"no data"``.
    date:
        The start of the period in which the fitted line meets the target
        (``"projected"`` only).
    slope:
        The trend in the KPI's unit per period (month or week); NaN if not fitted.
    text:
        In words, e.g. "by about March 2026 at the current rate".
    """

    status: str
    date: pd.Timestamp | None
    slope: float
    text: str


def projection(
    values: pd.Series,
    *,
    kind: str,
    target_value: float,
    tolerance: float | None = None,
    freq: str = "month",
    horizon: int = HORIZON,
) -> Projection:
    """Project when the target is reached, by a straight line through the action-period values.

    Parameters
    ----------
    values:
        The KPI per period over the action period so far (KPI unit), indexed
        by period start; NaN periods are left out of the fit.
    kind, target_value, tolerance:
        The target (see :func:`distance_to_target`).
    freq:
        ``"month"`` or ``"week"``: the step between periods.
    horizon:
        How many periods ahead to look before answering "not at the current rate".

    Returns
    -------
    Projection
        ``"already reached"`` when the latest period meets the target;
        ``"too early"`` with fewer than 3 values; else the first period whose
        fitted value (``numpy.polyfit``, degree 1, over the period positions)
        meets the target, or ``"not at the current rate"``.

    Examples
    --------
    40, 38, 36 h a month, target 30 h: the line loses 2 h a month and is at
    36 h in March, so it reaches 30 h three months later, in June.

    >>> s = pd.Series([40.0, 38, 36], index=pd.date_range("2025-01-01", periods=3, freq="MS"))
    >>> projection(s, kind="minimize", target_value=30).text
    'by about June 2025 at the current rate'
    """
    v = pd.Series(values, dtype="float64").dropna()
    fmt = _PERIOD_FORMAT.get(freq, "%Y-%m-%d")
    if v.empty:
        return Projection("no data", None, math.nan, "no data yet")
    last = distance_to_target(v.iloc[-1], kind=kind, target_value=target_value, tolerance=tolerance)
    if last == 0:
        when = _when(v.index[-1], fmt)
        return Projection("already reached", None, math.nan, f"already reached ({when})")
    if len(v) < MIN_POINTS_FOR_PROJECTION:
        return Projection(
            "too early",
            None,
            math.nan,
            f"too early to project ({len(v)} of {MIN_POINTS_FOR_PROJECTION} periods needed)",
        )
    present = pd.Series(values, dtype="float64").notna().to_numpy()
    x = np.flatnonzero(present).astype("float64")  # period positions, gaps kept
    slope, intercept = np.polyfit(x, v.to_numpy(), 1)
    ahead = np.arange(1, horizon + 1)
    fitted = intercept + slope * (x[-1] + ahead)
    met = [
        distance_to_target(y, kind=kind, target_value=target_value, tolerance=tolerance) == 0
        for y in fitted
    ]
    if not any(met):
        return Projection("not at the current rate", None, float(slope), "not at the current rate")
    k = int(ahead[met.index(True)])
    start = v.index[-1]
    date = start + k * _STEP[freq] if isinstance(start, pd.Timestamp) else None
    when = _when(date, fmt) if date is not None else f"{k} periods after the last one"
    return Projection("projected", date, float(slope), f"by about {when} at the current rate")


def _when(label: Any, fmt: str) -> str:
    return pd.Timestamp(label).strftime(fmt) if isinstance(label, pd.Timestamp) else str(label)
