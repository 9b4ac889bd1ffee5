"""Conclusions in plain words, the headline, and the summary for the report cover."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..safe import markdown_text
from ..storage import atomic_write
from .assess import CycleReview, TargetReview, assess
from .progress import _signal_json
from .results import _p_text

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
    >>> print(conclusion(rv.target("T1")))   # rv = csi_lib.review.assess(cycle)
    Median time to fulfil (Laptop) fell from 41.8 h to 26.6 h (-36%); the target of 28.0 h
    is met; the fall is a shift beyond the baseline's natural process limits since September
    2025, not chance.
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
    >>> import json
    >>> path = write_summary(rv, tmp / "reports")   # rv = csi_lib.review.assess(cycle)
    >>> path.name, json.loads(path.read_text())["headline"]
    ('summary.json', '4 of 5 targets met; 3 show a real improvement, 2 no evidence of change.')
    """
    data = summary(cycle)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return atomic_write(Path(output_dir) / "summary.json", text, overwrite=True)
