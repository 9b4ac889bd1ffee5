"""What analysts see when a notebook shows a load, a baseline snapshot or a cycle's review.

JupyterLab draws an object by its ``_repr_html_`` (IPython's display formatter,
called here as JupyterLab calls it); a plain ``repr`` is one line. Neither is a
dump: no ``object at 0x``, no manifest, no 40,000-row frame; tables have
headers in words and numbers rounded by unit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from IPython.core.formatters import DisplayFormatter

import csi_lib as csi
from csi_lib.baseline import load_snapshot
from csi_lib.now import snapshot_text
from csi_lib.widgets.explorer import BreakdownExplorer

SAMPLE_CYCLE = Path(__file__).resolve().parents[1] / "data" / "sample-cycle"
#: A float printed with more decimals than any reader table uses (88.178209, 41.83218).
RAW_FLOAT = re.compile(r"\d\.\d{4,}")
#: KPI keys and column names readers should never see.
KEYS = ("fulfil_median_h", "pct_within_sla", "csat_mean", "opened_at", "rows_kept")


@pytest.fixture(scope="module")
def sample_cycle() -> Path:
    return SAMPLE_CYCLE


@pytest.fixture(scope="module")
def sample_frame():
    return csi.load(csi.SAMPLE_DATA).data


def _shown(obj) -> tuple[str, str]:
    """(text/html, text/plain) as JupyterLab gets them."""
    bundle, _ = DisplayFormatter().format(obj)
    return bundle.get("text/html", ""), bundle["text/plain"]


def _readable(html: str) -> None:
    assert "object at 0x" not in html and "manifest" not in html
    assert not RAW_FLOAT.search(html), RAW_FLOAT.search(html).group(0)
    for key in KEYS:
        assert key not in html, key
    assert "True" not in html and "False" not in html


def test_a_load_shows_what_became_of_its_rows(tmp_path):
    csv = tmp_path / "export.csv"
    csv.write_text(
        "request_id,opened_at,closed_at,outcome,csat\n"
        "R1,2025-03-01 09:00,2025-03-02 09:00,fulfilled,5\n"
        "R2,2025-03-03 10:00,2025-03-01 10:00,fulfilled,4\n"
        "R3,2025-03-04 11:00,2025-03-05 11:00,fulfilled,9\n"
        "R4,2025-03-05 11:00,2025-03-06 11:00,fulfilled,<b>x</b>\n"
    )
    res = csi.load(csv)
    html, text = _shown(res)
    _readable(html)
    assert "1 request from <code>export.csv</code>" in html  # the file by its name
    assert "opened 2025-03-01 to 2025-03-01" in html
    assert html.count("<tr>") <= 8  # a short table, not the frame
    assert '<td>Rows set aside (quarantine)</td><td class="csi-num">3</td>' in html
    assert "closed before opened (1), csat out of range 1..5 (1) and csat not a number" in html
    assert "<b>" not in html
    assert text.count("\n") == 0 and text.startswith("<LoadResult: 1 request kept of 4 rows")
    assert "R1" not in text and "request_id" not in text  # no frame printed


def test_a_snapshot_shows_its_period_and_kpis_not_its_manifest(sample_cycle):
    snap = load_snapshot(sample_cycle / "baseline")
    html, text = _shown(snap)
    _readable(html)
    assert "Baseline 2025-01-01 to 2025-06-30, 40,000 requests" in html
    assert "taken 2026-11-25 00:41 UTC" in html  # not 2026-11-25T00:41:27+00:00
    assert "<td>Median time to fulfil</td>" in html and "27.6 h" in html
    assert html.count("<tr>") == 1 + len(snap.kpis)  # header and one row per KPI
    assert text == "<Snapshot: baseline 2025-01-01 to 2025-06-30, 40,000 requests, 18 KPIs>"
    # stage 1's sentence about it gives the time the same way
    assert "taken 2026-11-25 00:41 UTC with" in snapshot_text(snap)


def test_a_review_shows_the_headline_and_a_row_per_target(sample_cycle):
    review = csi.review(csi.open_cycle(sample_cycle, as_of="2026-04-15"))
    html, text = _shown(review)
    _readable(html)
    assert "4 of 5 targets met, 1 not met" in html
    assert "<td>T1</td><td>Median time to fulfil (Laptop)</td>" in html
    assert "41.8 h" in html and "26.6 h" in html and "real improvement" in html
    assert html.count("<tr>") == 6  # header and five targets: the sentences are in the report
    assert "verdicts are final" in html
    assert text == "<CycleReview of 2025-h2 as of 2026-04-15: 5 targets>"


def test_a_review_before_the_action_period_says_when_there_is_something_to_judge(sample_cycle):
    review = csi.review(csi.open_cycle(sample_cycle, as_of="2025-06-15"))
    html, _ = _shown(review)
    _readable(html)
    assert "No target can be judged yet" in html and "Nothing to judge yet" in html
    assert "<table" not in html  # no empty table


@pytest.mark.parametrize("dims", [None, ["category", "group"]])
def test_the_explorer_offers_dimensions_and_kpis_in_words(sample_frame, dims):
    from csi_lib.periods import as_period

    explorer = BreakdownExplorer(sample_frame, as_period("2025-H1"), dims=dims)
    shown = [label for label, _ in explorer.dimension.options]
    assert shown[0] == "Category" and "category" not in shown
    if dims:
        assert shown == ["Category", "Support group"]
    assert all(not re.search(r"_[a-z]", label) for label, _ in explorer.kpi.options)
