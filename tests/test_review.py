"""Stages 4 and 5 (csi_lib.review): gap closed, projection, met per kind, verdicts, conclusions, summary.json.

Hand-made series and targets for the arithmetic; the 40k-row sample cycle once
(module-scoped) for the whole-cycle tables, the story of data/README.md and summary.json.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from csi_lib import review
from csi_lib.cycle import open_cycle
from csi_lib.evidence import compare
from csi_lib.kpis import get_kpi
from csi_lib.periods import Period
from csi_lib.spc import xmr
from csi_lib.targets import Target

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-cycle"


# --------------------------------------------------------------------------- gap closed


def test_gap_closed_half_way():
    # baseline 40 h, target 28 h: gap 12 h; now 34 h: 6 h closed = 50 %
    gap = review.gap_closed(40.0, 34.0, kind="minimize", target_value=28.0)
    assert gap.share == pytest.approx(50.0)
    assert gap.text == "50% of the gap closed"


def test_gap_closed_maximize():
    # baseline 80 %, target 90 %: gap 10 points; now 87.5 %: 7.5 closed = 75 %
    gap = review.gap_closed(80.0, 87.5, kind="maximize", target_value=90.0)
    assert gap.share == pytest.approx(75.0)


def test_gap_moved_away_is_clipped_to_zero():
    # 44 h is further from 28 h than the baseline 40 h: raw share 1 - 16/12 < 0
    gap = review.gap_closed(40.0, 44.0, kind="minimize", target_value=28.0)
    assert gap.share == 0.0
    assert gap.text == "moved away from the target"


def test_gap_passed_target_is_100():
    gap = review.gap_closed(40.0, 20.0, kind="minimize", target_value=28.0)
    assert (gap.share, gap.text) == (100.0, "target reached")


def test_gap_within_band():
    # target 4.0 +/- 0.3: baseline 5.0 is 0.7 outside the band, 4.5 is 0.2 outside
    # share = 100 * (1 - 0.2 / 0.7) = 71.43
    gap = review.gap_closed(5.0, 4.5, kind="within", target_value=4.0, tolerance=0.3)
    assert gap.share == pytest.approx(100 * (1 - 0.2 / 0.7))


def test_gap_when_baseline_already_met():
    held = review.gap_closed(4.0, 4.5, kind="maintain_below", target_value=5.0)
    slipped = review.gap_closed(4.0, 5.5, kind="maintain_below", target_value=5.0)
    assert math.isnan(held.share) and held.text == "met at the baseline, still met"
    assert slipped.text == "met at the baseline, no longer met"


def test_gap_without_data():
    assert review.gap_closed(40.0, float("nan"), kind="minimize", target_value=28).text == (
        "no data yet"
    )


@pytest.mark.parametrize(
    ("kind", "value", "target", "tol", "expected"),
    [
        ("minimize", 30.0, 28.0, None, 2.0),
        ("minimize", 27.0, 28.0, None, 0.0),
        ("maintain_below", 5.5, 5.0, None, 0.5),
        ("maximize", 85.0, 90.0, None, 5.0),
        ("maintain_above", 91.0, 90.0, None, 0.0),
        ("within", 3.5, 4.0, 0.3, 0.2),  # |3.5 - 4| - 0.3
        ("within", 4.2, 4.0, 0.3, 0.0),
    ],
)
def test_distance_to_target(kind, value, target, tol, expected):
    got = review.distance_to_target(value, kind=kind, target_value=target, tolerance=tol)
    assert got == pytest.approx(expected)


# --------------------------------------------------------------------------- projection


def _monthly(values, start="2025-07-01"):
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="MS"))


def test_projection_linear_minimize():
    # 40, 38, 36 h in Jul..Sep: -2 h a month; 36 -> 30 h takes 3 more months: December
    p = review.projection(_monthly([40.0, 38, 36]), kind="minimize", target_value=30)
    assert p.status == "projected"
    assert p.slope == pytest.approx(-2.0)
    assert p.date == pd.Timestamp("2025-12-01")
    assert p.text == "by about December 2025 at the current rate"


def test_projection_linear_maximize_with_gap():
    # 80, NaN, 84 at positions 0 and 2: +2 a month; also 86 at 3. 86 -> 90 takes 2 months
    p = review.projection(_monthly([80.0, float("nan"), 84, 86]), kind="maximize", target_value=90)
    assert p.slope == pytest.approx(2.0)
    assert p.date == pd.Timestamp("2025-12-01")  # October + 2 months


def test_projection_already_reached():
    p = review.projection(_monthly([40.0, 30, 27]), kind="minimize", target_value=28)
    assert p.status == "already reached"
    assert p.text == "already reached (September 2025)"


def test_projection_moving_away():
    p = review.projection(_monthly([36.0, 38, 40]), kind="minimize", target_value=30)
    assert (p.status, p.text) == ("not at the current rate", "not at the current rate")


def test_projection_too_early():
    p = review.projection(_monthly([40.0, 38]), kind="minimize", target_value=30)
    assert p.status == "too early"


def test_projection_beyond_horizon():
    # -0.1 h a month from 39.8: 30 h would take 98 months, more than 36
    p = review.projection(_monthly([40.0, 39.9, 39.8]), kind="minimize", target_value=30)
    assert p.status == "not at the current rate"


# --------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize(
    ("chart", "test", "expected"),
    [
        ("improvement", "improvement", "real improvement"),
        ("concern", "concern", "real deterioration"),
        ("improvement", "none", "likely improvement"),
        ("none", "improvement", "likely improvement"),
        ("n/a", "concern", "likely deterioration"),
        ("improvement", "concern", "mixed evidence"),
        ("none", "none", "no evidence of change"),
        ("n/a", "n/a", "not enough data"),
    ],
)
def test_verdict(chart, test, expected):
    assert review.verdict(chart, test) == expected


# --------------------------------------------------------------------------- hand-made target reviews

BASE = [40.0, 42, 41, 39, 40, 42]  # mean 40.667, moving ranges 2,1,2,1,2: mean 1.6
# limits 40.667 -/+ 2.66 * 1.6 = 36.41 .. 44.92: every later value below 36.41 is a signal
FAST = pd.Series([30.0, 28, 35, 20, 26, 31, 24, 27, 29, 22, 25, 26])  # clearly lower
SLOW = pd.Series([38.0, 41, 44, 39, 42, 40, 37, 45, 43, 39, 41, 40])  # same process


def _target_review(
    after: list[float], review_value: float, evidence, **target
) -> review.TargetReview:
    """A TargetReview of fulfil_median_h (Laptop) over Jan 2025 .. Mar 2026, built by hand."""
    values = BASE + after
    starts = pd.date_range("2025-01-01", periods=len(values), freq="MS", tz="UTC")
    phase = ["baseline"] * 6 + ["action"] * 6 + ["review"] * (len(values) - 12)
    series = pd.DataFrame(
        {"period_start": starts, "period_end": starts + pd.offsets.MonthBegin(1), "value": values,
         "n": 100, "phase": phase}
    )  # fmt: skip
    spec = {"id": "T1", "kpi": "fulfil_median_h", "scope": {"category": "Laptop"}} | target
    t = Target(**spec)
    chart = xmr(
        pd.Series(values, index=pd.DatetimeIndex(starts)),
        better="lower",
        baseline=slice(starts[0], starts[5]),
        target=t.value,
    )
    tr = review.TargetReview(
        target=t,
        kpi=get_kpi("fulfil_median_h"),
        periods={
            "baseline": Period.from_dates("2025-01-01", "2025-06-30"),
            "action": Period.from_dates("2025-07-01", "2025-12-31"),
            "review": Period.from_dates("2026-01-01", "2026-03-31"),
        },
        target_value=t.value,
        baseline_value=sum(BASE) / 6,
        review_value=review_value,
        series=series,
        chart=chart,
    )
    tr.__dict__["evidence"] = evidence  # the cached test result, given by hand
    return tr


def test_conclusion_met_and_real():
    ev = compare(SLOW + 1, FAST, kind="duration", better="lower")
    assert ev.significant and ev.direction == "improved"
    tr = _target_review([39.0, 30, 29, 28, 28, 27, 28, 27, 26], 27.0, ev, kind="minimize", value=28)
    assert tr.met is True
    assert tr.chart_evidence == "improvement"
    assert tr.verdict == "real improvement"
    # 40.667 -> 27.0: (27 - 40.667) / 40.667 = -33.6 %; first point below 36.41 is August 2025
    assert review.conclusion(tr) == (
        "Median time to fulfil (Laptop) fell from 40.7 h to 27.0 h (-34%); the target of 28.0 h "
        "is met; the fall is a shift beyond the baseline's natural process limits since August "
        "2025, and the 95% interval of the change in the median, "
        f"{ev.ci_low:+.1f} to {ev.ci_high:+.1f} h, excludes no change: not chance."
    )


def test_conclusion_unmet_and_not_significant():
    ev = compare(SLOW, SLOW.sample(frac=1, random_state=1) + 0.5, kind="duration", better="lower")
    assert not ev.significant
    tr = _target_review([41.0, 40, 42, 39, 41, 40, 41, 39, 40], 40.0, ev, kind="minimize", value=28)
    assert tr.met is False
    assert tr.verdict == "no evidence of change"
    # (40 - 40.667) / 40.667 = -1.6 %
    assert review.conclusion(tr) == (
        "Median time to fulfil (Laptop) fell from 40.7 h to 40.0 h (-2%); the target of 28.0 h "
        "is not met; the 95% interval of the change in the median, "
        f"{ev.ci_low:+.1f} to {ev.ci_high:+.1f} h, includes no change, and the chart shows no "
        "signal: no evidence of a real change."
    )


def test_conclusion_met_but_no_evidence():
    ev = compare(SLOW, SLOW + 0.2, kind="duration", better="lower")
    tr = _target_review(
        [41.0, 40, 42, 39, 41, 40, 41, 39, 40], 40.0, ev, kind="maintain_below", value=41
    )
    assert tr.met is True
    assert "is met; the 95% interval of the change in the median, " in review.conclusion(tr)
    assert review.conclusion(tr).endswith(
        "includes no change, and the chart shows no signal: no evidence of a real change."
    )


@pytest.mark.parametrize(
    ("kind", "value", "tolerance", "review_value", "met"),
    [
        ("minimize", 28.0, None, 28.0, True),
        ("minimize", 28.0, None, 28.1, False),
        ("maintain_below", 28.0, None, 27.0, True),
        ("maximize", 28.0, None, 27.9, False),
        ("maintain_above", 28.0, None, 30.0, True),
        ("within", 28.0, 1.0, 28.9, True),
        ("within", 28.0, 1.0, 26.5, False),
    ],
)
def test_met_per_kind(kind, value, tolerance, review_value, met):
    target = {"kind": kind, "value": value} | ({"tolerance": tolerance} if tolerance else {})
    tr = _target_review([30.0] * 9, review_value, None, **target)
    assert tr.met is met


def test_met_is_none_before_the_review():
    tr = _target_review([30.0] * 6, float("nan"), None, kind="minimize", value=28)
    tr.periods["review"] = None
    assert tr.met is None
    assert tr.verdict == "review not started"


# --------------------------------------------------------------------------- the sample cycle


@pytest.fixture(scope="module")
def sample_review():
    return review.assess(open_cycle(SAMPLE, as_of="2026-04-15"))


def test_sample_story(sample_review):
    table = review.review_table(sample_review).set_index("target")
    # data/README.md: A (Laptop, -35 %) is real and meets T1; C (survey follow-up) does nothing
    assert bool(table.loc["T1", "met"]) is True
    assert table.loc["T1", "verdict"] == "real improvement"
    assert table.loc["T1", "change_pct"] < -30
    assert bool(table.loc["T4", "met"]) is False
    assert table.loc["T4", "verdict"] == "no evidence of change"
    assert table.loc["T4", "measure"] == "qualitative"
    assert set(table["met"].map(bool)) == {True, False}


def test_sample_progress_mid_action():
    rv = review.assess(open_cycle(SAMPLE, as_of="2025-11-30"))
    table = review.progress_table(rv).set_index("target")
    assert list(table.index) == ["T1", "T2", "T3", "T4", "T5"]
    assert 0 <= table.loc["T1", "gap_closed_pct"] <= 100
    assert table.loc["T1", "initiatives"] == "I1 Laptop build automation (done)"
    assert "under way" in table.attrs["note"]
    # the chart is frozen on the 6 baseline months and runs to November
    chart = rv.target("T1").chart
    assert len(chart) == 11
    assert chart["baseline"].sum() == 6
    assert chart["upper"].nunique() == 1


def test_progress_before_the_action_period():
    cycle = open_cycle(SAMPLE, as_of="2025-05-01")
    table = review.progress_table(cycle)
    assert table.empty
    assert "The action period has not started" in table.attrs["note"]
    assert review.headline(cycle) == (
        "No target can be judged yet: the action period starts on 2025-07-01; "
        "the final verdict is due on 2026-03-31."
    )


def test_write_summary(sample_review, tmp_path):
    path = review.write_summary(sample_review, tmp_path)
    review.write_summary(sample_review, tmp_path)  # replaced, not refused
    data = json.loads(path.read_text(encoding="utf-8"))
    assert path == tmp_path / "summary.json"
    assert data["headline"].startswith("4 of 5 targets met, 1 not met; 3 show a real improvement")
    assert [t["id"] for t in data["targets"]] == ["T1", "T2", "T3", "T4", "T5"]
    assert [t["met"] for t in data["targets"]] == [True, True, True, False, True]
    t1 = data["targets"][0]
    assert set(t1) == {
        "id",
        "label",
        "kpi",
        "baseline_value",
        "now_value",
        "baseline",
        "now",
        "target",
        "met",
        "gap_closed_pct",
        "gap_closed",
        "change",
        "change_class",
        "status",
        "reason",
        "standing",
        "rag",
        "provisional",
        "signal",
        "signals",
        "due",
        "meets_now",
        "evidence",
        "conclusion",
    }
    # every special-cause episode after the baseline, each with its rule and period (the
    # alerts tell each once): T1's run since August and its points beyond the limits
    assert [(s["rule"], s["start"], s["variation"]) for s in t1["signals"]][:2] == [
        ("run_7", "2025-08-01", "improvement"),
        ("beyond_limits", "2025-09-01", "improvement"),
    ]
    assert t1["signals"][0]["text"] == "a sustained shift since August 2025"
    assert t1["due"] == "2025-12-31" and t1["meets_now"] is True
    # T1's fall is a shift beyond the limits (the conclusion says so): summary.json names it
    assert t1["signal"]["variation"] == "improvement"
    assert t1["signal"]["text"].endswith("(improvement)") and "2025" in t1["signal"]["text"]
    assert data["standing"]["phase"] == "closed"
    assert [t["status"] for t in data["targets"]] == ["met", "met", "met", "not met", "met"]
    assert t1["gap_closed"] == "100 %" and t1["provisional"] is False
    assert t1["target"] == "28.0 h"  # targets.yaml: value 28 (hours)
    assert t1["kpi"] == "fulfil_median_h"
    assert t1["baseline"] == f"{t1['baseline_value']:.1f} h"  # raw number behind the text
    assert t1["now_value"] < t1["baseline_value"]  # the cover shows "▼ better"
    assert t1["baseline"].endswith(" h") and t1["now"].endswith(" h")
    assert t1["conclusion"].startswith("Median time to fulfil (Laptop) fell from ")


def test_breakdowns_hide_nothing_and_sum(sample_review):
    table = review.breakdowns(sample_review, target_id="T2")
    assert (table["by"] == "category").all()
    # population-weighted contributions of a percentage add up to the overall change
    t2 = sample_review.target("T2")
    assert table["contribution"].sum() == pytest.approx(t2.review_value - t2.baseline_value)


def test_target_figures(sample_review):
    fig = review.target_chart(sample_review, "T1")
    assert any((t.name or "").startswith("Target") for t in fig.data)
    assert len(fig.layout.shapes) == 3  # baseline, action, review shading
