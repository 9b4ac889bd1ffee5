"""The summary to send (summary.md / summary.txt) and the optional webhook (csi_lib.report.digest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csi_lib.errors import CsiError
from csi_lib.report import digest
from csi_lib.testing import local_webhook

#: summary.json as stage 5 writes it (csi_lib.review.summary), two targets.
SUMMARY = {
    "headline": "1 of 2 targets met; 1 shows a real improvement, 1 no evidence of change.",
    "targets": [
        {
            "id": "T1",
            "label": "Median time to fulfil (Laptop)",
            "kpi": "fulfil_median_h",
            "baseline_value": 41.849,
            "now_value": 26.6,
            "baseline": "41.8 h",
            "now": "26.6 h",
            "target": "28.0 h",
            "met": True,
            "conclusion": "Median time to fulfil (Laptop) fell from 41.8 h to 26.6 h (-36%); " * 3,
        },
        {
            "id": "T4",
            "label": "Mean satisfaction | survey",
            "kpi": "csat_mean",
            "baseline_value": 3.99,
            "now_value": 4.02,
            "baseline": "3.99",
            "now": "4.02",
            "target": "4.30",
            "met": False,
            "conclusion": "Mean satisfaction rose from 3.99 to 4.02 (+1%).",
        },
    ],
}
STAGES = [
    {"number": 4, "title": "Take action", "ok": True},
    {"number": 5, "title": "Did we get there?", "ok": True},
]
COLUMN_NAMES = re.compile(r"\b[a-z]+_[a-z_]+\b")  # baseline_value, now_value, gap_closed ...


def _render(summary, markdown, **kw):
    return digest.render_summary(
        summary,
        title="Laptop fulfilment 2025 H2",
        as_of="2026-04-15",
        link=kw.pop("link", "/srv/reports/2025-h2/2026-04-15/index.html"),
        stages=kw.pop("stages", STAGES),
        markdown=markdown,
    )


def test_summary_markdown_has_headline_labelled_table_and_link():
    md = _render(SUMMARY, markdown=True)
    lines = md.splitlines()
    assert lines[0] == "**Laptop fulfilment 2025 H2**: report as of 2026-04-15"
    assert SUMMARY["headline"] in md
    assert "| Target | Baseline | Now | Target value | Standing |" in lines
    assert "| Median time to fulfil (Laptop) | 41.8 h | 26.6 h | 28.0 h | met |" in lines
    # a "|" in a label is escaped, not a new column
    assert "| Mean satisfaction \\| survey | 3.99 | 4.02 | 4.30 | not met |" in lines
    assert "All 2 stages ran." in lines
    assert lines[-1] == "Full report: /srv/reports/2025-h2/2026-04-15/index.html"
    # short: no conclusions, no column names, no keys
    assert "fell from" not in md and not COLUMN_NAMES.findall(md.replace("2025-h2", ""))
    assert "fulfil_median_h" not in md and "T1" not in md
    assert len(md) < 1000


def test_summary_text_is_the_same_in_aligned_columns():
    txt = _render(SUMMARY, markdown=False)
    lines = txt.splitlines()
    assert lines[0] == "Laptop fulfilment 2025 H2: report as of 2026-04-15"
    assert "**" not in txt and "|" not in txt.replace("Mean satisfaction | survey", "")
    header = next(line for line in lines if line.startswith("Target "))
    row = next(line for line in lines if line.startswith("Median time"))
    # columns line up: each value starts under its header
    for head, value in (("Baseline", "41.8 h"), ("Now", "26.6 h"), ("Standing", "met")):
        assert header.index(head) == row.index(value, len("Median time to fulfil (Laptop)"))
    assert lines[-1].endswith("/srv/reports/2025-h2/2026-04-15/index.html")


def test_summary_uses_the_phase_keys_when_summary_json_has_them():
    # helper "phases" adds standing, status (outlook words) and gap closed during the action period
    during_action = {
        "headline": "Provisional: 1 of 2 targets met so far.",
        "standing": {"phase": "action", "text": "The action period runs to 2026-01-31."},
        "targets": [
            {**SUMMARY["targets"][0], "status": "on track", "gap_closed": "75 %"},
            {**SUMMARY["targets"][1], "status": "off track", "gap_closed": "—"},
            {"id": "T9", "label": "Declined share"},  # everything else missing
        ],
    }
    md = _render(during_action, markdown=True)
    assert "The action period runs to 2026-01-31." in md
    assert "| Target | Baseline | Now | Target value | Gap closed | Standing |" in md
    assert "| 41.8 h | 26.6 h | 28.0 h | 75 % | On track |" in md
    assert "| Off track |" in md
    assert "| Declined share | — | — | — | — | not yet known |" in md


def test_summary_without_summary_json_says_why_and_names_failed_stages():
    stages = [{**STAGES[0], "ok": False}, STAGES[1]]
    txt = _render(None, markdown=False, stages=stages, link="https://reports.example/x/index.html")
    assert "No headline results" in txt and "Did we get there?" in txt
    assert "Stage 4, Take action, failed" in txt
    assert "Target value" not in txt
    md = _render(None, markdown=True, link="https://reports.example/x/index.html")
    assert md.rstrip().endswith("Full report: <https://reports.example/x/index.html>")


def test_write_summaries_writes_both_files(tmp_path):
    paths = digest.write_summaries(
        tmp_path, SUMMARY, title="t", as_of="2026-04-15", link="l", stages=STAGES
    )
    assert [p.name for p in paths] == ["summary.md", "summary.txt"]
    assert "| Target |" in paths[0].read_text() and "| Target |" not in paths[1].read_text()


def test_report_link_uses_the_served_address_when_given(tmp_path, monkeypatch):
    folder = tmp_path / "2025-h2" / "2026-04-15_2"
    monkeypatch.delenv(digest.REPORT_URL_ENV, raising=False)
    # no served address: the cover page beside the summary, never a path of this machine
    assert digest.report_link(folder, "2025-h2") == "index.html"
    assert digest.report_link(folder, "2025-h2", beside=False) == "2025-h2/2026-04-15_2/index.html"
    assert str(tmp_path) not in digest.report_link(folder, "2025-h2", beside=False)
    monkeypatch.setenv(digest.REPORT_URL_ENV, "https://intranet.example/csi/")
    assert (
        digest.report_link(folder, "2025-h2")
        == "https://intranet.example/csi/2025-h2/2026-04-15_2/index.html"
    )


def test_alerts_name_what_went_off_track_or_signalled_since_the_last_report():
    before = {
        "targets": [
            {"id": "T1", "label": "Median time", "status": "on track"},
            {"id": "T2", "label": "Within SLA", "status": "off track", "signal": None},
        ]
    }
    now = {
        "targets": [
            {
                "id": "T1",
                "label": "Median time",
                "status": "off track",
                "now": "31.0 h",
                "target": "28.0 h",
            },
            {
                "id": "T2",
                "label": "Within SLA",
                "status": "off track",
                "signal": {"text": "a point beyond the limits in March 2026 (concern)"},
            },
        ]
    }
    assert digest.alerts(now, before) == [
        "Median time: off track (now 31.0 h, target 28.0 h).",
        "Within SLA: a point beyond the limits in March 2026 (concern).",  # T2 was off track already
    ]
    assert digest.alerts(now, now) == []
    assert digest.alerts(None) == [] and digest.alerts({"targets": None}) == []
    # an older summary.json without status: met False counts as not met
    assert digest.alerts(SUMMARY) == [
        "Mean satisfaction | survey: not met (now 4.02, target 4.30)."
    ]


@pytest.fixture
def hook():
    """A webhook receiver on 127.0.0.1: its URL and the list of what it received."""
    with local_webhook() as (url, received):
        yield url, received


def test_webhook_posts_slack_style_json_to_a_local_server(hook, monkeypatch):
    url, received = hook
    monkeypatch.setenv(digest.WEBHOOK_ENV, url)
    said = []
    problems = digest.notify(
        SUMMARY, None, title="Laptops", as_of="2026-04-15", link="/r/index.html", say=said.append
    )
    assert problems == []
    assert len(received) == 1
    sent = received[0]
    assert sent["path"] == "/hooks/T000/B000/s3cret"
    assert sent["type"].startswith("application/json")
    text = sent["body"]["text"]
    assert text.splitlines() == [
        "Laptops: report as of 2026-04-15",
        "- Mean satisfaction | survey: not met (now 4.02, target 4.30).",
        "Full report: /r/index.html",
    ]
    port = url.split(":")[2].split("/")[0]  # the host and port, not the secret path
    assert said == [f"webhook: 1 alert(s) sent to http://127.0.0.1:{port}"]
    # the same state again: nothing new, nothing sent
    assert digest.notify(SUMMARY, SUMMARY, title="t", as_of="d", link="l") == []
    assert len(received) == 1


def test_webhook_failure_is_reported_without_the_secret(monkeypatch):
    with local_webhook(status=403) as (url, _received):
        monkeypatch.setenv(digest.WEBHOOK_ENV, url)
        problems = digest.notify(SUMMARY, None, title="t", as_of="d", link="l")
    assert len(problems) == 1 and "HTTP 403" in problems[0]
    assert "s3cret" not in problems[0] and "127.0.0.1" in problems[0]
    with pytest.raises(CsiError, match="not an http"):
        digest.post_webhook("file:///etc/passwd", "x")


def test_no_webhook_variable_no_post(monkeypatch):
    monkeypatch.delenv(digest.WEBHOOK_ENV, raising=False)
    assert digest.notify(SUMMARY, None, title="t", as_of="d", link="l") == []


def test_summary_files_are_listed_in_the_scheduling_docs():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "scheduling.md").read_text()
    assert "summary.txt" in doc and "sendmail" in doc and digest.WEBHOOK_ENV in doc
