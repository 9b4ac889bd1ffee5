"""The seven stages of the continual improvement model, as a registry.

Each stage is one notebook in ``notebooks/``. The report runs them in order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError


@dataclass(frozen=True)
class Stage:
    """One stage of the model and its notebook."""

    number: int
    slug: str
    title: str
    question: str
    needs_cycle: bool = True

    @property
    def notebook(self) -> str:
        return f"{self.slug}.ipynb"

    @property
    def html(self) -> str:
        return f"{self.slug}.html"


STAGES: tuple[Stage, ...] = (
    Stage(
        0,
        "00_vision",
        "What is the vision?",
        "Is the improvement aligned with where the business is heading?",
    ),
    Stage(
        1,
        "01_where_are_we_now",
        "Where are we now?",
        "What is our starting point?",
        needs_cycle=False,
    ),
    Stage(2, "02_where_do_we_want_to_be", "Where do we want to be?", "What are the SMART targets?"),
    Stage(3, "03_how_do_we_get_there", "How do we get there?", "What is the plan?"),
    Stage(4, "04_take_action", "Take action", "Are we moving?"),
    Stage(
        5,
        "05_did_we_get_there",
        "Did we get there?",
        "Were the targets met, and is the change real?",
    ),
    Stage(6, "06_keep_momentum", "How do we keep the momentum going?", "What next?"),
)

STAGE_BY_KEY: dict[str, Stage] = {
    **{s.slug: s for s in STAGES},
    **{str(s.number): s for s in STAGES},
    **{f"{s.number:02d}": s for s in STAGES},
}


def notebooks_dir() -> Path:
    """The folder holding the stage notebooks: ``$CSI_NOTEBOOKS`` if set (a team's own
    versions of the notebooks), else ``notebooks/`` of the checkout."""
    custom = os.environ.get("CSI_NOTEBOOKS")
    return Path(custom) if custom else Path(__file__).resolve().parents[2] / "notebooks"


def select_stages(keys: list[str] | None = None, *, cycle: bool = True) -> list[Stage]:
    """Stages to run: the given keys ("1", "01", "01_where_are_we_now"), or every available one.

    Without a cycle folder only the stages that need no cycle are available.
    Stages whose notebook does not exist yet are skipped.
    """
    if keys:
        unknown = [k for k in keys if k not in STAGE_BY_KEY]
        if unknown:
            raise ConfigError(
                f"unknown stage {', '.join(unknown)}",
                hint="name stages by number (0-6) or notebook name, e.g. --stage 1",
            )
        chosen = sorted({STAGE_BY_KEY[k] for k in keys}, key=lambda s: s.number)
    else:
        chosen = list(STAGES)
    if not cycle:
        needing = [s for s in chosen if s.needs_cycle]
        if keys and needing:
            raise ConfigError(
                f"stage '{needing[0].title}' needs a cycle folder",
                hint="run csi report CYCLE_DIR, or csi cycle new to make one",
            )
        chosen = [s for s in chosen if not s.needs_cycle]
    return [s for s in chosen if (notebooks_dir() / s.notebook).exists()]
