"""End to end: `csi report` as a user (or cron) runs it, with its exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_requests.csv.gz"

pytestmark = pytest.mark.slow

#: What a published report folder may hold (top level): pages, their assets, the outputs.
PUBLISHED = {
    "index.html",
    *(f"{n:02d}_{slug}.html" for n, slug in enumerate(
        ["vision", "where_are_we_now", "where_do_we_want_to_be", "how_do_we_get_there",
         "take_action", "did_we_get_there", "keep_momentum"])),
    "assets", "kpis.xlsx", "summary.json", "summary.md", "summary.txt", "report.pdf",
    "quarantine", "baseline", "next-cycle",
}  # fmt: skip


def csi(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "csi_lib", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_where_are_we_now_report_is_self_contained_and_never_overwritten(tmp_path):
    args = (
        "report",
        "--data",
        str(SAMPLE),
        "--from",
        "2025-01-01",
        "--to",
        "2025-06-30",
        "--as-of",
        "2026-04-15",
        "--out",
        str(tmp_path),
    )
    first = csi(*args)
    assert first.returncode == 0, first.stderr
    index = Path(first.stdout.strip().splitlines()[-1])
    assert index == tmp_path / "sample_requests" / "2026-04-15" / "index.html"
    page = (index.parent / "01_where_are_we_now.html").read_text()
    assert (
        page.count("Plotly.newPlot") >= 5
    )  # overview, weekly series, two breakdowns, distribution
    assert not re.findall(
        r'<(?:script|link|img)[^>]+(?:src|href)="https?://', page
    )  # nothing fetched
    assert "Traceback" not in page
    assert "Requests received" in page  # the scorecard
    assert "2025-01-01 to 2025-06-30" in page  # period in text and provenance
    assert "sha256:" in page  # provenance footer
    assert (index.parent / "assets" / "plotly.min.js").is_file()  # charts offline, one copy
    # a summary to send, even without stage 5: it says why there are no headline results
    summary_txt = (index.parent / "summary.txt").read_text()
    assert "No headline results" in summary_txt and "The stage ran." in summary_txt
    # ... as it is: stage 5 is not part of a report on data alone (it did not 'fail to
    # run'), and the cover names no command to a reader
    assert "which is not part of it" in summary_txt and "did not run" not in summary_txt
    cover = index.read_text()
    assert "it shows where the practice is now" in cover and "CYCLE_DIR" not in cover
    # the link is relative to the report folder (useful in an e-mail), not this machine's path
    assert summary_txt.rstrip().endswith("Full report: index.html")
    assert str(tmp_path) not in summary_txt + (index.parent / "summary.md").read_text()
    # the published folder holds the report and nothing of the run itself (kernel logs,
    # executed notebooks): those are kept beside it, in .logs/<folder>/
    published = {p.relative_to(index.parent).as_posix() for p in index.parent.rglob("*")}
    assert {p.split("/")[0] for p in published} <= PUBLISHED, published
    assert not [p for p in published if p.endswith((".log", ".ipynb")) or "/." in "/" + p]
    logs = tmp_path / "sample_requests" / ".logs" / "2026-04-15"
    assert (logs / "01_where_are_we_now.kernel.log").is_file()
    assert (logs / "01_where_are_we_now.ipynb").is_file()
    assert (index.parent / "summary.md").read_text().startswith("**Where are we now?")
    snapshot = index.parent / "baseline" / "manifest.json"
    assert snapshot.exists()
    assert (tmp_path / "sample_requests" / "latest").resolve() == index.parent.resolve()
    before = page
    second = csi(*args)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "sample_requests" / "2026-04-15_2" / "index.html").exists()
    assert (
        index.parent / "01_where_are_we_now.html"
    ).read_text() == before  # first report untouched
    assert (tmp_path / "sample_requests" / "latest").resolve().name == "2026-04-15_2"
    second_txt = (tmp_path / "sample_requests" / "2026-04-15_2" / "summary.txt").read_text()
    assert second_txt.rstrip().endswith("Full report: index.html")  # its own folder's cover
    assert (tmp_path / "sample_requests" / ".logs" / "2026-04-15_2").is_dir()  # its own run files
    assert "Where are we now?" in second.stderr  # progress lines


def test_bad_input_exits_2_with_a_clear_message(tmp_path):
    bad = tmp_path / "export.csv"
    bad.write_text("id,when\n1,2025-01-01\n")
    result = csi("report", "--data", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "export.csv" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("index.html"))


def test_a_failing_stage_exits_1_names_the_error_and_keeps_the_page(tmp_path, broken_stage):
    broken_stage(tmp_path / "nbs", "raise ValueError('the stage broke')")
    result = csi(
        "report",
        "--data",
        str(SAMPLE),
        "--out",
        str(tmp_path / "out"),
        "--as-of",
        "2026-01-05",
        env={"CSI_NOTEBOOKS": str(tmp_path / "nbs")},
    )
    assert result.returncode == 1
    assert "Where are we now?" in result.stderr and "ValueError: the stage broke" in result.stderr
    folder = tmp_path / "out" / "sample_requests" / "2026-01-05"
    assert (folder / "01_where_are_we_now.html").exists()
    assert "failed" in (folder / "index.html").read_text()


def test_a_second_run_on_the_same_cycle_is_refused_while_the_first_holds_the_lock(tmp_path):
    (tmp_path / "out" / "sample_requests").mkdir(parents=True)
    with FileLock(str(tmp_path / "out" / "sample_requests" / ".lock")):
        result = csi("report", "--data", str(SAMPLE), "--out", str(tmp_path / "out"))
    assert result.returncode == 3
    assert "another report run" in result.stderr


def test_a_failed_pdf_keeps_the_html_report(tmp_path, monkeypatch):
    import csi_lib.report.pdf as pdf_module
    from csi_lib.report import build_report

    if not Path(pdf_module.CHROMIUM).exists():
        pytest.skip("Chromium is missing (run scripts/install-browser.sh)")

    def broken(*_args, **_kwargs):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(pdf_module, "print_pdf", broken)
    result = build_report(
        data=str(SAMPLE), stages=["1"], as_of="2026-04-15", out=tmp_path, pdf=True
    )
    assert not result.ok
    assert result.errors == ["the PDF could not be printed: printer on fire"]
    assert result.index.exists() and (result.folder / "01_where_are_we_now.html").exists()
    assert "report.pdf" not in result.index.read_text()  # no link to a file that is not there
