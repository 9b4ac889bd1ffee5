"""Timebox: a countdown with start / pause for one stage of the workshop.

The clock runs in the browser (an ``ipywidgets.Play`` that ticks once a
second), so it keeps time even while the kernel is busy; each tick updates
the remaining time shown. The play button starts, the pause button pauses,
the stop button resets; "+5 min" extends the timebox.

Examples
--------
>>> from csi_lib.widgets.timebox import Timebox
>>> type(Timebox(15, label="Where are we now?").widget).__name__
'HBox'
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from ..charts.theme import RAG

__all__ = ["Timebox", "format_clock"]

#: Seconds added by the "+5 min" button.
EXTEND_S = 300


def format_clock(seconds: float) -> str:
    """Seconds as ``m:ss`` (``h:mm:ss`` from one hour); negative counts as 0.

    Examples
    --------
    >>> format_clock(754), format_clock(0), format_clock(3725)
    ('12:34', '0:00', '1:02:05')
    """
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Timebox:
    """A countdown of ``minutes`` with start / pause / reset and "+5 min".

    Parameters
    ----------
    minutes:
        Length of the timebox (minutes, > 0).
    label:
        Shown before the clock, e.g. the stage's question.

    Attributes
    ----------
    widget:
        The ``HBox`` to display.
    play:
        The ``ipywidgets.Play`` whose ``value`` is the elapsed seconds.
    """

    def __init__(self, minutes: float, *, label: str = "Timebox") -> None:
        if not minutes or minutes <= 0:
            raise ValueError("a timebox needs a positive number of minutes")
        self.label = label
        seconds = int(round(minutes * 60))
        self.play = w.Play(
            value=0,
            min=0,
            max=seconds,
            step=1,
            interval=1000,
            show_repeat=False,
            description="Start / pause",
            layout={"width": "auto"},
        )
        self.play.add_class("csi-timebox-play")
        self.bar = w.IntProgress(value=0, min=0, max=seconds, layout={"width": "220px"})
        self.clock = w.HTML()
        self.clock.add_class("csi-timebox-clock")
        self.extend_button = w.Button(
            description="+5 min", tooltip="add five minutes", layout={"width": "80px"}
        )
        self.play.observe(self._tick, names=["value", "max", "playing"])
        self.extend_button.on_click(lambda _b: self.extend())
        self.widget = w.HBox(
            [
                w.HTML(f"<b>{html.escape(label)}</b>&nbsp;"),
                self.play,
                self.bar,
                self.clock,
                self.extend_button,
            ],
            layout={"align_items": "center"},
        )
        self.widget.add_class("csi-timebox")
        self._tick()

    @property
    def remaining(self) -> int:
        """Seconds left (0 when the time is up)."""
        return max(0, int(self.play.max) - int(self.play.value))

    @property
    def is_up(self) -> bool:
        """True when the whole timebox has elapsed."""
        return self.remaining == 0

    def extend(self, seconds: int = EXTEND_S) -> None:
        """Add ``seconds`` (default five minutes) to the timebox."""
        self.play.max = int(self.play.max) + int(seconds)

    def reset(self) -> None:
        """Back to the full time, paused."""
        self.play.playing = False
        self.play.value = 0

    def _tick(self, _change: Any = None) -> None:
        self.bar.max = int(self.play.max)
        self.bar.value = min(int(self.play.value), int(self.play.max))
        if self.is_up:
            colour, text = RAG["fail"], "time is up"
        else:
            colour = RAG["warn"] if self.remaining <= 60 else "inherit"
            state = "running" if getattr(self.play, "playing", False) else "paused"
            text = f"{format_clock(self.remaining)} left ({state})"
        self.clock.value = f"<span style='color:{colour};font-weight:bold'>{text}</span>"

    def _repr_mimebundle_(self, **kwargs):  # display the timebox directly in a notebook
        return self.widget._repr_mimebundle_(**kwargs)
