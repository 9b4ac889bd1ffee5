"""Decisions log of the workshop: a text box and "Record decision".

Each decision is appended, with the time, the stage and (optionally) who
recorded it, to the cycle's ``decisions.md`` (:func:`csi_lib.workshop.record_decision`),
and the decisions recorded so far are listed below the box. Everything a
person typed is HTML-escaped before it is shown.

Examples
--------
>>> from csi_lib.widgets.decisions import DecisionLog
>>> type(DecisionLog(cycle.dir, stage=3).widget).__name__
'VBox'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..workshop import decisions_html, read_decisions, record_decision, stage_of
from .status import attempt, done_html

__all__ = ["DecisionLog"]


class DecisionLog:
    """Record the room's decisions for one stage (or for the whole cycle).

    Parameters
    ----------
    cycle_dir:
        The cycle folder (``decisions.md`` is written there).
    stage:
        Stage number 0-6 the decisions belong to; ``None`` for general
        decisions (the list then shows every decision of the cycle).

    controls:
        False shows the decisions only (the room view): no text box, no button.

    Attributes
    ----------
    widget:
        The ``VBox`` to display.
    on_recorded:
        Functions called (with no argument) after a decision is recorded: the
        workshop redraws every list of decisions on the page at once.
    """

    def __init__(
        self, cycle_dir: str | Path, *, stage: int | str | None = None, controls: bool = True
    ) -> None:
        self.cycle_dir = Path(cycle_dir)
        self.stage = stage_of(stage)
        what = f"\u201c{self.stage.title}\u201d" if self.stage else "the cycle"
        self.on_recorded: list[Callable[[], None]] = []
        self.text = w.Textarea(
            placeholder=f"What did the room decide on {what}?",
            layout={"width": "100%", "height": "3.2em"},
        )
        self.author = w.Text(placeholder="Recorded by (optional)", layout={"width": "16em"})
        self.button = w.Button(
            description="Record decision",
            button_style="success",
            icon="check",
            tooltip="Add this decision to the cycle's decisions log",
            layout={"width": "auto"},
        )
        self.status = w.HTML()
        self.log = w.HTML()
        self.button.on_click(lambda _b: self._on_record())
        parts: list[w.Widget] = [self.log]
        if controls:
            parts += [self.text, w.HBox([self.author, self.button]), self.status]
        self.widget = w.VBox(parts)
        self.widget.add_class("csi-decisions")
        self.refresh()

    def record(self) -> Path:
        """Append the text box as a decision, clear it, refresh the list; returns the file.

        Raises
        ------
        ConfigError
            The text box is empty or too long.
        """
        path = record_decision(
            self.cycle_dir,
            self.text.value,
            stage=self.stage,
            author=self.author.value.strip() or None,
        )
        self.text.value = ""
        self.refresh()
        for callback in self.on_recorded:
            callback()
        return path

    def refresh(self) -> None:
        """Re-read ``decisions.md`` and list this stage's decisions (all for ``stage=None``)."""
        table = read_decisions(self.cycle_dir)
        self.log.value = decisions_html(table, stage=self.stage.number if self.stage else None)

    def _on_record(self) -> None:
        ok, path = attempt(self.status, self.record)
        if ok:
            self.status.value = done_html("Recorded in the decisions log.")

    def _repr_mimebundle_(self, **kwargs: Any):  # display the control directly in a notebook
        return self.widget._repr_mimebundle_(**kwargs)
