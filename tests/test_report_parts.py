"""Report building blocks: static outputs, the page template, the cover page, stage selection."""

from __future__ import annotations

import json

import nbformat
import plotly.graph_objects as go
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from csi_lib.errors import ConfigError, OutputError
from csi_lib.report.export import (
    LAB_CSS,
    PLOTLY_ASSET,
    PLOTLY_MIME,
    WIDGET_MIME,
    export_html,
    write_report_assets,
)
from csi_lib.report.index import render_index
from csi_lib.report.stages import STAGES, select_stages


def _executed_notebook(tmp_path):
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    nb = new_notebook()
    nb.cells.append(new_markdown_cell("# A stage"))
    code = new_code_cell("fig")
    code.outputs = [
        new_output(
            "display_data", data={PLOTLY_MIME: json.loads(fig.to_json()), "text/plain": "Figure"}
        ),
        new_output("display_data", data={WIDGET_MIME: {"model_id": "abc"}, "text/plain": "VBox()"}),
        new_output("stream", name="stderr", text="a warning nobody should read in a report\n"),
        new_output("stream", name="stdout", text="visible line\n"),
    ]
    nb.cells.append(code)
    path = tmp_path / "stage.ipynb"
    nbformat.write(nb, str(path))
    return path


def _context():
    return {
        "title": "Cycle <script>alert(1)</script>",
        "nav": [
            {"href": "01_where_are_we_now.html", "label": "1 Where are we now?", "current": True}
        ],
        "provenance": [
            ("Data fingerprint", "sha256:abc"),
            ("Note", "<img src=x onerror=alert(1)>"),
        ],
    }


def test_export_embeds_plotly_and_needs_no_network(tmp_path):
    page = export_html(
        _executed_notebook(tmp_path), tmp_path / "stage.html", context=_context()
    ).read_text()
    assert "Plotly.newPlot" in page  # the figure became a drawn chart
    assert "* plotly.js v" in page  # the library itself is inline
    # no script or stylesheet is fetched from a CDN
    for cdn in ("cdnjs.cloudflare.com", "cdn.plot.ly", "unpkg.com", "cdn.jsdelivr.net"):
        assert f'src="https://{cdn}' not in page
    assert "Interactive control" in page  # widget replaced by a note
    assert "a warning nobody should read" not in page  # stderr hidden
    assert "visible line" in page
    assert ">fig<" not in page  # code hidden by default


def test_report_pages_share_one_copy_of_plotly_and_the_stylesheets(tmp_path):
    # a report folder: plotly.js and JupyterLab's CSS once in assets/, pages load them by relative paths
    written = write_report_assets(tmp_path)
    assert written[0] == tmp_path / PLOTLY_ASSET and written[0].stat().st_size > 1_000_000
    assert "plotly.js v" in written[0].read_text()[:300]
    assert {p.relative_to(tmp_path).as_posix() for p in written[1:]} == set(LAB_CSS.values())
    assert ".jp-OutputArea" in (tmp_path / LAB_CSS["static/index.css"]).read_text()
    write_report_assets(tmp_path)  # the same files again: replaced, not refused
    nb = _executed_notebook(tmp_path)
    sizes = []
    for name in ("a.html", "b.html"):
        page = export_html(nb, tmp_path / name, context=_context(), shared_assets=True)
        html = page.read_text()
        soup = BeautifulSoup(html, "html.parser")
        assert [t["src"] for t in soup.find_all("script", src=True)] == [PLOTLY_ASSET]
        links = [t["href"] for t in soup.find_all("link", rel="stylesheet")]
        assert links == list(LAB_CSS.values())
        assert "* plotly.js v" not in html  # not inline
        assert html.index(PLOTLY_ASSET) < html.index("Plotly.newPlot")  # loaded before use
        assert "a.anchor-link" in html  # nbconvert's own small rules stay inline
        assert "@media print" in html  # and so does the report's stylesheet
        sizes.append(page.stat().st_size)
    inline = export_html(nb, tmp_path / "inline.html", context=_context()).stat().st_size
    assert max(sizes) < 100_000 < 5_000_000 < inline  # the weight stays in assets/


def test_export_escapes_user_text_in_nav_and_footer(tmp_path):
    page = export_html(
        _executed_notebook(tmp_path), tmp_path / "stage.html", context=_context()
    ).read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x onerror" not in page


def test_export_with_code_keeps_inputs(tmp_path):
    page = export_html(
        _executed_notebook(tmp_path), tmp_path / "s.html", context=_context(), with_code=True
    ).read_text()
    assert "a warning nobody should read" in page


def test_export_refuses_to_overwrite(tmp_path):
    nb = _executed_notebook(tmp_path)
    export_html(nb, tmp_path / "s.html", context=_context())
    with pytest.raises(OutputError, match="exists already"):
        export_html(nb, tmp_path / "s.html", context=_context())


def test_index_escapes_and_lists_stages():
    html = render_index(
        {
            "title": "<b>x</b>",
            "subtitle": "as of 2026-04-15",
            "nav": [],
            "summary": {
                "headline": "Two of three targets met <script>",
                "targets": [
                    {"id": "T1", "label": "Median", "met": True, "conclusion": "ok"},
                    {"id": "T2", "label": "SLA", "met": False, "conclusion": "not yet"},
                ],
            },
            "downloads": [],
            "stages": [
                {
                    "number": 1,
                    "title": "Where are we now?",
                    "question": "q",
                    "href": "01.html",
                    "ok": False,
                    "error": "cell 3: KeyError: 'x'",
                }
            ],
            "provenance": [("Data", "f.csv")],
        }
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "&lt;script&gt;" in html
    assert "rag-met" in html and "rag-not-met" in html
    assert "cell 3: KeyError" in html
    assert 'href="01.html"' in html


def test_stage_registry_and_selection():
    assert [s.number for s in STAGES] == list(range(7))
    chosen = select_stages(["1"], cycle=False)
    assert [s.slug for s in chosen] == ["01_where_are_we_now"]
    with pytest.raises(ConfigError, match="unknown stage"):
        select_stages(["9"])
    with pytest.raises(ConfigError, match="needs a cycle folder"):
        select_stages(["0"], cycle=False)


def test_terminal_progress_follows_the_stage_messages():
    from io import StringIO

    from rich.console import Console

    from csi_lib.cli.report import _TerminalProgress

    bar = _TerminalProgress(console=Console(file=StringIO(), force_terminal=False, width=100))
    bar("data: 10 rows read")
    bar("[1/2] Where are we now? ...")
    assert bar.bar.tasks[0].completed == 0 and bar.bar.tasks[0].total == 2
    bar("[1/2] Where are we now?: done (3.1 s)")
    assert bar.bar.tasks[0].completed == 1
    bar("[2/2] Take action: FAILED: cell 3: KeyError: 'x' (1.0 s)")
    assert bar.bar.tasks[0].completed == 2
    bar.close()
    printed = bar.bar.console.file.getvalue()
    assert "data: 10 rows read" in printed and "FAILED: cell 3" in printed


def test_cells_tagged_live_only_are_left_out_of_pages_and_slides(tmp_path):
    """A control nobody can use (the explorer, the what-if) and its text are not on a page."""
    from csi_lib.cli.slides import export_slides
    from csi_lib.report.export import LIVE_ONLY_TAG

    nb = new_notebook()
    nb.cells.append(new_markdown_cell("# A stage\n\nKept text."))
    live_text = new_markdown_cell("## What if?\n\nSlide the value.")
    live_text.metadata["tags"] = [LIVE_ONLY_TAG]
    live_code = new_code_cell("what_if(cycle)")
    live_code.metadata["tags"] = [LIVE_ONLY_TAG]
    live_code.outputs = [new_output("display_data", data={"text/html": "<p>a draft at -0%</p>"})]
    kept = new_code_cell("table")
    kept.outputs = [new_output("display_data", data={"text/html": "<p>kept output</p>"})]
    nb.cells.extend([live_text, live_code, kept])
    path = tmp_path / "stage.ipynb"
    nbformat.write(nb, str(path))
    page = export_html(path, tmp_path / "stage.html", context=_context()).read_text()
    deck = export_slides(path, tmp_path / "stage.slides.html", title="t").read_text()
    for html_text in (page, deck):
        assert "Kept text." in html_text and "kept output" in html_text
        assert "What if?" not in html_text and "Slide the value" not in html_text
        assert "a draft at -0%" not in html_text
