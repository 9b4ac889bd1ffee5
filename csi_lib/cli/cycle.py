"""``csi cycle ...`` commands: scaffold and check a cycle folder.

``csi cycle new`` creates a cycle folder with commented example files;
``csi cycle check`` validates every file of a cycle and prints every problem as
``file:line: field: message`` (exit status 2 when there is any); ``csi cycle sample``
copies the sample cycle and its data into a folder of the user's (an installed
package keeps them inside the package: :mod:`csi_lib.shipped`).

Other command groups that work on a cycle's files register here too (see the
marked places below): ``csi targets check`` and ``csi cycle next``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from .usage import iso_date

cycle_app = typer.Typer(
    name="cycle",
    help="Improvement cycle folders: create one, check its files.",
    no_args_is_help=True,
    add_completion=False,
)


@cycle_app.command("new")
def cmd_new(
    directory: Path = typer.Argument(
        ..., help="The cycle folder to create (must not exist or be empty)."
    ),
    data: str = typer.Option(
        ...,
        "--data",
        help="The request export (CSV, .csv.gz, Excel, Parquet) or a database URL; stored relative to the cycle folder.",
    ),
    preset: str | None = typer.Option(
        None, "--preset", help="A built-in mapping preset (e.g. generic, servicenow, jira)."
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="A mapping file (YAML) instead of a preset."
    ),
    baseline_from: str = typer.Option(
        ...,
        "--baseline-from",
        parser=iso_date,
        help="First day of the baseline period, YYYY-MM-DD (inclusive).",
    ),
    baseline_to: str = typer.Option(
        ...,
        "--baseline-to",
        parser=iso_date,
        help="Last day of the baseline period, YYYY-MM-DD (inclusive).",
    ),
    cycle_id: str | None = typer.Option(
        None, "--id", help="The cycle id; default the folder name."
    ),
    title: str | None = typer.Option(None, "--title", help="A short title for the cycle."),
) -> None:
    """Create a cycle folder: cycle.yaml plus example vision, targets and plan files.

    The action period is the 6 months after the baseline and the review period
    the 3 months after that; edit cycle.yaml to change them.
    """
    from ..cycle import new_cycle

    folder = new_cycle(
        directory,
        data=data,
        preset=preset,
        mapping=mapping,
        baseline_from=baseline_from,
        baseline_to=baseline_to,
        id=cycle_id,
        title=title,
    )
    typer.echo(f"created {folder}: cycle.yaml, vision.yaml, targets.yaml, plan.yaml")
    typer.echo(f"next: edit the files, then run: csi cycle check {folder}")


@cycle_app.command("check")
def cmd_check(
    directory: Path = typer.Argument(..., help="The cycle folder to check."),
) -> None:
    """Check every file of a cycle folder and the links between them.

    Prints every problem as "file:line: field: message" and exits with status 2
    when there is any; prints "OK: N files checked" otherwise.
    """
    from ..cycle import check_cycle, count_files

    problems = check_cycle(directory)
    if problems:
        for problem in problems:
            typer.echo(str(problem))
        typer.echo(f"{len(problems)} problem(s) found in {directory}", err=True)
        # SystemExit (not typer.Exit): csi_lib.cli.main runs the app with
        # standalone_mode=False, where click turns typer.Exit into a return value.
        raise SystemExit(2)
    typer.echo(f"OK: {count_files(directory)} files checked")


@cycle_app.command("sample")
def cmd_sample(
    directory: Path = typer.Argument(
        ..., help="The folder to copy it into (must not exist or be empty)."
    ),
) -> None:
    """Copy the sample cycle of csi-workbook and its data into DIRECTORY, to try it.

    The cycle goes to DIRECTORY/sample-cycle/ and its data beside it; run
    csi report DIRECTORY/sample-cycle --as-of 2026-04-15 (a date in its review).
    """
    from ..shipped import copy_sample_cycle

    folder = copy_sample_cycle(directory)
    typer.echo(f"copied the sample cycle to {folder}")
    typer.echo(f"next: csi report {folder} --as-of 2026-04-15")


# --- csi cycle next: added by the momentum (stage 6) module, as @cycle_app.command("next") above this line.


def register(app: typer.Typer) -> None:
    """Add the ``cycle`` command group (and the groups marked below) to ``app``."""
    app.add_typer(cycle_app, name="cycle")
    # --- csi targets check: the targets module adds its ``targets`` sub-app here, e.g.
    #     app.add_typer(targets_app, name="targets")
