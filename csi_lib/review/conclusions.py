"""Conclusions in plain words, the headline, and the summary for the report cover."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..periods import period_word
from ..safe import markdown_text
from ..storage import atomic_write
from ..tables import evidence_arrow
from .assess import CycleReview, TargetReview, assess
from .progress import _signal_json, _signals_json
from .record import evidence_record
from .standing import STATE_RAG, State

# --------------------------------------------------------------------------- conclusions

#: How the evidence is put in words, per verdict ({move}: "fall"/"rise", {signal}, {p}).
_EVIDENCE_TEXT: dict[str, str] = {
    "real improvement": "the {move} is {signal}, and {interval}: not chance",
    "real deterioration": "the {move} is {signal}, and {interval}: not chance, a deterioration",
    "likely improvement": "{likely}",
    "likely deterioration": "{likely}; watch it",
    "mixed evidence": "the evidence is mixed: the chart and the interval of the change point in opposite directions",
    "real change": "the {move} is {signal}, {interval}: a real change",
    "likely change": "{likely}",
    "no evidence of change": "{interval}, and the chart shows no signal: no evidence of a real change",
    "not enough data": "there is not enough data to tell whether the change is real",
}


def _interval_text(tr: TargetReview) -> str:
    """The interval of the change in words ("the 95% interval of the change in the median,
    -17.0 to -12.3 h, excludes no change"), or why there is none."""
    ev = tr.evidence
    if ev is None or not ev.has_interval:
        if ev is not None and ev.kind in ("stock", "ratio"):
            return "no two-sample test applies to a " + ev.kind
        why = ev.reason if ev is not None else "no data yet"
        return f"there is no interval of the change, as {why}"
    from ..evidence import interval_decimals
    from ..evidence.words import shown_decimals, suffix

    decimals = shown_decimals(ev.kind, tr.kpi.decimals)  # a count is compared per day
    d = interval_decimals(ev.ci_low, ev.ci_high, decimals) or decimals
    level = f"{(1 - ev.alpha) * 100:.3g}%"
    what = ev.measure.removeprefix("the ")
    if ev.kind == "count":  # the KPI counts a period; its method, a day
        u = suffix(ev.unit)
        what += f" ({ev.baseline_value:,.1f}{u} in the baseline, {ev.review_value:,.1f}{u} now)"
    ends = f"{ev.ci_low:+,.{d}f} to {ev.ci_high:+,.{d}f}{suffix(ev.unit)}"
    says = "excludes no change" if ev.significant else "includes no change"
    return f"the {level} interval of the change in the {what}, {ends}, {says}"


def _likely_text(tr: TargetReview) -> str:
    if tr.chart_evidence in ("improvement", "concern", "change"):
        return f"the chart shows {tr.signal_phrase()}, but {_interval_text(tr)}"
    return f"{_interval_text(tr)}, though the chart shows no signal yet"


def _values_apart(tr: TargetReview, b: float, r: float) -> tuple[str, str] | None:
    """Two values as text with as many decimals as it takes to tell them apart (up to 3 more
    than the KPI's), or None when they are equal that far: a sentence never says "stayed at"
    beside a change the table shows."""
    for extra in range(4):
        d = tr.decimals + extra
        if round(b, d) != round(r, d):
            return tr.fmt(b, d), tr.fmt(r, d)
    return None


def _pct_change(before: float, after: float) -> str:
    """`` (-22%)``: the change as a share of the baseline, with a decimal below 1 % and
    nothing when it rounds to zero (never "-0%")."""
    if not before:
        return ""
    pct = 100 * (after - before) / before
    text = f"{pct:+.0f}%" if abs(pct) >= 0.95 else f"{pct:+.1f}%"
    return "" if text in ("+0.0%", "-0.0%") else f" ({text})"


def _per_day_against_totals(tr: TargetReview, move: str) -> tuple[str, str] | None:
    """A count target is valued per month (or week) over complete bins, while its evidence
    compares the count per day over whole weeks; months of unequal length (28 to 31 days)
    and the days the two leave out can make the one fall while the other rises: then the
    clause that says so and the move per day (", but per day it rose from 49.0 to 56.9 a
    day", "rise per day"), else None. The sentence then names both and its words on the
    evidence follow the days."""
    ev = tr.evidence
    if ev is None or ev.kind != "count" or move == "change":
        return None
    b, r = ev.baseline_value, ev.review_value
    if not (math.isfinite(b) and math.isfinite(r)) or round(b, 1) == round(r, 1):
        return None
    day_move = "fall" if r < b else "rise"
    if day_move == move:
        return None
    verb = "fell" if r < b else "rose"
    return f", but per day it {verb} from {b:,.1f} to {r:,.1f} a day", f"{day_move} per day"


def conclusion(tr: TargetReview, *, partial: bool | None = None) -> str:
    """One plain-language sentence (or two) about one target, in the tense of the phase.

    ``partial`` is kept for callers of earlier versions: the target's standing says
    whether its verdict is provisional.

    Examples
    --------
    >>> print(conclusion(rv.target("T1")))   # rv = csi_lib.review.assess(cycle)
    Median time to fulfil (Laptop) fell from 41.8 h to 26.6 h (-36%); the target of 28.0 h
    is met; the fall is a shift beyond the baseline's natural process limits since September
    2025, and the 95% interval of the change in the median, -17.6 to -12.9 h, excludes no
    change: not chance.
    """
    st = tr.standing
    if st.state is State.NOT_MEASURED:
        return f"{tr.label}: not measured ({st.reason})."
    if st.state is State.TOO_EARLY and tr.compared_period is None:
        return f"{tr.label}: too early to say ({st.reason})."
    b, r = tr.baseline_value, tr.compared_value
    move = "fall" if r < b else "rise"
    apart = _values_apart(tr, b, r)
    if apart is None:
        head = f"{tr.label} stayed at {tr.fmt(r)}"
        move = "change"
    else:
        pct = _pct_change(b, r)
        head = f"{tr.label} {'fell' if r < b else 'rose'} from {apart[0]} to {apart[1]}{pct}"
    per_day = _per_day_against_totals(tr, move)
    if per_day is not None:  # the method compares days: its words follow the days
        head, move = head + per_day[0], per_day[1]
    goal = tr.texts_apart(r)[1]  # "5.00 %" beside a value of 4.98 %
    if st.provisional:
        head += f" over {st.rests_on}"
        met = f"{st.words.lower()} for the target of {goal}"
    else:
        met = f"the target of {goal} {'is met' if tr.met else 'is not met'}"
    evidence = _EVIDENCE_TEXT.get(tr.verdict, tr.verdict).format(
        move=move,
        signal=tr.signal_phrase() or "a signal on the chart",
        interval=_interval_text(tr),
        likely=_likely_text(tr),
    )
    return f"{head}; {met}; {evidence}."


def conclusions(cycle: Any) -> pd.DataFrame:
    """The conclusion of every target: ``target``, ``label``, ``met``, ``standing`` (its
    :class:`~csi_lib.review.standing.State`), ``verdict``, ``conclusion``."""
    rv = assess(cycle)
    rows = [
        {
            "target": tr.id,
            "label": tr.label,
            "met": tr.met,
            "standing": tr.standing.state.value,
            "verdict": tr.problem or tr.not_measured or tr.verdict,
            "conclusion": conclusion(tr),
        }
        for tr in rv
    ]
    return pd.DataFrame(
        rows, columns=["target", "label", "met", "standing", "verdict", "conclusion"]
    )


def conclusions_text(cycle: Any) -> str:
    """The conclusions as a markdown list, one bullet per target ("**T1** ..."); each
    conclusion is plain text (a scope or a category in it shows as written)."""
    table = conclusions(cycle)
    return "\n".join(
        f"- **{markdown_text(t)}**: {markdown_text(c)}"
        for t, c in zip(table["target"], table["conclusion"], strict=True)
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
    ("likely change", "a likely change"),
    ("not enough data", "not enough data"),
)


def standing_counts_text(states: list[State]) -> str:
    """How many targets stand where, in words, states in a fixed order.

    Examples
    --------
    >>> standing_counts_text([State.ON_TRACK, State.ON_TRACK, State.TOO_EARLY])
    '2 of 3 targets on track, 1 too early to say'
    """
    parts = []
    for state in State:
        n = sum(1 for s in states if s is state)
        if n:
            parts.append(f"{n} {state.value}")
    if not parts:
        return "no targets"
    total = len(states)
    first = parts[0].split(" ", 1)
    parts[0] = f"{first[0]} of {total} target{'s' if total != 1 else ''} {first[1]}"
    return ", ".join(parts)


def headline(cycle: Any) -> str:
    """The cycle in one sentence, from the targets' standings: "4 of 5 targets met; 3 show
    a real improvement, ..." (final), or "Provisional, on 3 full months of the action period
    (...): 2 of 5 targets on track, ..." during the cycle."""
    rv = assess(cycle)
    c = rv.standing.config
    trs = list(rv)
    if not trs:
        return "The cycle has no targets."
    if rv.compared is None:
        why = (
            f"the action period starts on {c.action.from_}"
            if rv.status["action"] == "not started"
            else f"the action period ({c.action.from_} to {c.action.to}) has no complete "
            f"{period_word(rv.freq)} yet"
        )
        return f"No target can be judged yet: {why}; the final verdict is due on {rv.standing.verdict_due}."
    table = conclusions(rv)
    states = [tr.standing.state for tr in trs]
    words = standing_counts_text(states)
    judged = [
        v for v, st in zip(table["verdict"], states, strict=True) if st is not State.NOT_MEASURED
    ]
    parts = verdict_counts_text(pd.Series(judged).value_counts().to_dict()) if judged else ""
    first = next((tr.standing for tr in trs if tr.standing.rests_on), None)
    if first is not None and first.provisional:
        words = (
            f"Provisional, on {first.rests_on}: {words}; final verdict due on "
            f"{rv.standing.verdict_due}"
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


#: A target's standing -> its colour class on the cover (see :mod:`.standing`).
OUTLOOK_RAG: dict[str, str] = {state.value: rag for state, rag in STATE_RAG.items()}


def outlook(tr: TargetReview, rv: CycleReview | None = None) -> str:
    """Where one target stands, in a few words: its standing's state (:mod:`.standing`)."""
    return tr.standing.state.value


def summary(cycle: Any) -> dict[str, Any]:
    """The content of ``summary.json``: headline, where the cycle stands, the as-of cut
    applied and one entry per target.

    Per target: ``id``, ``label``, ``kpi``, ``baseline_value`` / ``now_value``
    (KPI unit; *now* is the value over the compared period's complete months so far:
    the action period's before the review has one, then the review period's),
    ``baseline``, ``now``, ``target`` (text with units), ``met`` (the final verdict:
    None until it is due), ``gap_closed_pct`` (0..100 or None) and ``gap_closed`` (text),
    ``status`` (the standing's state: met, not met, on track, off track, too early to
    say, not measured), ``reason`` (why), ``standing`` (:meth:`TargetStanding.to_dict`:
    state, reason, provisional, rests_on, last_full_period, partial_period), ``rag``
    (its colour class), ``provisional``, ``signal`` (the latest special-cause signal
    after the baseline: ``{"text", "variation"}``, or None; the webhook of
    :mod:`csi_lib.report.digest` posts a new one), ``signals`` (every special-cause
    episode after the baseline on complete periods, oldest first: ``rule``,
    ``rule_label``, ``variation``, ``start``, ``end``, ``points``, ``text``; the alerts of
    :mod:`csi_lib.notify` send each new one once), ``due`` (the target's due date, ISO),
    ``meets_now`` (whether the value over the compared period's complete months so far
    meets the target; None before there is one), ``evidence``
    (:func:`csi_lib.review.record.evidence_record`: the verdict, method, estimate, 95 %
    interval, p-value, counts and chart signal) and ``conclusion``. ``standing`` at the
    top is :meth:`csi_lib.phases.Standing.to_dict`; ``as_of_cut`` says where the data
    was cut (``as_of``, ``timezone``, ``cut``: the instant, ``complete_until``: where
    the last complete month or week ends). ``benefits`` is
    :func:`csi_lib.benefits.benefits_summary` (what the changes were worth: its ``text`` is
    the cover's line).
    """
    from ..benefits import benefits_summary

    rv = assess(cycle)
    targets = []
    for tr in rv:
        gap = tr.latest_gap
        st = tr.standing
        now_text, target_text = tr.texts_apart(tr.compared_value)
        targets.append(
            {
                "id": tr.id,
                "label": tr.label,
                "kpi": tr.kpi.key,
                "baseline_value": _json_number(tr.baseline_value),
                "now_value": _json_number(tr.compared_value),
                "baseline": tr.fmt(tr.baseline_value),
                "now": now_text,
                "target": target_text,
                "met": None if st.provisional else bool(tr.met),
                "gap_closed_pct": _json_number(gap.share),
                "gap_closed": "—" if math.isnan(gap.share) else f"{gap.share:.0f} %",
                "change": _change(tr),
                "change_class": _change_class(tr),
                "status": st.state.value,
                "reason": st.reason,
                "standing": st.to_dict(),
                "rag": st.rag,
                "provisional": st.provisional,
                "signal": _signal_json(tr),
                "signals": _signals_json(tr),
                "due": tr.target.due.isoformat() if tr.target.due else None,
                "meets_now": None if tr.met is None else bool(tr.met),
                "evidence": evidence_record(tr),
                "conclusion": conclusion(tr),
            }
        )
    return {
        "headline": headline(rv),
        "standing": rv.standing.to_dict(),
        "as_of_cut": _cut_json(rv.run),
        "targets": targets,
        "benefits": benefits_summary(rv),
    }


def _change(tr: TargetReview) -> str:
    """The change baseline -> now in words that follow the evidence ("▼ better" only when
    real; "▼ within noise" otherwise), "" without both values."""
    if tr.not_measured or tr.problem or tr.compared_period is None:
        return ""
    return evidence_arrow(tr.baseline_value, tr.compared_value, tr.kpi.better, tr.verdict)


def _change_class(tr: TargetReview) -> str:
    """ "better" / "worse" (the cover's colour) only for a real change, else ""."""
    change = _change(tr)
    if not change.endswith(("better", "worse")) or "likely" in change:
        return ""
    return {"real improvement": "better", "real deterioration": "worse"}.get(tr.verdict, "")


def _cut_json(run: Any) -> dict[str, Any] | None:
    """Where the run's data was cut, for machines."""
    if run is None:
        return None
    d = run.to_dict()
    return {k: d[k] for k in ("as_of", "timezone", "cut", "complete_until")}


def write_summary(cycle: Any, output_dir: str | Path) -> Path:
    """Write ``output_dir/summary.json`` (atomically, replacing an earlier one) for the report cover.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import json
    >>> path = write_summary(rv, tmp / "reports")   # rv = csi_lib.review.assess(cycle)
    >>> path.name, json.loads(path.read_text())["headline"]
    ('summary.json', '4 of 5 targets met, 1 not met; 3 show a real improvement, 2 no evidence of change.')
    """
    data = summary(cycle)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return atomic_write(Path(output_dir) / "summary.json", text, overwrite=True)
