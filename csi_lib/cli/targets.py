"""``csi targets`` commands: ``check`` (the SMART check of a cycle's targets)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

targets_app = typer.Typer(
    name="targets",
    help="Stage 2, 'Where do we want to be?': check a cycle's SMART targets.",
    no_args_is_help=True,
)

_STYLE = {"pass": "bold green", "warn": "bold dark_orange", "fail": "bold red"}


@targets_app.command("check")
def check(
    cycle_dir: Annotated[
        Path, typer.Argument(help="The cycle folder (holding cycle.yaml and targets.yaml).")
    ],
    data: Annotated[
        Path | None, typer.Option(help="Use this data file instead of the cycle's data source.")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="Built-in mapping for --data.")] = None,
    mapping: Annotated[Path | None, typer.Option(help="Your own mapping file for --data.")] = None,
    min_coverage: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of closed requests that must have the KPI's column (csat, sla_met...) for M to pass.",
        ),
    ] = 0.8,
    quarantine_dir: Annotated[
        Path,
        typer.Option(
            help="Folder for the quarantine file of rejected rows (never the cycle folder)."
        ),
    ] = Path("quarantine"),
) -> None:
    """Check every target of CYCLE_DIR/targets.yaml letter by letter (S, M, A, R, T).

    Prints one row per target and letter with its verdict (pass, warn, fail) and
    the reason. Exit status 2 when any letter fails (or a file of the cycle is
    wrong), 0 otherwise (warnings included).

    Example: csi targets check data/sample-cycle
    """
    from ..cycle import open_cycle
    from ..targets import cycle_smart_check

    cycle = open_cycle(
        cycle_dir,
        data=data,
        preset=preset,
        mapping=str(mapping) if mapping is not None else None,
        quarantine_dir=quarantine_dir,
    )
    smart = cycle_smart_check(cycle, min_coverage=min_coverage)
    _print(smart)
    if (smart["verdict"] == "fail").any():
        raise typer.Exit(2)


def _print(smart) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(width=max(120, Console().width))
    colour = console.is_terminal and not console.no_color
    table = Table(
        title="SMART check of the targets",
        box=box.SIMPLE_HEAD if colour else box.ASCII,
        show_lines=False,
        title_justify="left",
    )
    for name, kwargs in (
        ("target", {"no_wrap": True}),
        ("kpi", {"no_wrap": True}),
        ("letter", {"justify": "center"}),
        ("verdict", {"no_wrap": True}),
        ("reason", {"overflow": "fold", "ratio": 1}),
    ):
        table.add_column(name, **kwargs)
    previous = None
    for row in smart.itertuples(index=False):
        first = row.target != previous
        if first and previous is not None:
            table.add_section()
        previous = row.target
        verdict = Text(str(row.verdict), style=_STYLE.get(str(row.verdict), "") if colour else "")
        table.add_row(
            str(row.target) if first else "",
            str(row.kpi) if first else "",
            str(row.letter),
            verdict,
            str(row.reason),
        )
    console.print(table)
    counts = smart["verdict"].value_counts()
    console.print(
        f"{smart['target'].nunique()} target(s): "
        + ", ".join(f"{counts.get(v, 0)} {v}" for v in ("pass", "warn", "fail")),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the ``targets`` command group to ``app``."""
    app.add_typer(targets_app, name="targets")
