"""The verdict (chart and test evidence) and the review of each target and of a whole cycle."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import kpis as kpi_engine
from ..errors import CsiError
from ..evidence import Evidence, compare
from ..kinds import KINDS
from ..periods import Period, period_edges, period_word
from ..spc import RULES, episodes, limits_caveat, rule_labels, xmr
from ..targets import target_met
from .gap import _PERIOD_FORMAT, GapClosed, Projection, _when, gap_closed, projection

# --------------------------------------------------------------------------- verdict

#: Verdict of a (chart evidence, interval evidence) pair; each is "improvement",
#: "concern", "change" (a KPI with no better direction), "none" (no signal / the interval
#: includes no change) or "n/a" (no limits / no interval). :func:`verdict` gives the rest.
VERDICTS: dict[tuple[str, str], str] = {
    ("improvement", "improvement"): "real improvement",
    ("concern", "concern"): "real deterioration",
    ("change", "change"): "real change",
    ("improvement", "concern"): "mixed evidence",
    ("concern", "improvement"): "mixed evidence",
    ("none", "none"): "no evidence of change",
    ("none", "n/a"): "no evidence of change",
    ("n/a", "none"): "no evidence of change",
    ("n/a", "n/a"): "not enough data",
}
#: Verdict when only one of the two pieces of evidence shows a change.
_ONE_SIDED: dict[str, str] = {
    "improvement": "likely improvement",
    "concern": "likely deterioration",
    "change": "likely change",
}
_TEST_EVIDENCE: dict[str, str] = {
    "improved": "improvement",
    "worsened": "concern",
    "no change": "none",
    "n/a": "n/a",
}


def verdict(chart_evidence: str, test_evidence: str) -> str:
    """Combine the XmR chart's signal and the interval of the change into one verdict.

    "real" needs both in the same direction; "likely" when only one shows a change (the
    other none, or not available: a stock has no interval); "mixed evidence" when they
    point opposite ways; otherwise "no evidence of change" (or "not enough data" when
    neither is available), whatever the point estimate says.

    Examples
    --------
    >>> verdict("improvement", "improvement"), verdict("none", "none")
    ('real improvement', 'no evidence of change')
    >>> verdict("improvement", "none"), verdict("n/a", "concern"), verdict("change", "none")
    ('likely improvement', 'likely deterioration', 'likely change')
    """
    if (chart_evidence, test_evidence) in VERDICTS:
        return VERDICTS[(chart_evidence, test_evidence)]
    shown = [side for side in (chart_evidence, test_evidence) if side in _ONE_SIDED]
    if len(shown) == 1:
        return _ONE_SIDED[shown[0]]
    if len(shown) == 2:  # a direction against "change" (no better direction): not alike
        return "mixed evidence"
    return "no evidence of change"


def _test_evidence(ev: Evidence | None) -> str:
    if ev is None:
        return "n/a"
    if ev.direction == "n/a" and ev.significant:
        return "change"
    return _TEST_EVIDENCE.get(ev.direction, "n/a")


# --------------------------------------------------------------------------- per target

#: Version of the values :func:`_measured` gives, part of its key in a saved run: 2 since a
#: count target's values are per month or week (:func:`csi_lib.targets.per_bin`).
MEASURED_VERSION = 2


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

    Values are in the KPI's unit (hours, %, score; a count per month or week over the
    period's complete bins, :func:`csi_lib.targets.per_bin`); NaN = no data.

    Attributes
    ----------
    target, kpi:
        The :class:`~csi_lib.targets.Target` and its :class:`~csi_lib.kpis.KPI`.
    target_value:
        The absolute value asked for (a relative target resolved on the baseline).
    periods:
        The periods the values are over: each cycle period's *complete* months (or
        weeks) up to the as-of date (:meth:`csi_lib.run.Run.judged`); None for a period
        not started or without a complete month yet.
    baseline_value, action_value, review_value:
        The KPI over those periods: the whole baseline, the action period's complete
        months so far, the review period's (NaN when there is none).
    series:
        ``period_start``, ``period_end``, ``value``, ``n``, ``phase``
        (baseline / action / review) and ``partial`` (a month or week not complete
        at the as-of date or the end of the data: drawn, never judged) from the
        baseline start to ``as_of``.
    chart:
        The XmR frame of the series (:func:`csi_lib.spc.xmr`) with limits
        frozen on the baseline periods and the target, partial points taking no
        part, or None (too few points).
    not_measured:
        Why the KPI cannot be measured on the data at all (its column is absent or
        empty: :func:`csi_lib.kpis.not_measured`), or None.
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
    #: :func:`csi_lib.runstore.data_key` of the data (the evidence is shared in a report run)
    data_key: str | None = field(default=None, repr=False)
    #: The :class:`csi_lib.run.Run` measured (a saved run shares results between stages)
    run: Any = field(default=None, repr=False)
    not_measured: str | None = None
    #: The :class:`CycleReview` the target belongs to.
    owner: Any = field(default=None, repr=False)

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

    @property
    def decimals(self) -> int:
        """Decimals a value of the target is written with: the KPI's, one for a count per
        month or week (80.2 requests a month)."""
        from ..targets import per_bin

        return 1 if per_bin(self.kpi) else int(self.kpi.decimals)

    def fmt(self, value: float, decimals: int | None = None) -> str:
        """``value`` with the unit a target on the KPI is valued in
        (:func:`csi_lib.targets.format_target_value`: "41.8 h", "80.2 requests a month")."""
        from ..targets import format_target_value

        return format_target_value(value, self.kpi, self.freq, decimals)

    @property
    def target_text(self) -> str:
        """The target value with its unit and, for a band, its tolerance."""
        return self._target_text(None)

    def _target_text(self, decimals: int | None) -> str:
        from ..targets import per_bin

        text = self.fmt(self.target_value, decimals)
        if KINDS[self.target.kind].band and self.target.tolerance is not None:
            tol = self.fmt(self.target.tolerance, decimals)
            # a count: "80.0 ± 5.0 requests a month"
            if per_bin(self.kpi) and not pd.isna(self.target_value):
                d = self.decimals if decimals is None else decimals
                text = f"{self.target_value:,.{d}f} ± {tol}"
            else:
                text += f" ± {tol}"
        return text

    def texts_apart(self, value: float) -> tuple[str, str]:
        """``value`` and the target as text, with the decimals it takes to tell them apart
        ("4.98 %" against "5.00 %", never "5.0 %" meeting "5.0 %"); every output that
        shows a value beside its target writes them so.

        Examples
        --------
        >>> from csi_lib.kpis import get_kpi
        >>> from csi_lib.targets import Target
        >>> t5 = Target(id="T5", kpi="pct_declined", kind="maintain_below", value=5)
        >>> tr = TargetReview(t5, get_kpi("pct_declined"), {}, target_value=5.0)
        >>> tr.texts_apart(4.98), tr.texts_apart(4.5)
        (('4.98 %', '5.00 %'), ('4.5 %', '5.0 %'))
        """
        target, d = self.target_value, self.decimals
        if pd.isna(value) or pd.isna(target):
            return self.fmt(value), self.target_text
        extra = next((e for e in range(4) if round(value, d + e) != round(target, d + e)), 0)
        if extra == 0:
            return self.fmt(value), self.target_text
        return self.fmt(value, d + extra), self._target_text(d + extra)

    @functools.cached_property
    def standing(self) -> Any:
        """Where the target stands (:func:`csi_lib.review.standing.target_standing`): the
        one state and reason every output shows."""
        from .standing import target_standing

        return target_standing(self, self.owner)

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

    def complete(self, phase: str | None = None) -> pd.DataFrame:
        """The series' complete (not partial) points, of one phase if given."""
        if self.series.empty:
            return self.series
        keep = ~self.series["partial"].to_numpy(dtype=bool)
        if phase is not None:
            keep &= self.series["phase"].to_numpy() == phase
        return self.series[keep]

    @property
    def projection(self) -> Projection:
        """When the target is reached at the trend through the action period's complete
        months (a partial month takes no part)."""
        action = self.complete("action")
        if action.empty:
            return Projection(
                "no data", None, math.nan, "no complete month of the action period yet"
            )
        if self.gap.state == "held":
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

    def signal_episodes(self) -> list[dict[str, Any]]:
        """Each special-cause signal after the baseline as its own episode (a stretch of
        consecutive points one rule flags, :func:`csi_lib.spc.episodes`), for alerts and
        ``summary.json``: ``rule``, ``rule_label`` (in words, with the cycle's run and trend
        lengths), ``start``, ``end``, ``points``, ``variation`` and ``text`` (the signal in
        words, "a point beyond the baseline's natural process limits in September 2025").
        Only complete periods: a partial one is never flagged."""
        if self.chart is None or self.chart.empty:
            return []
        after = self.chart[self.series["phase"].to_numpy() != "baseline"]
        labels = rule_labels(
            **{k: self.chart.attrs[k] for k in ("run", "trend") if k in self.chart.attrs}
        )
        return [
            {**e, "rule_label": labels[e["rule"]], "text": _phrase(e, self.freq)}
            for e in episodes(after)
        ]

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
        if self.data_key is None or self.run is None:
            return self._compare(base, review)
        from .. import evidence as ev

        question = {
            "data": self.data_key,
            "kpi": [self.kpi.key, self.kpi.kind, self.kpi.better, self.kpi.func is not None],
            "scope": self.target.scope,
            "periods": [[p.start.isoformat(), p.end.isoformat()] for p in (base, review)],
            "method": [ev.METHOD_VERSION, ev.BOOTSTRAP_MAX_N, ev.SEED, self.kpi.agg],
        }
        return self.run.shared(
            "evidence",
            question,
            lambda: self._compare(base, review),
            lambda e: e.to_dict(),
            lambda d: Evidence(**d),
        )

    def _compare(self, base: Period, review: Period) -> Evidence:
        from ..evidence import observations_for

        return compare(
            observations_for(self.data, base, self.kpi),
            observations_for(self.data, review, self.kpi),
            kind="ratio" if self.kpi.func is not None else self.kpi.kind,
            better=self.kpi.better,
            agg=self.kpi.agg,
            baseline_period=base,
            review_period=review,
            population=self.kpi.population,
        )

    @property
    def verdict(self) -> str:
        if self.compared_period is None:
            return "review not started"
        return verdict(self.chart_evidence, _test_evidence(self.evidence))


def _value_n(
    df: pd.DataFrame,
    period: Period | None,
    kpi: Any,
    freq: str = "month",
    complete_until: pd.Timestamp | None = None,
) -> tuple[float, int]:
    """A target's KPI over ``period`` and its population
    (:func:`csi_lib.targets.period_target_value`: a count per month or week)."""
    if period is None:
        return math.nan, 0
    from ..targets import period_target_value

    return period_target_value(df, period, kpi, freq, complete_until=complete_until)


def _phase(starts: pd.Series, periods: dict[str, Period | None]) -> np.ndarray:
    phase = np.full(len(starts), "baseline", dtype=object)
    for name in ("action", "review"):
        p = periods.get(name)
        if p is not None:
            phase[(starts >= p.start).to_numpy()] = name
    return phase


def _measured(
    scoped: pd.DataFrame,
    periods: dict[str, Period | None],
    kpi: Any,
    freq: str,
    series_end: pd.Timestamp,
    complete_until: pd.Timestamp | None = None,
) -> dict[str, Any]:
    """A target's KPI over the baseline, action and review periods (value, n; a count per
    month or week over each period's complete bins, those ending by ``complete_until``) and
    its series from the baseline's start to ``series_end`` (the as-of cut: the last bin may
    be partial)."""
    start = periods["baseline"].start
    series = kpi_engine.kpi_series(
        scoped, Period(start, series_end, periods["baseline"].tz), freq=freq, kpis=[kpi.key]
    ).reset_index(drop=True)
    return {
        name: _value_n(scoped, periods.get(name), kpi, freq, complete_until)
        for name in ("baseline", "action", "review")
    } | {"series": series}


def _encode_measured(m: dict[str, Any]) -> dict[str, Any]:
    series = m["series"]
    return {
        **{name: list(m[name]) for name in ("baseline", "action", "review")},
        "series": {
            "period_start": [t.isoformat() for t in series["period_start"]],
            "period_end": [t.isoformat() for t in series["period_end"]],
            "kpi": series["kpi"].tolist(),
            "value": series["value"].tolist(),
            "n": series["n"].tolist(),
        },
    }


def _decode_measured(d: dict[str, Any]) -> dict[str, Any]:
    s = d["series"]
    series = pd.DataFrame(
        {
            "period_start": pd.to_datetime(s["period_start"], utc=True).as_unit("ns"),
            "period_end": pd.to_datetime(s["period_end"], utc=True).as_unit("ns"),
            "kpi": pd.array(s["kpi"], dtype="str"),
            "value": pd.array(s["value"], dtype="float64").to_numpy(
                dtype="float64", na_value=np.nan
            ),
            "n": np.asarray(s["n"], dtype="int64"),
        }
    )
    out = {name: (math.nan if d[name][0] is None else float(d[name][0]), int(d[name][1]))
           for name in ("baseline", "action", "review")}  # fmt: skip
    return out | {"series": series}


def _shared_measured(
    target: Any,
    kpi: Any,
    periods: dict[str, Period | None],
    freq: str,
    data_key: str | None,
    compute: Any,
    run: Any = None,
    series_end: pd.Timestamp | None = None,
    complete_until: pd.Timestamp | None = None,
) -> dict[str, Any]:
    """:func:`_measured`, computed once per saved run and read by the later stages
    (:meth:`csi_lib.run.Run.shared`): stages 4, 5 and 6 each assess every target."""
    if data_key is None or run is None:
        return compute()
    question = {
        "data": data_key,
        "measured": [kpi.key, kpi.population, kpi.agg, freq, str(series_end)],
        # a count target's values are per month or week over complete bins (version 2)
        "values": [MEASURED_VERSION, kpi.kind, str(complete_until)],
        "scope": target.scope,
        "periods": {
            n: [p.start.isoformat(), p.end.isoformat()] if p else None for n, p in periods.items()
        },  # fmt: skip
    }
    return run.shared("measured", question, compute, _encode_measured, _decode_measured)


def _assess_target(target: Any, rv: CycleReview) -> TargetReview:
    """Measure one target of ``rv``'s cycle: its values, series, chart and initiatives."""
    kpi = kpi_engine.get_kpi(target.kpi)
    periods = rv.periods
    review = TargetReview(
        target=target, kpi=kpi, periods=periods, freq=rv.freq, compared=rv.compared,
        data_key=rv.data_key, run=rv.run, owner=rv,
    )  # fmt: skip
    review.initiatives = [
        {"id": i.id, "title": i.title, "status": i.status}
        for i in getattr(rv.cycle.plan, "initiatives", [])
        if target.id in i.targets
    ]
    df = rv.cycle.data
    review.not_measured = kpi_engine.not_measured(
        df, kpi, columns_used=getattr(rv.cycle.load, "columns_used", None)
    )
    try:
        scoped = kpi_engine.scope_filter(df, target.scope)
    except CsiError as exc:
        review.problem = exc.message
        return review
    if periods["baseline"] is None:
        return review
    from ..targets import resolve_target_value

    review.data = scoped
    end = rv.series_end
    until = rv.run.complete_until if rv.run is not None else None
    m = _shared_measured(
        target, kpi, periods, rv.freq, rv.data_key,
        lambda: _measured(scoped, periods, kpi, rv.freq, end, until), rv.run, end, until,
    )  # fmt: skip
    review.baseline_value, review.baseline_n = m["baseline"]
    review.action_value, _ = m["action"]
    review.review_value, review.review_n = m["review"]
    review.target_value = resolve_target_value(target, review.baseline_value)
    series = m["series"]
    series["phase"] = _phase(series["period_start"], rv.periods_so_far)
    series["partial"] = rv.run.partial(series) if rv.run is not None else False
    review.series = series
    review.chart = target_chart_frame(
        series, kpi, review.target_value, getattr(rv.cycle.config, "spc", None)
    )
    return review


def target_chart_frame(
    series: pd.DataFrame, kpi: Any, target_value: float, spc: Any = None
) -> pd.DataFrame | None:
    """The XmR frame of a target's series: limits frozen on the baseline's complete points,
    clipped to the KPI's possible values, partial points taking no part, run and trend
    lengths from the cycle's ``spc:`` settings; None with fewer than 2 baseline points."""
    values = pd.Series(
        series["value"].to_numpy(dtype="float64"), index=pd.DatetimeIndex(series["period_start"])
    )
    partial = series["partial"].to_numpy(dtype=bool)
    in_base = (series["phase"].to_numpy() == "baseline") & ~partial
    base_labels = values.index[in_base]
    if values[base_labels].notna().sum() < 2:
        return None
    floor, ceiling = kpi.value_range
    return xmr(
        values,
        better=kpi.better,
        baseline=slice(base_labels[0], base_labels[-1]),
        target=None if pd.isna(target_value) else target_value,
        floor=floor,
        ceiling=ceiling,
        partial=partial,
        **_rule_lengths(spc),
    )


def _rule_lengths(spc: Any) -> dict[str, int]:
    """``run`` and ``trend`` of the cycle's ``spc:`` settings (cycle.yaml) for :func:`xmr`."""
    return {} if spc is None else {"run": spc.run, "trend": spc.trend}


# --------------------------------------------------------------------------- per cycle


class CycleReview:
    """Every target of a cycle measured once (series, charts, tests are cached).

    Build it with :func:`assess`; every table function of this module takes
    either a :class:`~csi_lib.cycle.Cycle` or a ``CycleReview``.
    """

    def __init__(self, cycle: Any) -> None:
        self.cycle = cycle
        self.run = cycle.run
        self.freq = cycle.config.freq
        self.status = {name: cycle.status(name) for name in ("baseline", "action", "review")}
        planned = cycle.planned_periods
        started = [n for n in ("baseline", "action", "review") if self.status[n] != "not started"]
        #: each period cut at the as-of date (what the charts draw), None before it starts
        self.periods_so_far: dict[str, Period | None] = dict.fromkeys(planned)
        #: each period's complete months (or weeks) so far: what values, verdicts and
        #: standings rest on; None before it has one (the baseline: so far, while it runs)
        self.periods: dict[str, Period | None] = dict.fromkeys(planned)
        for name in started:
            self.periods_so_far[name] = self.run.clip(planned[name])
            self.periods[name] = self.run.judged(planned[name])
        if self.periods["baseline"] is None:
            self.periods["baseline"] = self.periods_so_far["baseline"]
        self.standing = cycle.standing
        self.phase = self.standing.phase
        #: the period verdicts are on: the review period's complete months, or before it
        #: has one the action period's; None before the action period has a complete month
        self.compared: str | None = next(
            (n for n in ("review", "action") if self.periods[n] is not None), None
        )
        self._targets: dict[str, TargetReview] = {}

    def __repr__(self) -> str:
        from ..displays import review_repr

        return review_repr(self)

    def _repr_html_(self) -> str:
        """In a notebook: the headline, the periods compared and one row per target."""
        from ..displays import review_html

        return review_html(self)

    @property
    def series_end(self) -> pd.Timestamp:
        """Where the targets' series end: the as-of cut, or the last period's end."""
        ends = [p.end for p in self.periods_so_far.values() if p is not None]
        return max(ends)

    @functools.cached_property
    def data_key(self) -> str | None:
        """A key of the run's data (:meth:`csi_lib.run.Run.data_key`), shared between the
        stages of a saved run; None otherwise."""
        return self.run.data_key if self.run is not None and self.run.folder is not None else None

    @property
    def target_ids(self) -> list[str]:
        return [t.id for t in self.cycle.targets.targets]

    def target(self, target_id: str) -> TargetReview:
        """The :class:`TargetReview` of one target (computed once)."""
        if target_id not in self._targets:
            found = [t for t in self.cycle.targets.targets if t.id == target_id]
            if not found:
                from ..errors import ConfigError

                raise ConfigError(
                    f"the cycle has no target '{target_id}'",
                    file=str(self.cycle.dir / "targets.yaml"),
                    hint="known targets: " + ", ".join(self.target_ids),
                )
            self._targets[target_id] = _assess_target(found[0], self)
        return self._targets[target_id]

    def __iter__(self):
        return (self.target(i) for i in self.target_ids)

    def planned(self, name: str) -> Period:
        return self.cycle.planned_periods[name]

    @property
    def baseline_points(self) -> int:
        """How many complete months (or weeks) of the baseline the process limits rest on."""
        base = self.periods["baseline"]
        if base is None:
            return 0
        judged = self.run.judged(base) if self.run is not None else base
        return 0 if judged is None else len(period_edges(judged, self.freq)) - 1

    def limits_note(self) -> str:
        """Where the process limits come from, with a caveat when they rest on few points."""
        text = f"Process limits are frozen on the baseline ({self.planned('baseline').label})"
        caveat = limits_caveat(self.baseline_points, period_word(self.freq))
        return f"{text}; {caveat}." if caveat else f"{text}."


def assess(cycle: Any) -> CycleReview:
    """Measure every target of ``cycle`` (a :class:`~csi_lib.cycle.Cycle`) for stages 4 to 6.

    Examples
    --------
    >>> rv = assess(open_cycle(sample_cycle, as_of="2025-11-15"))
    >>> rv.target("T1").label, rv.status["action"]
    ('Median time to fulfil (Laptop)', 'in progress')
    """
    return cycle if isinstance(cycle, CycleReview) else CycleReview(cycle)


def _date(period: Period) -> str:
    return period.label.split(" to ")[0]
