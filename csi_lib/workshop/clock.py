"""The timer of a question: its timebox, started, paused, extended, by the wall clock.

A :class:`Clock` counts the seconds a question has used across its runs; the
time left is the timebox less that. It reads the wall clock (seconds since the
epoch) only when asked, so the browser's one-second tick only redraws it and a
late tick never loses time; and two pages (the facilitator's and the room's,
two kernels) that share a clock through :mod:`csi_lib.workshop.room` show the
same time left.

Examples
--------
>>> c = Clock(seconds=600)            # a 10-minute timebox
>>> c.start(now=1000.0); c.left(now=1030.0)
570.0
>>> c.pause(now=1060.0); c.left(now=5000.0), c.running
(540.0, False)
>>> c.extend(300); c.left(now=5000.0)
840.0
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Clock", "format_clock"]


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


@dataclass
class Clock:
    """The timebox of one question.

    Attributes
    ----------
    seconds:
        Its length, extensions included (seconds).
    used:
        Seconds counted in earlier runs (up to the last pause).
    started_at:
        Wall-clock time (seconds since the epoch) of the current run, ``None`` when paused.
    """

    seconds: float
    used: float = 0.0
    started_at: float | None = None

    @property
    def running(self) -> bool:
        return self.started_at is not None

    def spent(self, now: float | None = None) -> float:
        """Seconds used so far, the current run included."""
        now = time.time() if now is None else now
        run = max(0.0, now - self.started_at) if self.started_at is not None else 0.0
        return self.used + run

    def left(self, now: float | None = None) -> float:
        """Seconds left (0 when the time is up)."""
        return max(0.0, self.seconds - self.spent(now))

    def is_up(self, now: float | None = None) -> bool:
        return self.left(now) <= 0

    def start(self, now: float | None = None) -> None:
        if self.started_at is None:
            self.started_at = time.time() if now is None else now

    def pause(self, now: float | None = None) -> None:
        if self.started_at is not None:
            self.used = self.spent(now)
            self.started_at = None

    def reset(self) -> None:
        """Back to the whole timebox, paused (extensions kept)."""
        self.used, self.started_at = 0.0, None

    def extend(self, seconds: float) -> None:
        self.seconds += float(seconds)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clock:
        started = data.get("started_at")
        return cls(
            seconds=float(data["seconds"]),
            used=float(data.get("used", 0.0)),
            started_at=None if started is None else float(started),
        )
