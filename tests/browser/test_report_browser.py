"""The sample cycle's report in a real browser: every page loads cleanly, every chart draws.

The report is built once per session (all stage notebooks, about a minute and a
half on two cores); each page is then opened from disk (file://, as a user opens
a report folder) in headless Chromium. A full-page screenshot of each goes to
``test-artifacts/screenshots/report-<page>.png`` for a human to look at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from csi_lib.report.stages import STAGES

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["index", *(s.slug for s in STAGES)]

#: Links that move between pages: the navigation bar, prev/next, cover cards and downloads.
NAV_LINKS = ".csi-nav a, .csi-pager a, .csi-cards a, .csi-downloads a"
CHARTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    id: el.id,
    traces: Array.isArray(el.data) ? el.data.length : 0,
    svg: el.querySelector('svg.main-svg') !== null,
}))"""
ALL_DRAWN = (
    "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
    ".every(el => el.querySelector('svg.main-svg') !== null)"
)


@pytest.fixture(scope="session")
def report(sample_report):
    """The sample cycle's report as of 2026-04-15 (conftest's, built once per session)."""
    return sample_report


def _open(page, path: Path) -> list[str]:
    """Open a page from disk with the network cut off; returns the requests that were refused."""
    refused: list[str] = []

    def offline(route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(ALL_DRAWN, timeout=30_000)
    return refused


def test_every_stage_ran(report):
    # A failing stage is shown on the cover page and its page is kept; this names it.
    failed = {r.stage.slug: r.error for r in report.failed}
    assert not failed, f"stage notebooks failed: {failed}"


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_draws_its_charts_and_links_resolve(report, page, artifacts, name):
    path = report.folder / f"{name}.html"
    assert path.exists(), f"{path.name} missing from the report folder"
    refused = _open(page, path)
    page.screenshot(path=str(artifacts / f"report-{name}.png"), full_page=True)
    assert refused == [], f"{path.name} asked the network for {refused}"

    assert page.errors == [], f"console errors on {path.name}: {page.errors}"

    charts = page.evaluate(CHARTS)
    for chart in charts:
        assert chart["traces"] > 0, f"{path.name}: chart {chart['id']} has no traces"
        assert chart["svg"], f"{path.name}: chart {chart['id']} drew no svg"
    if name == "06_keep_momentum":
        # the sample workspace holds one cycle: its history is a table, not a chart of single
        # dots (issue 25)
        assert not charts and "History across cycles" in page.inner_text("main")
        assert page.locator("main table", has_text="2025-h2").count() >= 1
    elif name != "index":
        assert charts, f"{path.name} has no chart"  # every stage page shows at least one

    hrefs = page.eval_on_selector_all(NAV_LINKS, "els => els.map(a => a.getAttribute('href'))")
    assert "index.html" in hrefs or name == "index"
    for href in hrefs:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc, f"{path.name}: external link {href}"
        if parts.path:
            target = report.folder / unquote(parts.path)
            assert target.is_file(), f"{path.name}: link {href} goes nowhere"

    footer = page.inner_text("footer.csi-provenance")
    for label in ("Data fingerprint", "sha256:", "Mapping", "Baseline period", "csi-workbook"):
        assert label in footer, f"{path.name}: provenance footer lacks {label}"
    assert "Generated at" in footer and "As of" in footer


@pytest.mark.parametrize("name", ["index", "05_did_we_get_there"])
def test_tables_code_and_print_look(report, page, name):
    path = report.folder / f"{name}.html"
    _open(page, path)
    if name != "index":
        assert page.locator(".jp-CodeCell").count() > 0
        assert page.locator(".jp-CodeCell .jp-InputArea").count() == 0  # code hidden by default
    looks = page.evaluate(
        """() => {
        const num = document.querySelector('td.csi-num');
        const idx = document.querySelector('tbody th');
        return {
            numAlign: num ? getComputedStyle(num).textAlign : null,
            indexWeight: idx ? Number(getComputedStyle(idx).fontWeight) : null,
        };
    }"""
    )
    assert looks["numAlign"] == "right"  # numbers right-aligned, over JupyterLab's own rules
    # row headers bold (the cover's target ids; presented stage tables have no index column)
    assert looks["indexWeight"] is None or looks["indexWeight"] >= 600
    page.emulate_media(media="print")
    assert page.eval_on_selector(".csi-nav", "el => getComputedStyle(el).display") == "none"


def test_report_folder_is_light_and_pages_share_one_plotly(report):
    # plotly.js (4.6 MB) once per folder, not once per page: a weekly folder stays under 8 MB
    from bs4 import BeautifulSoup

    from csi_lib.report.export import PLOTLY_ASSET

    files = [p for p in report.folder.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert total < 8_000_000, f"report folder weighs {total / 1e6:.1f} MB"
    assert [p for p in files if p.name == "plotly.min.js"] == [report.folder / PLOTLY_ASSET]
    for stage in STAGES:
        html = (report.folder / stage.html).read_text()
        soup = BeautifulSoup(html, "html.parser")
        srcs = [s["src"] for s in soup.find_all("script", src=True)]
        assert srcs == [PLOTLY_ASSET], f"{stage.html} loads {srcs}"
        assert "* plotly.js v" not in html, f"{stage.html} embeds plotly.js"
        assert (report.folder / stage.html).stat().st_size < 1_000_000
    assert (report.folder / "kpis.xlsx").stat().st_size < 1_000_000


def test_a_page_taken_out_of_its_folder_says_why_its_charts_are_missing(report, page, tmp_path):
    # one file dragged out of a zip: no assets/ beside it, so no plotly.js
    import shutil

    alone = tmp_path / "04_take_action.html"
    shutil.copy(report.folder / alone.name, alone)
    page.goto(alone.as_uri(), wait_until="load")
    banner = page.locator(".csi-missing-assets")
    banner.wait_for()
    assert "whole report folder" in banner.inner_text()
    # in its folder the same page draws and shows no such note
    _open(page, report.folder / alone.name)
    assert page.locator(".csi-missing-assets").count() == 0


def test_summary_to_send_matches_summary_json(report):
    import json

    summary = json.loads((report.folder / "summary.json").read_text())
    md = (report.folder / "summary.md").read_text()
    txt = (report.folder / "summary.txt").read_text()
    for text in (md, txt):
        assert summary["headline"] in text
        for target in summary["targets"]:
            assert target["label"] in text and target["now"] in text
        assert "All 7 stages ran." in text
        assert text.rstrip().endswith("Full report: index.html")  # beside it, not a server path
        assert str(report.folder) not in text
        assert "baseline_value" not in text and "fulfil_median_h" not in text
    assert "| Target | Baseline | Now |" in md and "|" not in txt
    # short enough for a chat message: headline, standing, the benefits line, the targets,
    # their signals and why, the stages and the link
    assert len(txt.splitlines()) < 30


def test_the_run_posted_what_is_not_met_and_the_signals_to_the_webhook(report):
    # the first report of the cycle: everything worth a message is new
    assert report.ok, report.errors
    assert len(report.webhook) == 1
    text = report.webhook[0]["body"]["text"]
    lines = text.splitlines()
    assert lines[0] == "Faster, more predictable requests: report as of 2026-04-15"
    assert "- Mean satisfaction: not met (now 4.02, target 4.30)." in lines
    assert any(line.startswith("- Closed within SLA: a shift beyond") for line in lines)
    # the report from the reports folder, never a path of the machine that made it
    assert lines[-1] == f"Full report: 2025-h2/{report.folder.name}/index.html"


def test_cover_shows_headline_results_and_the_workbook(report, page):
    _open(page, report.folder / "index.html")
    assert page.locator(".csi-headline").inner_text().strip()  # written by stage 5
    assert page.locator("table.csi-targets tbody tr").count() >= 1
    badge = page.locator("table.csi-targets .csi-badge").first
    colour = badge.evaluate("el => getComputedStyle(el).backgroundColor")
    # theme.RAG: met #009E73 = rgb(0, 158, 115); not met #D55E00 = rgb(213, 94, 0)
    assert colour in ("rgb(0, 158, 115)", "rgb(213, 94, 0)", "rgb(153, 153, 153)")
    assert page.locator(".csi-downloads a[href='kpis.xlsx']").count() == 1
    assert page.locator(".csi-downloads a[href='summary.txt']").count() == 1  # to forward
    assert (report.folder / "kpis.xlsx").is_file()
