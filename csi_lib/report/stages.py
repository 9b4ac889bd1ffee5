"""The seven stages of the continual improvement model, as a registry.

Each stage is one notebook in ``notebooks/`` (the checkout's, or the copy an installed
wheel carries: :mod:`csi_lib.shipped`; ``$CSI_NOTEBOOKS`` names another folder). The
report runs them in order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import shipped
from ..errors import ConfigError

#: Environment variable naming a folder of stage notebooks to run instead of the shipped ones.
NOTEBOOKS_ENV = "CSI_NOTEBOOKS"


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
    versions of the notebooks), else the shipped ones (:data:`csi_lib.shipped.NOTEBOOKS`:
    ``notebooks/`` of the checkout, or the installed package's copy)."""
    custom = os.environ.get(NOTEBOOKS_ENV, "").strip()
    return Path(custom).expanduser() if custom else shipped.NOTEBOOKS


def no_notebooks_error(notebook: str | None = None) -> ConfigError:
    """The error of a command that finds no notebook to run (``notebook``: the one it
    looked for, default any stage notebook), saying where it looked and how to point
    at the notebooks.

    Examples
    --------
    >>> import os; os.environ["CSI_NOTEBOOKS"] = "/nowhere"
    >>> print(no_notebooks_error())
    file '/nowhere': $CSI_NOTEBOOKS names a folder that does not hold the stage notebooks
    (00_vision.ipynb ... 06_keep_momentum.ipynb). Set CSI_NOTEBOOKS to the folder that holds
    them (e.g. notebooks/ of a csi-workbook checkout), or unset it to run the notebooks that
    ship with csi-workbook.
    >>> del os.environ["CSI_NOTEBOOKS"]
    """
    folder = notebooks_dir()
    wanted = (
        f"the notebook {notebook}"
        if notebook
        else f"the stage notebooks ({STAGES[0].notebook} ... {STAGES[-1].notebook})"
    )
    if os.environ.get(NOTEBOOKS_ENV, "").strip():
        return ConfigError(
            f"${NOTEBOOKS_ENV} names a folder that does not hold {wanted}",
            file=str(folder),
            hint=f"set {NOTEBOOKS_ENV} to the folder that holds them (e.g. notebooks/ of a "
            "csi-workbook checkout), or unset it to run the notebooks that ship with csi-workbook",
        )
    return ConfigError(
        f"the notebooks folder of csi-workbook does not hold {wanted}",
        file=str(folder),
        hint=f"set {NOTEBOOKS_ENV} to a folder holding them (e.g. notebooks/ of a csi-workbook "
        "checkout), or reinstall csi-workbook, whose package ships them "
        "(pip install --force-reinstall csi-workbook)",
    )


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
