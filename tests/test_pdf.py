"""Printing the report: report.pdf through headless Chromium, and the page rules it relies on.

The PDF tests build a small report folder by hand (a cover page and one stage page
exported from a notebook with three plotly charts), without papermill, so they
take a few seconds of Chromium each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from csi_lib.errors import CsiError, OutputError
from csi_lib.report.export import PLOTLY_MIME, classify_tables, export_html, pager
from csi_lib.report.index import render_index, with_changes
from csi_lib.report.pdf import CHROMIUM, print_pdf

ROOT = Path(__file__).resolve().parents[1]
needs_chromium = pytest.mark.skipif(
    not Path(os.environ.get("CSI_CHROMIUM", CHROMIUM)).exists(), reason="no Chromium"
)
NAV = [
    {"href": "01_where_are_we_now.html", "label": "1 Where are we now?"},
    {"href": "02_where_do_we_want_to_be.html", "label": "2 Where do we want to be?"},
]
PROVENANCE = [("Data fingerprint", "sha256:abc123"), ("csi-workbook", "0.1.0")]


def _small_report(folder: Path) -> list[Path]:
    """index.html + one stage page with three 450 px charts (too tall for one A4 sheet)."""
    nb = new_notebook()
    nb.cells.append(new_markdown_cell("# A stage\n\nSome text."))
    for i in range(1, 4):
        fig = go.Figure(go.Bar(x=["a", "b", "c"], y=[i, 2 * i, 3 * i]))
        fig.update_layout(title=f"Chart number {i}", height=450)
        cell = new_code_cell("fig")
        cell.outputs = [
            new_output("display_data", data={PLOTLY_MIME: json.loads(fig.to_json())}),
        ]
        nb.cells.append(cell)
    nbformat.write(nb, str(folder / "stage.ipynb"))
    stage = export_html(
        folder / "stage.ipynb",
        folder / "01_where_are_we_now.html",
        context={
            "title": "Small cycle",
            "nav": [{**NAV[0], "current": True}, NAV[1]],
            "provenance": PROVENANCE,
        },
    )
    index = folder / "index.html"
    index.write_text(
        render_index(
            {
                "title": "Small cycle",
                "subtitle": "Cycle report as of 2026-04-15",
                "nav": NAV,
                "summary": None,
                "downloads": [{"href": "kpis.xlsx", "label": "KPI tables (Excel workbook)"}],
                "stages": [
                    {
                        "number": 1,
                        "title": "Where are we now?",
                        "question": "What is our starting point?",
                        "href": NAV[0]["href"],
                        "ok": True,
                        "error": None,
                    }
                ],
                "provenance": PROVENANCE,
            }
        )
    )
    return [index, stage]


@pytest.mark.slow
@needs_chromium
def test_print_pdf_merges_the_pages_with_charts_drawn_and_print_rules_applied(tmp_path):
    from pypdf import PdfReader

    pages = _small_report(tmp_path)
    out = print_pdf(pages, tmp_path / "report.pdf")
    assert out == tmp_path / "report.pdf"
    assert out.read_bytes()[:5] == b"%PDF-"
    reader = PdfReader(str(out))
    # cover: 1 sheet; stage: h1 + text + 3 charts of 450 px (1,350 px) > one A4 sheet
    # (267 mm printable = 1,009 px) and a chart is never split -> at least 2 sheets
    assert len(reader.pages) >= 3
    # bookmarks: the cover, then each page under its name in the navigation bar
    assert [item.title for item in reader.outline] == ["Small cycle", "1 Where are we now?"]
    text = "\n".join(page.extract_text() for page in reader.pages)
    for i in (1, 2, 3):
        assert f"Chart number {i}" in text  # plotly drew its SVG before printing
    assert "sha256:abc123" in text  # provenance footer printed
    assert "Previous" not in text  # prev/next links are screen-only (@media print)
    n = len(reader.pages)
    for i, page in enumerate(reader.pages, 1):
        assert f"{i} / {n}" in page.extract_text()  # one numbering across the pages
    with pytest.raises(OutputError, match="exists already"):
        print_pdf(pages, out)


def test_print_pdf_without_chromium_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("CSI_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(CsiError, match="Chromium is not installed") as err:
        print_pdf([tmp_path / "index.html"], tmp_path / "report.pdf")
    assert err.value.exit_code == 2
    assert "install Debian's chromium package" in err.value.hint and "--pdf" in err.value.hint
    assert not (tmp_path / "report.pdf").exists()


@pytest.mark.slow
def test_csi_report_pdf_without_chromium_exits_2_before_running_anything(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "csi_lib", "report", "--pdf", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CSI_CHROMIUM": str(tmp_path / "no-chromium")},
        timeout=120,
    )
    assert result.returncode == 2
    assert "install debian's chromium package or drop --pdf" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_csi_report_pdf_without_playwright_exits_2_before_running_anything(
    tmp_path, monkeypatch, capsys
):
    """A package installed without its pdf extra: no stage runs, the message says what to install."""
    from csi_lib.cli import main

    for name in ("playwright", "playwright.sync_api"):
        monkeypatch.setitem(sys.modules, name, None)  # import playwright... -> ImportError
    status = main(["report", "--pdf", "--stage", "1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "the playwright package is not installed" in err and "csi-workbook[pdf]" in err
    assert not (tmp_path / "out").exists()


def test_csi_report_pdf_with_a_chromium_that_does_not_start_exits_2_before_running_anything(
    tmp_path, monkeypatch, capsys
):
    from csi_lib.cli import main

    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'libfoo.so: cannot open shared object file' >&2\nexit 127\n")
    broken.chmod(0o755)
    monkeypatch.setenv("CSI_CHROMIUM", str(broken))
    status = main(["report", "--pdf", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Chromium did not start" in err and "Install Debian's chromium package" in err
    assert "Chromium said: libfoo.so: cannot open shared object file" in err
    assert not (tmp_path / "out").exists()
    not_a_program = tmp_path / "chromium.txt"
    not_a_program.write_text("")
    monkeypatch.setenv("CSI_CHROMIUM", str(not_a_program))
    assert main(["report", "--pdf", "--out", str(tmp_path / "out")]) == 2
    assert "Chromium is not an executable file" in capsys.readouterr().err


def test_table_cells_are_classed_numbers_right_text_left_arrows_coloured():
    html = (
        "<table><thead><tr><th></th><th>kpi</th><th>value</th><th>change</th></tr></thead>"
        "<tbody>"
        "<tr><th>0</th><td>Median time</td><td>41.8 h</td><td>▼ better</td></tr>"
        "<tr><th>1</th><td>Laptop 2</td><td>—</td><td>▲ worse</td></tr>"
        "<tr><th>2</th><td>2025-12-31</td><td>-9.3e+00</td><td>→ no change</td></tr>"
        "</tbody></table>"
    )
    out = classify_tables(html)
    assert '<td class="csi-num">41.8 h</td>' in out
    assert '<td class="csi-num">—</td>' in out  # a missing value lines up with the numbers
    assert '<td class="csi-num">-9.3e+00</td>' in out
    assert "<td>Median time</td>" in out and "<td>Laptop 2</td>" in out
    assert "<td>2025-12-31</td>" in out  # a date is not a number
    assert '<td class="csi-better">▼ better</td>' in out
    assert '<td class="csi-worse">▲ worse</td>' in out
    # header: only the all-number column is right-aligned
    assert '<th class="csi-num">value</th>' in out and "<th>kpi</th>" in out
    assert classify_tables("<p>no table</p>") == "<p>no table</p>"


def test_pager_links_neighbours_and_the_cover_at_both_ends():
    nav = [{"href": f"{i}.html", "label": str(i)} for i in range(3)]
    first = pager([{**nav[0], "current": True}, nav[1], nav[2]])
    assert (first["prev"]["href"], first["next"]["href"]) == ("index.html", "1.html")
    middle = pager([nav[0], {**nav[1], "current": True}, nav[2]])
    assert (middle["prev"]["href"], middle["next"]["href"]) == ("0.html", "2.html")
    last = pager([nav[0], nav[1], {**nav[2], "current": True}])
    assert (last["prev"]["href"], last["next"]["href"]) == ("1.html", "index.html")


def test_stage_page_has_prev_next_and_theme_colours(tmp_path):
    pages = _small_report(tmp_path)
    stage = pages[1].read_text()
    soup = BeautifulSoup(stage, "html.parser")
    assert soup.select_one("a[rel=prev]")["href"] == "index.html"  # first stage: back to the cover
    assert soup.select_one("a[rel=next]")["href"] == "02_where_do_we_want_to_be.html"
    assert "--csi-rag-pass: #009E73;" in stage  # charts.theme.RAG, not a copy in the CSS
    assert "@media print" in stage


def test_cover_without_summary_names_the_stage_that_writes_it(tmp_path):
    """In words: the stage, not its file (summary.json) or a command."""
    index = _small_report(tmp_path)[0].read_text()
    assert "Did we get there?" in index and "shows where the practice is now" in index
    assert 'href="kpis.xlsx"' in index


def test_cover_colours_a_change_only_where_the_evidence_says_it_is_real():
    # stage 5 writes each target's change from its evidence (csi_lib.tables.evidence_arrow);
    # the cover never works one out from the raw numbers: a fall the evidence calls noise
    # is not "better" in green
    summary = {
        "targets": [
            {"id": "T1", "kpi": "fulfil_median_h", "baseline_value": 41.8, "now_value": 26.6,
             "change": "▼ better", "change_class": "better"},
            {"id": "T2", "kpi": "pct_within_sla", "baseline_value": 86.5, "now_value": 84.0,
             "change": "▼ within noise", "change_class": ""},
            {"id": "T3", "kpi": "pct_within_sla", "baseline_value": 86.5, "now_value": 84.0},
        ]
    }  # fmt: skip
    assert "change" not in with_changes(summary)["targets"][2]
    html = render_index(
        {"title": "t", "nav": [], "summary": with_changes(summary), "stages": [], "provenance": []}
    )
    assert '<td class="csi-better">▼ better</td>' in html
    assert '<td class="">▼ within noise</td>' in html
    assert "csi-worse" not in html.split("</style>")[1]


@pytest.mark.slow
@needs_chromium
def test_print_pdf_works_inside_a_running_event_loop(tmp_path):
    # a Jupyter kernel runs an asyncio loop: Playwright's sync API would refuse there
    import asyncio
    import concurrent.futures

    pages = _small_report(tmp_path)

    async def from_a_notebook() -> Path:
        return print_pdf(pages, tmp_path / "report.pdf")

    # run the loop in a thread of its own: this test thread may hold another loop already
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        out = pool.submit(asyncio.run, from_a_notebook()).result()
    assert out.read_bytes()[:5] == b"%PDF-"


def _tall_and_wide_stage(folder: Path) -> Path:
    """A stage page with a chart taller than a sheet and a table wider than a portrait sheet."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=5, cols=1)
    for row in range(1, 6):
        fig.add_trace(go.Scatter(x=[1, 2, 3], y=[row, row + 1, row]), row=row, col=1)
    fig.update_layout(title="Tall chart top", height=1600)
    fig.update_xaxes(title_text="Tall chart bottom", row=5, col=1)
    wide = "<table><thead><tr>" + "".join(f"<th>heading{i}</th>" for i in range(10))
    wide += "<th>LastColumn</th></tr></thead><tbody><tr>"
    wide += "".join(f"<td>{i * 1000:,} requests</td>" for i in range(10)) + "<td>end</td></tr>"
    wide += "</tbody></table>"
    nb = new_notebook()
    nb.cells.append(new_markdown_cell("# Take action\n\n" + "Text before the chart. " * 20))
    chart = new_code_cell("fig")
    chart.outputs = [new_output("display_data", data={PLOTLY_MIME: json.loads(fig.to_json())})]
    table = new_code_cell("table")
    table.outputs = [new_output("display_data", data={"text/html": wide})]
    nb.cells += [chart, table]
    nbformat.write(nb, str(folder / "stage4.ipynb"))
    return export_html(
        folder / "stage4.ipynb",
        folder / "04_take_action.html",
        context={
            "title": "Small cycle",
            "nav": [
                NAV[0],
                {"href": "04_take_action.html", "label": "4 Take action", "current": True},
            ],
            "provenance": PROVENANCE,
        },
    )


@pytest.mark.slow
@needs_chromium
def test_pdf_reads_like_a_report_contents_numbers_whole_charts_wide_tables(tmp_path):
    from pypdf import PdfReader

    cover, stage1 = _small_report(tmp_path)
    stage4 = _tall_and_wide_stage(tmp_path)
    out = print_pdf([cover, stage1, stage4], tmp_path / "report.pdf")
    reader = PdfReader(str(out))
    texts = [page.extract_text() for page in reader.pages]
    n = len(texts)

    # bookmarks: cover, contents, the two stages; each at the page it starts on
    starts = {o.title: reader.get_destination_page_number(o) + 1 for o in reader.outline}
    assert list(starts) == ["Small cycle", "Contents", "1 Where are we now?", "4 Take action"]
    assert starts["Contents"] == starts["Small cycle"] + 1  # right after the cover

    # the contents page lists each stage with the page it starts on
    contents = texts[starts["Contents"] - 1]
    for title in ("1 Where are we now?", "4 Take action"):
        line = next(line for line in contents.splitlines() if line.startswith(title))
        assert line.rstrip().endswith(str(starts[title])), line

    # continuous page numbers: sheet i of n says "i / n", whatever section it is in
    for i, text in enumerate(texts, 1):
        assert f"{i} / {n}" in text, f"page {i}: {text[-80:]!r}"
    assert f"1 / {n}" in texts[0] and f"{n} / {n}" in texts[-1]

    # no chart split: each chart's top and bottom are on the same sheet
    def sheet_of(needle: str) -> list[int]:
        return [i for i, text in enumerate(texts, 1) if needle in text]

    for i in (1, 2, 3):
        assert len(sheet_of(f"Chart number {i}")) == 1
    assert sheet_of("Tall chart top") == sheet_of("Tall chart bottom")  # redrawn to fit one sheet
    assert len(sheet_of("Tall chart top")) == 1

    # the wide table is printed whole (its last column too) on a landscape sheet of its own
    [table_sheet] = sheet_of("LastColumn")
    box = reader.pages[table_sheet - 1].mediabox
    assert box.width > box.height
    assert "9,000 requests" in texts[table_sheet - 1]  # numbers are not broken across lines
    # only the table's sheet: the rest of the stage, the tall chart too, stays portrait
    for needle in ("Tall chart top", "Text before the chart", "Chart number 1"):
        for sheet in sheet_of(needle):
            box = reader.pages[sheet - 1].mediabox
            assert box.width < box.height, needle


def _cover_of_five_targets(folder: Path) -> Path:
    """The cover of a closed cycle of five targets, with the sample report's words."""
    conclusion = (
        "Median time to fulfil (Laptop) fell from 41.8 h to 26.6 h (-36%); the target of 28.0 h "
        "is met; the fall is a shift beyond the baseline's natural process limits since "
        "September 2025, and the 95% interval of the change in the median, -17.6 to -12.9 h, "
        "excludes no change: not chance."
    )
    targets = [
        {"id": f"T{i}", "label": "Median time to fulfil (Laptop)", "baseline": "41.8 h",
         "now": "26.6 h", "target": "28.0 h", "met": True, "gap_closed": "100 %",
         "change": "▼ better", "change_class": "better", "status": "met", "rag": "met",
         "reason": "26.6 h over the review period (January to March 2026) against a target "
                   "of 28.0 h", "conclusion": conclusion}
        for i in range(1, 6)
    ]  # fmt: skip
    stages = [
        {"number": n, "title": f"Stage {n}", "question": "What is the question of this stage?",
         "href": NAV[0]["href"], "ok": True, "error": None}
        for n in range(7)
    ]  # fmt: skip
    provenance = [*PROVENANCE, *[(f"Line {i}", "2025-01-01 to 2025-06-30") for i in range(7)]]
    index = folder / "index.html"
    index.write_text(
        render_index(
            {
                "title": "Faster, more predictable requests",
                "subtitle": "Cycle report as of 2026-04-15",
                "nav": NAV,
                "where": {"label": "Closed: the review period is over",
                          "text": "As of 2026-04-15 the cycle is closed: its review period "
                                  "(2026-01-01 to 2026-03-31) is over, the verdicts are final."},
                "summary": {"headline": "4 of 5 targets met, 1 not met; 3 show a real "
                                        "improvement, 2 no evidence of change.",
                            "targets": targets},
                "downloads": [{"href": "kpis.xlsx", "label": "KPI tables (Excel workbook)"}],
                "stages": stages,
                "provenance": provenance,
            }
        )
    )  # fmt: skip
    return index


def _stage_of_text_tables(folder: Path) -> Path:
    """A stage page with a fold for analysts and a five-row table of three text columns
    (stage 4's progress table): wider than a portrait sheet at its screen widths."""
    import pandas as pd

    from csi_lib.present import to_html

    text = "a shift beyond the baseline's natural process limits since September 2025"
    frame = pd.DataFrame(
        {
            "Target": [f"T{i}" for i in range(1, 6)],
            "What is measured": ["Median time to fulfil (Laptop)"] * 5,
            "Baseline": ["41.8 h"] * 5, "Target value": ["28.0 h"] * 5,
            "Action period": ["29.0 h"] * 5, "Gap closed (%)": ["93"] * 5,
            "Standing": ["Met"] * 5,
            "Reason": ["26.6 h over the review period (January to March 2026) against 28.0 h"] * 5,
            "Latest signal": [text] * 5, "Initiatives": ["I1 Laptop build automation (done)"] * 5,
        }
    )  # fmt: skip
    nb = new_notebook()
    nb.cells.append(new_markdown_cell("# Take action\n\n" + "Text before the table. " * 30))
    nb.cells.append(
        new_markdown_cell(
            '<details class="csi-analysts"><summary>For analysts</summary>\n\n'
            "Folded analyst note.\n\n</details>"
        )
    )
    table = new_code_cell("table")
    table.outputs = [new_output("display_data", data={"text/html": to_html(frame)})]
    nb.cells.append(table)
    nbformat.write(nb, str(folder / "stage4.ipynb"))
    return export_html(
        folder / "stage4.ipynb",
        folder / "04_take_action.html",
        context={"title": "Small cycle", "nav": [NAV[0], {"href": "04_take_action.html",
                 "label": "4 Take action", "current": True}], "provenance": PROVENANCE},
    )  # fmt: skip


@pytest.mark.slow
@needs_chromium
def test_paper_cover_fits_one_sheet_no_folds_and_text_tables_stay_portrait(tmp_path):
    """Issue 25: the cover spilled onto sheet 2 (contents on 3), a collapsed 'For analysts'
    was printed, and a five-row table went alone on a landscape sheet three-quarters empty."""
    from pypdf import PdfReader

    cover = _cover_of_five_targets(tmp_path)
    stage = _stage_of_text_tables(tmp_path)
    reader = PdfReader(str(print_pdf([cover, stage], tmp_path / "report.pdf")))
    starts = {o.title: reader.get_destination_page_number(o) + 1 for o in reader.outline}
    assert starts["4 Take action"] == 2, starts  # the cover is one sheet
    texts = [page.extract_text() for page in reader.pages]
    assert "T5" in texts[0] and "sha256:abc123" in texts[0]  # its table and provenance
    assert "The stages" not in "".join(texts[:2])  # the contents page lists them instead
    everything = "\n".join(texts)
    assert "For analysts" not in everything and "Folded analyst note" not in everything
    assert all(p.mediabox.width < p.mediabox.height for p in reader.pages), "a landscape sheet"
    # the table starts on the sheet of the text before it and keeps every column
    first = next(i for i, t in enumerate(texts) if "Text before the table" in t)
    assert "Initiatives" in texts[first] and "T1" in texts[first]
