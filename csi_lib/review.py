"""Stages 4 and 5: "Take action" (are we moving?) and "Did we get there?".

Stage 4 follows each target of a cycle while the initiatives run: the KPI's
monthly series over the baseline and the action period so far on an XmR
chart whose limits are *frozen* on the baseline months, the share of the gap
between the baseline value and the target closed so far, and when the target
will be reached at the current trend. It can run any day (``as_of``); before
the action period starts it says so instead of failing.

Stage 5 judges each target over the review period: baseline value, value
over the review period, met or not (:func:`csi_lib.targets.target_met`), and
whether the change is *real*, from two independent pieces of evidence:

(a) a special-cause signal on the XmR chart (baseline-frozen limits) during
    the action and review months, and
(b) the statistical test of :func:`csi_lib.evidence.compare` on the
    per-request observations of the baseline and the review period.

They combine into a verdict (:data:`VERDICTS`): "real improvement", "likely
improvement", "no evidence of change", "likely deterioration", "real
deterioration", "mixed evidence" or "not enough data", and into one
plain-language conclusion per target and a headline for the cycle, which
:func:`write_summary` saves for the report's cover page.

Examples
--------
>>> from csi_lib.cycle import open_cycle
>>> from csi_lib import review
>>> cycle = open_cycle("data/sample-cycle", as_of="2026-04-15")     # doctest: +SKIP
>>> rv = review.assess(cycle)                                      # doctest: +SKIP
>>> review.review_table(rv)[["target", "baseline", "review", "met", "verdict"]]  # doctest: +SKIP
>>> review.headline(rv)                                            # doctest: +SKIP
'4 of 5 targets met; 4 show a real improvement, 1 no evidence of change.'
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import kpis as kpi_engine
from .errors import CsiError
from .evidence import Evidence, compare
from .periods import Period
from .present import MISSING, present
from .spc import RULES, xmr
from .storage import atomic_write
from .tables import format_value
from .targets import target_met

__all__ = [
    "QUALITATIVE_KPIS",
    "VERDICTS",
    "GapClosed",
    "Projection",
    "TargetReview",
    "CycleReview",
    "assess",
    "distance_to_target",
    "gap_closed",
    "projection",
    "verdict",
    "progress_note",
    "progress_table",
    "review_note",
    "review_table",
    "qualitative_table",
    "breakdowns",
    "conclusion",
    "conclusions",
    "conclusions_text",
    "headline",
    "outlook",
    "summary",
    "write_summary",
    "target_chart",
    "targets_chart",
]

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
    """How far ``value`` is from meeting a target, in the KPI's unit (0 = met, NaN = unknown).

    ``minimize`` / ``maintain_below``: ``max(0, value - target)``;
    ``maximize`` / ``maintain_above``: ``max(0, target - value)``;
    ``within``: ``max(0, |value - target| - tolerance)``.

    Examples
    --------
    >>> distance_to_target(34.0, kind="minimize", target_value=28.0)
    6.0
    >>> distance_to_target(4.5, kind="within", target_value=4.0, tolerance=0.3)
    0.2
    """
    if value is None or target_value is None or pd.isna(value) or pd.isna(target_value):
        return math.nan
    return float(round(_DISTANCE[kind](float(value), float(target_value), tolerance or 0.0), 12))


_DISTANCE: dict[str, Callable[[float, float, float], float]] = {
    "minimize": lambda v, t, tol: max(0.0, v - t),
    "maintain_below": lambda v, t, tol: max(0.0, v - t),
    "maximize": lambda v, t, tol: max(0.0, t - v),
    "maintain_above": lambda v, t, tol: max(0.0, t - v),
    "within": lambda v, t, tol: max(0.0, abs(v - t) - tol),
}


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
    """

    share: float
    text: str


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
    GapClosed(share=50.0, text='50% of the gap closed')
    >>> gap_closed(40.0, 44.0, kind="minimize", target_value=28.0).text
    'moved away from the target'
    """
    d_base = distance_to_target(baseline, kind=kind, target_value=target_value, tolerance=tolerance)
    d_now = distance_to_target(current, kind=kind, target_value=target_value, tolerance=tolerance)
    if math.isnan(d_now):
        return GapClosed(math.nan, "no data yet")
    if math.isnan(d_base):
        return GapClosed(math.nan, "no baseline value")
    if d_base == 0:
        text = (
            "met at the baseline, still met" if d_now == 0 else "met at the baseline, no longer met"
        )
        return GapClosed(math.nan, text)
    if d_now == 0:
        return GapClosed(100.0, "target reached")
    raw = 100.0 * (1.0 - d_now / d_base)
    if raw < 0:
        return GapClosed(0.0, "moved away from the target")
    return GapClosed(raw, f"{raw:.0f}% of the gap closed")


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


# --------------------------------------------------------------------------- verdict

#: Verdict of a (chart evidence, test evidence) pair; each is "improvement",
#: "concern", "change" (no better direction), "none" (no signal / not
#: significant) or "n/a" (no limits / no test possible).
VERDICTS: dict[tuple[str, str], str] = {
    ("improvement", "improvement"): "real improvement",
    ("concern", "concern"): "real deterioration",
    ("improvement", "concern"): "mixed evidence",
    ("concern", "improvement"): "mixed evidence",
    ("none", "none"): "no evidence of change",
    ("none", "n/a"): "no evidence of change",
    ("n/a", "none"): "no evidence of change",
    ("n/a", "n/a"): "not enough data",
}
#: Verdict when only one of the two pieces of evidence points somewhere.
_ONE_SIDED: dict[str, str] = {
    "improvement": "likely improvement",
    "concern": "likely deterioration",
    "change": "real change",
}
_TEST_EVIDENCE: dict[str, str] = {
    "improved": "improvement",
    "worsened": "concern",
    "no change": "none",
    "n/a": "n/a",
}


def verdict(chart_evidence: str, test_evidence: str) -> str:
    """Combine the XmR chart's and the statistical test's evidence into one verdict.

    Examples
    --------
    >>> verdict("improvement", "improvement"), verdict("none", "none")
    ('real improvement', 'no evidence of change')
    >>> verdict("improvement", "none")
    'likely improvement'
    """
    if (chart_evidence, test_evidence) in VERDICTS:
        return VERDICTS[(chart_evidence, test_evidence)]
    for side in (chart_evidence, test_evidence):
        if side in _ONE_SIDED:
            return _ONE_SIDED[side]
    return "no evidence of change"


def _test_evidence(ev: Evidence | None) -> str:
    if ev is None:
        return "n/a"
    if ev.direction == "n/a" and ev.significant:
        return "change"
    return _TEST_EVIDENCE.get(ev.direction, "n/a")


# --------------------------------------------------------------------------- per target


_FLOOR_CEILING: dict[str, tuple[float | None, float | None]] = {
    "%": (0.0, 100.0),
    "hours": (0.0, None),
    "requests": (0.0, None),
    "ratio": (0.0, None),
    "score": (None, None),
}
#: Rule of a signal -> phrase, most telling first.
_SIGNAL_PHRASES: dict[str, str] = {
    "beyond_limits": "a shift beyond the baseline's natural process limits since {start}",
    "run_7": "a sustained shift since {start}",
    "trend_6": "a steady trend since {start}",
    "two_of_three": "close to the process limit in {start}",
}

#: The same for an episode of a single point.
_SINGLE_POINT_PHRASES: dict[str, str] = {
    "beyond_limits": "a point beyond the baseline's natural process limits in {start}",
}


def _phrase(signal: dict[str, Any], freq: str) -> str:
    start = _when(signal["start"], _PERIOD_FORMAT.get(freq, "%Y-%m-%d"))
    phrases = _SINGLE_POINT_PHRASES if signal["points"] == 1 else {}
    return phrases.get(signal["rule"], _SIGNAL_PHRASES[signal["rule"]]).format(start=start)


@dataclass
class TargetReview:
    """One target of a cycle, measured for stages 4 and 5.

    Values are in the KPI's unit (hours, %, counts, score); NaN = no data.

    Attributes
    ----------
    target, kpi:
        The :class:`~csi_lib.targets.Target` and its :class:`~csi_lib.kpis.KPI`.
    target_value:
        The absolute value asked for (a relative target resolved on the baseline).
    baseline_value, action_value, review_value:
        The KPI over the whole baseline, the action period so far and the
        review period so far (NaN when the period has not started).
    series:
        ``period_start``, ``period_end``, ``value``, ``n``, ``phase``
        (baseline / action / review) from the baseline start to ``as_of``.
    chart:
        The XmR frame of the series (:func:`csi_lib.spc.xmr`) with limits
        frozen on the baseline periods and the target, or None (too few points).
    initiatives:
        ``[{"id", "title", "status"}]`` of the plan's initiatives serving the target.
    problem:
        Why the target could not be measured (e.g. a scope value not in the data).
    compared:
        The period the verdict is on: ``"review"``; ``"action"`` while only the
        action period has data (a provisional verdict); None before it.
        ``met``, ``evidence`` and ``verdict`` compare the baseline with it, and
        ``compared_value`` is the KPI over it so far.
    """

    target: Any
    kpi: Any
    periods: dict[str, Period | None]
    freq: str = "month"
    target_value: float = math.nan
    baseline_value: float = math.nan
    baseline_n: int = 0
    action_value: float = math.nan
    review_value: float = math.nan
    review_n: int = 0
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    chart: pd.DataFrame | None = None
    initiatives: list[dict[str, str]] = field(default_factory=list)
    problem: str | None = None
    data: pd.DataFrame | None = field(default=None, repr=False)
    compared: str | None = "review"

    # ---- labels
    @property
    def id(self) -> str:
        return str(self.target.id)

    @property
    def label(self) -> str:
        """KPI label with its scope, e.g. "Median fulfilment time (Laptop)"."""
        scope = self.target.scope or {}
        values = [v for val in scope.values() for v in (val if isinstance(val, list) else [val])]
        return f"{self.kpi.label} ({', '.join(values)})" if values else str(self.kpi.label)

    def fmt(self, value: float) -> str:
        """``value`` with the KPI's unit (:func:`csi_lib.tables.format_value`)."""
        return format_value(value, self.kpi.unit, self.kpi.decimals)

    @property
    def target_text(self) -> str:
        text = self.fmt(self.target_value)
        if self.target.kind == "within" and self.target.tolerance is not None:
            text += f" ± {format_value(self.target.tolerance, self.kpi.unit, self.kpi.decimals)}"
        return text

    # ---- stage 4
    @property
    def gap(self) -> GapClosed:
        """Share of the gap closed by the value over the action period so far."""
        return self.gap_closed_by(self.action_value)

    def gap_closed_by(self, value: float) -> GapClosed:
        """Share of the gap between the baseline value and the target closed by ``value``."""
        return gap_closed(
            self.baseline_value,
            value,
            kind=self.target.kind,
            target_value=self.target_value,
            tolerance=self.target.tolerance,
        )

    @property
    def projection(self) -> Projection:
        action = self.series[self.series["phase"] == "action"] if len(self.series) else None
        if action is None or action.empty:
            return Projection("no data", None, math.nan, "the action period has not started")
        if self.gap.text == "met at the baseline, still met":
            return Projection("already reached", None, math.nan, "held so far")
        values = pd.Series(
            action["value"].to_numpy(), index=pd.DatetimeIndex(action["period_start"])
        )
        return projection(
            values,
            kind=self.target.kind,
            target_value=self.target_value,
            tolerance=self.target.tolerance,
            freq=self.freq,
        )

    # ---- stage 5
    @property
    def compared_value(self) -> float:
        """The KPI over the compared period so far (``review_value`` or ``action_value``; NaN)."""
        return {"review": self.review_value, "action": self.action_value}.get(
            self.compared or "", math.nan
        )

    @property
    def compared_period(self) -> Period | None:
        """The period the verdict is on (so far), or None before the action period."""
        return self.periods.get(self.compared) if self.compared else None

    @property
    def latest_gap(self) -> GapClosed:
        """Share of the gap closed by the value over the compared period so far."""
        return self.gap_closed_by(self.compared_value)

    @property
    def met(self) -> bool | None:
        """Whether the value over the compared period (the review period; the action period so
        far before it starts) meets the target; None before the action period starts."""
        if self.compared_period is None or pd.isna(self.compared_value):
            return None
        return target_met(
            self.target.kind, self.compared_value, self.target_value, self.target.tolerance
        )

    def signals(self) -> list[dict[str, Any]]:
        """Special-cause episodes after the baseline: ``rule``, ``start``, ``end``, ``points``, ``variation``."""
        if self.chart is None or self.chart.empty:
            return []
        after = self.chart[self.series["phase"].to_numpy() != "baseline"]
        out = []
        for rule in RULES:
            flagged = after[after[rule]]
            for variation, part in flagged.groupby("variation", sort=False):
                out.append(
                    {
                        "rule": rule,
                        "start": part.index.min(),
                        "end": part.index.max(),
                        "points": len(part),
                        "variation": variation,
                    }
                )
        return sorted(out, key=lambda s: (s["start"], list(RULES).index(s["rule"])))

    @property
    def chart_evidence(self) -> str:
        """ "improvement", "concern", "change" (KPI without better direction), "none" or "n/a"."""
        if self.chart is None or self.chart["lower"].isna().all():
            return "n/a"
        found = {s["variation"] for s in self.signals()}
        if {"improvement", "concern"} <= found:
            latest = max(self.signals(), key=lambda s: s["end"])
            return latest["variation"]
        for variation, evidence in (
            ("improvement", "improvement"),
            ("concern", "concern"),
            ("neither", "change"),
        ):
            if variation in found:
                return evidence
        return "none"

    def signal_phrase(self, variation: str | None = None) -> str:
        """The most telling post-baseline signal in words ("a sustained shift since September 2025")."""
        wanted = variation or {"improvement": "improvement", "concern": "concern"}.get(
            self.chart_evidence, "neither"
        )
        candidates = [s for s in self.signals() if s["variation"] == wanted]
        if not candidates:
            return ""
        order = list(_SIGNAL_PHRASES)
        best = min(candidates, key=lambda s: (order.index(s["rule"]), s["start"]))
        return _phrase(best, self.freq)

    @functools.cached_property
    def evidence(self) -> Evidence | None:
        """The statistical test baseline vs the compared period (None before the action period)."""
        review, base = self.compared_period, self.periods.get("baseline")
        if review is None or base is None or self.data is None:
            return None
        if self.kpi.func is not None:  # combines populations: no per-request values
            empty = pd.Series(dtype="float64")
            return compare(empty, empty, kind="ratio", better=self.kpi.better)
        return compare(
            kpi_engine.observations(self.data, base, self.kpi.key),
            kpi_engine.observations(self.data, review, self.kpi.key),
            kind=self.kpi.kind,
            better=self.kpi.better,
            baseline_days=base.days,
            review_days=review.days,
        )

    @property
    def verdict(self) -> str:
        if self.compared_period is None:
            return "review not started"
        return verdict(self.chart_evidence, _test_evidence(self.evidence))


def _value_n(df: pd.DataFrame, period: Period | None, key: str) -> tuple[float, int]:
    if period is None:
        return math.nan, 0
    table = kpi_engine.kpi_table(df, period, kpis=[key])
    if table.empty:
        return math.nan, 0
    n = table["n"].iloc[0]
    return float(table["value"].iloc[0]), int(0 if pd.isna(n) else n)


def _phase(starts: pd.Series, periods: dict[str, Period | None]) -> np.ndarray:
    phase = np.full(len(starts), "baseline", dtype=object)
    for name in ("action", "review"):
        p = periods.get(name)
        if p is not None:
            phase[(starts >= p.start).to_numpy()] = name
    return phase


def _assess_target(
    target: Any,
    df: pd.DataFrame,
    periods: dict[str, Period | None],
    freq: str,
    plan: Any,
    compared: str | None = "review",
) -> TargetReview:
    kpi = kpi_engine.get_kpi(target.kpi)
    review = TargetReview(target=target, kpi=kpi, periods=periods, freq=freq, compared=compared)
    review.initiatives = [
        {"id": i.id, "title": i.title, "status": i.status}
        for i in getattr(plan, "initiatives", [])
        if target.id in i.targets
    ]
    try:
        scoped = kpi_engine.scope_filter(df, target.scope)
    except CsiError as exc:
        review.problem = exc.message
        return review
    from .targets import resolve_target_value

    review.data = scoped
    review.baseline_value, review.baseline_n = _value_n(scoped, periods["baseline"], kpi.key)
    review.action_value, _ = _value_n(scoped, periods.get("action"), kpi.key)
    review.review_value, review.review_n = _value_n(scoped, periods.get("review"), kpi.key)
    review.target_value = resolve_target_value(target, review.baseline_value)
    end = max(p.end for p in periods.values() if p is not None)
    series = kpi_engine.kpi_series(
        scoped, Period(periods["baseline"].start, end), freq=freq, kpis=[kpi.key]
    ).reset_index(drop=True)
    series["phase"] = _phase(series["period_start"], periods)
    review.series = series
    values = pd.Series(
        series["value"].to_numpy(dtype="float64"), index=pd.DatetimeIndex(series["period_start"])
    )
    base_labels = values.index[series["phase"].to_numpy() == "baseline"]
    if values[base_labels].notna().sum() >= 2:
        floor, ceiling = _FLOOR_CEILING.get(kpi.unit, (None, None))
        review.chart = xmr(
            values,
            better=kpi.better,
            baseline=slice(base_labels[0], base_labels[-1]),
            target=None if pd.isna(review.target_value) else review.target_value,
            floor=floor,
            ceiling=ceiling,
        )
    return review


# --------------------------------------------------------------------------- per cycle


class CycleReview:
    """Every target of a cycle measured once (series, charts, tests are cached).

    Build it with :func:`assess`; every table function of this module takes
    either a :class:`~csi_lib.cycle.Cycle` or a ``CycleReview``.
    """

    def __init__(self, cycle: Any) -> None:
        self.cycle = cycle
        self.freq = cycle.config.freq
        self.status = {name: cycle.status(name) for name in ("baseline", "action", "review")}
        self.periods: dict[str, Period | None] = {
            name: (cycle.periods[name] if self.status[name] != "not started" else None)
            for name in ("baseline", "action", "review")
        }
        self.standing = cycle.standing
        self.phase = self.standing.phase
        #: the period verdicts are on: the review period, or the action period so far before it
        self.compared: str | None = next(
            (n for n in ("review", "action") if self.periods[n] is not None), None
        )
        self._targets: dict[str, TargetReview] = {}

    @property
    def target_ids(self) -> list[str]:
        return [t.id for t in self.cycle.targets.targets]

    def target(self, target_id: str) -> TargetReview:
        """The :class:`TargetReview` of one target (computed once)."""
        if target_id not in self._targets:
            found = [t for t in self.cycle.targets.targets if t.id == target_id]
            if not found:
                from .errors import ConfigError

                raise ConfigError(
                    f"the cycle has no target '{target_id}'",
                    file=str(self.cycle.dir / "targets.yaml"),
                    hint="known targets: " + ", ".join(self.target_ids),
                )
            self._targets[target_id] = _assess_target(
                found[0], self.cycle.data, self.periods, self.freq, self.cycle.plan, self.compared
            )
        return self._targets[target_id]

    def __iter__(self):
        return (self.target(i) for i in self.target_ids)

    def planned(self, name: str) -> Period:
        return self.cycle.planned_periods[name]


def assess(cycle: Any) -> CycleReview:
    """Measure every target of ``cycle`` (a :class:`~csi_lib.cycle.Cycle`) for stages 4 to 6.

    Examples
    --------
    >>> rv = assess(open_cycle("data/sample-cycle", as_of="2025-11-15"))  # doctest: +SKIP
    """
    return cycle if isinstance(cycle, CycleReview) else CycleReview(cycle)


def _date(period: Period) -> str:
    return period.label.split(" to ")[0]


# --------------------------------------------------------------------------- stage 4 tables


def progress_note(cycle: Any) -> str:
    """One markdown paragraph: where the cycle stands as of its ``as_of`` date.

    Examples
    --------
    >>> progress_note(open_cycle("data/sample-cycle", as_of="2025-05-01"))  # doctest: +SKIP
    'The action period has not started: it runs from 2025-07-01 ...'
    """
    rv = assess(cycle)
    action = rv.planned("action")
    as_of = rv.cycle.as_of
    if rv.status["action"] == "not started":
        return (
            f"**The action period has not started**: it runs {action.label} "
            f"(as of {as_of}). Progress against the targets is shown once it starts."
        )
    state = "is under way" if rv.status["action"] == "in progress" else "is over"
    return (
        f"The action period ({action.label}) {state}; values below are as of "
        f"{as_of or 'the end of the data'}. Process limits are frozen on the baseline "
        f"({rv.planned('baseline').label})."
    )


_PROGRESS_COLUMNS = [
    "target",
    "kpi",
    "label",
    "kind",
    "baseline",
    "target_value",
    "current",
    "gap_closed_pct",
    "progress",
    "projection",
    "latest_signal",
    "initiatives",
]


def _initiatives_text(tr: TargetReview) -> str:
    return "; ".join(f"{i['id']} {i['title']} ({i['status']})" for i in tr.initiatives) or "none"


def _latest_signal(tr: TargetReview) -> str:
    signals = tr.signals()
    if not signals:
        return "no signal" if tr.chart is not None else "too few points for limits"
    latest = max(signals, key=lambda s: (s["end"], s["start"]))
    return f"{_phrase(latest, tr.freq)} ({latest['variation']})"


def _signal_json(tr: TargetReview) -> dict[str, str] | None:
    """summary.json's ``signal``: the latest special-cause signal after the baseline, or None."""
    signals = tr.signals()
    if not signals:
        return None
    latest = max(signals, key=lambda s: (s["end"], s["start"]))
    return {"text": _latest_signal(tr), "variation": str(latest["variation"])}


def progress_table(cycle: Any, *, formatted: bool = False) -> pd.DataFrame:
    """Stage 4: per target, the value over the action period so far against the baseline and target.

    Parameters
    ----------
    cycle:
        A :class:`~csi_lib.cycle.Cycle` (opened with ``as_of``) or a :class:`CycleReview`.
    formatted:
        A table for readers (:func:`csi_lib.present.present`): headers in
        words, values with units, no index, without the KPI key and kind.

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target``, ``kpi``, ``label``, ``kind``,
        ``baseline``, ``target_value``, ``current`` (action period so far),
        ``gap_closed_pct`` (0..100), ``progress`` (in words),
        ``projection`` (when the target is reached at the current trend),
        ``latest_signal`` and ``initiatives`` (id, title and status of the
        plan's initiatives serving the target). Empty, with
        ``attrs["note"]``, before the action period starts.

    Examples
    --------
    >>> progress_table(open_cycle("data/sample-cycle", as_of="2025-11-15"))  # doctest: +SKIP
    """
    rv = assess(cycle)
    if rv.status["action"] == "not started":
        table = pd.DataFrame(columns=_PROGRESS_COLUMNS)
        table.attrs["note"] = progress_note(rv)
        return table
    rows = []
    for tr in rv:
        gap = tr.gap
        rows.append(
            {
                "target": tr.id,
                "kpi": tr.kpi.key,
                "label": tr.label,
                "kind": tr.target.kind,
                "baseline": tr.fmt(tr.baseline_value) if formatted else tr.baseline_value,
                "target_value": tr.target_text if formatted else tr.target_value,
                "current": tr.fmt(tr.action_value) if formatted else tr.action_value,
                "gap_closed_pct": (
                    ("—" if math.isnan(gap.share) else f"{gap.share:.0f} %")
                    if formatted
                    else gap.share
                ),
                "progress": tr.problem or gap.text,
                "projection": tr.projection.text,
                "latest_signal": _latest_signal(tr),
                "initiatives": _initiatives_text(tr),
            }
        )
    table = pd.DataFrame(rows, columns=_PROGRESS_COLUMNS)
    table.attrs["note"] = progress_note(rv)
    if formatted:  # for reading: headers in words, units, no index (csi_lib.present)
        table = present(table, drop=("kpi", "kind"))
    return table


def target_chart(cycle: Any, target_id: str):
    """The XmR chart of one target: baseline-frozen limits, target line, phases (plotly Figure).

    Examples
    --------
    >>> target_chart(cycle, "T1")   # doctest: +SKIP
    """
    from .charts.review import target_figure

    return target_figure(assess(cycle).target(target_id))


def targets_chart(cycle: Any):
    """Every target's XmR chart through the cycle in one figure (one row per target)."""
    from .charts.review import targets_figure

    return targets_figure(list(assess(cycle)))


# --------------------------------------------------------------------------- stage 5 tables


def review_note(cycle: Any) -> str:
    """One markdown paragraph: which periods are compared and how final the verdict is.

    By the cycle's phase (:mod:`csi_lib.phases`): before the action period it
    says when there will be something to judge; during the action and review
    periods the verdict is labelled *provisional*, on the months so far, with
    the date the final verdict is due; after the review period it is final.

    Examples
    --------
    >>> review_note(open_cycle("data/sample-cycle", as_of="2025-10-15"))   # doctest: +SKIP
    '**Provisional verdict, on the action period so far.** ...'
    """
    rv = assess(cycle)
    c = rv.standing.config
    base = rv.planned("baseline").label
    due = rv.standing.verdict_due
    if rv.compared is None:
        return (
            f"**Nothing to judge yet.** As of {rv.cycle.as_of} the action period has not "
            f"started: it runs {c.action.from_} to {c.action.to}. From {c.action.from_} this "
            "stage shows a provisional verdict on the months so far; the final verdict, which "
            f"compares the baseline with the review period ({c.review.from_} to {c.review.to}), "
            f"is due on {due}."
        )
    so_far = rv.periods[rv.compared].label
    if rv.compared == "action":
        return (
            "**Provisional verdict, on the action period so far.** The review period has not "
            f"started (it runs {c.review.from_} to {c.review.to}), so the baseline ({base}) is "
            f"compared with the action months so far ({so_far}). These are early readings, not "
            f"the review: the final verdict is due on {due}, when the review period ends."
        )
    if rv.phase.provisional:
        return (
            "**Provisional verdict, on the review period so far.** The baseline "
            f"({base}) is compared with the review months so far ({so_far}); the review period "
            f"runs to {c.review.to}. The final verdict is due on {due}, when it ends."
        )
    return (
        f"The baseline ({base}) is compared with the review period ({so_far}). "
        "The review period is over: the verdicts are final."
    )


_REVIEW_COLUMNS = [
    "target",
    "kpi",
    "label",
    "measure",
    "kind",
    "baseline",
    "review",
    "target_value",
    "change",
    "change_pct",
    "met",
    "chart_evidence",
    "test",
    "p_value",
    "verdict",
    "evidence",
]


def _review_row(tr: TargetReview, formatted: bool) -> dict[str, Any]:
    change = tr.compared_value - tr.baseline_value
    pct = 100 * change / tr.baseline_value if tr.baseline_value else math.nan
    ev = tr.evidence
    met = tr.met
    measure = "qualitative" if tr.kpi.key in QUALITATIVE_KPIS else "quantitative"
    row = {
        "target": tr.id,
        "kpi": tr.kpi.key,
        "label": tr.label,
        "measure": measure,
        "kind": tr.target.kind,
        "baseline": tr.baseline_value,
        "review": tr.compared_value,
        "target_value": tr.target_value,
        "change": change,
        "change_pct": pct,
        "met": met,
        "chart_evidence": tr.signal_phrase() or tr.chart_evidence,
        "test": ev.test if ev is not None else "",
        "p_value": ev.p_value if ev is not None else math.nan,
        "verdict": tr.problem or tr.verdict,
        "evidence": ev.wording if ev is not None else "",
    }
    if formatted:
        row.update(
            baseline=tr.fmt(tr.baseline_value),
            review=tr.fmt(tr.compared_value),
            target_value=tr.target_text,
            change=_signed(change, tr),
            met={True: "met", False: "not met", None: "—"}[met],
            p_value="—" if pd.isna(row["p_value"]) else _p_text(row["p_value"]),
        )
    return row


def _signed(value: float, tr: TargetReview) -> str:
    if pd.isna(value):
        return "—"
    return ("+" if value > 0 else "−" if value < 0 else "±") + tr.fmt(abs(value))


def _p_text(p: float) -> str:
    from .evidence import format_p

    return format_p(p)


def review_table(cycle: Any, *, formatted: bool = False) -> pd.DataFrame:
    """Stage 5: per target, baseline against review, met or not, and whether the change is real.

    During the action period (before the review starts) the ``review`` column
    holds the action period so far and the verdict is provisional; so it is
    during the review period (the review so far). ``attrs["compared"]`` names
    the period (``"action"``, ``"review"`` or None before the action period)
    and ``attrs["provisional"]`` says whether the verdict can still change.

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target``, ``kpi``, ``label``, ``measure``
        (quantitative / qualitative), ``kind``, ``baseline``, ``review``,
        ``target_value`` (KPI unit), ``change`` (review - baseline),
        ``change_pct`` (% of the baseline), ``met`` (bool, None before the
        review starts), ``chart_evidence`` (the signal in words),
        ``test``, ``p_value``, ``verdict`` (see :data:`VERDICTS`) and
        ``evidence`` (the test's sentence). ``attrs["note"]`` says which
        periods are compared. With ``formatted``, a table for readers
        (:func:`csi_lib.present.present`) without the KPI key, measure, kind, test and
        p-value (the evidence sentence names the test and its p-value).
    """
    rv = assess(cycle)
    rows = [_review_row(tr, formatted) for tr in rv] if rv.compared is not None else []
    table = pd.DataFrame(rows, columns=_REVIEW_COLUMNS)
    table.attrs["note"] = review_note(rv)
    table.attrs["compared"] = rv.compared
    table.attrs["provisional"] = rv.phase.provisional
    if formatted:  # for reading: headers in words, units, no index (csi_lib.present)
        labels = (
            {"review": f"{rv.compared.capitalize()} period so far", "met": "Target met so far"}
            if rv.phase.provisional
            else None
        )
        table = present(table, labels=labels, drop=("kpi", "measure", "kind", "test", "p_value"))
    return table


def qualitative_table(cycle: Any, *, kpis: tuple[str, ...] = QUALITATIVE_KPIS) -> pd.DataFrame:
    """How customers feel, whole service: baseline against review with the test's wording.

    Reported beside the targets whether or not a target names them.

    Returns
    -------
    pandas.DataFrame
        ``kpi``, ``label``, ``baseline``, ``review`` (formatted with units),
        ``change``, ``evidence`` (the test's sentence).
    """
    rv = assess(cycle)
    base = rv.periods["baseline"]
    review = rv.periods[rv.compared] if rv.compared else None
    if review is None:
        return pd.DataFrame(columns=["kpi", "label", "baseline", "review", "change", "evidence"])
    df = rv.cycle.data
    before = kpi_engine.kpi_values(df, base, kpis=list(kpis))
    after = kpi_engine.kpi_values(df, review, kpis=list(kpis))
    rows = []
    for key in kpis:
        kpi = kpi_engine.get_kpi(key)
        ev = compare(
            kpi_engine.observations(df, base, key),
            kpi_engine.observations(df, review, key),
            kind=kpi.kind,
            better=kpi.better,
            baseline_days=base.days,
            review_days=review.days,
        )
        from .tables import change_arrow

        rows.append(
            {
                "kpi": key,
                "label": kpi.label,
                "baseline": format_value(before[key], kpi.unit, kpi.decimals),
                "review": format_value(after[key], kpi.unit, kpi.decimals),
                "change": change_arrow(before[key], after[key], kpi.better),
                "evidence": ev.wording,
            }
        )
    return pd.DataFrame(rows)


_DIMENSIONS: tuple[str, ...] = ("category", "group", "channel", "priority")


def _target_breakdown(tr: TargetReview, by: str, min_group_size: int, rv: CycleReview):
    base, review = rv.periods["baseline"], tr.compared_period
    # every group first (no suppression), then hide by the KPI's own population
    before = kpi_engine.breakdown(tr.data, base, by=by, kpis=[tr.kpi.key], min_group_size=None)
    after = kpi_engine.breakdown(tr.data, review, by=by, kpis=[tr.kpi.key], min_group_size=None)
    merged = pd.merge(
        before[[by, "value", "n"]].rename(columns={"value": "baseline", "n": "n_baseline"}),
        after[[by, "value", "n"]].rename(columns={"value": "review", "n": "n_review"}),
        on=by,
        how="outer",
    )
    merged[["n_baseline", "n_review"]] = merged[["n_baseline", "n_review"]].fillna(0)
    large = (merged["n_baseline"] >= min_group_size) & (merged["n_review"] >= min_group_size)
    shown = large & merged[["baseline", "review"]].notna().all(axis=1)
    hidden = int((~shown).sum())
    merged = merged[shown].copy()
    if tr.kpi.agg in ("count", "sum"):
        merged["contribution"] = merged["review"] - merged["baseline"]
    else:  # weighted by each group's share of the population in each period
        wb = merged["n_baseline"] / merged["n_baseline"].sum()
        wr = merged["n_review"] / merged["n_review"].sum()
        merged["contribution"] = wr * merged["review"] - wb * merged["baseline"]
    total = merged["contribution"].sum()
    merged["share_of_change_pct"] = 100 * merged["contribution"] / total if total else math.nan
    merged = merged.rename(columns={by: "group_value"})
    merged.insert(0, "by", by)
    merged.insert(0, "label", tr.label)
    merged.insert(0, "target", tr.id)
    return merged.sort_values("contribution", key=abs, ascending=False), hidden


def breakdowns(
    cycle: Any,
    *,
    by: str | None = None,
    target_id: str | None = None,
    formatted: bool = False,
    top: int = 5,
) -> pd.DataFrame:
    """Where each target's change came from: per group, baseline against review.

    Parameters
    ----------
    cycle:
        A Cycle or :class:`CycleReview`.
    by:
        The dimension (``category``, ``group``, ``channel``, ``priority`` or an
        extra column); default for each target the first of these that its
        scope does not fix.
    target_id:
        One target; default all.
    formatted:
        A table for readers (:func:`contributions_table`): per target the
        ``top`` groups that contributed most, the rest together, values with
        units.
    top:
        Groups listed per target when ``formatted``.

    Returns
    -------
    pandas.DataFrame
        ``target``, ``label``, ``by``, ``group_value``, ``baseline``,
        ``n_baseline``, ``review``, ``n_review`` (KPI unit; populations: the
        requests each value is computed over, e.g. fulfilled requests for a
        fulfilment time), ``contribution`` (KPI unit: the group's
        population-weighted part of the change, exact for means and
        percentages, indicative for medians and percentiles),
        ``share_of_change_pct``. Groups whose KPI population is under the
        cycle's ``min_group_size`` in either period are hidden;
        ``attrs["hidden_groups"]`` counts them (``attrs["hidden_by_target"]``
        per target) and ``attrs["hidden_note"]`` says so in words;
        ``attrs["kpis"]`` maps each target to its KPI key (for units).
    """
    rv = assess(cycle)
    columns = ["target", "label", "by", "group_value", "baseline", "n_baseline", "review",
               "n_review", "contribution", "share_of_change_pct"]  # fmt: skip
    if rv.compared is None:
        table = pd.DataFrame(columns=columns)
        return contributions_table(table, rv, top=top) if formatted else table
    ids = [target_id] if target_id else rv.target_ids
    frames, hidden, by_target = [], 0, {}
    size = rv.cycle.config.min_group_size
    for tid in ids:
        tr = rv.target(tid)
        if tr.data is None:
            continue
        dim = by or next(
            (
                d
                for d in _DIMENSIONS
                if d in tr.data.columns
                and d not in (tr.target.scope or {})
                and tr.data[d].nunique() > 1
            ),
            "category",
        )
        frame, h = _target_breakdown(tr, dim, size, rv)
        frames.append(frame)
        hidden += h
        by_target[tid] = h
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    table = table[columns]
    table.attrs["hidden_groups"] = hidden
    table.attrs["hidden_by_target"] = by_target
    table.attrs["kpis"] = {tid: rv.target(tid).kpi.key for tid in by_target}
    table.attrs["min_group_size"] = size
    table.attrs["hidden_note"] = _hidden_note(by_target, size)
    return contributions_table(table, rv, top=top) if formatted else table


def _hidden_note(by_target: dict[str, int], size: int) -> str:
    """ "T1: 2 groups hidden ..." in one sentence ("" when none)."""
    parts = [f"{tid}: {n}" for tid, n in by_target.items() if n]
    if not parts:
        return ""
    return (
        "Groups with fewer than "
        f"{size} requests in the KPI's own population (e.g. fulfilled requests for a fulfilment "
        "time) in the baseline or the review period are hidden to protect individuals; "
        "hidden groups per target: " + ", ".join(parts) + "."
    )


def contributions_table(table: pd.DataFrame, cycle: Any, *, top: int = 5) -> pd.DataFrame:
    """The contribution table for readers: per target the groups that matter, the rest together.

    Parameters
    ----------
    table:
        :func:`breakdowns` (unformatted).
    cycle:
        The cycle or :class:`CycleReview` the table was made of (for the KPIs).
    top:
        Groups listed per target (largest contributions first); the other
        groups form one row "n other groups".

    Returns
    -------
    pandas.DataFrame
        A table of :func:`csi_lib.present.present`: Target, Group, Baseline,
        Review period, Contribution to the change (KPI unit, signed), Effect
        (▲/▼ better/worse by the KPI's direction), requests counted. The
        sentence on hidden groups is in ``attrs["table_note"]``.
    """
    from .tables import change_arrow

    rv = assess(cycle)
    rows: list[dict[str, Any]] = []
    for tid, part in table.groupby("target", sort=False):
        tr = rv.target(str(tid))
        part = part.sort_values("contribution", key=abs, ascending=False)
        head, rest = part.iloc[:top], part.iloc[top:]
        for rec in head.itertuples(index=False):
            rows.append(
                {
                    "target": f"{tid}: {rec.label}",
                    "kpi": tr.kpi.key,
                    "group_value": f"{rec.by}: {rec.group_value}",
                    "baseline": rec.baseline,
                    "review": rec.review,
                    "contribution": rec.contribution,
                    "effect": change_arrow(0.0, rec.contribution, tr.kpi.better),
                    "n_review": rec.n_review,
                }
            )
        if len(rest):
            total = float(rest["contribution"].sum())
            rows.append(
                {
                    "target": f"{tid}: {tr.label}",
                    "kpi": tr.kpi.key,
                    "group_value": f"{len(rest)} other {part['by'].iloc[0]} groups together",
                    "baseline": math.nan,
                    "review": math.nan,
                    "contribution": total,
                    "effect": change_arrow(0.0, total, tr.kpi.better),
                    "n_review": rest["n_review"].sum(),
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=["target", "kpi", "group_value", "baseline", "review", "contribution",
                 "effect", "n_review"],
    )  # fmt: skip
    note = table.attrs.get("hidden_note", "")
    out = present(
        frame,
        drop=("kpi",),
        labels={"effect": "Effect", "n_review": "Requests counted (review period)"},
        kpi_missing=MISSING,
    )
    out.attrs["table_note"] = note
    return out


# --------------------------------------------------------------------------- conclusions

#: How the evidence is put in words, per verdict ({move}: "fall"/"rise", {signal}, {p}).
_EVIDENCE_TEXT: dict[str, str] = {
    "real improvement": "the {move} is {signal}, not chance",
    "real deterioration": "the {move} is {signal}, not chance: a deterioration",
    "likely improvement": "{likely}",
    "likely deterioration": "{likely}; watch it",
    "mixed evidence": "the evidence is mixed: the chart and the test point in opposite directions",
    "real change": "the {move} is real ({signal_or_p})",
    "no evidence of change": (
        "the difference is within what chance alone produces: no evidence of a real change"
    ),
    "not enough data": "there is not enough data to tell whether the change is real",
}


def _likely_text(tr: TargetReview) -> str:
    ev = tr.evidence
    p = _p_text(ev.p_value) if ev is not None and not pd.isna(ev.p_value) else ""
    if tr.chart_evidence in ("improvement", "concern"):
        extra = f" ({p})" if p else ""
        return (
            f"the chart shows {tr.signal_phrase()}, but the test over the {tr.compared} period "
            f"alone is not conclusive{extra}"
        )
    return f"the test says it is unlikely to be chance ({p}), though the chart shows no signal yet"


def conclusion(tr: TargetReview, *, partial: bool = False) -> str:
    """One plain-language sentence (or two) about one target.

    Examples
    --------
    >>> conclusion(rv.target("T1"))   # doctest: +SKIP
    'Median fulfilment time (Laptop) fell from 41.9 h to 26.6 h (-36%); the target of 28.0 h
    is met; the fall is a sustained shift since September 2025, not chance.'
    """
    if tr.problem:
        return f"{tr.label} could not be measured: {tr.problem}."
    if tr.compared_period is None:
        return f"{tr.label}: not judged yet (the action period has not started)."
    if pd.isna(tr.compared_value):
        return f"{tr.label}: no data for the {tr.compared} period yet."
    b, r = tr.baseline_value, tr.compared_value
    move = "fall" if r < b else "rise"
    if round(r, tr.kpi.decimals) == round(b, tr.kpi.decimals):
        head = f"{tr.label} stayed at {tr.fmt(r)}"
        move = "change"
    else:
        pct = f" ({100 * (r - b) / b:+.0f}%)" if b else ""
        head = f"{tr.label} {'fell' if r < b else 'rose'} from {tr.fmt(b)} to {tr.fmt(r)}{pct}"
    if partial:
        head += " so far"
    met = ("is met" if tr.met else "is not met") + (" so far" if partial else "")
    ev = tr.evidence
    p = _p_text(ev.p_value) if ev is not None and not pd.isna(ev.p_value) else "no test"
    evidence = _EVIDENCE_TEXT.get(tr.verdict, tr.verdict).format(
        move=move,
        signal=tr.signal_phrase() or "confirmed by the test",
        signal_or_p=tr.signal_phrase() or p,
        likely=_likely_text(tr),
    )
    return f"{head}; the target of {tr.target_text} {met}; {evidence}."


def conclusions(cycle: Any) -> pd.DataFrame:
    """The conclusion of every target: ``target``, ``label``, ``met``, ``verdict``, ``conclusion``."""
    rv = assess(cycle)
    partial = rv.phase.provisional
    rows = [
        {
            "target": tr.id,
            "label": tr.label,
            "met": tr.met,
            "verdict": tr.problem or tr.verdict,
            "conclusion": conclusion(tr, partial=partial),
        }
        for tr in rv
    ]
    return pd.DataFrame(rows, columns=["target", "label", "met", "verdict", "conclusion"])


def conclusions_text(cycle: Any) -> str:
    """The conclusions as a markdown list, one bullet per target ("**T1** ...")."""
    table = conclusions(cycle)
    return "\n".join(
        f"- **{t}**: {c}" for t, c in zip(table["target"], table["conclusion"], strict=True)
    )


#: Verdict -> its words in the headline; the first part named gets the verb ("3 show ...").
_HEADLINE_PARTS: tuple[tuple[str, str], ...] = (
    ("real improvement", "a real improvement"),
    ("likely improvement", "a likely improvement"),
    ("no evidence of change", "no evidence of change"),
    ("likely deterioration", "a likely deterioration"),
    ("real deterioration", "a real deterioration"),
    ("mixed evidence", "mixed evidence"),
    ("real change", "a real change"),
    ("not enough data", "not enough data"),
)


def headline(cycle: Any) -> str:
    """The cycle in one sentence: "4 of 5 targets met; 3 show a real improvement, 1 ..."."""
    rv = assess(cycle)
    c = rv.standing.config
    if rv.compared is None:
        return (
            f"No target can be judged yet: the action period starts on {c.action.from_}; "
            f"the final verdict is due on {rv.standing.verdict_due}."
        )
    table = conclusions(rv)
    if table.empty:
        return "The cycle has no targets."
    met = int((table["met"] == True).sum())  # noqa: E712 - None is neither
    parts = verdict_counts_text(table["verdict"].value_counts().to_dict())
    words = f"{met} of {len(table)} target{'s' if len(table) != 1 else ''} met"
    if rv.phase.provisional:
        words = (
            f"Provisional: {words} so far ({rv.compared} period to {rv.cycle.as_of}; "
            f"final verdict due on {rv.standing.verdict_due})"
        )
    return words + ("; " + parts if parts else "") + "."


def verdict_counts_text(counts: dict[str, int]) -> str:
    """Verdict counts in words; the first part carries the verb.

    Examples
    --------
    >>> verdict_counts_text({"likely deterioration": 3})
    '3 show a likely deterioration'
    >>> verdict_counts_text({"no evidence of change": 1, "real improvement": 1})
    '1 shows a real improvement, 1 no evidence of change'
    """
    parts: list[str] = []
    for key, text in _HEADLINE_PARTS:
        n = int(counts.get(key, 0))
        if n:
            verb = ("shows " if n == 1 else "show ") if not parts else ""
            parts.append(f"{n} {verb}{text}")
    return ", ".join(parts)


def _json_number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


#: Where a target stands (:func:`outlook`) -> its colour class on the cover (RAG).
OUTLOOK_RAG: dict[str, str] = {
    "met": "met",
    "met so far": "met",
    "on track": "met",
    "not met": "not-met",
    "not met so far": "not-met",
    "off track": "not-met",
    "too early to tell": "warn",
    "no data yet": "unknown",
    "not started": "unknown",
    "not measured": "unknown",
}


def outlook(tr: TargetReview, rv: CycleReview) -> str:
    """Where one target stands in the cycle's phase, in two or three words (see :data:`OUTLOOK_RAG`).

    * before the action period: "not started";
    * during the action period: "on track" (met so far, or the straight line through the
      action months reaches the target by its due date), "off track" (moved away, or the
      line does not reach it in time) or "too early to tell" (fewer than 3 months);
    * during the review period: "met so far" / "not met so far";
    * after it: "met" / "not met".

    "no data yet" when the period has no value; "not measured" when the target could not be.
    """
    if tr.problem:
        return "not measured"
    if tr.compared is None:
        return "not started"
    if tr.met is None:
        return "no data yet"
    if rv.phase.value == "review":
        return "met so far" if tr.met else "not met so far"
    if not rv.phase.provisional:
        return "met" if tr.met else "not met"
    if tr.met:
        return "on track"
    proj = tr.projection
    due = tr.target.due or rv.standing.verdict_due
    if proj.status == "already reached":
        return "on track"
    if proj.status == "projected" and proj.date is not None:
        return "on track" if proj.date.date() <= due else "off track"
    if (
        proj.status == "not at the current rate"
        or tr.latest_gap.text == "moved away from the target"
    ):
        return "off track"
    return "too early to tell" if proj.status == "too early" else "no data yet"


def summary(cycle: Any) -> dict[str, Any]:
    """The content of ``summary.json``: headline, where the cycle stands and one entry per target.

    Per target: ``id``, ``label``, ``kpi``, ``baseline_value`` / ``now_value``
    (KPI unit; *now* is the value over the compared period so far: the action
    period before the review starts, then the review period), ``baseline``,
    ``now``, ``target`` (text with units), ``met`` (None before the action
    period), ``gap_closed_pct`` (0..100 or None) and ``gap_closed`` (text),
    ``status`` (:func:`outlook`), ``rag`` (its colour class), ``provisional``,
    ``signal`` (the latest special-cause signal after the baseline:
    ``{"text", "variation"}``, or None; the webhook of :mod:`csi_lib.report.digest`
    posts a new one) and ``conclusion``. ``standing`` is
    :meth:`csi_lib.phases.Standing.to_dict`.
    """
    rv = assess(cycle)
    partial = rv.phase.provisional
    targets = []
    for tr in rv:
        gap = tr.latest_gap
        status = outlook(tr, rv)
        targets.append(
            {
                "id": tr.id,
                "label": tr.label,
                "kpi": tr.kpi.key,
                "baseline_value": _json_number(tr.baseline_value),
                "now_value": _json_number(tr.compared_value),
                "baseline": tr.fmt(tr.baseline_value),
                "now": tr.fmt(tr.compared_value),
                "target": tr.target_text,
                "met": tr.met,
                "gap_closed_pct": _json_number(gap.share),
                "gap_closed": "—" if math.isnan(gap.share) else f"{gap.share:.0f} %",
                "status": status,
                "rag": OUTLOOK_RAG[status],
                "provisional": partial,
                "signal": _signal_json(tr),
                "conclusion": conclusion(tr, partial=partial),
            }
        )
    return {"headline": headline(rv), "standing": rv.standing.to_dict(), "targets": targets}


def write_summary(cycle: Any, output_dir: str | Path) -> Path:
    """Write ``output_dir/summary.json`` (atomically, replacing an earlier one) for the report cover.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> write_summary(cycle, "reports/2025-h2")   # doctest: +SKIP
    PosixPath('reports/2025-h2/summary.json')
    """
    data = summary(cycle)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return atomic_write(Path(output_dir) / "summary.json", text, overwrite=True)


# csi.review(...) calls csi_lib.api.review (see csi_lib._callable)
from ._callable import make_callable  # noqa: E402

make_callable(__name__)
