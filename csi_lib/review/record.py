"""The evidence of each target for machines: the ``evidence`` object of ``summary.json``
and of ``csi review`` (one function, so the two cannot differ)."""

from __future__ import annotations

import math
from typing import Any

from .assess import TargetReview

#: Chart-only methods: the estimate is the KPI's change, the counts are chart points.
_CHART_ONLY = ("stock", "ratio")


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


#: The chart's evidence in words when it shows no signal (a reader never sees "none").
_NO_SIGNAL_WORDS = {
    "none": "no signal",
    "n/a": "too few baseline points for limits",
    "change": "a signal (no better direction)",
}


def signal_words(tr: TargetReview) -> str:
    """The chart's evidence after the baseline in words: the most telling signal, or
    "no signal"."""
    return tr.signal_phrase() or _NO_SIGNAL_WORDS.get(tr.chart_evidence, "no signal")


def chart_points(tr: TargetReview) -> tuple[int, int]:
    """Points of the chart judged in the baseline and in the compared period (complete
    periods with a value)."""
    series = tr.series
    if series is None or series.empty or tr.chart is None:
        return 0, 0
    judged = tr.chart["x"].notna().to_numpy()
    if "partial" in tr.chart:
        judged = judged & ~tr.chart["partial"].to_numpy(dtype=bool)
    phase = series["phase"].to_numpy()
    return int((judged & (phase == "baseline")).sum()), int(
        (judged & (phase == (tr.compared or "review"))).sum()
    )


def evidence_record(tr: TargetReview) -> dict[str, Any]:
    """The evidence behind a target's verdict, in numbers.

    Keys: ``verdict``; ``method`` (the statistic's method in words, or
    "process-behaviour chart" for a stock or a ratio); ``measure`` ("the median"...);
    ``estimate`` (review - baseline) and ``interval`` (two numbers, 95 %) in ``unit``
    (the KPI's unit: hours, percentage points for a share, requests a day for a count,
    score points); ``p_value`` where the method has one; ``real`` (the interval excludes
    no change); ``n_baseline``, ``n_review`` (values counted by the method: requests;
    for a stock or a ratio, chart points); ``signal`` (``evidence``: "improvement",
    "concern", "change", "none" or "n/a", and ``text``: the signal in words or None);
    ``reason`` (why there is no interval, else None) and ``sentence``.

    Before the action period every field but ``verdict`` is None.
    """
    ev = tr.evidence if not tr.problem else None
    signal = {"evidence": tr.chart_evidence, "text": tr.signal_phrase() or None}
    record: dict[str, Any] = {
        "verdict": tr.problem and "not measured" or tr.verdict,
        "method": None,
        "measure": None,
        "estimate": None,
        "interval": None,
        "unit": None,
        "level": None,
        "p_value": None,
        "real": None,
        "n_baseline": None,
        "n_review": None,
        "signal": signal,
        "reason": tr.problem or None,
        "sentence": None,
    }
    if ev is None:
        return record
    estimate, unit, (nb, nr) = ev.effect, ev.unit, (ev.n_baseline, ev.n_review)
    if ev.kind in _CHART_ONLY:
        estimate = tr.compared_value - tr.baseline_value
        unit = tr.kpi.unit
        nb, nr = chart_points(tr)
    record.update(
        method=ev.test,
        measure=ev.measure or None,
        estimate=_number(estimate),
        interval=[float(ev.ci_low), float(ev.ci_high)] if ev.has_interval else None,
        unit=unit,
        level=round(1 - ev.alpha, 6),
        p_value=_number(ev.p_value),
        real=bool(ev.significant),
        n_baseline=int(nb),
        n_review=int(nr),
        reason=ev.reason or None,
        sentence=ev.wording,
    )
    return record
