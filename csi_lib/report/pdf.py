"""Print report pages to one PDF that reads like a report, through headless Chromium.

Each HTML page (the cover, then the stages) is opened in Debian's Chromium
(driven by Playwright, with the system browser: ``playwright install`` is never
needed), laid out at the printable width of an A4 page so that plotly draws
every chart at the size it will be printed, and printed with the report's
``@media print`` rules plus a few of its own (:data:`PRINT_CSS`):

- a chart is never split across sheets: one taller than a sheet is redrawn
  at the sheet's height first (:data:`FIT_CHARTS`), and plot containers
  have ``break-inside: avoid``;
- tables stay readable: text cells wrap (numbers do not); a table still too
  wide is scaled down to no less than :data:`MIN_TABLE_ZOOM`; one that would
  need more goes on a landscape sheet of its own (a CSS named page), and only
  it: the charts around it stay on portrait sheets at their size;
- the provenance block is printed once, on the cover, not after every stage.

The sections are merged with pypdf, after the cover come a **contents page**
(each stage and the page it starts on) and the stages; every sheet gets a
footer with the section's title and one **continuous page number**
("7 / 31"), stamped after merging, and each section a bookmark.

Why one print per page, merged, and not one combined HTML page: the pages share
element ids and each has its own nbconvert styles; printing them one by one
keeps each page as it looks on screen and lets each start on a new sheet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CsiError, OutputError
from ..storage import atomic_write

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "check_pdf_prerequisites", "chromium_path", "print_pdf"]

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
#: Page margins (the same as report.css's ``@page``), in mm.
MARGIN_MM = {"top": 14, "right": 12, "bottom": 16, "left": 12}
MARGIN = {side: f"{mm}mm" for side, mm in MARGIN_MM.items()}
_PX_PER_MM = 96 / 25.4
#: A4 less the page margins, in CSS pixels at 96 dpi: (width, height), portrait and landscape.
PRINT_WIDTH_PX = round((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) * _PX_PER_MM)
PRINT_HEIGHT_PX = round((297 - MARGIN_MM["top"] - MARGIN_MM["bottom"]) * _PX_PER_MM)
LANDSCAPE_WIDTH_PX = round((297 - MARGIN_MM["left"] - MARGIN_MM["right"]) * _PX_PER_MM)
#: The smallest scale of a wide table on a portrait sheet (9 pt type at 0.8 = 7.2 pt);
#: a table that needs more is printed on a landscape sheet, scaled to no less than
#: :data:`MIN_LANDSCAPE_ZOOM` (6.3 pt).
MIN_TABLE_ZOOM = 0.8
MIN_LANDSCAPE_ZOOM = 0.7
#: Room kept on a sheet above a chart redrawn to fit it (the print header, a caption line), px.
CHART_ROOM_PX = 60
#: JavaScript: true when every plotly chart of the page has drawn its SVG.
CHARTS_DRAWN = (
    "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
    ".every(el => el.querySelector('svg.main-svg') !== null)"
)
#: JavaScript (max height in px): redraw every chart taller than that at that height.
FIT_CHARTS = """async (maxHeight) => {
  const tall = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(el => el.getBoundingClientRect().height > maxHeight);
  tall.forEach(el => {  // the heights plotly's to_html gives the div and its wrapper
    el.style.height = maxHeight + 'px';
    if (el.parentElement && el.parentElement.style.height) {
      el.parentElement.style.height = maxHeight + 'px';
    }
  });
  await Promise.all(tall.map(el => window.Plotly.relayout(el, {height: maxHeight})));
  return tall.length;
}"""
#: JavaScript: the room of a table: its box, but never past the page's right edge.
_ROOM = """const room = t => {
  const page = document.documentElement.clientWidth - t.getBoundingClientRect().left;
  const box = t.parentElement ? t.parentElement.clientWidth : page;
  return Math.min(box, page);
};"""
#: JavaScript ({minZoom, minLandscape, extra}): scale tables wider than their room down to fit,
#: not below ``minZoom``; a table that needs more goes, with its cell, on a landscape sheet
#: (``extra`` px wider) and is scaled to fit that, not below ``minLandscape``. Returns how many did.
FIT_TABLES = (
    "({minZoom, minLandscape, extra}) => {"
    + _ROOM
    + """
  let turned = 0;
  document.querySelectorAll('table').forEach(t => {
    t.style.zoom = '';
    const r = room(t), wide = t.scrollWidth;
    if (r <= 0 || wide <= r) { return; }
    if (r / wide >= minZoom) { t.style.zoom = (r / wide).toFixed(3); return; }
    const block = t.closest('.jp-Cell') || t.parentElement || t;
    block.classList.add('csi-print-wide');
    t.style.zoom = Math.max(minLandscape, Math.min(1, (r + extra) / wide)).toFixed(3);
    turned += 1;
  });
  return turned;
}"""
)
#: JavaScript: a page's name in the contents and bookmarks: its entry in the navigation bar
#: ("5 Did we get there?"; the cycle's title on the cover), else its first heading.
TITLE = """() => (document.querySelector('.csi-nav a.current')?.innerText
  || document.querySelector('h1')?.innerText || document.title).trim()"""
#: Print rules of the PDF on top of report.css: text cells wrap (numbers stay whole), provenance once.
PRINT_CSS = """
@media print {
  td:not(.csi-num), th:not(.csi-num) { white-space: normal !important; overflow-wrap: break-word; }
  td.csi-num, th.csi-num { white-space: nowrap; }
  .csi-figure, .js-plotly-plot, .plot-container, .jp-OutputArea-child:has(.js-plotly-plot) {
    break-inside: avoid; page-break-inside: avoid;
  }
  body.jp-Notebook footer.csi-provenance { display: none !important; }
  .csi-print-wide { page: csi-wide; }
}
@page csi-wide { size: A4 landscape; }
"""
#: Chromium's footer on every sheet: the section's title (the page number is stamped after merging).
FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#5f6368;'
    'font-family:sans-serif"><span class="title"></span></div>'
)


@dataclass
class _Section:
    """One printed page of the report: its title, the PDF and how many sheets it takes."""

    title: str
    pdf: bytes
    sheets: int


#: What to do when Chromium is missing or does not start.
_CHROMIUM_HINT = "install Debian's chromium package or drop --pdf (apt-get install chromium)"


def chromium_path() -> Path:
    """The Chromium executable, or a :class:`CsiError` saying how to get one."""
    path = Path(os.environ.get("CSI_CHROMIUM", CHROMIUM))
    if not path.exists():
        raise CsiError(
            "cannot print the report to PDF: Chromium is not installed",
            file=str(path),
            hint=_CHROMIUM_HINT,
        )
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise CsiError(
            "cannot print the report to PDF: Chromium is not an executable file",
            file=str(path),
            hint="point CSI_CHROMIUM at the chromium program, " + _CHROMIUM_HINT,
        )
    return path


def _require_playwright() -> None:
    """Playwright's Python package (it drives the system Chromium), or a :class:`CsiError`."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise CsiError(
            "cannot print the report to PDF: the playwright package is not installed",
            hint="pip install 'csi-workbook[pdf]' (it drives the system Chromium; "
            "no `playwright install` is needed) or drop --pdf",
        ) from exc


def _launch(pw: Any, executable: Path, timeout_s: float = 30) -> Any:
    """Chromium started headless through Playwright ``pw``, or a :class:`CsiError`."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        return pw.chromium.launch(
            executable_path=str(executable),
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=timeout_s * 1000,
        )
    except PlaywrightError as exc:
        raise CsiError(
            f"cannot print the report to PDF: Chromium did not start ({_launch_failure(exc)})",
            file=str(executable),
            hint=_CHROMIUM_HINT,
        ) from exc


def _launch_failure(exc: Exception) -> str:
    """Playwright's first line and what the browser itself wrote on stderr (its last two lines).

    Examples
    --------
    >>> _launch_failure(Exception("BrowserType.launch: closed\\nBrowser logs:\\n<launched> pid=7\\n"
    ...     "[pid=7][err] libnss3.so: cannot open shared object file\\nCall log:\\n  - <kill>"))
    'BrowserType.launch: closed; Chromium said: libnss3.so: cannot open shared object file'
    """
    lines = str(exc).split("Call log:")[0].splitlines() or [type(exc).__name__]
    said = [line.split("[err]", 1)[1].strip() for line in lines if "[err]" in line][-2:]
    return lines[0] + (f"; Chromium said: {' / '.join(said)}" if said else "")


def _launch_and_close(executable: Path, timeout_s: float) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        _launch(pw, executable, timeout_s).close()


def check_pdf_prerequisites(*, timeout_s: float = 30) -> Path:
    """Check, before a report run starts any stage, that ``--pdf`` can print: Chromium is
    there (:func:`chromium_path`), the playwright package is installed and Chromium starts
    through it (started headless and closed at once, about a second). Returns Chromium's
    path; a :class:`CsiError` (exit status 2) says what is missing and what to do.

    Examples
    --------
    >>> import os
    >>> os.environ["CSI_CHROMIUM"] = str(tmp / "no-chromium")
    >>> check_pdf_prerequisites()
    Traceback (most recent call last):
    ...
    csi_lib.errors.CsiError: file '.../no-chromium': cannot print the report to PDF: Chromium is
    not installed. Install Debian's chromium package or drop --pdf (apt-get install chromium).
    """
    executable = chromium_path()
    _require_playwright()
    if _in_event_loop():  # Playwright's sync API refuses to run in an asyncio loop (Jupyter)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(_launch_and_close, executable, timeout_s).result()
    else:
        _launch_and_close(executable, timeout_s)
    return executable


def _print_page(context: Any, path: Path, timeout_s: float) -> _Section:
    """Print one report page (charts drawn and fitted, tables fitted) to PDF bytes."""
    from playwright.sync_api import Error as PlaywrightError
    from pypdf import PdfReader

    page = context.new_page()
    page.set_viewport_size({"width": PRINT_WIDTH_PX, "height": PRINT_HEIGHT_PX})
    page.emulate_media(media="print")
    try:
        page.goto(path.as_uri(), wait_until="load", timeout=timeout_s * 1000)
        page.wait_for_function(CHARTS_DRAWN, timeout=timeout_s * 1000)
        page.add_style_tag(content=PRINT_CSS)
        page.evaluate(FIT_CHARTS, PRINT_HEIGHT_PX - CHART_ROOM_PX)
        page.evaluate(
            FIT_TABLES,
            {
                "minZoom": MIN_TABLE_ZOOM,
                "minLandscape": MIN_LANDSCAPE_ZOOM,
                "extra": LANDSCAPE_WIDTH_PX - PRINT_WIDTH_PX,
            },
        )
    except PlaywrightError as exc:
        raise OutputError(
            f"the page did not finish drawing its charts ({str(exc).splitlines()[0]})",
            file=str(path),
        ) from exc
    title = page.evaluate(TITLE)
    data = page.pdf(
        format="A4",
        prefer_css_page_size=True,  # A4 (report.css), landscape for wide tables (PRINT_CSS)
        print_background=True,
        margin=MARGIN,
        display_header_footer=True,
        header_template="<span></span>",
        footer_template=FOOTER,
    )
    page.close()
    sheets = len(PdfReader(io.BytesIO(data)).pages)
    return _Section(title=title or path.stem, pdf=data, sheets=sheets)


def _contents_entries(sections: list[_Section], first_page: int) -> list[dict[str, Any]]:
    """Contents lines: each section after the cover and the page it starts on (1-based)."""
    entries, page = [], first_page
    for section in sections:
        entries.append({"title": section.title, "page": page})
        page += section.sheets
    return entries


def render_contents(title: str, entries: list[dict[str, Any]], subtitle: str = "") -> str:
    """HTML of the contents page: ``entries`` are ``{"title", "page"}`` (and an optional ``note``)."""
    import jinja2

    from .export import TEMPLATES, report_css

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    return env.get_template("contents.html.j2").render(
        css=report_css(), title=title, subtitle=subtitle, entries=entries
    )


def _print_contents(
    context: Any, folder: Path, title: str, cover: _Section, stages: list[_Section]
) -> _Section:
    """The contents page, numbered for where it stands: after the cover's sheets."""
    sheets = 1
    while True:  # a contents page of more than one sheet moves every stage on
        entries = _contents_entries(stages, first_page=cover.sheets + sheets + 1)
        path = folder / f".contents-{os.getpid()}.html"
        path.write_text(render_contents(title, entries), encoding="utf-8")
        try:
            section = _print_page(context, path, timeout_s=30)
        finally:
            path.unlink(missing_ok=True)
        if section.sheets == sheets:
            section.title = "Contents"
            return section
        sheets = section.sheets


#: Helvetica's advance widths (1/1000 em) of the characters in a page number.
_HELVETICA = {**dict.fromkeys("0123456789", 556), " ": 278, "/": 278}


def _number_stamp(width: float, height: float, text: str) -> Any:
    """A blank page of that size with ``text`` at the bottom right, in the footer's line (pypdf)."""
    from pypdf import PageObject
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    size = 8 * 0.75  # the footer's 8 px in points
    text_width = sum(_HELVETICA.get(ch, 556) for ch in text) * size / 1000
    right = MARGIN_MM["right"] * 72 / 25.4
    x = width - right - text_width
    y = (MARGIN_MM["bottom"] / 2 - 2.2) * 72 / 25.4  # on the baseline of Chromium's footer line
    stamp = PageObject.create_blank_page(width=width, height=height)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    stamp[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/CsiPageNo"): font})}
    )
    content = DecodedStreamObject()
    content.set_data(
        f"BT /CsiPageNo {size:.2f} Tf 0.373 0.388 0.408 rg {x:.2f} {y:.2f} Td ({text}) Tj ET".encode()
    )
    stamp[NameObject("/Contents")] = content
    return stamp


def _merge(sections: list[_Section]) -> Any:
    """One PdfWriter: the sections in order, a bookmark each, continuous page numbers stamped."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for section in sections:
        writer.append(PdfReader(io.BytesIO(section.pdf)), outline_item=section.title)
    total = len(writer.pages)
    for number, page in enumerate(writer.pages, 1):
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        page.merge_page(_number_stamp(width, height, f"{number} / {total}"))
        page.compress_content_streams()  # merge_page leaves them uncompressed
    # each section's print embeds the same fonts again: keep one copy
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    return writer


def _render(pages: list[Path], executable: Path, timeout_s: float, contents: bool) -> Any:
    """Print each page with Chromium, add the contents page, merge and number (a pypdf ``PdfWriter``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw, executable)
        try:
            context = browser.new_context()
            sections = [_print_page(context, path, timeout_s) for path in pages]
            if contents and len(sections) > 2:
                cover, stages = sections[0], sections[1:]
                sections.insert(
                    1, _print_contents(context, pages[0].parent, cover.title, cover, stages)
                )
        finally:
            browser.close()
    return _merge(sections)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def print_pdf(
    html_paths: Sequence[Path],
    out_pdf: Path,
    *,
    timeout_s: float = 60,
    overwrite: bool = False,
    contents: bool = True,
) -> Path:
    """Print ``html_paths`` (in order) to one A4 PDF at ``out_pdf``.

    Parameters
    ----------
    html_paths:
        Report pages (``index.html`` first, then the stages). Each starts on a
        new sheet; each gets a bookmark named after its first heading; every
        sheet is numbered, continuously ("7 / 31").
    contents:
        With more than one stage page, a contents page after the first page
        (the cover) lists the others and the page each starts on.
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
    ``print_pdf([Path("report/index.html")], Path("report/report.pdf"))`` returns
    ``PosixPath('report/report.pdf')``. Chromium is looked for at ``$CSI_CHROMIUM``
    (default ``/usr/bin/chromium``); without it nothing is started:

    >>> import os
    >>> os.environ["CSI_CHROMIUM"] = str(tmp / "no-chromium")
    >>> print_pdf([tmp / "index.html"], tmp / "report.pdf")
    Traceback (most recent call last):
    ...
    csi_lib.errors.CsiError: file '.../no-chromium': cannot print the report to PDF: Chromium is
    not installed. Install Debian's chromium package or drop --pdf (apt-get install chromium).
    """
    executable = chromium_path()
    pages = [Path(p).resolve() for p in html_paths]
    missing = [p for p in pages if not p.is_file()]
    if missing:
        raise OutputError("a report page to print does not exist", file=str(missing[0]))
    _require_playwright()
    if _in_event_loop():
        # Playwright's sync API refuses to run inside an asyncio loop (a Jupyter kernel,
        # another Playwright session): print from a worker thread instead
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            writer = pool.submit(_render, pages, executable, timeout_s, contents).result()
    else:
        writer = _render(pages, executable, timeout_s, contents)
    writer.add_metadata({"/Title": "csi-workbook report", "/Creator": "csi-workbook"})
    return atomic_write(out_pdf, writer.write, overwrite=overwrite)
