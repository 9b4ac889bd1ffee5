"""The meeting: its agenda (a timebox per question) and, at its end, the proposal of the
next cycle."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..report.stages import STAGES, Stage
from ..words import plural
from .environment import TIMEBOXES, Settings


@dataclass(frozen=True)
class Question:
    """One question of the workshop: its stage, a short name for the progress strip, and
    the facilitator's note (what to do with the room)."""

    stage: Stage
    short: str
    note: str

    @property
    def number(self) -> int:
        return self.stage.number

    @property
    def title(self) -> str:
        return self.stage.title

    @property
    def asks(self) -> str:
        return self.stage.question


#: The seven questions in order, with the facilitator's notes.
QUESTIONS: tuple[Question, ...] = tuple(
    Question(stage, short, note)
    for stage, (short, note) in zip(
        STAGES,
        (
            ("Vision", "Read the vision and the objectives aloud. Agree that each objective "
             "still matters and has an owner."),
            ("Now", "The baseline: where the practice stood before the cycle. Agree on the two "
             "or three numbers that hurt most."),
            ("Targets", "Each target checked letter by letter. Try another value with the "
             "what-if; save it only when the room agrees."),
            ("Plan", "The roadmap, then the improvement register: everyone places their dots "
             "on the ideas worth doing next, then save the votes."),
            ("Action", "Per target: where the action period stands against the baseline and "
             "the target. Ask what is blocking the targets behind."),
            ("Results", "Per target: met or not, and whether the change is real or noise. "
             "Agree on what the room concludes."),
            ("Momentum", "What the next cycle takes over: met targets to hold, the others "
             "re-stated, unfinished initiatives carried."),
        ),
        strict=True,
    )
)  # fmt: skip


def next_cycle_id(cycle_id: str) -> str:
    """A proposed id for the cycle after ``cycle_id``.

    ``2025-h2`` -> ``2026-h1``, ``2025-q4`` -> ``2026-q1``, ``2025-q1`` -> ``2025-q2``,
    ``2025`` -> ``2026``; anything else gets ``-next``.

    Examples
    --------
    >>> next_cycle_id("2025-h2"), next_cycle_id("2025-q1"), next_cycle_id("pilot")
    ('2026-h1', '2025-q2', 'pilot-next')
    """
    match = re.fullmatch(r"(\d{4})-([hHqQ])(\d)", cycle_id)
    if match:
        year, kind, n = int(match[1]), match[2], int(match[3])
        per_year = 2 if kind.lower() == "h" else 4
        year, n = (year + 1, 1) if n >= per_year else (year, n + 1)
        return f"{year}-{kind}{n}"
    if re.fullmatch(r"\d{4}", cycle_id):
        return str(int(cycle_id) + 1)
    return f"{cycle_id}-next"


def next_cycle_proposal(cycle: Any) -> Any | None:
    """The next cycle worked out from ``cycle`` (:func:`csi_lib.momentum.propose_next`),
    or ``None`` while its review period is not over. Nothing is written.

    ``cycle`` is a :class:`~csi_lib.cycle.Cycle` or its :class:`~csi_lib.review.CycleReview`
    (pass the review to reuse its computations); the id comes from :func:`next_cycle_id`.
    """
    from ..momentum import propose_next
    from ..review import assess

    rv = assess(cycle)
    if rv.status["review"] != "complete":
        return None
    return propose_next(rv, id=next_cycle_id(str(rv.cycle.config.id)))


def next_cycle_text(cycle: Any) -> str:
    """One markdown paragraph on the proposed next cycle (or why there is none yet), for the room.

    Dates are ISO dates; counts are words with their plural; no command is named
    (the report run writes the next cycle, see stage 6 of the report).

    Examples
    --------
    >>> print(next_cycle_text(rv))   # rv = csi_lib.review.assess(cycle): pass it to reuse it
    Proposed next cycle **2026-h1**: baseline 2026-01-01 to 2026-03-31 (this cycle's review
    period), action 2026-04-01 to 2026-09-30, review 2026-10-01 to 2026-12-31. 5 targets:
    4 met, to hold, and 1 re-stated; 1 unfinished initiative carried over, 1 initiative
    proposed to realise the rest of an expected benefit, and the whole improvement register.
    >>> print(next_cycle_text(open_cycle(sample_cycle, as_of="2025-10-15")))
    **The review period (2026-01-01 to 2026-03-31) is not over** as of 2025-10-15: the next
    cycle is proposed once it ends, with the review period as its baseline.
    """
    from ..review import assess

    rv = assess(cycle)
    nxt = next_cycle_proposal(rv)
    if nxt is None:
        review = rv.cycle.planned_periods["review"]
        return (
            f"**The review period ({review.label}) is not over** as of {rv.cycle.as_of}: the "
            "next cycle is proposed once it ends, with the review period as its baseline."
        )
    dates = {k: f"{a} to {b}" for k, (a, b) in nxt.dates.items()}
    held = sum(1 for tr in rv if tr.met)
    restated = len(nxt.targets) - held
    proposed = nxt.proposed_initiatives
    return (
        f"Proposed next cycle **{html.escape(str(nxt.id))}**: baseline {dates['baseline']} "
        f"(this cycle's review period), action {dates['action']}, review {dates['review']}. "
        f"{plural(len(nxt.targets), 'target')}: {held} met, to hold, and {restated} re-stated; "
        f"{plural(len(nxt.initiatives) - len(proposed), 'unfinished initiative')} carried over, "
        + (
            f"{plural(len(proposed), 'initiative')} proposed to realise the rest of an expected "
            "benefit, "
            if proposed
            else ""
        )
        + "and the whole improvement register."
    )


def next_cycle_targets(cycle: Any) -> pd.DataFrame:
    """The targets proposed for the next cycle (empty while the review period is not over)."""
    nxt = next_cycle_proposal(cycle)
    if nxt is None:
        return pd.DataFrame(
            columns=[
                "id",
                "kpi",
                "scope",
                "kind",
                "value",
                "tolerance",
                "due",
                "objective",
                "origin",
            ]
        )
    return nxt.targets_table()


def agenda(minutes: Mapping[int, float] | None = None) -> pd.DataFrame:
    """The workshop's agenda: ``stage``, ``question``, ``minutes``, ``starts_after`` (minutes).

    Examples
    --------
    >>> int(agenda()["minutes"].sum())   # 10+15+20+20+10+15+10
    100
    """
    mins = dict(TIMEBOXES if minutes is None else minutes)
    table = pd.DataFrame(
        [
            {"stage": s.number, "question": s.title, "asks": s.question, "minutes": mins[s.number]}
            for s in STAGES
        ]
    )
    table["starts_after"] = table["minutes"].cumsum() - table["minutes"]
    return table


def agenda_text(cycle: Any, ws: Settings) -> str:
    """Markdown: the cycle, its periods and the agenda with the timebox of each question."""
    cfg = cycle.config
    table = agenda(ws.minutes)
    lines = [
        f"**Cycle {html.escape(str(cfg.id))}**: {html.escape(str(cfg.title or cfg.id))}. "
        f"Baseline {cfg.baseline.from_} to {cfg.baseline.to}, action {cfg.action.from_} to "
        f"{cfg.action.to}, review {cfg.review.from_} to {cfg.review.to}"
        + (f"; as of {cycle.as_of}." if cycle.as_of else "."),
        "",
        "| # | question | timebox | starts after |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r.stage} | {r.question} | {r.minutes:g} min | {r.starts_after:g} min |"
        for r in table.itertuples(index=False)
    ]
    total = table["minutes"].sum()
    lines += [
        "",
        f"In all **{total:g} minutes**, {plural(ws.participants, 'participant')} with "
        f"{plural(ws.dots, 'dot')} each.",
    ]
    return "\n".join(lines)
