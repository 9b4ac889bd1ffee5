"""Export an executed notebook to one HTML page of a report folder.

- plotly figures (their native mimetype) become HTML drawn by plotly.js. A
  report folder holds plotly.js and JupyterLab's stylesheets once, in
  ``assets/`` (:func:`write_report_assets`), and each page loads them by
  relative paths (``shared_assets=True``): the folder needs no network and
  weighs a fifth of what a copy per page did. A page exported on its own
  (the default) embeds them and is self-contained;
- cells tagged ``live-only`` (a control and the text about it) are left out; any
  other interactive widget, which needs a live kernel, is replaced by a short note;
- code cells and stderr are hidden unless ``with_code=True``;
- cells of HTML tables are classed for the stylesheet (numbers right-aligned,
  text left-aligned, better/worse arrows coloured with the RAG colours);
- papermill's red error markers become one banner saying where the stage stopped;
- the page gets the workbook's CSS, a navigation bar, previous/next links and a
  provenance footer, rendered by the ``csi-report`` nbconvert template
  (autoescaped).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import nbformat
import plotly.io as pio
from bs4 import BeautifulSoup
from markupsafe import Markup
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from plotly.offline import get_plotlyjs

from ..charts import theme
from ..safe import safe_figure
from ..storage import atomic_write

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ASSETS = Path(__file__).resolve().parent.parent / "assets"

WIDGET_NOTE = (
    '<div class="csi-widget-note">Interactive control: open this stage in JupyterLab '
    "(<code>csi lab</code>) or the workshop (<code>csi workshop</code>) to use it.</div>"
)


#: The tag of notebook cells that need a live kernel (a widget and the text about it): report
#: pages and slides leave them out, so a static page never shows a control nobody can use.
LIVE_ONLY_TAG = "live-only"

#: papermill's tag on the markdown cells it inserts around a failing cell.
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"

#: A table cell shown as a number: optional sign or arrow, digits, optional exponent and unit.
_NUMBER = re.compile(
    r"^[\s]*[+\-−±]?[\d][\d,.\s]*(?:e[+\-]?\d+)?\s*(?:%|pp|h|hours?|d|days?|x|requests?)?\s*$"
    r"|^\s*(?:—|–|-|nan|NaN|<NA>|None)?\s*$",
    re.IGNORECASE,
)
#: Arrow cells (csi_lib.tables.change_arrow) and the verdict class each gets.
_ARROWS: dict[str, str] = {"better": "csi-better", "worse": "csi-worse"}


def classify_tables(html: str) -> str:
    """Class the cells of every ``<table>`` in ``html`` for the report stylesheet.

    Body cells that read as numbers (``41.8 h``, ``-36 %``, ``1,265``, an em
    dash for missing) get ``csi-num`` (right-aligned); a column whose body
    cells are all numbers gets ``csi-num`` on its header too; cells holding a
    change arrow get ``csi-better`` / ``csi-worse``. The text is not changed.

    Examples
    --------
    >>> classify_tables("<table><tr><td>41.8 h</td><td>Laptop</td></tr></table>")
    '<table><tr><td class="csi-num">41.8 h</td><td>Laptop</td></tr></table>'
    """
    if "<table" not in html:
        return html
    soup = BeautifulSoup(html, "html.parser")
    for table in soup.find_all("table"):
        _arrows(table)
        if "csi-presented" in table.get("class", []):
            continue  # csi_lib.present classed its number columns already
        numeric: dict[int, bool] = {}
        for row in table.find_all("tr"):
            if row.find_parent("thead") is not None:
                continue
            col = 0
            for cell in row.find_all(["td", "th"], recursive=False):
                text = cell.get_text(" ", strip=True)
                if cell.name == "td":
                    is_num = bool(_NUMBER.match(text)) and text != ""
                    if is_num:
                        cell["class"] = [*cell.get("class", []), "csi-num"]
                    numeric[col] = numeric.get(col, True) and (is_num or text in ("", "—"))
                col += int(cell.get("colspan", 1))
        head_rows = table.select("thead tr")
        if head_rows and numeric:
            col = 0
            for cell in head_rows[-1].find_all(["th", "td"], recursive=False):
                if numeric.get(col):
                    cell["class"] = [*cell.get("class", []), "csi-num"]
                col += int(cell.get("colspan", 1))
    return str(soup)


def _arrows(table) -> None:
    """Class the cells holding a change arrow (▲/▼ better/worse) of ``table``."""
    for cell in table.find_all("td"):
        text = cell.get_text(" ", strip=True)
        for word, cls in _ARROWS.items():
            if text[:1] in "▲▼" and word in text and "likely" not in text:
                cell["class"] = [*cell.get("class", []), cls]


def _error_banner(cell_html: str) -> str:
    """Our banner for papermill's "An Exception was encountered at In [n]" marker."""
    where = re.search(r"In \[(\d+)\]", cell_html)
    at = f" at cell [{where.group(1)}]" if where else ""
    return (
        '<div class="csi-error-banner" role="alert"><strong>This stage stopped with an error'
        f"{at}.</strong> The results up to that point are shown; the error is "
        '<a href="#papermill-error-cell">further down the page</a>. '
        "The other stages of the report are not affected.</div>"
    )


#: Exceptions whose message is written for the user (csi_lib.errors): shown as they are.
_USER_ERRORS = ("CsiError", "InputError", "ConfigError", "SnapshotError", "OutputError")


def error_paragraph(ename: str, evalue: str, *, cell: int | None, log: str | None) -> str:
    """One paragraph for a cell that failed: what happened, where, what to do (no traceback).

    Examples
    --------
    >>> "What to do" in error_paragraph("ValueError", "x", cell=3, log="a.kernel.log")
    True
    """
    import html

    user = ename in _USER_ERRORS
    what = evalue if user else f"{ename}: {evalue}"
    where = f"cell [{cell}] of this stage's notebook" if cell else "this stage's notebook"
    todo = (
        "correct what the message names and make the report again"
        if user
        else "this is a fault of the stage, not of your data: report it with the log file"
    )
    details = (
        f" The technical details are in the run's log file <code>{html.escape(log)}</code>, kept"
        " where the report was made (in <code>.logs/</code> beside the report folders), not"
        " published with the report."
        if log
        else ""
    )
    return (
        '<div class="csi-error-paragraph" role="alert"><p><strong>What happened:</strong> '
        f"{html.escape(what.strip())} <strong>Where:</strong> {where}. "
        f"<strong>What to do:</strong> {todo}.{details}</p></div>"
    )


class StaticOutputs(Preprocessor):
    """Turn live-only outputs into static HTML and drop noise from report pages."""

    keep_stderr: bool = False
    #: the stage's log file (its name: it is kept beside the report, not in it) named by the error paragraph
    log_name: str | None = None

    def preprocess_cell(self, cell, resources, index):  # noqa: D102 (nbconvert API)
        if PAPERMILL_ERROR_TAG in cell.get("metadata", {}).get("tags", []):
            if 'id="papermill-error-cell"' in cell.source:
                cell.source = '<span id="papermill-error-cell" class="csi-error-anchor">The stage stopped here:</span>'
            else:
                cell.source = _error_banner(cell.source)
            return cell, resources
        if cell.get("cell_type") != "code":
            return cell, resources
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":  # the traceback goes to the log, not the page
                text = error_paragraph(
                    out.get("ename", "Error"),
                    out.get("evalue", ""),
                    cell=cell.get("execution_count"),
                    log=self.log_name,
                )
                outputs.append(nbformat.v4.new_output("display_data", data={"text/html": text}))
                continue
            if (
                out.get("output_type") == "stream"
                and out.get("name") == "stderr"
                and not self.keep_stderr
            ):
                continue
            data = out.get("data")
            if data is not None and PLOTLY_MIME in data:
                html = pio.to_html(
                    safe_figure(data[PLOTLY_MIME]),  # its text shown as written
                    include_plotlyjs=False,
                    full_html=False,
                    validate=False,
                    config={"displaylogo": False, "responsive": True},
                )
                out["data"] = {"text/html": f'<div class="csi-figure">{html}</div>'}
            elif data is not None and WIDGET_MIME in data:
                out["data"] = {"text/html": WIDGET_NOTE}
            elif data is not None and "text/html" in data:
                html = data["text/html"]
                html = "".join(html) if isinstance(html, list) else html
                out["data"] = {**data, "text/html": classify_tables(html)}
            outputs.append(out)
        cell["outputs"] = outputs
        return cell, resources


@functools.lru_cache(maxsize=1)
def _plotlyjs() -> str:
    return get_plotlyjs()


#: The folder of a report's shared files (plotly.js, JupyterLab's stylesheets), relative to the pages.
REPORT_ASSETS = "assets"
#: plotly.js in a report folder.
PLOTLY_ASSET = f"{REPORT_ASSETS}/plotly.min.js"
#: nbconvert's JupyterLab stylesheets (template names) -> their file in a report folder.
LAB_CSS = {
    "static/index.css": f"{REPORT_ASSETS}/lab/index.css",
    "static/theme-light.css": f"{REPORT_ASSETS}/lab/theme-light.css",
}


def write_report_assets(folder: Path) -> list[Path]:
    """Write the files every page of a report folder shares into ``folder/assets/``.

    plotly.js (about 4.6 MB, the version plotly.py draws with) and JupyterLab's
    stylesheets (about 250 kB), once per folder instead of once per page. Pages
    exported with ``shared_assets=True`` load them by relative paths, from disk
    (``file://``) or a web server alike. Existing files are replaced: they are
    the same library, and the pages need the current one.
    """
    env = make_exporter().environment
    written = [atomic_write(folder / PLOTLY_ASSET, _plotlyjs(), overwrite=True)]
    for name, target in LAB_CSS.items():
        css = env.loader.get_source(env, name)[0]
        written.append(atomic_write(folder / target, css, overwrite=True))
    return written


def _link_css(name: str) -> Markup:
    """nbconvert's ``include_css`` for pages with shared assets: a ``<link>`` instead of the text."""
    return Markup(f'<link rel="stylesheet" type="text/css" href="{LAB_CSS[name]}">')


def _theme_css() -> str:
    """CSS custom properties from :mod:`csi_lib.charts.theme`: one palette for charts and pages."""
    names = {key.replace(" ", "-"): colour for key, colour in theme.RAG.items()}
    lines = [f"  --csi-rag-{key}: {colour};" for key, colour in names.items()]
    lines += [f"  --csi-palette-{i}: {colour};" for i, colour in enumerate(theme.PALETTE)]
    lines += [f"  --csi-font: {theme.FONT};", f"  --csi-ink: {theme.INK};"]
    return ":root {\n" + "\n".join(lines) + "\n}\n"


@functools.lru_cache(maxsize=1)
def report_css() -> str:
    """The report's own stylesheet (screen and print), after the theme's colours as CSS variables."""
    return _theme_css() + (ASSETS / "report.css").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def report_js() -> str:
    """The report's own script: tables as cards and charts laid out again on a phone."""
    return (ASSETS / "report.js").read_text(encoding="utf-8").replace("</script", "<\\/script")


def pager(nav: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Previous and next page of the current one in ``nav`` (the cover page at either end).

    Examples
    --------
    >>> nav = [{"href": "a.html", "label": "1 A"}, {"href": "b.html", "label": "2 B", "current": True}]
    >>> pager(nav)["prev"]["href"], pager(nav)["next"]["href"]
    ('a.html', 'index.html')
    """
    cover = {"href": "index.html", "label": "Cover page"}
    current = next((i for i, n in enumerate(nav) if n.get("current")), None)
    if current is None:
        return {"prev": cover, "next": nav[0] if nav else cover}
    prev = nav[current - 1] if current > 0 else cover
    nxt = nav[current + 1] if current + 1 < len(nav) else cover
    return {
        "prev": {"href": prev["href"], "label": prev["label"]},
        "next": {"href": nxt["href"], "label": nxt["label"]},
    }


def make_exporter(*, with_code: bool = False, log_name: str | None = None) -> HTMLExporter:
    """An HTMLExporter using the ``csi-report`` template."""
    exporter = HTMLExporter(
        template_name="csi-report",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=not with_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        # no image embedding: it re-parses each HTML block of a markdown cell on its own,
        # which closes a <details> note before its content (the "For analysts" notes
        # then showed to every reader); the stage notebooks hold no images
        embed_images=False,
    )
    exporter.register_preprocessor(live_only_remover(), enabled=True)
    pre = StaticOutputs()
    pre.keep_stderr = with_code
    pre.log_name = log_name
    exporter.register_preprocessor(pre, enabled=True)
    return exporter


def live_only_remover() -> Preprocessor:
    """nbconvert's TagRemovePreprocessor dropping the cells tagged :data:`LIVE_ONLY_TAG`."""
    from nbconvert.preprocessors import TagRemovePreprocessor

    return TagRemovePreprocessor(remove_cell_tags={LIVE_ONLY_TAG}, enabled=True)


def export_html(
    notebook: Path,
    html_path: Path,
    *,
    context: dict[str, Any],
    with_code: bool = False,
    overwrite: bool = False,
    shared_assets: bool = False,
) -> Path:
    """Write ``notebook`` as an HTML page.

    With ``shared_assets=True`` the page loads plotly.js and JupyterLab's
    stylesheets from the report folder's ``assets/`` (written once by
    :func:`write_report_assets`); by default they are embedded and the page
    is self-contained (about 5 MB more).

    ``context`` is given to the template as ``resources.csi``: ``title``,
    ``nav`` (list of ``{"href", "label", "current"}``), ``provenance`` (list of
    ``(label, value)``) and anything else the template uses. ``pager``
    (previous/next links) is worked out from ``nav`` unless given, and
    ``failed`` from papermill's record in the notebook.
    """
    nb = nbformat.read(str(notebook), as_version=4)
    nav = context.get("nav") or []
    extra = {
        "pager": context.get("pager") or pager(nav),
        "failed": bool(nb.metadata.get("papermill", {}).get("exception")),
        "stage_label": next((n["label"] for n in nav if n.get("current")), None),
    }
    # the browser tab and the PDF footer: "5 Did we get there? · <cycle title>" (escaped by nbconvert)
    names = [extra["stage_label"], context.get("title")]
    nb.metadata["title"] = " · ".join(str(n) for n in names if n) or html_path.stem
    scripts = (
        {"plotly_src": PLOTLY_ASSET, "link_css": _link_css}
        if shared_assets
        else {"plotlyjs": _plotlyjs()}
    )
    resources = {"csi": {**extra, **context, "css": report_css(), "js": report_js(), **scripts}}
    from .execute import stage_log

    log = stage_log(Path(notebook)).name  # the run's files are not published (staging.run_logs)
    exporter = make_exporter(with_code=with_code, log_name=log)
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return atomic_write(html_path, body, overwrite=overwrite)
