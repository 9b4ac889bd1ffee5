"""``csi report``: run the stage notebooks into a dated, self-contained report folder."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .data import ToOpt  # the same --to as csi kpis
from .usage import iso_date

if TYPE_CHECKING:
    from ..report import ReportResult


class _TerminalProgress:
    """A rich progress bar over the stages; every message is also printed above it."""

    STEP = re.compile(r"^\[(\d+)/(\d+)\] (.*?)(: (done|FAILED).*)?$")

    def __init__(self, console=None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(
            TextColumn("[bold cyan]csi[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=True,
        )
        self.task = None

    def __call__(self, msg: str) -> None:
        step = self.STEP.match(msg)
        if step is None:
            self.bar.console.print(f"[bold cyan]csi[/] {msg}")
            return
        index, total, title, finished = int(step[1]), int(step[2]), step[3], step[4]
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task(title, total=total)
        if finished:
            self.bar.console.print(f"[bold cyan]csi[/] {msg}")
            self.bar.update(self.task, completed=index, description=title)
        else:
            self.bar.update(self.task, completed=index - 1, description=title)

    def close(self) -> None:
        if self.task is not None:
            self.bar.stop()


def _progress_printer():
    """A progress bar on a terminal; plain timestamped lines in a log (cron, systemd)."""
    if sys.stderr.isatty():
        return _TerminalProgress()
    import datetime as dt

    def plain(msg: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"{stamp} {msg}", file=sys.stderr, flush=True)

    return plain


CycleArg = Annotated[
    Path | None,
    typer.Argument(help="Cycle folder (csi cycle new). Without it: 'Where are we now?' on --data."),
]
DataOpt = Annotated[
    str | None, typer.Option("--data", help="Export to use instead of the cycle's own data.")
]
PresetOpt = Annotated[
    str | None, typer.Option(help="Mapping preset of --data: servicenow, jira-sm, generic.")
]
MappingOpt = Annotated[str | None, typer.Option(help="Your own mapping file (YAML) for --data.")]
QueryOpt = Annotated[
    str | None, typer.Option(help="SQL query (or table name) when --data is a database URL.")
]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from", parser=iso_date, help="First date of the period (no cycle), YYYY-MM-DD."
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", parser=iso_date, help="Report date, YYYY-MM-DD (default: today, UTC)."),
]
OutOpt = Annotated[
    Path, typer.Option(help="Reports folder; the report goes to OUT/<cycle>/<as-of>/.")
]
StageOpt = Annotated[
    list[str] | None, typer.Option("--stage", help="Run only this stage (0-6); repeatable.")
]
WithCodeOpt = Annotated[
    bool, typer.Option("--with-code", help="Show the code cells in the HTML pages.")
]
PdfOpt = Annotated[
    bool, typer.Option("--pdf", help="Also print the report to report.pdf (needs Chromium).")
]
CellTimeoutOpt = Annotated[
    int | None,
    typer.Option(
        "--cell-timeout",
        min=1,
        help="Longest time one notebook cell may take, in seconds (default 300); "
        "a cell over it is stopped and fails its stage.",
    ),
]


def _exit_with(result: ReportResult) -> None:
    """Say which stages failed (and where their logs are) and what else went wrong, print
    the cover page's path and exit 0 (all well) or 1."""
    from ..report.execute import stage_log
    from ..report.staging import run_logs

    for run in result.failed:
        log = run_logs(result.folder) / stage_log(run.executed).name
        typer.echo(f"error: stage '{run.stage.title}' failed at {run.error} (log: {log})", err=True)
    for problem in result.errors:
        typer.echo(f"error: {problem}", err=True)
    typer.echo(str(result.index))
    raise typer.Exit(0 if result.ok else 1)


def report(
    cycle_dir: CycleArg = None,
    data: DataOpt = None,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    query: QueryOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    as_of: AsOfOpt = None,
    out: OutOpt = Path("reports"),
    stage: StageOpt = None,
    with_code: WithCodeOpt = False,
    pdf: PdfOpt = False,
    cell_timeout: CellTimeoutOpt = None,
) -> None:
    """Run the cycle's stage notebooks and write an HTML report folder that works offline.

    Exit status: 0 when every stage ran, 1 when a stage failed (the other pages
    are kept), 2 on bad input, 3 when another run holds the cycle's lock.
    """
    from ..report import build_report

    say = _progress_printer()
    try:
        result = build_report(
            cycle_dir,
            data=data,
            preset=preset,
            mapping=mapping,
            query=query,
            date_from=date_from,
            date_to=date_to,
            as_of=as_of,
            out=out,
            stages=stage,
            with_code=with_code,
            pdf=pdf,
            progress=say,
            **({"cell_timeout": cell_timeout} if cell_timeout else {}),
        )
    finally:
        if hasattr(say, "close"):
            say.close()
    _exit_with(result)


def register(app: typer.Typer) -> None:
    """Add ``csi report`` to ``app``."""
    app.command("report")(report)
