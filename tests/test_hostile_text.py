"""Text from a file or a user is shown as written in every output, never run (issue 23).

The corpus cycle ``tests/bad_input/config/cycle_hostile_text/`` (made by
``make_config_corpus.py``) has, in every text of every file (cycle.yaml,
vision.yaml, targets.yaml, plan.yaml, decisions.md) and in every value of the
data columns a report shows (category, group, channel, priority), a ``<script>``,
an ``<img onerror>``, a ``javascript:`` link, a Markdown link to an http address
and Markdown emphasis (:func:`make_config_corpus.payload`). The real ``csi report``
and ``csi slides`` run on it; every page, ``summary.md``, ``summary.txt``,
``summary.json``, ``kpis.xlsx`` and the next cycle's YAML files are checked.

Only the vision's own Markdown texts (business direction, vision, mission) may
keep links, and only to http(s) or mailto addresses (docs/bad-input.md).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_input" / "config" / "cycle_hostile_text"
sys.path.insert(0, str(ROOT / "tests" / "bad_input"))
from make_config_corpus import payload  # noqa: E402

#: Fields whose text is Markdown by design (a link to an http address stays a link).
RICH = ("business_direction", "vision", "mission")

#: Live markup in a page: a tag the payload opened, or one inside a figure's JSON
#: (plotly escapes "<" in its JSON as \u003c; plotly.js draws a few tags as markup).
LIVE = [
    (re.compile(r"<script>alert\(", re.I), "a <script> element"),
    (re.compile(r"<img src=x onerror", re.I), "an <img onerror> element"),
    (re.compile(r"\\u003cscript\\u003ealert", re.I), "<script> in a figure's text"),
    (re.compile(r"\\u003cimg src=x", re.I), "<img> in a figure's text"),
]


def html_problems(text: str, name: str) -> list[str]:
    """What in ``text`` (HTML) is live markup from a payload."""
    from bs4 import BeautifulSoup

    found = [
        f"{name}: {what}: ...{text[max(0, m.start() - 80) : m.end() + 20]!r}"
        for rx, what in LIVE
        for m in rx.finditer(text)
    ]
    soup = BeautifulSoup(text, "html.parser")
    for element in soup.find_all(True):
        for attr, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if attr.lower().startswith("on") and "alert(" in value:
                found.append(f"{name}: <{element.name} {attr}={value[:60]!r}>")
            if attr in ("href", "src", "action", "formaction", "xlink:href"):
                if re.match(r"\s*(javascript|data|vbscript):", value, re.I):
                    found.append(f"{name}: <{element.name} {attr}={value[:60]!r}>")
                where = re.search(r"evil\.invalid/([\w.]+)", value)
                if where and not value.startswith("#") and where[1] not in RICH:
                    found.append(f"{name}: a link from plain text: {value[:80]!r}")
    return found


def markdown_problems(text: str, name: str) -> list[str]:
    """What in ``text`` (Markdown) renders as live markup, a link or emphasis from a payload."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rendered = markdown2html_mistune(text)
    found = html_problems(rendered, name)
    found += [
        f"{name}: emphasis from a payload: {m[0]}" for m in re.finditer(r"<em>[^<]*</em>", rendered)
    ]
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """The hostile corpus cycle reported and exported as slides by the real command."""
    base = tmp_path_factory.mktemp("hostile")
    cycle = base / "cycle"
    shutil.copytree(CORPUS, cycle)
    run = [sys.executable, "-m", "csi_lib"]
    report = subprocess.run(
        [*run, "report", str(cycle), "--as-of", "2026-04-15", "--out", str(base / "reports")],
        capture_output=True, text=True, timeout=900, cwd=base,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-3000:]
    slides = subprocess.run(
        [*run, "slides", str(cycle), "--as-of", "2026-04-15", "--out", str(base / "slides")],
        capture_output=True, text=True, timeout=900, cwd=base,
    )  # fmt: skip
    assert slides.returncode == 0, slides.stderr[-3000:]
    assert "Traceback" not in report.stderr + slides.stderr
    return {
        "cycle": cycle,
        "report": next((base / "reports").glob("*/2026-04-15")),
        "slides": next((base / "slides").glob("*/2026-04-15")),
    }


@pytest.mark.slow
def test_no_page_or_slide_runs_a_payload(hostile):
    pages = sorted(hostile["report"].glob("*.html")) + sorted(hostile["slides"].glob("*.html"))
    assert len(pages) == 8 + 7, [p.name for p in pages]
    problems = [p for page in pages for p in html_problems(page.read_text(), page.name)]
    assert problems == [], "\n".join(problems[:20])


@pytest.mark.slow
def test_every_field_is_shown_as_text(hostile):
    """The payloads are not dropped: each kind of field shows its text, escaped."""
    from bs4 import BeautifulSoup

    text = ""
    for page in sorted(hostile["report"].glob("*.html")):
        text += BeautifulSoup(page.read_text(), "html.parser").get_text(" ") + "\n"
    for tag in ("title", "vision", "objectives0.statement", "targets0.note", "targets1.owner",
                "initiatives0.title", "register1.idea", "category.Laptop"):  # fmt: skip
        assert f"<script>alert('{tag}')</script>" in text, tag


@pytest.mark.slow
def test_summaries_show_the_text_as_written(hostile):
    folder = hostile["report"]
    problems = markdown_problems((folder / "summary.md").read_text(), "summary.md")
    assert problems == [], "\n".join(problems)
    plain = (folder / "summary.txt").read_text()
    assert payload("title").replace("\n", " ") in plain and "&lt;" not in plain
    assert "\\" not in plain  # no Markdown escapes in plain text
    data = json.loads((folder / "summary.json").read_text())
    assert payload("category.Laptop") in data["targets"][0]["label"]


@pytest.mark.slow
def test_excel_holds_text_never_formulas(hostile):
    from openpyxl import load_workbook

    book = load_workbook(hostile["report"] / "kpis.xlsx")
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert any(payload("category.Laptop") in t for t in texts)
    # the groups' control characters were removed on load (before: the Excel step crashed)
    assert not [t for t in texts if re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", t)]
    assert any(" group." in t for t in texts)  # the groups are there, cleaned


@pytest.mark.slow
def test_next_cycle_files_keep_the_text(hostile):
    """The next cycle's YAML (written by stage 6) reads back the same text: a payload
    cannot add a key or end a comment."""
    folder = hostile["report"] / "next-cycle"
    cycle = yaml.safe_load((folder / "cycle.yaml").read_text())
    assert cycle["title"] == payload("title")
    assert set(cycle) <= {"id", "title", "data", "baseline", "action", "review", "review_date",
                          "timezone", "freq", "min_group_size"}  # fmt: skip
    text = (folder / "plan.yaml").read_text()  # I1's title holds a line break
    assert not re.search(r"^\s*initiatives: injected", text, re.M), text[:600]
    plan = yaml.safe_load(text)
    assert set(plan) <= {"initiatives", "register"} and isinstance(plan["initiatives"], list)


def test_markdown_text_and_safe_markdown_compose():
    """Plain text escaped for Markdown stays plain through the notebook's safe renderer."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from csi_lib.safe import markdown_text, safe_markdown

    for tag in ("a", "b.c"):
        text = payload(tag)
        once = markdown2html_mistune(markdown_text(text))
        twice = markdown2html_mistune(safe_markdown(markdown_text(text)))
        assert once == twice
        assert html_problems(once, tag) == [] and "<em>" not in once
        assert "&lt;script&gt;alert('" in once


def test_figures_keep_only_their_own_markup():
    import plotly.graph_objects as go

    from csi_lib.safe import safe_figure

    fig = go.Figure(
        go.Bar(y=[payload("category.x")], x=[1], hovertemplate="<b>%{y}</b><extra></extra>")
    )
    fig.update_layout(title=f"<b>T1</b> {payload('title')}")
    safe = safe_figure(fig.to_plotly_json())
    text = json.dumps(safe)
    assert "<script" not in text and "<img" not in text and "<a " not in text
    assert safe["data"][0]["hovertemplate"] == "<b>%{y}</b><extra></extra>"
    assert safe["layout"]["title"]["text"].startswith("<b>T1</b> title &lt;script>")


def test_smart_styler_escapes_a_scope():
    """The SMART table's Styler (stage 2) writes a scope or a reason holding HTML as text."""
    import pandas as pd

    from csi_lib.charts.targets import smart_styler

    table = pd.DataFrame(
        {"target": ["T1"], "kpi": ["fulfil_median_h"], "letter": ["S"], "verdict": ["pass"],
         "reason": [f"KPI and scope named: category = {payload('scope')}"]}
    )  # fmt: skip
    html = smart_styler(table).to_html()
    assert html_problems(html, "styler") == [] and "&lt;script&gt;alert(" in html
    assert "background-color" in html  # the verdict is still coloured
