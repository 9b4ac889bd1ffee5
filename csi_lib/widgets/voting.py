"""Dot-voting on the improvement register as a grid: participants by ideas, one click per dot.

Each row is a participant (numbered, not named: no personal data is kept), each
column an idea the room may vote on; a click on a cell places one of that
participant's dots there (several on one idea are allowed) and the cell shows
them as dots. A row whose dots are all placed is done: its cells are disabled
and its "dots left" reads 0. "Undo" takes back a row's last dot. The bottom rows
give this round's dots per idea and the votes recorded in ``plan.yaml``; "Save
votes" adds the round to them (:func:`csi_lib.workshop.save_votes`: a round trip
of the file, comments kept), shows the new totals at once and starts a new round.

The grid is sized from the room: ``participants`` rows (``csi workshop
--participants 12``). The logic is in plain methods (:meth:`DotVoting.vote`,
:meth:`DotVoting.undo`, :meth:`DotVoting.save`, :meth:`DotVoting.clear`), so it
can be driven without a browser.

Examples
--------
>>> from csi_lib.widgets.voting import DotVoting
>>> grid = DotVoting(cycle.dir / "plan.yaml", dots=3, participants=12)
>>> len(grid.people), [i.id for i in grid.ideas]
(12, ['R1', 'R2', 'R3', 'R4', 'R5'])
>>> grid.vote("R2", "Participant 3"), grid.cells["Participant 3", "R2"].description
(2, '●')
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..plan import load_plan
from ..words import plural
from ..workshop import cast_votes, new_tally, save_votes
from .status import attempt, done_html

__all__ = ["DotVoting", "VOTABLE"]

#: Register statuses the room votes on (rejected ideas are left out).
VOTABLE: tuple[str, ...] = ("new", "parked", "accepted")
_DOT = "\u25cf"


class DotVoting:
    """The voting grid of a workshop round.

    Parameters
    ----------
    plan_path:
        The cycle's ``plan.yaml``.
    dots:
        Dots per participant.
    participants:
        How many participants vote: the grid's rows, numbered 1..n.

    Attributes
    ----------
    widget:
        The ``VBox`` to display.
    cells:
        The grid's buttons by (participant, idea id).
    tally:
        Dots per idea id in the current round.
    placed:
        The dots each participant placed this round, in order (idea ids).
    dots_left:
        Dots left per participant.
    recorded:
        The votes recorded in ``plan.yaml`` per idea id.
    on_saved:
        Functions called after votes are saved (the workshop redraws the register).
    """

    def __init__(self, plan_path: str | Path, *, dots: int = 3, participants: int = 6) -> None:
        self.plan_path = Path(plan_path)
        self.dots = int(dots)
        plan = load_plan(self.plan_path)
        self.ideas = sorted(
            (r for r in plan.ideas if r.status in VOTABLE), key=lambda r: (len(r.id), r.id)
        )
        self.recorded = {r.id: r.votes for r in self.ideas}
        self.people = [f"Participant {i}" for i in range(1, int(participants) + 1)]
        self.on_saved: list[Callable[[dict[str, int]], None]] = []
        self.placed: dict[str, list[str]] = {p: [] for p in self.people}
        self.tally: dict[str, int] = new_tally(self.ideas)
        self.dots_left: dict[str, int] = dict.fromkeys(self.people, self.dots)

        self.cells: dict[tuple[str, str], w.Button] = {}
        self.left_labels: dict[str, w.HTML] = {}
        self.undo_buttons: dict[str, w.Button] = {}
        self.round_cells: dict[str, w.HTML] = {}
        self.recorded_cells: dict[str, w.HTML] = {}
        self.widget = self._layout()
        self.widget.add_class("csi-voting")
        self._render()

    # ------------------------------------------------------------------ layout

    def _layout(self) -> w.VBox:
        n = len(self.ideas)
        items: list[w.Widget] = [_cell_html("", "csi-vote-corner")]
        for idea in self.ideas:
            items.append(
                _cell_html(
                    f"<b>{html.escape(idea.id)}</b> {html.escape(idea.idea)}", "csi-vote-idea"
                )
            )
        items += [_cell_html("Dots left", "csi-vote-head"), _cell_html("", "csi-vote-head")]
        for person in self.people:
            items.append(_cell_html(html.escape(person), "csi-vote-person"))
            for idea in self.ideas:
                cell = w.Button(
                    description="",
                    tooltip=f"{person}: place a dot on {idea.id} ({idea.idea})",
                    layout={"width": "auto", "height": "auto"},
                )
                cell.add_class("csi-vote-cell")
                cell.on_click(lambda _b, p=person, i=idea.id: self._on_vote(p, i))
                self.cells[person, idea.id] = cell
                items.append(cell)
            self.left_labels[person] = _cell_html("", "csi-vote-left")
            undo = w.Button(
                description="Undo",
                tooltip=f"Take back the last dot of {person}",
                layout={"width": "auto", "height": "auto"},
            )
            undo.add_class("csi-vote-undo")
            undo.on_click(lambda _b, p=person: self._on_undo(p))
            self.undo_buttons[person] = undo
            items += [self.left_labels[person], undo]
        for label, store, css in (
            ("This round", self.round_cells, "csi-vote-round"),
            ("Recorded votes", self.recorded_cells, "csi-vote-recorded"),
        ):
            items.append(_cell_html(label, f"csi-vote-person {css}"))
            for idea in self.ideas:
                store[idea.id] = _cell_html("", f"csi-vote-total {css}")
                items.append(store[idea.id])
            items += [_cell_html("", css), _cell_html("", css)]
        grid = w.GridBox(
            items,
            layout=w.Layout(
                grid_template_columns=f"minmax(9em, auto) repeat({n}, minmax(5em, 1fr)) auto auto",
                grid_gap="2px 6px",
                width="100%",
            ),
        )
        grid.add_class("csi-vote-grid")
        self.save_button = w.Button(
            description="Save votes",
            button_style="primary",
            icon="save",
            tooltip="Add this round's dots to the votes of the improvement register",
            layout={"width": "auto"},
        )
        self.clear_button = w.Button(
            description="Clear round",
            tooltip="Remove every dot of this round",
            layout={"width": "auto"},
        )
        self.status = w.HTML()
        self.save_button.on_click(lambda _b: self._on_save())
        self.clear_button.on_click(lambda _b: self.clear())
        intro = w.HTML(
            f"<p class='csi-vote-intro'>Each participant has {plural(self.dots, 'dot')}: one "
            "click on a cell places one dot on that idea.</p>"
        )
        return w.VBox(
            [intro, grid, w.HBox([self.save_button, self.clear_button, self.status])],
            layout={"width": "100%"},
        )

    # ------------------------------------------------------------------ logic

    def vote(self, idea_id: str, participant: str | None = None) -> int:
        """Place one dot of ``participant`` (default: the first with a dot left) on ``idea_id``.

        Returns the dots that participant has left.

        Raises
        ------
        ConfigError
            No dot left, or an unknown idea.
        """
        who = participant or next((p for p in self.people if self.dots_left[p] > 0), self.people[0])
        self.tally, self.dots_left[who] = cast_votes(self.tally, idea_id, self.dots_left[who])
        self.placed[who].append(idea_id)
        self._render()
        return self.dots_left[who]

    def undo(self, participant: str) -> None:
        """Take back the last dot ``participant`` placed this round (nothing when none)."""
        if not self.placed[participant]:
            return
        idea_id = self.placed[participant].pop()
        self.tally[idea_id] -= 1
        self.dots_left[participant] += 1
        self._render()

    def save(self) -> dict[str, int]:
        """Add the round's dots to ``plan.yaml`` and start a new round; returns the new totals."""
        totals = save_votes(self.plan_path, self.tally)
        self.recorded.update(totals)
        self.clear()
        for callback in self.on_saved:
            callback(totals)
        return totals

    def clear(self) -> None:
        """Remove every dot of the round (nothing is written)."""
        self.tally = new_tally(self.ideas)
        self.dots_left = dict.fromkeys(self.people, self.dots)
        self.placed = {p: [] for p in self.people}
        self._render()

    def totals(self) -> dict[str, int]:
        """Dots per idea in this round, most first."""
        return dict(sorted(self.tally.items(), key=lambda kv: -kv[1]))

    # ------------------------------------------------------------------ events and display

    def _on_vote(self, person: str, idea_id: str) -> None:
        ok, _ = attempt(self.status, lambda: self.vote(idea_id, person))
        if ok:
            self.status.value = ""

    def _on_undo(self, person: str) -> None:
        self.undo(person)
        self.status.value = ""

    def _on_save(self) -> None:
        if not any(self.tally.values()):
            self.status.value = "No dot placed yet: nothing to save."
            return
        ok, totals = attempt(self.status, self.save)
        if not ok:
            return
        saved = ", ".join(f"{html.escape(i)} now {n}" for i, n in (totals or {}).items())
        self.status.value = done_html(f"Votes saved in the plan: {saved}.")

    def _render(self) -> None:
        for person in self.people:
            left = self.dots_left[person]
            mine = self.placed[person]
            for idea in self.ideas:
                cell = self.cells[person, idea.id]
                n = mine.count(idea.id)
                cell.description = _DOT * n
                cell.disabled = left <= 0
            done = " csi-vote-done" if left <= 0 else ""
            self.left_labels[person].value = f"<span class='csi-vote-n{done}'>{left}</span>"
            self.undo_buttons[person].disabled = not mine
        for idea in self.ideas:
            self.round_cells[idea.id].value = str(self.tally[idea.id])
            self.recorded_cells[idea.id].value = str(self.recorded.get(idea.id, 0))

    def _repr_mimebundle_(self, **kwargs: Any):  # display the control directly in a notebook
        return self.widget._repr_mimebundle_(**kwargs)


def _cell_html(text: str, css: str) -> w.HTML:
    cell = w.HTML(text, layout={"width": "auto"})
    for name in css.split():
        cell.add_class(name)
    return cell
