"""Dot-voting on the improvement register, for the workshop.

Each participant has N dots (3 by default) to place on the ideas of the
register (several on one idea if they like). Participants are numbered, not
named, so no personal data is kept. The totals are shown as the room votes;
"Save votes" adds them to the ``votes`` of the register entries in
``plan.yaml`` (:func:`csi_lib.workshop.save_votes`: round trip, comments kept)
and starts a fresh round.

The logic is in plain methods (:meth:`DotVoting.vote`, :meth:`DotVoting.save`,
:meth:`DotVoting.clear`) so it can be driven without a browser.

Examples
--------
>>> from csi_lib.widgets.voting import DotVoting
>>> type(DotVoting(cycle.dir / "plan.yaml", dots=3, participants=6).widget).__name__
'VBox'
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..charts.theme import RAG
from ..plan import load_plan
from ..workshop import cast_votes, new_tally, save_votes
from .status import attempt, done_html

__all__ = ["DotVoting", "VOTABLE"]

#: Register statuses the room votes on (rejected ideas are left out).
VOTABLE: tuple[str, ...] = ("new", "parked", "accepted")
_DOT = "\u25cf"


class DotVoting:
    """Dot-voting buttons, one per idea of the register, with totals and "Save votes".

    Parameters
    ----------
    plan_path:
        The cycle's ``plan.yaml``.
    dots:
        Dots per participant.
    participants:
        How many participants vote (they are numbered 1..n).

    Attributes
    ----------
    widget:
        The ``VBox`` to display.
    tally:
        Dots per idea id in the current round.
    dots_left:
        Dots left per participant label.
    """

    def __init__(self, plan_path: str | Path, *, dots: int = 3, participants: int = 6) -> None:
        self.plan_path = Path(plan_path)
        self.dots = int(dots)
        plan = load_plan(self.plan_path)
        self.ideas = [r for r in plan.ideas if r.status in VOTABLE]
        self.recorded = {r.id: r.votes for r in self.ideas}
        self.people = [f"Participant {i}" for i in range(1, int(participants) + 1)]
        self.tally: dict[str, int] = new_tally(self.ideas)
        self.dots_left: dict[str, int] = dict.fromkeys(self.people, self.dots)

        self.participant = w.Dropdown(options=self.people, description="Voting")
        self.left_html = w.HTML()
        self.buttons: dict[str, w.Button] = {}
        self.counts: dict[str, w.HTML] = {}
        rows = []
        for idea in self.ideas:
            button = w.Button(
                description=f"Vote {idea.id}",
                tooltip=f"place one dot on {idea.id}",
                layout={"width": "110px"},
            )
            button.on_click(lambda _b, i=idea.id: self._on_vote(i))
            self.buttons[idea.id] = button
            self.counts[idea.id] = w.HTML(layout={"width": "260px"})
            text = (
                f"<b>{html.escape(idea.id)}</b> {html.escape(idea.idea)} "
                f"<span style='color:#666'>(value {idea.value}, effort {idea.effort}, "
                f"{html.escape(idea.status)})</span>"
            )
            rows.append(
                w.HBox(
                    [button, self.counts[idea.id], w.HTML(text)], layout={"align_items": "center"}
                )
            )
        self.save_button = w.Button(
            description="Save votes",
            button_style="primary",
            icon="save",
            tooltip="add this round's dots to the votes in plan.yaml",
        )
        self.clear_button = w.Button(description="Clear round", tooltip="remove every dot")
        self.status = w.HTML()
        self.participant.observe(lambda _c: self._render(), names="value")
        self.save_button.on_click(lambda _b: self._on_save())
        self.clear_button.on_click(lambda _b: self.clear())
        self.widget = w.VBox(
            [
                w.HBox([self.participant, self.left_html], layout={"align_items": "center"}),
                *rows,
                w.HBox([self.save_button, self.clear_button]),
                self.status,
            ]
        )
        self.widget.add_class("csi-voting")
        self._render()

    # ------------------------------------------------------------------ logic

    def vote(self, idea_id: str, participant: str | None = None) -> int:
        """Place one dot of ``participant`` (default: the one selected) on ``idea_id``.

        Returns the dots that participant has left.

        Raises
        ------
        ConfigError
            No dot left, or an unknown idea.
        """
        who = participant or self.participant.value
        self.tally, self.dots_left[who] = cast_votes(self.tally, idea_id, self.dots_left[who])
        self._render()
        return self.dots_left[who]

    def save(self) -> dict[str, int]:
        """Add the round's dots to ``plan.yaml`` and start a new round; returns the new totals."""
        totals = save_votes(self.plan_path, self.tally)
        self.recorded.update(totals)
        self.clear()
        return totals

    def clear(self) -> None:
        """Remove every dot of the round (nothing is written)."""
        self.tally = new_tally(self.ideas)
        self.dots_left = dict.fromkeys(self.people, self.dots)
        self._render()

    def totals(self) -> dict[str, int]:
        """Dots per idea in this round, most first."""
        return dict(sorted(self.tally.items(), key=lambda kv: -kv[1]))

    # ------------------------------------------------------------------ events and display

    def _on_vote(self, idea_id: str) -> None:
        ok, _ = attempt(self.status, lambda: self.vote(idea_id))
        if ok:
            self.status.value = ""

    def _on_save(self) -> None:
        ok, totals = attempt(self.status, self.save)
        if not ok:
            return
        if not totals:
            self.status.value = "No dot placed yet: nothing to save."
            return
        saved = ", ".join(f"{html.escape(i)} now {n}" for i, n in totals.items())
        self.status.value = done_html(
            f"Votes saved to {html.escape(self.plan_path.name)}: {saved}."
        )

    def _render(self) -> None:
        who = self.participant.value
        left = self.dots_left.get(who, 0)
        self.left_html.value = (
            f"&nbsp;{html.escape(str(who))}: <b>{left}</b> of {self.dots} dot(s) left"
        )
        for idea_id, button in self.buttons.items():
            button.disabled = left <= 0
            n = self.tally[idea_id]
            self.counts[idea_id].value = (
                f"<span style='color:{RAG['pass']};letter-spacing:1px'>{_DOT * n}</span> "
                f"<b>{n}</b> this round &middot; {self.recorded.get(idea_id, 0)} recorded"
            )

    def _repr_mimebundle_(self, **kwargs: Any):  # display the control directly in a notebook
        return self.widget._repr_mimebundle_(**kwargs)
