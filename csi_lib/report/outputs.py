"""What a report run writes beside the stage pages: the Excel KPI tables, the cover
page (``index.html``, :mod:`.index`) and, on request, the whole report as a PDF."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..periods import Period
from ..run import Run, open_run
from .index import write_index
from .run import ReportResult, _generated, _nav
from .stages import Stage
from .staging import Progress

#: File a stage may write into the report folder for the cover page (see review).
SUMMARY_FILE = "summary.json"


def _read_summary(staging: Path) -> dict[str, Any] | None:
    """What the stages left for the cover page (``summary.json``), if anything."""
    path = staging / SUMMARY_FILE
    return json.loads(path.read_text()) if path.exists() else None


def _report_periods(run: Run) -> dict[str, Period]:
    """Named periods of the Excel tables: the run's periods cut at its as-of date (the same
    cut as every page: :meth:`csi_lib.run.Run.clip`), those not started left out."""
    out = {}
    for name, p in run.periods.items():
        clipped = run.clip(p)
        if clipped is not None:
            out[name.capitalize()] = clipped
    return out


def _write_workbook(
    folder: Path,
    df: Any,
    periods: dict[str, Period],
    options: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> list[dict[str, str]]:
    """kpis.xlsx beside the HTML pages (``extra`` sheets after the KPI ones); returns the
    cover page's download links."""
    if not periods:
        return []
    from ..excel import kpi_sheets, write_kpi_workbook
    from ..widgets.explorer import available_dimensions

    sheets = kpi_sheets(df, periods, by=available_dimensions(df)[:4], **options)
    sheets.update(extra or {})
    write_kpi_workbook(folder / "kpis.xlsx", sheets)
    return [{"href": "kpis.xlsx", "label": "KPI tables (Excel workbook)"}]


def _excel_tables(staging: Path, run_dir: Path) -> list[dict[str, str]]:
    """kpis.xlsx from the saved run (read back: the report process keeps no frame of its
    own); returns the download links."""
    run = open_run(run_dir)
    options = {
        "min_group_size": run.config.min_group_size if run.config is not None else 5,
        "timezone": run.timezone,
    }
    downloads = _write_workbook(
        staging, run.data, _report_periods(run), options, _benefit_sheets(run)
    )
    del run
    return downloads


def _benefit_sheets(run: Run) -> dict[str, Any]:
    """The workbook's ``Benefits`` sheet of a cycle's run (none without a cycle, or when
    the cycle cannot be opened: stage 5's page then says why)."""
    if run.config is None or run.cycle_dir is None:
        return {}
    from ..cycle import open_cycle
    from ..errors import CsiError
    from ..excel import benefits_sheet

    try:
        return {"Benefits": benefits_sheet(open_cycle(run))}
    except CsiError:
        return {}


def _import_for_workbook() -> None:
    """Import, in the calling thread, every module the workbook thread uses: the report
    process starts kernels meanwhile (importing IPython and jupyter_client), and two
    threads importing one package at once can fail inside importlib (``KeyError``)."""
    import importlib

    for name in (
        "openpyxl",
        "openpyxl.packaging.extended",
        "pandas.io.excel._openpyxl",
        "pandas.io.formats.excel",
        "pandas.core.reshape.reshape",
        "pandas.core.arrays.arrow._arrow_utils",
        "pyarrow.feather",
    ):  # what pandas and openpyxl import on first use (tests/test_excel.py checks the list)
        importlib.import_module(name)

    from .. import cycle, excel, run  # noqa: F401
    from ..benefits import pages, realised  # noqa: F401
    from ..review import assess  # noqa: F401
    from ..widgets import explorer  # noqa: F401


class Workbook:
    """kpis.xlsx made in a background thread while the stage kernels run.

    The stages run one kernel at a time and the report process only waits for them, so
    on a machine of two cores or more the workbook's KPI passes cost no wall time; on
    one core they cost what they cost after the stages. The run waits for it (and gets
    any error it raised) with :meth:`links`; :meth:`wait` before the staging folder is
    thrown away.
    """

    def __init__(self, staging: Path, run_dir: Path) -> None:
        from concurrent.futures import ThreadPoolExecutor

        _import_for_workbook()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csi-kpi-workbook")
        self._future = pool.submit(_excel_tables, staging, run_dir)
        pool.shutdown(wait=False)

    def links(self) -> list[dict[str, str]]:
        """The cover page's download links, once the workbook is written."""
        return self._future.result()

    def wait(self) -> None:
        """Wait until the thread is done, whatever its outcome."""
        from concurrent.futures import wait

        wait([self._future])


def _standing(run: Run) -> dict[str, Any] | None:
    """Where the cycle stands on the report date, for the cover (None without a cycle)."""
    if run.config is None:
        return None
    from ..phases import standing

    return standing(run.config, run.as_of).to_dict()


def _cover(
    title: str,
    run: Run,
    chosen: list[Stage],
    result: ReportResult,
    summary: dict[str, Any] | None,
    downloads: list[dict[str, str]],
    provenance: list[tuple[str, str]],
) -> dict[str, Any]:
    """The cover page's content: standing, summary, downloads and how each stage ran."""
    return {
        "title": title,
        "subtitle": f"Cycle report as of {run.as_of.isoformat()}",
        "standing": _standing(run),
        "nav": _nav(chosen),
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
        "provenance": [*provenance, _generated()],
    }


def _write_cover(
    staging: Path,
    cover: dict[str, Any],
    result: ReportResult,
    *,
    pdf: bool,
    say: Progress,
) -> None:
    """``index.html``, then (``pdf``) ``report.pdf`` of the cover and the stage pages; a
    PDF that cannot be printed is an error of the run, and its link leaves the cover."""
    write_index(staging / "index.html", cover)
    if not pdf:
        return
    from .pdf import print_pdf

    say("PDF ...")
    pages = [staging / "index.html", *(staging / r.stage.html for r in result.runs)]
    try:
        print_pdf([p for p in pages if p.exists()], staging / "report.pdf")
    except Exception as exc:  # noqa: BLE001 - the HTML report is still published
        result.errors.append(f"the PDF could not be printed: {exc}")
        cover["downloads"] = [d for d in cover["downloads"] if d["href"] != "report.pdf"]
        write_index(staging / "index.html", cover)


def _write_outputs(
    staging: Path,
    run_data: Path,
    workbook: Workbook,
    result: ReportResult,
    chosen: list[Stage],
    *,
    title: str,
    provenance: list[tuple[str, str]],
    run: Run,
    pdf: bool,
    say: Progress,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """After the stages: the Excel tables, the cover page and the PDF. Returns what the
    stages summarised (``summary.json``) and how each stage ran, for the summaries to send."""
    summary = _read_summary(staging)
    say("KPI tables (Excel) ...")
    downloads = workbook.links()
    shutil.rmtree(run_data)  # the stored load is never published
    if pdf:
        downloads.append({"href": "report.pdf", "label": "The whole report (PDF)"})
    downloads.append({"href": "summary.txt", "label": "Summary to send (text)"})
    cover = _cover(title, run, chosen, result, summary, downloads, provenance)
    _write_cover(staging, cover, result, pdf=pdf, say=say)
    return summary, cover["stages"]
