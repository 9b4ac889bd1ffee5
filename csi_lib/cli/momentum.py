"""``csi cycle next`` and ``csi cycle history``: stage 6, keep the momentum going.

``csi cycle next DIR --id NEW [--out PARENT]`` creates the next cycle of a
reviewed cycle folder (its review period becomes the new baseline) in
``PARENT/NEW`` (default: beside ``DIR``), leaving ``DIR`` untouched;
``csi cycle history DIR`` prints, for every cycle of a workspace and every
target, the baseline, target and achieved values.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .cycle import cycle_app
from .usage import iso_date

if TYPE_CHECKING:  # pandas and the library are imported when a command runs (fast --help)
    import pandas as pd


def cmd_next(
    directory: Path = typer.Argument(..., help="The reviewed cycle folder (left unchanged)."),
    new_id: str = typer.Option(..., "--id", help="The id of the next cycle, e.g. 2026-h1."),
    out: Path | None = typer.Option(
        None, "--out", help="The folder to create the next cycle in; default beside DIR."
    ),
    title: str | None = typer.Option(None, "--title", help="Default: the old cycle's title."),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        parser=iso_date,
        help="Run as of this date (YYYY-MM-DD); the review period must be over.",
    ),
) -> None:
    """Create the next cycle: the review period re-taken as the baseline, unmet targets re-stated.

    Met targets are proposed as "hold the gain"; unfinished initiatives, the expected
    benefits not realised and the improvement register are carried over; the vision is copied.
    """
    from ..momentum import next_cycle

    folder = next_cycle(directory, id=new_id, out=out, title=title, as_of=as_of)
    typer.echo(f"created {folder}: cycle.yaml, vision.yaml, targets.yaml, plan.yaml, baseline/")
    typer.echo(f"next: review the proposed targets and plan, then run: csi cycle check {folder}")


def _formatted(history: pd.DataFrame) -> pd.DataFrame:
    from ..kpis import get_kpi
    from ..targets import format_target_value

    shown = history[["cycle", "target", "label", "kind"]].copy()
    # a count is per month or week, as its unit says ("requests a week")
    freqs = ["week" if str(u).endswith(" a week") else "month" for u in history["unit"]]
    for column in ("baseline", "target_value", "achieved"):
        shown[column] = [
            format_target_value(v, get_kpi(k), f)
            for v, k, f in zip(history[column], history["kpi"], freqs, strict=True)
        ]
    shown["met"] = history["met"].map({True: "met", False: "not met"}).fillna("—")
    shown["state"] = history["state"]
    return shown.rename(columns={"target_value": "target value"})


def cmd_history(
    directory: Path = typer.Argument(..., help="The workspace folder holding the cycle folders."),
) -> None:
    """Print every cycle's targets: baseline, target and achieved value, met or not."""
    from ..momentum import cycle_history

    history = cycle_history(directory)
    if history.empty:
        typer.echo(f"no readable cycle in {directory}")
        return
    typer.echo(_formatted(history).to_string(index=False))


def register(app: typer.Typer) -> None:
    """Add ``next`` and ``history`` to the ``csi cycle`` command group."""
    names = {c.name for c in cycle_app.registered_commands}
    if "next" not in names:
        cycle_app.command("next")(cmd_next)
    if "history" not in names:
        cycle_app.command("history")(cmd_history)
