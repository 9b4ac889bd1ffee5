"""Stage 4 tables: progress of each target during the action period."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..present import present
from .assess import TargetReview, _phrase, assess

# --------------------------------------------------------------------------- stage 4 tables


def progress_note(cycle: Any) -> str:
    """One markdown paragraph: where the cycle stands as of its ``as_of`` date.

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
    >>> table = progress_table(open_cycle(sample_cycle, as_of="2025-11-15"))
    >>> table[["target", "kind", "gap_closed_pct", "progress"]].round(1)
      target            kind  gap_closed_pct                        progress
    0     T1        minimize            91.9           92% of the gap closed
    1     T2        maximize            40.5           40% of the gap closed
    2     T3        minimize            51.5           52% of the gap closed
    3     T4        maximize             8.2            8% of the gap closed
    4     T5  maintain_below             NaN  met at the baseline, still met
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
    >>> target_chart(rv, "T1").layout.title.text   # rv = csi_lib.review.assess(cycle)
    'T1: ...'
    """
    from ..charts.review import target_figure

    return target_figure(assess(cycle).target(target_id))


def targets_chart(cycle: Any):
    """Every target's XmR chart through the cycle in one figure (one row per target)."""
    from ..charts.review import targets_figure

    return targets_figure(list(assess(cycle)))
