"""Stage 4 tables: progress of each target during the action period."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..periods import period_word
from ..present import present
from .assess import TargetReview, _phrase, assess
from .standing import rests_on

# --------------------------------------------------------------------------- stage 4 tables


def progress_note(cycle: Any) -> str:
    """One markdown paragraph: where the action period stands as of the cycle's ``as_of``,
    what the values rest on (its complete months), and the process limits' basis.

    Examples
    --------
    >>> progress_note(open_cycle(sample_cycle, as_of="2025-05-01"))
    '**The action period has not started**: it runs 2025-07-01 to 2025-12-31 (as of 2025-05-01). ...'
    """
    rv = assess(cycle)
    action = rv.planned("action")
    as_of = rv.cycle.as_of
    if rv.status["action"] == "not started":
        return (
            f"**The action period has not started**: it runs {action.label} "
            f"(as of {as_of}). Progress against the targets is shown once it starts."
        )
    word = period_word(rv.freq)
    judged = rv.periods["action"]
    if judged is None:
        rests = (
            f"it has no complete {word} yet, so no value is judged: the {word} under way is "
            "drawn on the charts as partial"
        )
    else:
        rests = "values below are over " + rests_on(judged, "action", rv.freq)
        if judged != action and rv.status["action"] != "complete":
            rests += f"; the {word} under way is drawn as partial and not judged"
    state = f"is under way (as of {as_of})" if rv.status["action"] == "in progress" else "is over"
    limits = rv.limits_note()
    return f"The action period ({action.label}) {state}: {rests}. {limits}"


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
    "standing",
    "reason",
    "projection",
    "latest_signal",
    "initiatives",
]


def _initiatives_text(tr: TargetReview) -> str:
    return "; ".join(f"{i['id']} {i['title']} ({i['status']})" for i in tr.initiatives) or "none"


def _latest_signal(tr: TargetReview) -> str:
    if tr.not_measured:
        return "not measured"
    signals = tr.signals()
    if not signals:
        return "no signal" if tr.chart is not None else "too few baseline points for limits"
    latest = max(signals, key=lambda s: (s["end"], s["start"]))
    return f"{_phrase(latest, tr.freq)} ({latest['variation']})"


def _signal_json(tr: TargetReview) -> dict[str, str] | None:
    """summary.json's ``signal``: the latest special-cause signal after the baseline, or None."""
    signals = tr.signals()
    if not signals:
        return None
    latest = max(signals, key=lambda s: (s["end"], s["start"]))
    return {"text": _latest_signal(tr), "variation": str(latest["variation"])}


def _signals_json(tr: TargetReview) -> list[dict[str, Any]]:
    """summary.json's ``signals``: every special-cause episode after the baseline on complete
    periods (:meth:`TargetReview.signal_episodes`), oldest first: ``rule``, ``rule_label``,
    ``variation`` (improvement, concern or neither), ``start`` and ``end`` (the first and
    last period's start, ISO dates), ``points`` and ``text``."""
    out = []
    for e in tr.signal_episodes():
        out.append(
            {
                "rule": e["rule"],
                "rule_label": e["rule_label"],
                "variation": str(e["variation"]),
                "start": _iso(e["start"]),
                "end": _iso(e["end"]),
                "points": int(e["points"]),
                "text": e["text"],
            }
        )
    return out


def _iso(label: Any) -> str:
    return label.date().isoformat() if isinstance(label, pd.Timestamp) else str(label)


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
    >>> table = progress_table(open_cycle(sample_cycle, as_of="2025-11-15"))
    >>> table[["target", "kind", "gap_closed_pct", "standing"]].round(1)
      target            kind  gap_closed_pct  standing
    0     T1        minimize            89.8  on track
    1     T2        maximize            33.4  on track
    2     T3        minimize            44.2  on track
    3     T4        maximize             7.2 off track
    4     T5  maintain_below             NaN  on track
    """
    rv = assess(cycle)
    if rv.status["action"] == "not started":
        table = pd.DataFrame(columns=_PROGRESS_COLUMNS)
        table.attrs["note"] = progress_note(rv)
        return table
    rows = []
    over = rv.status["action"] == "complete"
    for tr in rv:
        gap = tr.gap
        st = tr.standing
        unmeasured = tr.not_measured or tr.problem
        now, goal = tr.texts_apart(tr.action_value)
        rows.append(
            {
                "target": tr.id,
                "kpi": tr.kpi.key,
                "label": tr.label,
                "kind": tr.target.kind,
                "baseline": tr.fmt(tr.baseline_value) if formatted else tr.baseline_value,
                "target_value": goal if formatted else tr.target_value,
                "current": now if formatted else tr.action_value,
                "gap_closed_pct": (
                    ("—" if math.isnan(gap.share) else f"{gap.share:.0f} %")
                    if formatted
                    else gap.share
                ),
                "progress": "not measured" if unmeasured else gap.text,
                "standing": st.words if formatted else st.state.value,
                "reason": st.reason,
                # after the action period a projection says nothing: its end is known
                "projection": "—" if over or unmeasured else tr.projection.text,
                "latest_signal": _latest_signal(tr),
                "initiatives": _initiatives_text(tr),
            }
        )
    table = pd.DataFrame(rows, columns=_PROGRESS_COLUMNS)
    table.attrs["note"] = progress_note(rv)
    if formatted:  # for reading: headers in words, units, no index (csi_lib.present)
        judged = rv.periods["action"]
        current = (
            "Action period"
            if over
            else (
                f"Action period, {period_word(rv.freq, _bins(judged, rv.freq))} so far"
                if judged
                else "Action period so far"
            )
        )
        drop = ("kpi", "kind", "progress") + (("projection",) if over else ())
        table = present(table, labels={"current": current}, drop=drop)
    return table


def _bins(period: Any, freq: str) -> int:
    from ..periods import period_edges

    return len(period_edges(period, freq)) - 1


def target_chart(cycle: Any, target_id: str):
    """The XmR chart of one target: baseline-frozen limits, target line, phases (plotly Figure).

    Examples
    --------
    >>> target_chart(rv, "T1").layout.title.text   # rv = csi_lib.review.assess(cycle)
    'T1: ...'
    """
    from ..charts.review import target_figure

    return target_figure(assess(cycle).target(target_id))


def targets_chart(cycle: Any):
    """Every target's XmR chart through the cycle in one figure (one row per target)."""
    from ..charts.review import targets_figure

    return targets_figure(list(assess(cycle)))
