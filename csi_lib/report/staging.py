"""Where a report run works and how it is published: the cycle's lock, the hidden
staging folder, the run's one load of the data, and the final rename with ``latest``.

A run takes the lock on ``<out>/<cycle id>/`` before anything is loaded
(:func:`_take_lock`), checks that the result could be published
(:func:`_check_output`), clears what killed runs left (:func:`_clear_stale`),
loads and validates the data once and saves the run (:func:`_preflight`, :func:`_stage_data`), and
at the end renames the staging folder to a name that is not taken
(:func:`_unique_folder`) and points ``latest`` at it (:func:`_point_latest`). The
run's own files (executed notebooks, the kernels' logs) are never published: they
go to ``<out>/<cycle>/.logs/<folder name>/`` (:func:`run_logs`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..errors import CsiError, OutputError
from ..run import Run
from . import digest

#: Folder of the staging folder holding the run's one load (removed before publishing).
RUN_DATA = ".run-data"
#: Folder of the staging folder holding the executed notebooks and the kernels' logs.
RUN_FILES = "notebooks"
#: Folder of ``<out>/<cycle>/`` where each run's own files are kept, never published.
LOGS = ".logs"


def run_logs(folder: Path) -> Path:
    """Where the run that published ``folder`` keeps its executed notebooks and kernel logs:
    ``<out>/<cycle>/.logs/<folder name>/``, beside the published folders, never in one.

    Examples
    --------
    >>> run_logs(Path("/srv/reports/2025-h2/2026-04-15")).as_posix()
    '/srv/reports/2025-h2/.logs/2026-04-15'
    """
    return folder.parent / LOGS / folder.name


Progress = Callable[[str], None]


class ReportBusy(CsiError):
    """Another report run holds the lock of this cycle."""


def _take_lock(parent: Path, cycle_id: str) -> FileLock:
    """The cycle's report lock, held (exit 3 if another run holds it)."""
    lock = FileLock(str(parent / ".lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise ReportBusy(
            f"another report run for cycle '{cycle_id}' is in progress",
            file=str(parent / ".lock"),
            hint="wait for it to finish; remove the lock file only if no run is alive",
            exit_code=3,
        ) from exc
    except OSError as exc:
        raise OutputError(
            f"the report folder is not writable ({exc.strerror})",
            file=str(parent),
            hint="choose a writable --out folder",
        ) from exc
    return lock


def _check_output(parent: Path) -> None:
    """The report can be published in ``parent``: checked before any stage runs, so a
    whole run is never thrown away at the end. ``latest`` must be absent or a link."""
    latest = parent / "latest"
    if os.path.lexists(latest) and not latest.is_symlink():
        raise OutputError(
            "'latest' in the reports folder is a real "
            + ("folder" if latest.is_dir() else "file")
            + ", where the report keeps a link to its newest run, so no run could be published",
            file=str(latest),
            hint="rename or move it away (csi never writes a real 'latest'), then run again",
        )


def _clear_stale(parent: Path) -> None:
    """With the lock held no other run is alive: staging folders and links left in
    ``parent`` are from runs that were killed midway, and go."""
    for stale in parent.glob(".*.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in parent.glob(".latest.*"):
        stale.unlink(missing_ok=True)


def _preflight(run: Run, say: Progress, quarantine_dir: Path | None = None) -> Run:
    """Check the cycle files and load the data once, before any stage runs (bad input exits 2
    at once); rejected rows go to ``quarantine_dir`` (the report folder), once per run. The
    load is cut at the run's as-of date (:meth:`csi_lib.run.Run.load`)."""
    if run.cycle_dir is not None:
        from ..cycle import check_cycle
        from ..errors import ConfigError

        problems = check_cycle(run.cycle_dir)
        if problems:
            listed = "; ".join(str(p) for p in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise ConfigError(
                f"the cycle folder has {len(problems)} problem(s): {listed}{more}",
                file=str(run.cycle_dir),
                hint="run csi cycle check to see them all",
            )
    run.quarantine_dir = quarantine_dir
    result = run.load()
    s = result.summary()
    said = (
        f"data: {s['rows_read']:,} rows read, {s['rows_kept']:,} kept, "
        f"{s['rows_quarantined']:,} quarantined"
    )
    cut = result.as_of_cut
    if cut and cut["left_out"]:
        said += f"; {cut['left_out']:,} opened after the as-of date {run.as_of} left out"
    say(said)
    return run


def _release_memory() -> None:
    """Hand freed memory back to the system (the report process keeps no frame while stages run)."""
    import contextlib
    import ctypes
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _stage_data(run: Run, say: Progress, staging: Path) -> Path:
    """Load and validate the data once, with the lock held, cut it at as-of and save the run
    into the staging folder (rejected rows to its ``quarantine/``); every stage reads the
    saved run, whose folder this returns (the report process keeps no frame)."""
    _preflight(run, say, quarantine_dir=staging / "quarantine")
    run.output_dir = staging
    folder = run.save(staging / RUN_DATA)
    run._load = None  # the report process keeps no frame while the stages run
    _release_memory()
    return folder


def _unique_folder(parent: Path, name: str) -> Path:
    candidate, n = parent / name, 2
    # a dangling link is taken too, and so is a name whose run files are kept (its report gone)
    while os.path.lexists(candidate) or os.path.lexists(run_logs(candidate)):
        candidate, n = parent / f"{name}_{n}", n + 1
    return candidate


def _keep_run_files(staging: Path, final: Path) -> None:
    """Move the run's own files (executed notebooks, kernel logs) out of the folder to be
    published, to :func:`run_logs` of it."""
    files = staging / RUN_FILES
    if files.is_dir():
        logs = run_logs(final)
        logs.parent.mkdir(exist_ok=True)
        os.replace(files, logs)


def _point_latest(parent: Path, target: Path) -> None:
    link = parent / "latest"
    tmp = parent / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    try:
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _publish(
    parent: Path,
    staging: Path,
    as_of: dt.date,
    cycle_id: str,
    title: str,
    summary: dict[str, Any] | None,
    stages: list[dict[str, Any]],
    say: Progress,
) -> tuple[Path, list[str]]:
    """Write the summaries to send, rename ``staging`` to ``<as-of>`` (a new name if that
    exists), point ``latest`` at it, and post to the webhook what went off track since
    the previous report. Returns the folder and the webhook's errors."""
    final = _unique_folder(parent, as_of.isoformat())
    previous = (parent / "latest").resolve() if (parent / "latest").exists() else None
    sending = {
        "title": title,
        "as_of": as_of.isoformat(),
        "link": digest.report_link(final, cycle_id),
    }
    digest.write_summaries(staging, summary, stages=stages, **sending)
    _keep_run_files(staging, final)
    os.replace(staging, final)
    _point_latest(parent, final)
    sending["link"] = digest.report_link(final, cycle_id, beside=False)  # a chat message
    errors = digest.notify(summary, digest.read_summary(previous), say=say, **sending)
    return final, errors
