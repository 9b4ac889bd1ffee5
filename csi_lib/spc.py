"""Process-behaviour (XmR) charts, as in NHS England's "Making Data Count".

An XmR chart plots a KPI's values (X) over time with a centre line at their
mean and natural process limits at ``mean +/- 2.66 * mean moving range``. A
point is a *special cause* signal when one of four rules fires:

``beyond_limits``
    the point is above the upper or below the lower limit;
``run_7``
    it is part of a run of 7 or more points on the same side of the centre
    line (a point exactly on the centre line breaks the run);
``trend_6``
    it is part of 6 or more consecutive points all rising or all falling
    (two equal consecutive values break the trend);
``two_of_three``
    two of three consecutive points lie beyond 2 sigma on the same side of
    the centre line (the points beyond 2 sigma are flagged).

Each signal is classified from the KPI's better direction as
``"improvement"`` or ``"concern"`` (``"neither"`` when the KPI has no better
direction); a point without signal is ``"common cause"``.

Missing values (NaN) are *skipped*: they get no moving range, and the point
after a gap gets none either (no moving range is taken across a gap, because
the two values are not consecutive). For the run, trend and two-of-three
rules the gap is ignored: the points on either side of it are treated as
neighbours, so a gap neither breaks a run nor counts in it. Rules are
evaluated within a segment (see ``recalc_from``): a recalculation starts the
rules afresh, and no moving range is taken across a segment boundary.

Examples
--------
>>> import pandas as pd
>>> s = pd.Series([5.0, 6, 5, 7, 6, 5, 6, 14],
...               index=pd.date_range("2025-01-01", periods=8, freq="MS"))
>>> chart = xmr(s, better="lower", baseline=("2025-01", "2025-07"))
>>> float(round(chart["upper"].iloc[0], 2))  # 40/7 + 2.66 * 7/6
8.82
>>> chart["variation"].iloc[-1]
'concern'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from csi_lib.errors import ConfigError, InputError

#: Scaling constant from the mean moving range to the 3-sigma limits.
LIMIT_FACTOR = 2.66
#: d2 for moving ranges of two points: sigma = mean moving range / 1.128.
D2 = 1.128
#: Moving ranges above this multiple of the mean are screened out (if asked).
SCREEN_FACTOR = 3.267
RUN_LENGTH = 7
TREND_LENGTH = 6

BETTER = ("higher", "lower", "neither")
RULES = ("beyond_limits", "run_7", "trend_6", "two_of_three")

#: Plain-language names of the rules, for hover text and summaries.
RULE_LABELS: dict[str, str] = {
    "beyond_limits": "beyond a process limit",
    "run_7": f"run of {RUN_LENGTH} on one side of the centre line",
    "trend_6": f"trend of {TREND_LENGTH} rising or falling",
    "two_of_three": "2 of 3 points beyond 2 sigma",
}

#: Side of a signal (+1 high, -1 low) -> variation, per better direction.
_VARIATION: dict[str, dict[int, str]] = {
    "higher": {1: "improvement", -1: "concern"},
    "lower": {1: "concern", -1: "improvement"},
    "neither": {1: "neither", -1: "neither"},
}

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
)


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
    try:
        return int(index.slice_indexer(label, None).start or 0)
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"cannot place {label!r} on the series' index",
            column="recalc_from",
            hint="give a date (e.g. '2025-09-01') or a value of the series' index",
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
    try:
        positions = index.slice_indexer(baseline.start, baseline.stop)
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"cannot place the baseline {baseline.start!r} to {baseline.stop!r} on the series' index",
            column="baseline",
            hint="give dates (e.g. ('2025-01', '2025-06')) or values of the series' index",
        ) from exc
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


def _moving_ranges(x: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """|x[i] - x[i-1]| where both are present and in the same segment, else NaN."""
    mr = np.full(len(x), np.nan)
    if len(x) > 1:
        diff = np.abs(np.diff(x))  # NaN wherever either neighbour is missing
        same = segment[1:] == segment[:-1]
        mr[1:] = np.where(same, diff, np.nan)
    return mr


def _limits(
    x: np.ndarray, mr: np.ndarray, use: np.ndarray, screen_mr: bool
) -> tuple[float, float, int]:
    """Centre, mean moving range and usable point count from the points in ``use``."""
    xs = x[use & ~np.isnan(x)]
    if len(xs) < 2:
        return (float(xs.mean()) if len(xs) else np.nan), np.nan, len(xs)
    # a moving range counts only if both of its points are in ``use``
    mr_use = np.zeros(len(x), dtype=bool)
    mr_use[1:] = use[1:] & use[:-1]
    mrs = mr[mr_use & ~np.isnan(mr)]
    mean_mr = float(mrs.mean()) if len(mrs) else np.nan
    if screen_mr and len(mrs):
        kept = mrs[mrs <= SCREEN_FACTOR * mean_mr]
        mean_mr = float(kept.mean()) if len(kept) else mean_mr
    return float(xs.mean()), mean_mr, len(xs)


def _run_groups(sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group id and group length of runs of equal consecutive values."""
    s = pd.Series(sign)
    group = s.ne(s.shift()).cumsum()
    length = s.groupby(group).transform("size")
    return group.to_numpy(), length.to_numpy()


def _rules_for(x: np.ndarray, centre: np.ndarray, sigma: np.ndarray, lower, upper) -> dict:
    """Evaluate the four rules on the non-missing points of one segment.

    Returns, per rule, a signed int array: +1 high/rising, -1 low/falling, 0 none.
    """
    n = len(x)
    out = {rule: np.zeros(n, dtype=int) for rule in RULES}
    if n == 0:
        return out
    side = np.sign(np.nan_to_num(x - centre, nan=0.0)).astype(int)
    out["beyond_limits"] = np.where(x > upper, 1, np.where(x < lower, -1, 0))

    _, length = _run_groups(side)
    out["run_7"] = np.where((side != 0) & (length >= RUN_LENGTH), side, 0)

    if n >= TREND_LENGTH:
        step = np.sign(np.diff(x)).astype(int)  # step[k]: from point k to k+1
        _, slen = _run_groups(step)
        in_trend = (step != 0) & (slen >= TREND_LENGTH - 1)
        trend = np.zeros(n, dtype=int)
        for k in np.flatnonzero(in_trend):  # a rising step flags both of its points
            trend[k] = trend[k + 1] = step[k]
        out["trend_6"] = trend

    with np.errstate(invalid="ignore"):
        beyond2 = np.where(x > centre + 2 * sigma, 1, np.where(x < centre - 2 * sigma, -1, 0))
    two = np.zeros(n, dtype=int)
    for start in range(n - 2):
        window = beyond2[start : start + 3]
        for s in (1, -1):
            if (window == s).sum() >= 2:
                hits = start + np.flatnonzero(window == s)
                two[hits] = s
    out["two_of_three"] = two
    return out


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
        (``"improvement"``, ``"concern"``, ``"neither"``, ``"common cause"``;
        missing for missing points) and ``target`` if given. ``attrs`` hold
        ``better``, ``target`` and ``assurance``.

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
    """
    _check_better(better)
    xs = _as_series(values)
    x = xs.to_numpy(dtype="float64")
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
    flags = _signals(x, segment, centre, mean_mr, sigma, lower, upper)
    chart = pd.DataFrame(
        {
            "x": x,
            "mr": mr,
            "centre": centre,
            "lower": lower,
            "upper": upper,
            "sigma": sigma,
            "segment": segment,
            "baseline": used,
            **{rule: flags[rule] != 0 for rule in RULES},
            **_classify(flags, present=~np.isnan(x), better=better),
        },
        index=xs.index,
    )
    if chart.index.name is None:
        chart.index.name = "period"
    chart.attrs["better"] = better
    chart.attrs["target"] = target
    if target is not None:
        chart["target"] = float(target)
        chart.attrs["assurance"] = assurance(chart, target=target, better=better)
    return chart


def _segments(index: pd.Index, recalc_from: Any | Iterable[Any] | None) -> np.ndarray:
    """Segment number of each point (0, 1, ...): a new segment starts at each ``recalc_from``."""
    starts = [] if recalc_from is None else recalc_from
    if isinstance(starts, str) or not isinstance(starts, Iterable):
        starts = [starts]
    segment = np.zeros(len(index), dtype=int)
    for pos in sorted({_positions_from(index, label) for label in starts} - {0}):
        segment[pos:] += 1
    return segment


def _segment_limits(
    x: np.ndarray, mr: np.ndarray, segment: np.ndarray, in_base: np.ndarray, screen_mr: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre line and mean moving range of each point's segment, and the points used for them.

    The first segment's limits are frozen on its baseline points (all its points when
    the baseline lies in a later segment); later segments use all their own points.
    """
    n = len(x)
    centre = np.full(n, np.nan)
    mean_mr = np.full(n, np.nan)
    used = np.zeros(n, dtype=bool)
    for seg in np.unique(segment):
        here = segment == seg
        use = here & in_base if seg == 0 else here
        if seg == 0 and not use.any():
            use = here  # the baseline lies in a later segment: not frozen here
        c, m, _ = _limits(x, mr, use, screen_mr)
        centre[here] = c
        mean_mr[here] = m
        used |= use & ~np.isnan(x)
    return centre, mean_mr, used


def _signals(
    x: np.ndarray,
    segment: np.ndarray,
    centre: np.ndarray,
    mean_mr: np.ndarray,
    sigma: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per rule, +1 / -1 / 0 for each point (high, low, not fired), segment by segment.

    A segment with fewer than 2 usable points (no moving range) raises no signal.
    """
    flags = {rule: np.zeros(len(x), dtype=int) for rule in RULES}
    present = ~np.isnan(x)
    for seg in np.unique(segment):
        pos = np.flatnonzero((segment == seg) & present)
        if len(pos) == 0 or np.isnan(centre[pos[0]]) or np.isnan(mean_mr[pos[0]]):
            continue
        found = _rules_for(x[pos], centre[pos], sigma[pos], lower[pos], upper[pos])
        for rule in RULES:
            flags[rule][pos] = found[rule]
    return flags


def _classify(flags: dict[str, np.ndarray], *, present: np.ndarray, better: str) -> dict[str, Any]:
    """The ``signal``, ``side``, ``rules`` and ``variation`` columns from the rule flags."""
    side = np.zeros(len(present), dtype=int)
    for rule in RULES[:1] + ("two_of_three", "run_7", "trend_6"):
        side = np.where(side == 0, flags[rule], side)
    signal = side != 0
    sides = np.where(side > 0, "high", np.where(side < 0, "low", None))
    variation = np.where(
        ~present,
        None,
        np.where(
            signal,
            np.where(side > 0, _VARIATION[better][1], _VARIATION[better][-1]),
            "common cause",
        ),
    )
    return {
        "signal": signal,
        "side": list(sides),
        "rules": [", ".join(r for r in RULES if flags[r][i] != 0) for i in range(len(present))],
        "variation": list(variation),
    }


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


def _label_formatter(index: pd.Index):
    if isinstance(index, pd.DatetimeIndex):
        monthly = len(index) > 0 and bool(
            ((index.day == 1) & (index.hour == 0) & (index.minute == 0)).all()
        )
        fmt = "%Y-%m" if monthly else "%Y-%m-%d"
        return lambda label: pd.Timestamp(label).strftime(fmt)
    return lambda label: f"point {label}"


def _episodes(chart: pd.DataFrame, rule: str) -> list[tuple[int, int]]:
    """(first, last) row positions of consecutive flagged points of ``rule``.

    Runs and trends are reported as one episode; the other rules per point.
    Missing points inside a run do not split it.
    """
    flagged = chart[rule].to_numpy()
    present = chart["x"].notna().to_numpy()
    pos = np.flatnonzero(flagged)
    if rule not in ("run_7", "trend_6"):
        return [(p, p) for p in pos]
    episodes: list[tuple[int, int]] = []
    side = chart["side"].to_numpy()
    x = chart["x"].to_numpy()
    for p in pos:
        if episodes:
            a, b = episodes[-1]
            between = present[b + 1 : p]
            same_seg = chart["segment"].iat[p] == chart["segment"].iat[b]
            if rule == "trend_6":  # a rise followed by a fall is two trends
                same_way = a == b or np.sign(x[p] - x[b]) == np.sign(x[b] - x[a])
            else:
                same_way = side[p] == side[b]
            if not between.any() and same_seg and same_way:
                episodes[-1] = (a, p)
                continue
            if rule == "trend_6" and not between.any() and same_seg:
                episodes.append((b, p))  # the turning point belongs to both trends
                continue
        episodes.append((p, p))
    return episodes


def summary(chart: pd.DataFrame, better: str | None = None, *, target: float | None = None) -> dict:
    """Plain-language summary of an XmR chart.

    Parameters
    ----------
    chart:
        Output of :func:`xmr`.
    better:
        The KPI's better direction; defaults to ``chart.attrs["better"]``.
    target:
        Optional target (KPI unit) for the assurance; defaults to
        ``chart.attrs["target"]``.

    Returns
    -------
    dict
        ``latest_period`` (label of the last non-missing point),
        ``latest_value``, ``latest_variation``, ``centre``, ``lower``,
        ``upper`` (latest segment), ``assurance``, ``signals`` (a list of
        dicts: ``rule``, ``label``, ``start``, ``end``, ``points``, ``side``,
        ``variation``; runs and trends as one entry), and ``description``: one
        sentence about the most recent signal, e.g. "A sustained shift of 7
        points below the centre line since 2025-09: improvement."

    Examples
    --------
    >>> c = xmr(pd.Series([5.0, 5, 6, 5, 6, 5, 30]), better="lower")
    >>> summary(c)["description"]
    'A point above the upper process limit at point 6: concern.'
    """
    better = _check_better(better or chart.attrs.get("better", "neither"))
    if target is None:
        target = chart.attrs.get("target")
    fmt = _label_formatter(chart.index)
    present = chart[chart["x"].notna()] if not chart.empty else chart
    result: dict[str, Any] = {
        "latest_period": None,
        "latest_value": np.nan,
        "latest_variation": None,
        "centre": np.nan,
        "lower": np.nan,
        "upper": np.nan,
        "assurance": assurance(chart, target=target, better=better),
        "signals": [],
        "description": "No data to chart.",
    }
    if present.empty:
        return result
    last = present.iloc[-1]
    result.update(
        latest_period=present.index[-1],
        latest_value=float(last["x"]),
        latest_variation=last["variation"],
        centre=float(chart["centre"].iloc[-1]),
        lower=float(chart["lower"].iloc[-1]),
        upper=float(chart["upper"].iloc[-1]),
    )
    signals = []
    for rule in RULES:
        for a, b in _episodes(chart, rule):
            first, final = chart.iloc[a], chart.iloc[b]
            points = int(chart["x"].iloc[a : b + 1].notna().sum())
            if rule == "trend_6":
                direction = 1 if final["x"] > first["x"] else -1
            else:
                direction = 1 if final["x"] > final["centre"] else -1
            signals.append(
                {
                    "rule": rule,
                    "label": RULE_LABELS[rule],
                    "start": chart.index[a],
                    "end": chart.index[b],
                    "points": points,
                    "side": "high" if direction > 0 else "low",
                    "variation": _VARIATION[better][direction],
                    "_last": b,
                    "_first": a,
                }
            )
    signals.sort(key=lambda s: (s["_last"], s["_last"] - s["_first"]))
    last_pos = len(chart) - 1
    while last_pos > 0 and pd.isna(chart["x"].iloc[last_pos]):
        last_pos -= 1
    if not signals:
        if pd.isna(result["lower"]):
            result["description"] = (
                f"Too few points for process limits; the latest value is {last['x']:.4g}."
            )
        else:
            result["description"] = (
                f"Common cause variation only: the process is stable around "
                f"{result['centre']:.4g} (limits {result['lower']:.4g} to {result['upper']:.4g})."
            )
    else:
        s = signals[-1]
        ongoing = s["_last"] == last_pos
        where = "above" if s["side"] == "high" else "below"
        start, end = fmt(s["start"]), fmt(s["end"])
        when = f"since {start}" if ongoing and s["points"] > 1 else f"from {start} to {end}"
        texts = {
            "run_7": f"A sustained shift of {s['points']} points {where} the centre line {when}",
            "trend_6": f"A {'rising' if s['side'] == 'high' else 'falling'} trend of "
            f"{s['points']} points {when}",
            "beyond_limits": f"A point {where} the {'upper' if s['side'] == 'high' else 'lower'} "
            f"process limit at {end}",
            "two_of_three": f"A point close to the {'upper' if s['side'] == 'high' else 'lower'} "
            f"limit (2 of 3 beyond 2 sigma) at {end}",
        }
        result["description"] = f"{texts[s['rule']]}: {s['variation']}."
    for s in signals:
        del s["_last"], s["_first"]
    result["signals"] = signals
    return result
