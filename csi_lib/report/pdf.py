"""Print report pages to one PDF through headless Chromium.

Each HTML page is opened in Debian's Chromium (driven by Playwright, with the
system browser: ``playwright install`` is never needed), laid out at the
printable width of an A4 page so that plotly draws every chart at the size it
will be printed, printed with the report's ``@media print`` rules, and the
pages are merged into one PDF with an outline entry (bookmark) per page.

Why one PDF per page, merged (pypdf), and not one combined HTML page: every
report page embeds plotly.js (about 4.5 MB) and its own nbconvert styles, and
the pages share element ids; printing them one by one keeps each page exactly
as it looks on screen and lets each start on a new sheet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import CsiError, OutputError
from ..storage import atomic_write

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "chromium_path", "print_pdf"]

#: The system Chromium (Debian package ``chromium``); ``$CSI_CHROMIUM`` overrides it.
CHROMIUM = "/usr/bin/chromium"
#: Flags for a headless run as root in a container with no network access.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A4 less the page margins of report.css (12 mm each side), in CSS pixels at 96 dpi.
PRINT_WIDTH_PX = round((210 - 2 * 12) / 25.4 * 96)
MARGIN = {"top": "14mm", "right": "12mm", "bottom": "16mm", "left": "12mm"}
#: JavaScript: true when every plotly chart of the page has drawn its SVG.
CHARTS_DRAWN = (
    "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
    ".every(el => el.querySelector('svg.main-svg') !== null)"
)
#: JavaScript: scale tables wider than the page down to fit (the page's own print helper).
FIT_TABLES = "() => window.csiFitTables && window.csiFitTables(true)"
FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#5f6368;'
    'display:flex;justify-content:space-between;font-family:sans-serif">'
    '<span class="title"></span><span><span class="pageNumber"></span> / '
    '<span class="totalPages"></span></span></div>'
)


def chromium_path() -> Path:
    """The Chromium executable, or a :class:`CsiError` saying how to get one."""
    path = Path(os.environ.get("CSI_CHROMIUM", CHROMIUM))
    if not path.exists():
        raise CsiError(
            "cannot print the report to PDF: Chromium is not installed",
            file=str(path),
            hint="install Debian's chromium package or drop --pdf (apt-get install chromium)",
        )
    return path


def _render(pages: list[Path], executable: Path, timeout_s: float) -> Any:
    """Print each page with Chromium and merge them (a pypdf ``PdfWriter``)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(
                executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            raise CsiError(
                f"cannot print the report to PDF: Chromium did not start ({str(exc).splitlines()[0]})",
                file=str(executable),
                hint="install Debian's chromium package or drop --pdf (apt-get install chromium)",
            ) from exc
        try:
            context = browser.new_context(viewport={"width": PRINT_WIDTH_PX, "height": 1100})
            for path in pages:
                page = context.new_page()
                page.emulate_media(media="print")
                try:
                    page.goto(path.as_uri(), wait_until="load", timeout=timeout_s * 1000)
                    page.wait_for_function(CHARTS_DRAWN, timeout=timeout_s * 1000)
                except PlaywrightError as exc:
                    raise OutputError(
                        f"the page did not finish drawing its charts ({str(exc).splitlines()[0]})",
                        file=str(path),
                    ) from exc
                page.evaluate(FIT_TABLES)
                title = page.evaluate(
                    "() => (document.querySelector('h1')?.innerText || document.title).trim()"
                )
                data = page.pdf(
                    format="A4",
                    print_background=True,
                    margin=MARGIN,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                )
                page.close()
                writer.append(PdfReader(io.BytesIO(data)), outline_item=title or path.stem)
        finally:
            browser.close()
    return writer


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def print_pdf(
    html_paths: Sequence[Path], out_pdf: Path, *, timeout_s: float = 60, overwrite: bool = False
) -> Path:
    """Print ``html_paths`` (in order) to one A4 PDF at ``out_pdf``.

    Parameters
    ----------
    html_paths:
        Report pages (``index.html`` first, then the stages). Each starts on a
        new sheet; each gets a bookmark named after its first heading.
    out_pdf:
        The PDF to write (atomically; an existing file is refused unless
        ``overwrite=True``).
    timeout_s:
        Seconds to wait for one page to load and draw its charts.

    Returns
    -------
    Path
        ``out_pdf``.

    Raises
    ------
    CsiError
        Chromium is missing (exit status 2 on the command line).
    OutputError
        A page does not exist, or does not finish drawing its charts in time.

    Examples
    --------
    >>> print_pdf([Path("report/index.html")], Path("report/report.pdf"))  # doctest: +SKIP
    PosixPath('report/report.pdf')
    """
    executable = chromium_path()
    pages = [Path(p).resolve() for p in html_paths]
    missing = [p for p in pages if not p.is_file()]
    if missing:
        raise OutputError("a report page to print does not exist", file=str(missing[0]))
    try:
        import playwright.sync_api  # noqa: F401 (checked here, used by _render)
    except ImportError as exc:
        raise CsiError(
            "cannot print the report to PDF: the playwright package is not installed",
            hint="pip install 'csi-workbook[pdf]' (it drives the system Chromium; "
            "no `playwright install` is needed) or drop --pdf",
        ) from exc
    if _in_event_loop():
        # Playwright's sync API refuses to run inside an asyncio loop (a Jupyter kernel,
        # another Playwright session): print from a worker thread instead
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            writer = pool.submit(_render, pages, executable, timeout_s).result()
    else:
        writer = _render(pages, executable, timeout_s)
    writer.add_metadata({"/Title": "csi-workbook report", "/Creator": "csi-workbook"})
    return atomic_write(out_pdf, writer.write, overwrite=overwrite)
