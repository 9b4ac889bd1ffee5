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
import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from .. import __version__, runstore
from ..errors import ConfigError, CsiError, OutputError
from ..periods import Period
from ..sources import ENV_SOURCE, LoadResult, redact_url
from ..storage import explain_oserror, make_folder, sha256_file
from . import digest
from .execute import CELL_TIMEOUT_S, StageRun, execute_stage
from .export import export_html, write_report_assets
from .index import write_index
from .stages import STAGES, Stage, select_stages

__all__ = ["ReportResult", "build_report", "STAGES", "Stage"]

#: Sample data used when no data or cycle is given.
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "data" / "sample_requests.csv.gz"
#: Folder of the staging folder holding the run's one load (removed before publishing).
RUN_DATA = ".run-data"
#: File a stage may write into the report folder for the cover page (see review).
SUMMARY_FILE = "summary.json"

Progress = Callable[[str], None]


class ReportBusy(CsiError):
    """Another report run holds the lock of this cycle."""


@dataclass
class ReportResult:
    """Where the report went and how each stage ran."""

    folder: Path
    runs: list[StageRun] = field(default_factory=list)
    #: Problems outside the stages (e.g. the PDF could not be printed); the HTML is still published.
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs) and not self.errors

    @property
    def index(self) -> Path:
        return self.folder / "index.html"

    @property
    def failed(self) -> list[StageRun]:
        return [r for r in self.runs if not r.ok]


def _absolute(path: str | None) -> str | None:
    """A file path made absolute from the current directory; URLs and None unchanged.

    Examples
    --------
    >>> import os
    >>> _absolute("data/x.csv") == os.path.join(os.getcwd(), "data", "x.csv")
    True
    >>> _absolute("postgresql://host/db"), _absolute(None)
    ('postgresql://host/db', None)
    """
    if path is None or "://" in path:
        return path
    return str(Path(path).expanduser().absolute())


def _context(
    cycle_dir: Path | None,
    data: str | None,
    preset: str | None,
    mapping: str | None,
    date_from: str | None,
    date_to: str | None,
    query: str | None = None,
) -> dict[str, Any]:
    """Cycle id, title, data source and provenance lines for every page."""
    periods: list[tuple[str, str]] = []
    sheet = None
    own_source = False  # the cycle's own data: the notebooks read it from cycle.yaml
    if data is not None and "://" in data:
        if not query:
            raise ConfigError(
                "a database URL needs the query to run",
                file=redact_url(data),
                hint="add --query with a SELECT statement or a table name",
            )
        if cycle_dir is not None:
            raise ConfigError(
                "--data with a database URL is for a report without a cycle",
                file=redact_url(data),
                hint="give the database in cycle.yaml instead (data.source and data.query)",
            )
    if cycle_dir is not None:
        from ..cycle import load_config

        cfg = load_config(cycle_dir)
        cycle_id, title = cfg.id, cfg.title or cfg.id
        if data is None:
            own_source = cfg.data.is_url
            data = cfg.data.source if own_source else str((cycle_dir / cfg.data.source).resolve())
            query, sheet = cfg.data.query, cfg.data.sheet
            preset = preset or cfg.data.preset
            mapping = mapping or (
                str((cycle_dir / cfg.data.mapping).resolve()) if cfg.data.mapping else None
            )
        for name in ("baseline", "action", "review"):
            p = getattr(cfg, name, None)
            if p is not None:
                periods.append((f"{name.capitalize()} period", f"{p.from_} to {p.to}"))
    else:
        data = data or str(SAMPLE_DATA)
        preset = preset if (preset or mapping) else "generic"
        cycle_id = Path(data).name.split(".")[0] or "report"
        title = f"Where are we now? {Path(data).name}"
        if date_from or date_to:
            periods.append(
                ("Period", f"{date_from or 'start of data'} to {date_to or 'end of data'}")
            )
    fingerprint = "n/a (SQL source)"
    if "://" not in data:
        path = Path(data)
        if not path.exists():
            raise CsiError(
                "the data file does not exist", file=data, hint="check the path or --data"
            )
        fingerprint = "sha256:" + sha256_file(path)
    provenance = [
        ("Data", redact_url(data) if "://" in data else Path(data).name),
        ("Data fingerprint", fingerprint),
        ("Mapping", Path(mapping).name if mapping else f"preset {preset}"),
        *periods,
        ("csi-workbook", __version__),
    ]
    return {
        "cycle_id": cycle_id,
        "title": title,
        "data": data,
        "query": query,
        "sheet": sheet,
        "own_source": own_source,
        "preset": None if mapping else preset,
        "mapping": mapping,
        "provenance": provenance,
    }


def _notebook_source(ctx: dict[str, Any]) -> dict[str, Any]:
    """The notebooks' data parameters, never holding a database URL (nor its password):
    the cycle's own database is read from cycle.yaml, a ``--data`` URL from an
    environment variable of this run (``env:NAME``, see :func:`sources.load_requests`;
    the kernels inherit it). :func:`_forget_source` removes the variable."""
    data = ctx["data"]
    if "://" not in data:
        return {"data_path": data, "preset": ctx["preset"], "mapping": ctx["mapping"]}
    if ctx["own_source"]:
        return {"data_path": None, "preset": None, "mapping": None}
    name = f"CSI_REPORT_SOURCE_{os.getpid()}_{secrets.token_hex(4)}"
    os.environ[name] = data
    return {
        "data_path": ENV_SOURCE + name,
        "preset": ctx["preset"],
        "mapping": ctx["mapping"],
        "query": ctx["query"],
    }


def _forget_source(params: dict[str, Any]) -> None:
    data = params.get("data_path") or ""
    if data.startswith(ENV_SOURCE):
        os.environ.pop(data.removeprefix(ENV_SOURCE), None)


def _preflight(
    cycle_path: Path | None, ctx: dict[str, Any], say: Progress, quarantine_dir: Path | None = None
) -> LoadResult:
    """Check the cycle files and load the data once, before any stage runs (bad input exits 2
    at once); rejected rows go to ``quarantine_dir`` (the report folder), once per run."""
    if cycle_path is not None:
        from ..cycle import check_cycle
        from ..errors import ConfigError

        problems = check_cycle(cycle_path)
        if problems:
            listed = "; ".join(str(p) for p in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise ConfigError(
                f"the cycle folder has {len(problems)} problem(s): {listed}{more}",
                file=str(cycle_path),
                hint="run csi cycle check to see them all",
            )
    from ..sources import load_requests

    result = load_requests(
        ctx["data"],
        preset=ctx["preset"],
        mapping=ctx["mapping"],
        query=ctx["query"],
        sheet=ctx["sheet"],
        quarantine_dir=quarantine_dir,
    )
    s = result.summary()
    say(
        f"data: {s['rows_read']:,} rows read, {s['rows_kept']:,} kept, {s['rows_quarantined']:,} quarantined"
    )
    return result


def _store_load(
    load: LoadResult, ctx: dict[str, Any], cycle_path: Path | None, staging: Path
) -> Path:
    """Write the run's one load where every stage kernel reads it (:mod:`csi_lib.runstore`)."""
    key = runstore.load_key(ctx["data"], load.mapping, query=ctx["query"], sheet=ctx["sheet"])
    return runstore.save(load, staging / RUN_DATA, key=key, source=ctx["data"])


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


def _report_periods(
    cycle_path: Path | None, df: Any, date_from: str | None, date_to: str | None, as_of: dt.date
) -> dict[str, Period]:
    """Named periods of the Excel tables: the cycle's (cut at as_of) or the one asked for."""
    end = pd.Timestamp(as_of + dt.timedelta(days=1), tz="UTC")
    if cycle_path is not None:
        from ..cycle import load_config

        cfg = load_config(cycle_path)
        out = {}
        for name, p in cfg.periods().items():
            if p.start < end:
                out[name.capitalize()] = Period(p.start, min(p.end, end))
        return out
    if df.empty:
        return {}
    first = date_from or str(df["opened_at"].min().date())
    last = date_to or str(min(df["opened_at"].max().date(), as_of))
    return {"Period": Period.from_dates(first, last)}


def _write_workbook(
    folder: Path, df: Any, periods: dict[str, Period], min_group_size: int
) -> list[dict[str, str]]:
    """kpis.xlsx beside the HTML pages; returns the cover page's download links."""
    if not periods:
        return []
    from ..excel import kpi_sheets, write_kpi_workbook
    from ..widgets.explorer import available_dimensions

    sheets = kpi_sheets(df, periods, by=available_dimensions(df)[:4], min_group_size=min_group_size)
    write_kpi_workbook(folder / "kpis.xlsx", sheets)
    return [{"href": "kpis.xlsx", "label": "KPI tables (Excel workbook)"}]


def _standing(cycle_path: Path | None, as_of: dt.date) -> dict[str, Any] | None:
    """Where the cycle stands on the report date, for the cover (None without a cycle)."""
    if cycle_path is None:
        return None
    from ..cycle import load_config
    from ..phases import standing

    return standing(load_config(cycle_path), as_of).to_dict()


def _min_group_size(cycle_path: Path | None) -> int:
    if cycle_path is None:
        return 5
    from ..cycle import load_config

    return load_config(cycle_path).min_group_size


def _unique_folder(parent: Path, name: str) -> Path:
    candidate, n = parent / name, 2
    while os.path.lexists(candidate):  # a dangling link is taken too
        candidate, n = parent / f"{name}_{n}", n + 1
    return candidate


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
    chosen = select_stages(stages, cycle=cycle_path is not None)
    if pdf:
        from .pdf import chromium_path

        chromium_path()  # no Chromium: exit 2 now, not after every stage has run
    if not chosen:
        raise CsiError("there is no stage notebook to run", hint="check the notebooks/ folder")

    parent = make_folder(Path(out).resolve() / ctx["cycle_id"], what="report folder")
    lock = FileLock(str(parent / ".lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise ReportBusy(
            f"another report run for cycle '{ctx['cycle_id']}' is in progress",
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
    staging = parent / f".{as_of_date.isoformat()}.partial-{os.getpid()}"
    params: dict[str, Any] = {}
    previous_env = os.environ.get(runstore.ENV)  # the stage kernels inherit the run's value
    try:
        _check_output(parent)  # before any stage runs: a run is never thrown away at the end
        # with the lock held no other run is alive: staging folders and links left here are
        # from runs that were killed midway, and go
        for stale in parent.glob(".*.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in parent.glob(".latest.*"):
            stale.unlink(missing_ok=True)
        (staging / "notebooks").mkdir(parents=True)
        # the data is loaded and validated once, with the lock held; every stage reads it
        load = _preflight(cycle_path, ctx, say, quarantine_dir=staging / "quarantine")
        run_data = _store_load(load, ctx, cycle_path, staging)
        del load
        _release_memory()
        os.environ[runstore.ENV] = str(run_data)
        write_report_assets(staging)  # plotly.js and stylesheets, once for all pages
        params = {
            "cycle_dir": str(cycle_path) if cycle_path else None,
            "as_of": as_of_date.isoformat(),
            **_notebook_source(ctx),
            "output_dir": str(staging),
        }
        if cycle_path is None:
            params.update({"period_from": date_from, "period_to": date_to})
        nav = [{"href": s.html, "label": f"{s.number} {s.title}"} for s in chosen]
        provenance = [*ctx["provenance"], ("As of", as_of_date.isoformat())]
        result = ReportResult(folder=staging)
        for i, stage in enumerate(chosen, 1):
            say(f"[{i}/{len(chosen)}] {stage.title} ...")
            run = execute_stage(
                stage, params, staging / "notebooks" / stage.notebook, cell_timeout=cell_timeout
            )
            result.runs.append(run)
            page_nav = [{**n, "current": n["href"] == stage.html} for n in nav]
            generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            export_html(
                run.executed,
                staging / stage.html,
                with_code=with_code,
                shared_assets=True,
                context={
                    "title": ctx["title"],
                    "nav": page_nav,
                    "provenance": [*provenance, ("Generated at", generated)],
                },
            )
            status = "done" if run.ok else f"FAILED: {run.error}"
            say(f"[{i}/{len(chosen)}] {stage.title}: {status} ({run.seconds:.1f} s)")
        summary_path = staging / SUMMARY_FILE
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
        say("KPI tables (Excel) ...")
        frame = runstore.read(run_data).data  # read back: not kept while the stages ran
        periods = _report_periods(cycle_path, frame, date_from, date_to, as_of_date)
        downloads = _write_workbook(staging, frame, periods, _min_group_size(cycle_path))
        del frame
        shutil.rmtree(run_data)  # never published
        if pdf:
            downloads.append({"href": "report.pdf", "label": "The whole report (PDF)"})
        downloads.append({"href": "summary.txt", "label": "Summary to send (text)"})
        generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        cover = {
            "title": ctx["title"],
            "subtitle": f"Cycle report as of {as_of_date.isoformat()}",
            "standing": _standing(cycle_path, as_of_date),
            "nav": nav,
            "summary": summary,
            "downloads": downloads,
            "stages": [
                {
                    "number": r.stage.number,
                    "title": r.stage.title,
                    "question": r.stage.question,
                    "href": r.stage.html,
                    "ok": r.ok,
                    "error": r.error,
                }
                for r in result.runs
            ],
            "provenance": [*provenance, ("Generated at", generated)],
        }
        write_index(staging / "index.html", cover)
        if pdf:
            from .pdf import print_pdf

            say("PDF ...")
            pages = [staging / "index.html", *(staging / r.stage.html for r in result.runs)]
            try:
                print_pdf([p for p in pages if p.exists()], staging / "report.pdf")
            except Exception as exc:  # noqa: BLE001 - the HTML report is still published
                result.errors.append(f"the PDF could not be printed: {exc}")
                cover["downloads"] = [d for d in downloads if d["href"] != "report.pdf"]
                write_index(staging / "index.html", cover)
        final = _unique_folder(parent, as_of_date.isoformat())
        previous = (parent / "latest").resolve() if (parent / "latest").exists() else None
        sending = {
            "title": ctx["title"],
            "as_of": as_of_date.isoformat(),
            "link": digest.report_link(final, ctx["cycle_id"]),
        }
        digest.write_summaries(staging, summary, stages=cover["stages"], **sending)
        os.replace(staging, final)
        _point_latest(parent, final)
        result.folder = final
        result.errors += digest.notify(summary, digest.read_summary(previous), say=say, **sending)
        return result
    except OSError as exc:  # disk full, read-only folder: nothing half-written stays
        shutil.rmtree(staging, ignore_errors=True)
        raise explain_oserror(exc, parent) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if params:
            _forget_source(params)
        if previous_env is None:
            os.environ.pop(runstore.ENV, None)
        else:
            os.environ[runstore.ENV] = previous_env
        lock.release()
