"""What the room sees, shared between two pages of one workshop: the facilitator's and the room's.

Each Voilà page has its own kernel, so the facilitator's view (notes, timer,
controls, on the laptop) and the room view (on the projector) share what the
room must follow through a small JSON file in the workshop's runtime folder
(:func:`csi_lib.workshop.runtime_dir`, never the cycle folder): the question on
screen and each question's :class:`~csi_lib.workshop.clock.Clock`. What the room
decided is in the cycle's own files; :func:`saved_stamp` tells a page when one
of them changed, so it redraws what it shows from them.

Examples
--------
>>> os.environ[ENV_RUNTIME] = str(tmp / "runtime")     # as csi workshop sets it
>>> state = RoomState.fresh({0: 10, 1: 15, 2: 20, 3: 20, 4: 10, 5: 15, 6: 10})
>>> state.question, state.clocks[2].seconds
(0, 1200.0)
>>> state_path(cycle_dir).parent.parent == tmp / "runtime"   # never in the cycle folder
True
>>> _ = write_state(cycle_dir, state); read_state(cycle_dir).clocks[2].seconds
1200.0
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CsiError
from ..storage import atomic_write, read_bounded
from .clock import Clock
from .lock import ENV_RUNTIME, lock_path  # noqa: F401 (the examples set ENV_RUNTIME)

__all__ = ["RoomState", "read_state", "write_state", "state_path", "saved_stamp", "SAVED_FILES"]

#: The cycle's files a workshop writes: votes, targets, decisions.
SAVED_FILES: tuple[str, ...] = ("plan.yaml", "targets.yaml", "decisions.md")


@dataclass
class RoomState:
    """The question on screen and the clock of every question."""

    question: int = 0
    clocks: dict[int, Clock] = field(default_factory=dict)

    @classmethod
    def fresh(cls, minutes: Mapping[int, float]) -> RoomState:
        """Question 0, every clock at its whole timebox, paused."""
        return cls(0, {int(q): Clock(seconds=float(m) * 60) for q, m in minutes.items()})

    def to_json(self) -> str:
        return json.dumps(
            {
                "question": self.question,
                "clocks": {str(q): c.to_dict() for q, c in self.clocks.items()},
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RoomState:
        data = json.loads(text)
        clocks = {int(q): Clock.from_dict(c) for q, c in data.get("clocks", {}).items()}
        return cls(int(data.get("question", 0)), clocks)


def state_path(cycle_dir: str | Path) -> Path:
    """The shared state of the workshop on ``cycle_dir`` (in the runtime folder)."""
    return lock_path(Path(cycle_dir) / "room").with_suffix(".json")


def write_state(cycle_dir: str | Path, state: RoomState) -> Path:
    """Write ``state`` for the other pages (atomically: a reader never sees half of it)."""
    return atomic_write(state_path(cycle_dir), state.to_json(), overwrite=True)


def read_state(cycle_dir: str | Path) -> RoomState | None:
    """The shared state, or ``None`` when no page wrote one yet (or it cannot be read)."""
    try:
        text = read_bounded(state_path(cycle_dir), 2**20).decode("utf-8")  # never a pipe
        return RoomState.from_json(text)
    except (CsiError, OSError, ValueError, KeyError, TypeError):
        return None


def state_stamp(cycle_dir: str | Path) -> int:
    """When the shared state last changed (ns), 0 when there is none."""
    try:
        return state_path(cycle_dir).stat().st_mtime_ns
    except OSError:
        return 0


def saved_stamp(cycle_dir: str | Path) -> dict[str, int]:
    """When each of :data:`SAVED_FILES` last changed (ns; 0 when absent).

    Examples
    --------
    >>> before = saved_stamp(cycle_dir)
    >>> _ = (cycle_dir / "decisions.md").write_text("# Decisions\\n")
    >>> [name for name, ns in saved_stamp(cycle_dir).items() if ns != before[name]]
    ['decisions.md']
    """
    stamps = {}
    for name in SAVED_FILES:
        try:
            stamps[name] = os.stat(Path(cycle_dir) / name).st_mtime_ns
        except OSError:
            stamps[name] = 0
    return stamps
