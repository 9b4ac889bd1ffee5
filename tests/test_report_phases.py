"""End to end: `csi report` at every phase of a cycle exits 0 and says where the cycle stands.

The weekly cron job of a cycle runs from the first day of the baseline to after
the review. Here the sample cycle (baseline 2025 H1, action 2025 H2, review
2026 Q1) is reported at one date per phase, and a cycle made by `csi cycle new`
early in its baseline. To keep the time modest the sample runs the stages whose
content depends on the phase (1, 4, 5, 6) and the cover; the new cycle runs
every stage. A genuinely broken stage still exits 1, with a paragraph instead
of a traceback on its page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "data" / "sample_requests.csv.gz"
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"

pytestmark = pytest.mark.slow


def csi(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "csi_lib", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=900,
    )
    # wall time for the record (pytest -s shows it); never asserted
    print(f"csi {' '.join(args)}: {time.perf_counter() - started:.1f} s")
    return done


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A private copy of the sample cycle with its data beside it, as in data/."""
    ws = tmp_path_factory.mktemp("ws")
    shutil.copy(SAMPLE_DATA, ws / SAMPLE_DATA.name)
    shutil.copytree(SAMPLE_CYCLE, ws / "sample-cycle")
    return ws


def _pages(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html"))}


def _visible(html: str) -> str:
    """The text a reader sees: no scripts, styles or folded "For analysts" notes."""
    html = re.sub(r"(?is)<(script|style|details)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def _codes(page: str) -> list[str]:
    """The library's own names a page must not show: target kinds, KPI keys, period names and (except
    on stage 1, whose data-quality table names the export's own columns) column names.
    Names that are also English words ("within", "received") count only as a whole cell
    or before " = " (a scope written as code)."""
    from csi_lib.cycle.config import PERIOD_NAMES
    from csi_lib.kpis import kpi_catalogue
    from csi_lib.schema import CANONICAL_COLUMNS
    from csi_lib.targets.model import KINDS

    codes = [*KINDS, *kpi_catalogue()["key"], *PERIOD_NAMES]
    if not page.startswith("01_"):
        codes += [c.name for c in CANONICAL_COLUMNS]
    return codes


def _shown_codes(name: str, html: str) -> list[str]:
    text = _visible(html)
    return [
        c
        for c in _codes(name)
        if ("_" in c and re.search(rf"\b{c}\b", text))
        or re.search(rf"<td[^>]*>\s*{c}\s*</td>", html)
        or re.search(rf"\b{c} = ", text)  # a scope written as code: "category = Laptop"
    ]


def _assert_clean(result: subprocess.CompletedProcess, folder: Path) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    pages = _pages(folder)
    assert "index.html" in pages
    for name, html in pages.items():
        assert "Traceback" not in html, name
        shown = _shown_codes(name, html)
        assert not shown, f"{name} shows {shown}"
        assert 'class="csi-error-paragraph"' not in html, name
    index = pages["index.html"]
    assert 'class="csi-card csi-card-failed"' not in index and "· failed" not in index
    return pages


#: as_of -> (cover label, words on stage 5's page, words on stage 6's page, target statuses)
PHASES = {
    "2025-06-20": (
        "Baseline period (day 171 of 181)",
        ["Nothing to judge yet", "2025-07-01"],
        ["Provisional preview of the next cycle", "Nothing is written"],
        {"too early to say"},
    ),
    "2025-10-15": (
        "Action period (day 107 of 184)",
        ["Provisional verdict, on the action period so far", "due on 2026-03-31"],
        ["Provisional preview of the next cycle", "Nothing is written"],
        {"on track", "off track", "too early to say"},
    ),
    "2026-02-15": (
        "Review period (day 46 of 90)",
        ["Provisional verdict, on the review period so far", "due on 2026-03-31"],
        ["Provisional preview of the next cycle", "Nothing is written"],
        {"on track", "off track"},
    ),
    "2026-04-15": (
        "Closed: the review period is over",
        ["the verdicts are final"],
        ["Where this cycle ended", "was written"],
        {"met", "not met"},
    ),
}


def _assert_no_contradiction(index: str, summary: dict, text: str) -> None:
    """The cover, summary.json and summary.txt say the same: each target's standing once,
    counted as the headline counts it; a change coloured only where it is real."""
    states = [t["status"] for t in summary["targets"]]
    headline = summary["headline"]
    assert headline in index.replace("&#39;", "'")
    for state in set(states):
        n = states.count(state)
        badge = f"{state.capitalize()}</span>"
        assert index.count(badge) == n, (state, index.count(badge), n)
        if not headline.startswith("No target can be judged yet"):
            assert f"{n} {state}" in headline or f"{n} of {len(states)} targets {state}" in headline
        if state in ("off track", "not met", "not measured", "too early to say"):
            assert text.count(f"{state.capitalize()}: ") == n  # why, in summary.txt
    better = sum(t["change_class"] == "better" for t in summary["targets"])
    worse = sum(t["change_class"] == "worse" for t in summary["targets"])
    body = index.split("</style>")[-1]
    assert body.count('class="csi-better"') == better and body.count('class="csi-worse"') == worse
    for t in summary["targets"]:
        if t["change_class"] == "":
            assert "better" not in t["change"].replace("likely better", "") and "worse" not in (
                t["change"].replace("likely worse", "")
            )


@pytest.mark.parametrize("as_of", list(PHASES))
def test_sample_cycle_report_at_each_phase(workspace, tmp_path, as_of):
    label, stage5, stage6, statuses = PHASES[as_of]
    out = tmp_path / "reports"
    stages = [a for s in ("1", "4", "5", "6") for a in ("--stage", s)]
    result = csi(
        "report", str(workspace / "sample-cycle"), "--as-of", as_of, *stages, "--out", str(out)
    )
    folder = out / "2025-h2" / as_of
    pages = _assert_clean(result, folder)
    assert f"Where the cycle stands: {label}." in pages["index.html"]
    for words in stage5:
        assert words in pages["05_did_we_get_there.html"], words
    assert "The action period is over" not in pages["05_did_we_get_there.html"]
    for words in stage6:
        assert words in pages["06_keep_momentum.html"], words
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert {t["status"] for t in summary["targets"]} <= statuses
    _assert_no_contradiction(pages["index.html"], summary, (folder / "summary.txt").read_text())
    assert (folder / "next-cycle").exists() is (as_of == "2026-04-15")  # a preview writes nothing
    if as_of == "2025-10-15":
        assert "not started" not in pages["04_take_action.html"]
        assert "On track</span>" in pages["index.html"]
        assert "3 full months of the action period" in pages["index.html"]
    if as_of == "2025-06-20":
        assert "The action period has not started" in pages["04_take_action.html"]


def test_new_cycle_report_early_in_its_baseline(tmp_path):
    shutil.copy(SAMPLE_DATA, tmp_path / SAMPLE_DATA.name)
    cycle = tmp_path / "c1"
    made = csi("cycle", "new", str(cycle), "--data", str(tmp_path / SAMPLE_DATA.name),
               "--preset", "generic", "--baseline-from", "2025-01-01", "--baseline-to", "2025-06-30")  # fmt: skip
    assert made.returncode == 0, made.stderr
    out = tmp_path / "reports"
    result = csi("report", str(cycle), "--as-of", "2025-01-10", "--out", str(out))
    pages = _assert_clean(result, out / "c1" / "2025-01-10")
    assert "Where the cycle stands: Baseline period (day 10 of 181)." in pages["index.html"]
    assert "The baseline period is not over" in pages["01_where_are_we_now.html"]
    assert not (cycle / "baseline").exists()  # no snapshot of a baseline that is not over
    # on the baseline's first day too
    first = csi("report", str(cycle), "--as-of", "2025-01-01", "--stage", "1", "--out", str(out))
    _assert_clean(first, out / "c1" / "2025-01-01")


def test_a_broken_stage_exits_1_with_a_paragraph_and_the_traceback_in_its_log(
    tmp_path, broken_stage
):
    nbs = tmp_path / "nbs"
    broken_stage(nbs, "1 / 0")
    out = tmp_path / "out"
    result = csi("report", "--data", str(SAMPLE_DATA), "--as-of", "2026-01-05", "--out", str(out),
                 env={"CSI_NOTEBOOKS": str(nbs)})  # fmt: skip
    assert result.returncode == 1
    assert "ZeroDivisionError" in result.stderr and "Traceback" not in result.stderr
    folder = out / "sample_requests" / "2026-01-05"
    page = (folder / "01_where_are_we_now.html").read_text(encoding="utf-8")
    assert "Traceback" not in page
    assert "What happened:</strong> ZeroDivisionError: division by zero" in page
    # the page names the log; the log is kept beside the report, not published in it
    assert "<code>01_where_are_we_now.kernel.log</code>" in page and str(out) not in page
    assert not (folder / "notebooks").exists() and not list(folder.rglob("*.log"))
    log_path = out / "sample_requests" / ".logs" / "2026-01-05" / "01_where_are_we_now.kernel.log"
    assert f"(log: {log_path})" in result.stderr  # the operator is told where
    log = log_path.read_text(encoding="utf-8")
    assert "Traceback" in log and "1 / 0" in log
