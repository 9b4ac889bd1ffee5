"""Report building blocks: static outputs, the page template, the cover page, stage selection."""

from __future__ import annotations

import json

import nbformat
import plotly.graph_objects as go
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from csi_lib.errors import ConfigError, OutputError
from csi_lib.report.export import PLOTLY_MIME, WIDGET_MIME, export_html
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
