"""Where each target stands, decided once: the one word every output shows, and why.

========================  ===========================================================
state                     when
========================  ===========================================================
``met`` / ``not met``     the review period is over and the data covers it: final
``on track``              during the cycle: the value over the complete months so far
                          meets the target, or (action period) the trend through them
                          reaches it by its due date
``off track``             during the cycle: it does not, and the trend does not reach it
                          in time (or the value moved away from the target)
``too early to say``      no complete month of the action period yet, or too few of them
                          for a trend and the target not met yet
``not measured``          the data cannot measure the KPI (no SLA column, no survey), or
                          the target's scope does not exist in the data
========================  ===========================================================

A month (or week) not complete at the as-of date takes no part: a scheduled run in the
middle of a month reaches the same standing as a run at the end of the previous month,
and the reason says what the standing rests on ("3 full months of the action period,
July to September 2025"). The cover, stages 4 to 6, ``summary.json``, ``summary.md``,
``summary.txt``, the workbook and the PDF all show :func:`target_standing`'s result.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..periods import Period, bin_words, period_edges, period_word

if TYPE_CHECKING:
    from .assess import CycleReview, TargetReview

__all__ = ["STATE_RAG", "STATE_WORDS", "State", "TargetStanding", "rests_on", "target_standing"]


class State(enum.StrEnum):
    """The standing of a target (see the module docstring)."""

    MET = "met"
    NOT_MET = "not met"
    ON_TRACK = "on track"
    OFF_TRACK = "off track"
    TOO_EARLY = "too early to say"
    NOT_MEASURED = "not measured"


#: State -> its colour class on the cover (red, amber, green; grey when nothing to judge).
STATE_RAG: dict[State, str] = {
    State.MET: "met",
    State.ON_TRACK: "met",
    State.NOT_MET: "not-met",
    State.OFF_TRACK: "not-met",
    State.TOO_EARLY: "warn",
    State.NOT_MEASURED: "unknown",
}

#: State -> the words a reader sees (capitalised at the start of a cell).
STATE_WORDS: dict[State, str] = {s: s.value.capitalize() for s in State}


@dataclass(frozen=True)
class TargetStanding:
    """Where one target stands, and why.

    Attributes
    ----------
    state:
        The :class:`State`.
    reason:
        Why, in words ("meets the target over 3 full months of the action period, July to
        September 2025").
    provisional:
        True while the standing can still change (during the cycle).
    rests_on:
        The complete months (or weeks) the standing rests on, in words, or None.
    last_full:
        The last complete month or week of the series (a :class:`Period`), or None.
    partial:
        The month or week after it that is not complete yet, or None.
    """

    state: State
    reason: str
    provisional: bool
    rests_on: str | None = None
    last_full: Period | None = None
    partial: Period | None = None

    @property
    def rag(self) -> str:
        return STATE_RAG[self.state]

    @property
    def words(self) -> str:
        return STATE_WORDS[self.state]

    @property
    def sentence(self) -> str:
        """State and reason in one sentence: "On track: meets the target over ..."."""
        return f"{self.words}: {self.reason}."

    def to_dict(self) -> dict[str, Any]:
        """For ``summary.json``: ``state``, ``reason``, ``provisional``, ``rests_on``,
        ``last_full_period`` and ``partial_period`` (``{"from", "to", "label"}`` or null)."""
        return {
            "state": self.state.value,
            "reason": self.reason,
            "provisional": self.provisional,
            "rests_on": self.rests_on,
            "last_full_period": _period_json(self.last_full),
            "partial_period": _period_json(self.partial),
        }


def _period_json(p: Period | None, freq: str | None = None) -> dict[str, str] | None:
    if p is None:
        return None
    return {"from": str(p.first_date), "to": str(p.last_date)}


def span_words(period: Period, freq: str) -> str:
    """The months (or weeks) of a period in words: "January to March 2026", "July 2025 to
    February 2026", "the weeks of 6 January to 24 March 2025"."""
    edges = period_edges(period, freq)
    first = bin_words(edges[0], edges[1], freq, period.tz)
    last = bin_words(edges[-2], edges[-1], freq, period.tz)
    if len(edges) == 2:
        return first
    if period_word(freq) == "month" and first[-4:] == last[-4:]:
        first = first[:-5]
    return f"{first} to {last}"


def rests_on(period: Period | None, name: str, freq: str, *, whole: bool = False) -> str | None:
    """What a value rests on, in words: "3 full months of the action period (July to
    September 2025)", or with ``whole`` "the review period (January to March 2026)"."""
    if period is None:
        return None
    if whole:
        return f"the {name} period ({span_words(period, freq)})"
    n = len(period_edges(period, freq)) - 1
    full = period_word(freq, n).replace(" ", " full ", 1)
    return f"{full} of the {name} period ({span_words(period, freq)})"


def _bins(tr: TargetReview) -> tuple[Period | None, Period | None]:
    """The last complete bin of the target's series and the partial one after it."""
    series = tr.series
    if series.empty or "partial" not in series:
        return None, None
    partial = series["partial"].to_numpy(dtype=bool)
    tz = tr.periods["baseline"].tz if tr.periods.get("baseline") else "UTC"
    full = series[~partial]
    last_full = (
        None
        if full.empty
        else Period(full["period_start"].iloc[-1], full["period_end"].iloc[-1], tz)
    )
    after = series[partial]
    if last_full is not None:
        after = after[after["period_start"] >= last_full.end]
    part = (
        None
        if after.empty
        else Period(after["period_start"].iloc[-1], after["period_end"].iloc[-1], tz)
    )
    return last_full, part


def target_standing(tr: TargetReview, rv: CycleReview | None) -> TargetStanding:
    """Decide where ``tr`` stands in ``rv``'s cycle (see the module docstring). A target
    measured on its own (no cycle review) is judged on its compared period as final.

    Examples
    --------
    >>> target_standing(rv.target("T1"), rv).sentence   # rv = csi_lib.review.assess(cycle)
    'Met: 26.6 h over the review period (January to March 2026) against a target of 28.0 h.'
    """
    last_full, part = _bins(tr)
    if rv is None:
        final = tr.compared == "review"
    else:
        final = (
            not rv.phase.provisional
            and rv.compared == "review"
            and rv.periods["review"] == rv.planned("review")
        )
    made = {"provisional": not final, "last_full": last_full, "partial": part}
    if tr.not_measured or tr.problem:
        return TargetStanding(State.NOT_MEASURED, tr.not_measured or tr.problem, **made)
    if tr.compared_period is None:
        return TargetStanding(
            State.TOO_EARLY,
            f"no complete {period_word(tr.freq)} of the action period yet",
            **made,
        )
    period = tr.compared_period
    basis = rests_on(period, tr.compared, tr.freq, whole=final)
    made["rests_on"] = basis
    value = tr.compared_value
    if pd.isna(value):
        return TargetStanding(
            State.NOT_MEASURED, f"no value over {basis}: the data has none there", **made
        )
    shown, goal = tr.texts_apart(value)
    where = f"{shown} over {basis} against a target of {goal}"
    if final:
        return TargetStanding(State.MET if tr.met else State.NOT_MET, where, **made)
    if tr.met:
        return TargetStanding(State.ON_TRACK, f"meets it so far: {where}", **made)
    if tr.compared == "review":
        return TargetStanding(State.OFF_TRACK, f"misses it so far: {where}", **made)
    return _action_standing(tr, rv, where, made)


def _action_standing(
    tr: TargetReview, rv: CycleReview | None, where: str, made: dict[str, Any]
) -> TargetStanding:
    """During the action period, not met so far: the trend decides, if there is one."""
    proj = tr.projection
    due = tr.target.due or (rv.standing.verdict_due if rv is not None else None)
    if proj.status == "already reached":
        return TargetStanding(
            State.ON_TRACK,
            f"{where}; the latest complete {period_word(tr.freq)} meets it: {proj.text}",
            **made,
        )
    if proj.status == "projected" and proj.date is not None:
        when = proj.text.removesuffix(" at the current rate")
        if due is None or proj.date.date() <= due:
            return TargetStanding(
                State.ON_TRACK, f"{where}; the trend reaches it {when}, by {due}", **made
            )
        return TargetStanding(
            State.OFF_TRACK, f"{where}; the trend reaches it only {when}, after {due}", **made
        )
    if proj.status == "not at the current rate":
        return TargetStanding(State.OFF_TRACK, f"{where}; the trend does not reach it", **made)
    if tr.latest_gap.state == "moved away":
        return TargetStanding(State.OFF_TRACK, f"{where}; it moved away from the target", **made)
    return TargetStanding(State.TOO_EARLY, f"{where}; {proj.text}", **made)
