"""Report pages read like a report: tables for readers, no developer words (issue 11).

Every page of the sample cycle's report (built once per session by the
``sample_report`` fixture) is opened in headless Chromium; its tables and its
visible text are checked: no snake_case headers, no index column, no text cut
with an ellipsis, no Python reprs, module paths or parameter names. Stage 1
and 5 are also photographed at desktop width
(``test-artifacts/screenshots/tables-<page>-<width>.png``), every page on a phone
(390 px: ``phone-<page>.png``, issue 25).
"""

from __future__ import annotations

import re

import pytest

from csi_lib.report.stages import STAGES

PAGES = ["index", *(s.slug for s in STAGES)]

#: Words that belong to developers, never to a reader's page.
DEVELOPER_WORDS = ("PosixPath", "WindowsPath", "csi_lib.", "output_dir", "as_of", "cycle_dir",
                   "Traceback", "<NA>", "NaT")  # fmt: skip
SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")

#: Per table of the page: its header texts, the texts of body row headers, body cell texts.
TABLES = """() => Array.from(document.querySelectorAll('main table')).map(t => ({
    head: Array.from(t.querySelectorAll('thead th, thead td')).map(c => c.innerText.trim()),
    rowHeads: Array.from(t.querySelectorAll('tbody th')).map(c => c.innerText.trim()),
    cells: Array.from(t.querySelectorAll('tbody td')).map(c => c.innerText.trim()),
    wide: t.getBoundingClientRect().width,
    box: (t.closest('.csi-table-wrap, .jp-OutputArea-output, .csi-scroll') || t.parentElement)
        .getBoundingClientRect().width,
}))"""


def _open(page, path) -> None:
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".every(el => el.querySelector('svg.main-svg') !== null)",
        timeout=30_000,
    )


@pytest.mark.parametrize("name", PAGES)
def test_tables_and_words_are_for_readers(sample_report, page, name):
    path = sample_report.folder / f"{name}.html"
    _open(page, path)
    tables = page.evaluate(TABLES)
    for i, table in enumerate(tables):
        where = f"{path.name}, table {i + 1} {table['head'][:4]}"
        snake = [h for h in table["head"] if SNAKE.match(h)]
        assert not snake, f"{where}: column names as headers: {snake}"
        numbers = [h for h in table["rowHeads"] if h.isdigit()]  # row headers of a pandas index
        assert not numbers, f"{where}: an index column ({numbers[:3]})"
        assert "" not in table["head"][:1], f"{where}: an unnamed first column (an index?)"
        cut = [c for c in table["cells"] if c.endswith(("...", "…"))]
        assert not cut, f"{where}: text cut with an ellipsis: {cut[:2]}"
        raw = [c for c in table["cells"] if c in ("True", "False", "None", "nan", "NaN", "<NA>")]
        assert not raw, f"{where}: values not in words: {raw[:3]}"
    text = page.inner_text("main")
    found = [w for w in DEVELOPER_WORDS if w in text]
    assert not found, f"{path.name} shows developer words to readers: {found}"


@pytest.mark.parametrize("name", ["01_where_are_we_now", "05_did_we_get_there"])
@pytest.mark.parametrize("width", [1400])
def test_wide_tables_stay_in_their_box(sample_report, browser, artifacts, name, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        _open(page, sample_report.folder / f"{name}.html")
        page.screenshot(path=str(artifacts / f"tables-{name}-{width}.png"), full_page=True)
        # the page itself never scrolls sideways: a wide table scrolls inside its own box
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} at {width} px is {overflow} px wider than the window"
        for table in page.evaluate(TABLES):
            if width >= 1400:
                assert table["wide"] <= table["box"] + 1, f"{name}: {table['head'][:4]} overflows"
    finally:
        context.close()


#: Per chart, laid out for the page's width: its box, and its title's, legend's and axis
#: titles' boxes relative to it (px).
CHARTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
  const r = el.getBoundingClientRect();
  const box = e => { if (!e) { return null; } const b = e.getBoundingClientRect();
    return {left: b.left - r.left, right: b.right - r.left, top: b.top - r.top, bottom: b.bottom - r.top,
            text: e.textContent}; };
  return {width: r.width, height: r.height, title: box(el.querySelector('.gtitle')),
          legend: box(el.querySelector('.legend')),
          axes: Array.from(el.querySelectorAll('.xtitle, .ytitle')).map(box)};
})"""


#: Per chart: its words (titles, panel titles, notes, tick and bar labels, legend entries) as
#: boxes, and the pairs of them that cover each other by more than a sliver (2 px each way).
#: A Sankey's node labels are its own (plotly places them beside their nodes). ``cut``: bar
#: labels running out of the plot area (cut off at its edge).
CROWDED = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
  const words = Array.from(el.querySelectorAll(
      '.gtitle, .annotation-text, .xtick text, .ytick text, .xtitle, .ytitle, .legendtext,'
      + ' .bartext, text.textpoint'))
    .filter(t => t.textContent.trim() && !t.closest('.sankey'))
    .map(t => ({text: t.textContent.trim().slice(0, 40), b: t.getBoundingClientRect(),
                axis: t.closest('.xaxislayer-above, .yaxislayer-above')}))
    .filter(t => t.b.width > 0 && t.b.height > 0);
  const pairs = [];
  for (let i = 0; i < words.length; i++) {
    for (let j = i + 1; j < words.length; j++) {
      // the tick labels of one axis: plotly turns them when they would collide (their boxes
      // then overlap while the words do not)
      if (words[i].axis && words[i].axis === words[j].axis) { continue; }
      const a = words[i].b, b = words[j].b;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 2 && h > 2) { pairs.push([words[i].text, words[j].text]); }
    }
  }
  // a bar's label outside the plot area is cut off by it
  const r = el.getBoundingClientRect(), size = el._fullLayout._size;
  const cut = Array.from(el.querySelectorAll('.bartext')).map(t => t.getBoundingClientRect())
    .filter(b => b.width > 0 && (b.right > r.left + size.l + size.w + 1 || b.left < r.left + size.l - 1))
    .map(b => Math.round(b.right - r.left));
  return {title: (el.querySelector('.gtitle') || {}).textContent || '', pairs, cut};
})"""


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


@pytest.mark.parametrize("name", PAGES)
def test_every_page_reads_on_a_phone(sample_report, browser, artifacts, name):
    """At 390 px no table or chart runs off the screen: a table wider than its box becomes
    cards, a chart's title, legend and axis titles stay inside it and apart (issue 25)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        _open(page, sample_report.folder / f"{name}.html")
        if page.locator(".js-plotly-plot").count():
            page.wait_for_function("document.documentElement.dataset.csiPhone === 'done'",
                                   timeout=20_000)  # fmt: skip
        page.screenshot(path=str(artifacts / f"phone-{name}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name}: the page is {overflow} px wider than the phone"
        for table in page.evaluate(TABLES):
            assert table["wide"] <= table["box"] + 1, f"{name}: {table['head'][:4]} off-screen"
        stacked = page.evaluate("document.querySelectorAll('table.csi-stack').length")
        if name in ("index", "05_did_we_get_there"):
            assert stacked, f"{name}: its wide tables should read as cards"
        for i, chart in enumerate(page.evaluate(CHARTS)):
            where, width = f"{name}, chart {i + 1}", chart["width"]
            title = chart["title"]
            if title:
                assert title["top"] >= 0 and title["left"] >= 0, f"{where}: title cut {title}"
                assert title["right"] <= width + 1, f"{where}: title runs off {title}"
                if chart["legend"]:
                    assert not _overlap(title, chart["legend"]), f"{where}: legend over the title"
            for axis in chart["axes"]:
                assert axis["left"] >= -1 and axis["right"] <= width + 1, f"{where}: {axis}"
        for chart in page.evaluate(CROWDED):  # no words on top of other words
            assert not chart["pairs"], f"{name}, '{chart['title']}': {chart['pairs'][:3]}"
            assert not chart["cut"], f"{name}, '{chart['title']}': bar labels cut {chart['cut']}"
    finally:
        context.close()
