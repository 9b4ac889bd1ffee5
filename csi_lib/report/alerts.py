"""The alerts of a report run (``notify:`` in ``cycle.yaml``, :mod:`csi_lib.notify`): sent
once the report is published, or when the run fails before it could be. Never raises:
a channel that is down is a line in the log and the exit status stays the report's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..run import Run
from . import digest
from .run import ReportResult
from .staging import Progress


def _settings(run: Run) -> Any:
    config = run.config
    return None if config is None else config.notify


def _notify(run: Run, parent: Path, *, cycle_id: str, title: str, say: Progress, **what: Any):
    """Hand the run to :func:`csi_lib.notify.notify_report` when ``cycle.yaml`` has a
    ``notify:`` section; ``what`` is what happened (the summary and stages, or a failure)."""
    settings = _settings(run)
    if settings is None:
        return
    from ..notify import notify_report

    notify_report(
        settings,
        folder=parent,
        cycle_dir=run.cycle_dir,
        cycle_id=cycle_id,
        title=title,
        as_of=run.as_of,
        say=say,
        **what,
    )


def after_publish(
    run: Run,
    parent: Path,
    result: ReportResult,
    summary: dict[str, Any] | None,
    stages: list[dict[str, Any]],
    *,
    cycle_id: str,
    title: str,
    say: Progress,
) -> None:
    """Tell the channels what changed, now that ``result.folder`` is published."""
    _notify(run, parent, cycle_id=cycle_id, title=title, say=say, summary=summary,
            stages=stages, link=digest.report_link(result.folder, cycle_id, beside=False))  # fmt: skip


def after_failure(run: Run, parent: Path, *, cycle_id: str, title: str, say: Progress) -> None:
    """Tell the channels (rule ``failed``) that the run failed before publishing."""
    _notify(run, parent, cycle_id=cycle_id, title=title, say=say, summary=None, run_failed=True)


def before_start(run: Run, out: Path, *, say: Progress) -> None:
    """Tell the channels (rule ``failed``) that the run failed before it could start (its
    data source is gone, its folder cannot be made): with the cycle's lock, if it can be
    had at once and the reports folder exists or can be made."""
    settings = _settings(run)
    if settings is None:
        return
    from filelock import FileLock, Timeout

    cycle_id, title = str(run.config.id), str(run.config.title)
    try:
        parent = Path(out).resolve() / cycle_id
        parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(parent / ".lock"), timeout=0)
        lock.acquire()
    except (OSError, Timeout):
        say("notify: the reports folder cannot be written or another run holds it: not told")
        return
    try:
        after_failure(run, parent, cycle_id=cycle_id, title=title, say=say)
    finally:
        lock.release()
