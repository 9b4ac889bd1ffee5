"""The XmR chart frame (:func:`xmr`) and the assurance of a target against its limits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .inputs import _as_series, _baseline_mask, _check_better, _partial_mask, _segments
from .limits import D2, LIMIT_FACTOR, _moving_ranges, _segment_limits
from .rules import RULES, RUN_LENGTH, TREND_LENGTH, _classify, _signals, check_lengths

COLUMNS = (
    "x",
    "mr",
    "centre",
    "lower",
    "upper",
    "sigma",
    "segment",
    "baseline",
    *RULES,
    "signal",
    "side",
    "rules",
    "variation",
    "partial",
)


def xmr(
    values: pd.Series,
    *,
    better: str = "neither",
    baseline: slice | tuple[Any, Any] | None = None,
    recalc_from: Any | Iterable[Any] | None = None,
    target: float | None = None,
    floor: float | None = None,
    ceiling: float | None = None,
    screen_mr: bool = False,
    partial: Any | Iterable[Any] | np.ndarray | pd.Series | None = None,
    run: int = RUN_LENGTH,
    trend: int = TREND_LENGTH,
) -> pd.DataFrame:
    """XmR (individuals and moving range) chart of a KPI series, with signals.

    Parameters
    ----------
    values:
        The KPI's values in the KPI's unit (hours, %, counts...), indexed by
        period start (datetime) or by an integer; NaN = missing period. The
        index is sorted if it is not already; duplicate labels are an error.
    better:
        ``"higher"``, ``"lower"`` or ``"neither"``: drives the classification
        of signals into improvement and concern.
    baseline:
        Freeze the limits of the first segment on these points: a label slice
        of the index, inclusive at both ends, or a ``(start, end)`` pair
        (``("2025-01", "2025-06")`` covers January to June). Later points are
        judged against the frozen limits. ``None`` = all points of the segment.
    recalc_from:
        A label (or several) from which a new segment starts, with the limits
        recomputed from that segment's own points: use it when a sustained
        shift has been accepted as the new process.
    target:
        Optional target in the KPI's unit; added as a ``target`` column and
        used for ``chart.attrs["assurance"]`` (see :func:`assurance`).
    floor, ceiling:
        Clip the limits to these values (0 for counts, 0 and 100 for
        percentages). Not clipped by default.
    screen_mr:
        Leave out moving ranges above 3.267 x their mean before computing the
        limits (an option of the NHS tool for one-off spikes). Default False.
    partial:
        Points of periods that were not complete (a month that has only begun
        at the as-of date or at the end of the data): a boolean mask aligned
        with ``values``, or the labels of those points. They are kept in ``x``
        and drawn, but take no part in moving ranges, limits, rules or signals
        (their ``variation`` is ``"partial"``). ``None`` = every point complete.
    run, trend:
        Points on one side of the centre line (run) and rising or falling in a
        row (trend) that make a signal: 7 and 6 by default (DESIGN.md); a cycle
        sets them in ``cycle.yaml`` (``spc: {run: 7, trend: 6}``), each 5 to 12.
        The columns keep their names ``run_7`` and ``trend_6``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``values`` (sorted), one row per point, columns: ``x``,
        ``mr`` (moving range), ``centre``, ``lower``, ``upper`` (natural
        process limits), ``sigma`` (mean moving range / 1.128), ``segment``
        (0, 1, ...), ``baseline`` (point used for the limits), one boolean
        column per rule (``beyond_limits``, ``run_7``, ``trend_6``,
        ``two_of_three``), ``signal`` (any rule), ``side`` (``"high"`` /
        ``"low"`` for signals, else missing), ``rules`` (names of the rules
        fired, ``", "``-joined, ``""`` if none), ``variation``
        (``"improvement"``, ``"concern"``, ``"neither"``, ``"common cause"``,
        ``"partial"``; missing for missing points), ``partial`` (the point's
        period was not complete) and ``target`` if given. ``attrs`` hold
        ``better``, ``target``, ``assurance``, ``run`` and ``trend``.

        Fewer than 2 usable points in a segment: its limits are NaN and no
        signal is raised. A constant series: the limits equal the mean and
        no point is a signal.

    Notes
    -----
    When a point fires rules in both directions (e.g. the first points of a
    rising trend that are still below the centre line) its side comes from
    the first rule in the order beyond_limits, two_of_three, run_7, trend_6.

    Examples
    --------
    >>> s = pd.Series([10.0, 12, 11, 13, 12], index=range(5))
    >>> c = xmr(s, better="higher")
    >>> float(c["centre"].iloc[0]), float(round(c["upper"].iloc[0], 2))  # 11.6 + 2.66 * 1.5
    (11.6, 15.59)

    A partial last point is drawn but not judged, however far out it lies:

    >>> c = xmr(pd.Series([10.0, 12, 11, 13, 12, 40], index=range(6)), partial=[5])
    >>> c["variation"].iloc[-1], bool(c["signal"].iloc[-1]), float(c["centre"].iloc[-1])
    ('partial', False, 11.6)
    """
    _check_better(better)
    run, trend = check_lengths(run, trend)
    xs = _as_series(values)
    shown = xs.to_numpy(dtype="float64")
    is_partial = _partial_mask(values.index, xs.index, partial)
    x = np.where(is_partial, np.nan, shown)  # a partial point takes no part in the chart
    segment = _segments(xs.index, recalc_from)
    mr = _moving_ranges(x, segment)
    in_base = _baseline_mask(xs.index, baseline)
    centre, mean_mr, used = _segment_limits(x, mr, segment, in_base, screen_mr)
    lower = centre - LIMIT_FACTOR * mean_mr
    upper = centre + LIMIT_FACTOR * mean_mr
    if floor is not None:
        lower = np.where(np.isnan(lower), np.nan, np.maximum(lower, floor))
    if ceiling is not None:
        upper = np.where(np.isnan(upper), np.nan, np.minimum(upper, ceiling))
    sigma = mean_mr / D2
    flags = _signals(x, segment, centre, mean_mr, sigma, lower, upper, run=run, trend=trend)
    classified = _classify(flags, present=~np.isnan(x), better=better)
    classified["variation"] = [
        "partial" if p and not np.isnan(v) else c
        for p, v, c in zip(is_partial, shown, classified["variation"], strict=True)
    ]
    chart = pd.DataFrame(
        {
            "x": shown,
            "mr": mr,
            "centre": centre,
            "lower": lower,
            "upper": upper,
            "sigma": sigma,
            "segment": segment,
            "baseline": used,
            **{rule: flags[rule] != 0 for rule in RULES},
            **classified,
            "partial": is_partial,
        },
        index=xs.index,
    )
    if chart.index.name is None:
        chart.index.name = "period"
    chart.attrs["better"] = better
    chart.attrs["run"] = run
    chart.attrs["trend"] = trend
    chart.attrs["target"] = target
    if target is not None:
        chart["target"] = float(target)
        chart.attrs["assurance"] = assurance(chart, target=target, better=better)
    return chart


#: assurance outcome per better direction: (target below the limits, target above the limits)
_ASSURANCE: dict[str, tuple[str, str]] = {
    "higher": ("consistently passes", "consistently fails"),
    "lower": ("consistently fails", "consistently passes"),
    "neither": ("unknown", "unknown"),
}


def assurance(chart: pd.DataFrame, *, target: float | None, better: str) -> str:
    """Will the process, as it is now, meet the target?

    Uses the limits of the latest segment of ``chart`` (an :func:`xmr` frame).

    Parameters
    ----------
    chart:
        Output of :func:`xmr`.
    target:
        Target value in the KPI's unit; ``None``/NaN gives ``"no target"``.
    better:
        ``"higher"``, ``"lower"`` or ``"neither"``.

    Returns
    -------
    str
        ``"consistently passes"`` (the target lies outside the limits on the
        good side: every value the process produces meets it),
        ``"consistently fails"`` (outside on the bad side), ``"hit and miss"``
        (the target lies within the limits, inclusive), ``"no target"``, or
        ``"unknown"`` (no limits: too few points; or a KPI with no better
        direction whose target lies outside the limits).

    Examples
    --------
    >>> c = xmr(pd.Series([90.0, 92, 91, 93, 92]), better="higher")
    >>> assurance(c, target=80, better="higher")
    'consistently passes'
    """
    _check_better(better)
    if target is None or pd.isna(target):
        return "no target"
    if chart.empty:
        return "unknown"
    last = chart.iloc[-1]
    lower, upper = last["lower"], last["upper"]
    if pd.isna(lower) or pd.isna(upper):
        return "unknown"
    if target < lower:
        return _ASSURANCE[better][0]
    if target > upper:
        return _ASSURANCE[better][1]
    return "hit and miss"
