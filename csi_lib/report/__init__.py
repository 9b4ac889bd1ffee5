"""Cycle reports: run the stage notebooks with papermill and publish HTML.

A report run

1. takes a lock on ``<out>/<cycle id>/`` so that two runs on one cycle cannot
   corrupt each other, before anything is loaded;
1b. loads and validates the data once (rejected rows to ``quarantine/`` of the report
   folder) and stores the canonical frame in the staging folder
   (:mod:`csi_lib.runstore`): every stage kernel reads that file instead of the export,
   and the Excel tables read it back (the report process keeps no frame meanwhile);
2. executes each stage notebook (:mod:`.execute`) into a staging folder, with
   the same parameters for all: ``cycle_dir``, ``as_of``, ``data_path``,
   ``preset``, ``mapping``, ``output_dir`` (plus ``period_from`` /
   ``period_to`` without a cycle);
3. exports each executed notebook to an HTML page (:mod:`.export`) that loads
   the folder's one copy of plotly.js and of JupyterLab's stylesheets
   (``assets/``, so the folder works offline) and writes a cover
   ``index.html`` (:mod:`.index`);
4. writes ``summary.md`` and ``summary.txt``, a short summary to send
   (:mod:`.digest`);
5. renames the staging folder to ``<out>/<cycle id>/<as-of>/`` (a new name if
   that exists: nothing is overwritten) and points ``latest`` at it; with
   ``$CSI_WEBHOOK_URL`` set, posts what went off track to a chat channel.

A run killed midway leaves only a hidden staging folder; earlier reports and
the cycle folder are untouched.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

from .. import runstore
from ..storage import explain_oserror, make_folder
from .context import SAMPLE_DATA, _absolute, _forget_source, _notebook_source
from .context import _context as _context
from .execute import CELL_TIMEOUT_S, StageRun
from .export import write_report_assets
from .outputs import SUMMARY_FILE, Workbook, _write_outputs
from .run import ReportResult, _run_stages, _stage_params
from .stages import STAGES, Stage, no_notebooks_error, select_stages
from .staging import (
    RUN_DATA,
    RUN_FILES,
    Progress,
    ReportBusy,
    _check_output,
    _clear_stale,
    _publish,
    _stage_data,
    _take_lock,
)
from .staging import _point_latest as _point_latest  # importable from here, as before
from .staging import _unique_folder as _unique_folder

__all__ = [
    "RUN_DATA",
    "SAMPLE_DATA",
    "STAGES",
    "SUMMARY_FILE",
    "ReportBusy",
    "ReportResult",
    "Stage",
    "StageRun",
    "build_report",
]


def build_report(
    cycle_dir: str | Path | None = None,
    *,
    data: str | None = None,
    preset: str | None = None,
    mapping: str | None = None,
    query: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    as_of: str | dt.date | None = None,
    out: str | Path = "reports",
    stages: list[str] | None = None,
    with_code: bool = False,
    pdf: bool = False,
    progress: Progress | None = None,
    cell_timeout: int = CELL_TIMEOUT_S,
) -> ReportResult:
    """Run the stage notebooks and publish the report folder.

    Parameters
    ----------
    cycle_dir:
        A cycle folder (``csi cycle new``). Without one, only "Where are we
        now?" runs, on ``data`` (default: the bundled sample data).
    data, preset, mapping:
        Run on this export instead of the cycle's own data source. Relative
        paths are taken from the current directory (the stages run elsewhere).
    query:
        The SQL query or table name when ``data`` is a database URL (a report
        without a cycle; a cycle names its database in ``cycle.yaml``).
    date_from, date_to:
        Inclusive dates of the period (without a cycle).
    as_of:
        The report date (default: today, UTC); periods are cut at it.
    out:
        Reports folder; the report goes to ``<out>/<cycle id>/<as-of>/``.
    stages:
        Stage numbers or notebook names to run (default: all).
    with_code:
        Keep the code cells in the HTML pages.
    pdf:
        Also print the pages to ``report.pdf`` through headless Chromium
        (:mod:`.pdf`); a :class:`CsiError` before any stage runs if Chromium is missing.
    cell_timeout:
        Longest time one notebook cell may take (seconds); a cell over it is
        stopped and its stage fails with a message naming the cell.

    Returns
    -------
    ReportResult
        ``ok`` is False when a stage failed; the pages already written are kept.

    Examples
    --------
    ``build_report("data/sample-cycle", as_of="2026-04-15").index`` is
    ``reports/2025-h2/2026-04-15/index.html`` after a few minutes of notebooks. The
    stages it runs, in order (:func:`.stages.select_stages`):

    >>> from csi_lib.report.stages import select_stages
    >>> [stage.number for stage in select_stages()], [s.title for s in select_stages(cycle=False)]
    ([0, 1, 2, 3, 4, 5, 6], ['Where are we now?'])

    Bad input stops the run before any notebook starts:

    >>> build_report(sample_cycle, stages=["9"], out=tmp)
    Traceback (most recent call last):
    ...
    csi_lib.errors.ConfigError: unknown stage 9. Name stages by number (0-6) or notebook name, ...
    """
    say = progress or (lambda _msg: None)
    cycle_path = Path(cycle_dir).resolve() if cycle_dir is not None else None
    # the notebooks run in notebooks/: a relative path must mean what it meant here
    data, mapping = _absolute(data), _absolute(mapping)
    as_of_date = dt.date.fromisoformat(str(as_of)) if as_of else dt.datetime.now(dt.UTC).date()
    ctx = _context(cycle_path, data, preset, mapping, date_from, date_to, query)
    chosen = _chosen_stages(stages, cycle_path, pdf)
    parent = make_folder(Path(out).resolve() / ctx["cycle_id"], what="report folder")
    lock = _take_lock(parent, ctx["cycle_id"])
    staging = parent / f".{as_of_date.isoformat()}.partial-{os.getpid()}"
    params: dict[str, Any] = {}
    workbook: Workbook | None = None
    previous_env = os.environ.get(runstore.ENV)  # the stage kernels inherit the run's value
    try:
        _check_output(parent)  # before any stage runs: a run is never thrown away at the end
        _clear_stale(parent)
        (staging / RUN_FILES).mkdir(parents=True)
        run_data = _stage_data(cycle_path, ctx, say, staging)
        os.environ[runstore.ENV] = str(run_data)
        workbook = Workbook(staging, run_data, cycle_path, date_from, date_to, as_of_date)
        write_report_assets(staging)  # plotly.js and stylesheets, once for all pages
        params = _stage_params(
            cycle_path, as_of_date, _notebook_source(ctx), staging, date_from, date_to
        )
        provenance = [*ctx["provenance"], ("As of", as_of_date.isoformat())]
        pages = {"title": ctx["title"], "provenance": provenance}
        result = _run_stages(
            chosen,
            params,
            staging,
            **pages,
            with_code=with_code,
            cell_timeout=cell_timeout,
            say=say,
        )
        summary, stages_ran = _write_outputs(
            staging, run_data, workbook, result, chosen, **pages, as_of=as_of_date, cycle_path=cycle_path,
            date_from=date_from, date_to=date_to, pdf=pdf, say=say,
        )  # fmt: skip
        result.folder, errors = _publish(
            parent, staging, as_of_date, ctx["cycle_id"], ctx["title"], summary, stages_ran, say
        )
        result.errors += errors
        return result
    except OSError as exc:  # disk full, read-only folder: nothing half-written stays
        _discard(staging, workbook)
        raise explain_oserror(exc, parent) from exc
    except BaseException:
        _discard(staging, workbook)
        raise
    finally:
        _restore_environment(params, previous_env)
        lock.release()


def _discard(staging: Path, workbook: Workbook | None) -> None:
    """Throw the staging folder away, once the workbook thread no longer writes into it."""
    if workbook is not None:
        workbook.wait()
    shutil.rmtree(staging, ignore_errors=True)


def _chosen_stages(stages: list[str] | None, cycle_path: Path | None, pdf: bool) -> list[Stage]:
    """The stages to run; with ``pdf``, Chromium and Playwright must work (exit 2 now, not
    after every stage has run)."""
    chosen = select_stages(stages, cycle=cycle_path is not None)
    if not chosen:
        raise no_notebooks_error()
    if pdf:
        from .pdf import check_pdf_prerequisites

        check_pdf_prerequisites()
    return chosen


def _restore_environment(params: dict[str, Any], previous_env: str | None) -> None:
    """Forget the run's data source variable and restore the stored-load variable."""
    if params:
        _forget_source(params)
    if previous_env is None:
        os.environ.pop(runstore.ENV, None)
    else:
        os.environ[runstore.ENV] = previous_env
