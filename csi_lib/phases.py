"""Where a cycle stands on a given date: its phase, and what is known then.

A cycle walks through four phases, decided by its ``as_of`` date and the
inclusive dates of ``cycle.yaml``:

========  =======================================  ==========================================
phase     as_of                                    what the report can say
========  =======================================  ==========================================
baseline  before the action period starts          the starting point so far; nothing to judge
action    from the action period's first day       progress so far; a *provisional* verdict on
                                                   the action months so far
review    from the review period's first day       a *provisional* verdict on the review so far
closed    from the review period's last day on     the final verdict; the next cycle
========  =======================================  ==========================================

A period is over on its last day (``as_of`` = ``to`` covers that whole day),
which is also how :meth:`csi_lib.cycle.Cycle.status` reads it. Without an
``as_of`` (all of the data) a cycle is closed. Every stage shows what is known
in its phase; "not due yet" is a state, never an error.

Examples
--------
>>> from csi_lib.cycle import load_config
>>> config = load_config(sample_cycle)          # the folder data/sample-cycle
>>> standing(config, "2025-10-15").phase
<Phase.ACTION: 'action'>
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from .plan import _as_date

__all__ = ["Phase", "Standing", "phase_of", "standing"]


class Phase(enum.StrEnum):
    """The phase of a cycle on a date (see the module docstring)."""

    BASELINE = "baseline"
    ACTION = "action"
    REVIEW = "review"
    CLOSED = "closed"

    @property
    def provisional(self) -> bool:
        """True while targets can be judged only on the months so far (action, review)."""
        return self in (Phase.ACTION, Phase.REVIEW)


def phase_of(config: Any, as_of: str | dt.date | None) -> Phase:
    """The phase of a cycle (its :class:`~csi_lib.cycle.CycleConfig`) on ``as_of`` (inclusive date).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> r = lambda a, b: NS(from_=dt.date.fromisoformat(a), to=dt.date.fromisoformat(b))
    >>> c = NS(baseline=r("2025-01-01", "2025-06-30"), action=r("2025-07-01", "2025-12-31"),
    ...        review=r("2026-01-01", "2026-03-31"))
    >>> [phase_of(c, d).value for d in ("2025-06-30", "2025-07-01", "2026-03-30", "2026-03-31")]
    ['baseline', 'action', 'review', 'closed']
    """
    day = _as_date(as_of)
    if day is None or day >= config.review.to:
        return Phase.CLOSED
    if day >= config.review.from_:
        return Phase.REVIEW
    if day >= config.action.from_:
        return Phase.ACTION
    return Phase.BASELINE


def _span(r: Any) -> str:
    return f"{r.from_} to {r.to}"


@dataclass(frozen=True)
class Standing:
    """A cycle's phase on ``as_of`` with its dates, and sentences for the report.

    Attributes
    ----------
    phase:
        The :class:`Phase`.
    as_of:
        The inclusive date the report is made as of (``None``: all of the data).
    config:
        The cycle's :class:`~csi_lib.cycle.CycleConfig` (its three periods and review date).
    """

    phase: Phase
    as_of: dt.date | None
    config: Any

    # ---- dates
    @property
    def _before_start(self) -> bool:
        return self.as_of is not None and self.as_of < self.config.baseline.from_

    @property
    def verdict_due(self) -> dt.date:
        """The day the final verdict is due: the last day of the review period."""
        return self.config.review.to

    @property
    def next_due(self) -> tuple[dt.date, str] | None:
        """``(date, what)`` of the next thing that becomes due, or None when nothing is left.

        Examples: ``(2025-07-01, "the action period starts")`` in the baseline
        phase, ``(2026-03-31, "the final verdict")`` in the review phase.
        """
        c = self.config
        if self.phase is Phase.BASELINE:
            if self._before_start:
                return c.baseline.from_, "the baseline period starts"
            return c.action.from_, "the action period starts"
        if self.phase is Phase.ACTION:
            return c.review.from_, "the review period starts"
        if self.phase is Phase.REVIEW:
            return c.review.to, "the final verdict"
        review_date = getattr(c, "review_date", None)
        if review_date is not None and (self.as_of is None or review_date > self.as_of):
            return review_date, "the review workshop"
        return None

    def elapsed(self, name: str) -> tuple[int, int]:
        """``(days so far, days in all)`` of a period (inclusive dates) as of ``as_of``."""
        r = getattr(self.config, name)
        total = (r.to - r.from_).days + 1
        if self.as_of is None:
            return total, total
        return max(0, min(total, (self.as_of - r.from_).days + 1)), total

    # ---- words
    @property
    def label(self) -> str:
        """The phase in a few words: "Action period (day 107 of 184)", "Closed"."""
        if self.phase is Phase.CLOSED:
            return "Closed: the review period is over"
        if self.phase is Phase.BASELINE and self._before_start:
            return "Before the baseline period"
        done, total = self.elapsed(self.phase.value)
        return f"{self.phase.value.capitalize()} period (day {done} of {total})"

    def to_dict(self) -> dict[str, Any]:
        """For ``summary.json`` and the cover: ``phase``, ``label``, ``text`` (plain),
        ``as_of``, ``final_verdict_due`` (ISO dates) and ``provisional``."""
        return {
            "phase": self.phase.value,
            "label": self.label,
            "text": self.text(markdown=False),
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "final_verdict_due": self.verdict_due.isoformat(),
            "provisional": self.phase.provisional,
        }

    def text(self, *, markdown: bool = True) -> str:
        """Where the cycle stands, in one paragraph of plain words (markdown, or plain text).

        Examples
        --------
        >>> print(standing(cycle.config, "2025-10-15").text())
        As of 2025-10-15 the cycle is in its **action period** (2025-07-01 to 2025-12-31,
        day 107 of 184). ... The final verdict is due on 2026-03-31, when the review period
        ends. The review workshop is on 2026-04-15.
        """
        text = self._text()
        return text if markdown else text.replace("**", "")

    def _text(self) -> str:
        c = self.config
        when = f"As of {self.as_of}" if self.as_of is not None else "With all of the data"
        review_date = getattr(c, "review_date", None)
        workshop = f" The review workshop is on {review_date}." if review_date else ""
        final = f"The final verdict is due on {self.verdict_due}, when the review period ends."
        if self.phase is Phase.CLOSED:
            return (
                f"{when} the cycle is **closed**: its review period ({_span(c.review)}) is over, "
                f"the verdicts are final and the next cycle can start.{workshop}"
            )
        done, total = self.elapsed(self.phase.value)
        if self.phase is Phase.BASELINE:
            if self._before_start:
                head = (
                    f"{when} the cycle has not started: its baseline period starts on "
                    f"{c.baseline.from_}."
                )
            else:
                head = (
                    f"{when} the cycle is in its **baseline period** ({_span(c.baseline)}, day "
                    f"{done} of {total}): the starting point is still being measured."
                )
            return (
                f"{head} The action period runs {_span(c.action)} and the review period "
                f"{_span(c.review)}. Progress is shown from {c.action.from_}. {final}"
            )
        current = getattr(c, self.phase.value)
        after = f" The review period runs {_span(c.review)}." if self.phase is Phase.ACTION else ""
        return (
            f"{when} the cycle is in its **{self.phase.value} period** ({_span(current)}, day "
            f"{done} of {total}).{after} Until the review period ends, verdicts are provisional, on "
            f"the complete months so far. {final}{workshop}"
        )


def standing(cycle: Any, as_of: str | dt.date | None = None) -> Standing:
    """The :class:`Standing` of a :class:`~csi_lib.cycle.Cycle` (its own ``as_of``) or of a
    :class:`~csi_lib.cycle.CycleConfig` on ``as_of``."""
    config = getattr(cycle, "config", cycle)
    day = _as_date(as_of) if as_of is not None else _as_date(getattr(cycle, "as_of", None))
    return Standing(phase_of(config, day), day, config)
