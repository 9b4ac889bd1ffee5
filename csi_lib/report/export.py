"""Export an executed notebook to one self-contained HTML page.

- plotly figures (their native mimetype) become HTML drawn by plotly.js, which
  is embedded once in the page: the page needs no network;
- interactive widgets, which need a live kernel, are replaced by a short note;
- code cells and stderr are hidden unless ``with_code=True``;
- the page gets the workbook's CSS, a navigation bar and a provenance footer,
  rendered by the ``csi-report`` nbconvert template (autoescaped).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import nbformat
import plotly.io as pio
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from plotly.offline import get_plotlyjs

from ..storage import atomic_write

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ASSETS = Path(__file__).resolve().parent.parent / "assets"

WIDGET_NOTE = (
    '<div class="csi-widget-note">Interactive control: open this stage in JupyterLab '
    "(<code>csi lab</code>) or the workshop (<code>csi workshop</code>) to use it.</div>"
)


class StaticOutputs(Preprocessor):
    """Turn live-only outputs into static HTML and drop noise from report pages."""

    keep_stderr: bool = False

    def preprocess_cell(self, cell, resources, index):  # noqa: D102 (nbconvert API)
        if cell.get("cell_type") != "code":
            return cell, resources
        outputs = []
        for out in cell.get("outputs", []):
            if (
                out.get("output_type") == "stream"
                and out.get("name") == "stderr"
                and not self.keep_stderr
            ):
                continue
            data = out.get("data")
            if data is not None and PLOTLY_MIME in data:
                html = pio.to_html(
                    data[PLOTLY_MIME],
                    include_plotlyjs=False,
                    full_html=False,
                    validate=False,
                    config={"displaylogo": False, "responsive": True},
                )
                out["data"] = {"text/html": f'<div class="csi-figure">{html}</div>'}
            elif data is not None and WIDGET_MIME in data:
                out["data"] = {"text/html": WIDGET_NOTE}
            outputs.append(out)
        cell["outputs"] = outputs
        return cell, resources


@functools.lru_cache(maxsize=1)
def _plotlyjs() -> str:
    return get_plotlyjs()


@functools.lru_cache(maxsize=1)
def report_css() -> str:
    """The report's own stylesheet (screen and print)."""
    return (ASSETS / "report.css").read_text(encoding="utf-8")


def make_exporter(*, with_code: bool = False) -> HTMLExporter:
    """An HTMLExporter using the ``csi-report`` template."""
    exporter = HTMLExporter(
        template_name="csi-report",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=not with_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    pre = StaticOutputs()
    pre.keep_stderr = with_code
    exporter.register_preprocessor(pre, enabled=True)
    return exporter


def export_html(
    notebook: Path,
    html_path: Path,
    *,
    context: dict[str, Any],
    with_code: bool = False,
    overwrite: bool = False,
) -> Path:
    """Write ``notebook`` as a self-contained HTML page.

    ``context`` is given to the template as ``resources.csi``: ``title``,
    ``nav`` (list of ``{"href", "label", "current"}``), ``provenance`` (list of
    ``(label, value)``) and anything else the template uses.
    """
    nb = nbformat.read(str(notebook), as_version=4)
    resources = {"csi": {**context, "css": report_css(), "plotlyjs": _plotlyjs()}}
    body, _ = make_exporter(with_code=with_code).from_notebook_node(nb, resources=resources)
    return atomic_write(html_path, body, overwrite=overwrite)
