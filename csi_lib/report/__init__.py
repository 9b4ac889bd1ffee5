"""Cycle reports: run the stage notebooks with papermill and publish HTML.

A report run

0. settles the run once (:func:`csi_lib.run.make_run`): the cycle or the data source,
   the as-of date, the timezone and the periods;
1. takes a lock on ``<out>/<cycle id>/`` so that two runs on one cycle cannot
   corrupt each other, before anything is loaded;
1b. loads and validates the data once (rejected rows to ``quarantine/`` of the report
   folder), cuts it at the end of the as-of day and saves the run in the staging folder
   (:meth:`csi_lib.run.Run.save`: the canonical frame and ``run.json``); every stage
   kernel and the Excel tables read that run (the report process keeps no frame);
2. executes each stage notebook (:mod:`.execute`) into a staging folder, with
   the same two parameters for all: ``run_dir`` (the saved run) and ``output_dir``.
   No data path, URL or secret travels through the environment;
3. exports each executed notebook to an HTML page (:mod:`.export`) that loads
   the folder's one copy of plotly.js and of JupyterLab's stylesheets
   (``assets/``, so the folder works offline) and writes a cover
   ``index.html`` (:mod:`.index`);
4. writes ``summary.md`` and ``summary.txt``, a short summary to send
   (:mod:`.digest`);
5. renames the staging folder to ``<out>/<cycle id>/<as-of>/`` (a new name if
   that exists: nothing is overwritten) and points ``latest`` at it; with
   ``$CSI_WEBHOOK_URL`` set, posts what went off track to a chat channel;
6. with ``notify:`` in ``cycle.yaml``, tells each channel (e-mail, Teams, Slack, JSON
   webhooks) what changed since it was last told (:mod:`.alerts`, :mod:`csi_lib.notify`);
   a run that fails before publishing tells them it failed. A channel that is down is a
   line in the log, never a failure of the run.

A run killed midway leaves only a hidden staging folder; earlier reports and
the cycle folder are untouched.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from ..errors import CsiError
from ..run import make_run
from ..storage import explain_oserror, make_folder
from . import alerts
from .context import SAMPLE_DATA
from .context import _context as _context
from .execute import CELL_TIMEOUT_S, StageRun
from .export import write_report_assets
from .outputs import SUMMARY_FILE, Workbook, _write_outputs
from .run import ReportResult, _run_stages
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
        The report date (default: today in the cycle's timezone, UTC without a cycle): the
        data is cut at the end of that day (:func:`csi_lib.run.as_known_at`) and periods
        at it; every page, the workbook and the summaries use that cut.
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
    # the one value of the run: source, as-of cut (default today in the reporting
    # timezone), periods; every page, the workbook and the summaries read it
    run = make_run(
        cycle_dir, data=data, preset=preset, mapping=mapping, query=query,
        date_from=date_from, date_to=date_to, as_of=as_of or "today",
    )  # fmt: skip
    try:
        ctx = _context(run)
        chosen = _chosen_stages(stages, run.cycle_dir, pdf)
        parent = make_folder(Path(out).resolve() / ctx["cycle_id"], what="report folder")
    except CsiError:  # e.g. the data source is gone: a scheduled run that failed
        alerts.before_start(run, Path(out), say=say)
        raise
    lock = _take_lock(parent, ctx["cycle_id"])
    staging = parent / f".{run.as_of.isoformat()}.partial-{os.getpid()}"
    named = {"cycle_id": ctx["cycle_id"], "title": ctx["title"]}
    workbook: Workbook | None = None
    try:
        _check_output(parent)  # before any stage runs: a run is never thrown away at the end
        _clear_stale(parent)
        (staging / RUN_FILES).mkdir(parents=True)
        run_dir = _stage_data(run, say, staging)
        workbook = Workbook(staging, run_dir)
        write_report_assets(staging)  # plotly.js and stylesheets, once for all pages
        params = {"run_dir": str(run_dir), "output_dir": str(staging)}
        pages = {"title": ctx["title"], "provenance": ctx["provenance"]}
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
            staging, run_dir, workbook, result, chosen, **pages, run=run, pdf=pdf, say=say
        )
        result.folder, errors = _publish(
            parent, staging, run.as_of, ctx["cycle_id"], ctx["title"], summary, stages_ran, say
        )
        result.errors += errors
        # alerts (cycle.yaml's notify:) once the report is published; never fail the run
        alerts.after_publish(run, parent, result, summary, stages_ran, **named, say=say)
        return result
    except OSError as exc:  # disk full, read-only folder: nothing half-written stays
        _discard(staging, workbook)
        alerts.after_failure(run, parent, **named, say=say)
        raise explain_oserror(exc, parent) from exc
    except BaseException as exc:
        _discard(staging, workbook)
        if isinstance(exc, Exception):  # bad input, a bug; not an interrupt
            alerts.after_failure(run, parent, **named, say=say)
        raise
    finally:
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
