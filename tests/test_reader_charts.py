"""Words that stay apart on a phone and on paper, and headers that say what a column holds.

Seen in the 390 px screenshots and the PDF of the sample report (issue 25): the
median and 90th-percentile labels of the duration histogram on top of each
other, "2 days" running into "3 days", a bar's "38% of the gap close" cut at the
plot's edge, plan warnings headed "Target kind", "N initiatives", an empty cell
for a target without initiatives, a KPI label naming the ``csat`` column.
"""

from __future__ import annotations

import pandas as pd

from csi_lib.charts.baseline import duration_distribution_figure
from csi_lib.charts.review import gap_figure
from csi_lib.kpis import kpi_catalogue
from csi_lib.periods import Period
from csi_lib.plan import Initiative, Plan, initiatives_per_target, plan_warnings
from csi_lib.present import present


def test_the_duration_labels_stand_one_above_the_other(ten_requests, jan_2025):
    fig = duration_distribution_figure(ten_requests, jan_2025)
    median, p90 = fig.layout.annotations
    assert median.text.startswith("median") and p90.text.startswith("90th percentile")
    assert (p90.yshift or 0) - (median.yshift or 0) >= 16  # a line apart, whatever the x
    assert fig.layout.margin.t >= 90  # room for the title and both labels
    assert "3 days" not in fig.layout.xaxis.ticktext  # it ran into "2 days"


def test_a_narrow_span_of_durations_still_has_ticks(ten_requests, jan_2025):
    """Durations all between 745 and 1,427 h (a real help-desk log) fall between two of the
    worded ticks ('30 days', '90 days'): the axis showed no tick at all; it is now in hours,
    ticked by plotly. A wide span keeps its words."""
    narrow = ten_requests.copy()
    fulfilled = narrow["outcome"] == "fulfilled"
    hours = pd.Series(range(fulfilled.sum()), index=narrow.index[fulfilled]) * 70 + 745
    narrow.loc[fulfilled, "closed_at"] = narrow.loc[fulfilled, "opened_at"] + pd.to_timedelta(
        hours, unit="h"
    )
    fig = duration_distribution_figure(narrow, Period.from_dates("2025-01-01", "2025-06-30"))
    assert fig.layout.xaxis.tickvals is None and fig.layout.xaxis.tickformat
    assert "in hours" in fig.layout.xaxis.title.text
    wide = duration_distribution_figure(ten_requests, jan_2025)
    assert len(wide.layout.xaxis.tickvals) >= 2 and "in hours" not in wide.layout.xaxis.title.text


def test_gap_bars_show_their_share_in_the_plot_and_words_for_the_rest():
    progress = pd.DataFrame(
        {
            "target": ["T1", "T2", "T3", "T4"],
            "label": ["Median time to fulfil", "Closed within SLA", "Mean satisfaction", "X"],
            "gap_closed_pct": [93.0, 38.0, float("nan"), 100.0],
            "progress": [
                "93% of the gap closed",
                "38% of the gap closed",
                "met at the baseline, still met",
                "target reached",
            ],
        }
    )
    bar = gap_figure(progress).data[0]
    assert list(bar.text) == ["93%", "38%", "met at the baseline, still met", "target reached"]
    assert list(bar.textposition) == ["inside", "outside", "outside", "inside"]
    assert bar.cliponaxis is False  # a label beside a short bar is never cut at the plot's edge
    assert list(bar.customdata) == list(progress["progress"])  # the words on hover


def test_plan_tables_have_headers_in_words_and_no_empty_cells():
    plan = Plan(
        initiatives=[
            Initiative(id="I1", title="Laptops", owner="A", way_of_working="sprint",
                       start="2025-07-01", end="2025-07-31", targets=["T1"])
        ]
    )  # fmt: skip
    targets = [{"id": "T1", "kpi": "fulfil_median_h", "due": "2025-12-31"},
               {"id": "T2", "kpi": "pct_within_sla", "due": "2025-12-31"}]  # fmt: skip
    warnings = present(plan_warnings(plan, targets))
    assert list(warnings.columns) == ["About", "Which", "Warning"]  # not "Target kind"
    assert warnings.iloc[0].tolist() == ["target", "T2", "no initiative works on this target"]
    per_target = present(initiatives_per_target(plan, targets))
    assert "Number of initiatives" in per_target.columns and "N initiatives" not in per_target
    assert per_target["Initiatives"].tolist() == ["I1", "—"]  # nothing is a dash, not a blank


def test_kpi_labels_name_no_column():
    labels = kpi_catalogue()["label"]
    assert not labels.str.contains(r"csat|_|>=").any(), labels[labels.str.contains("csat|_|>=")]


def test_a_smart_letter_is_shown_with_its_word():
    long = pd.DataFrame({"target": ["T1", "T1"], "kpi": ["csat_mean"] * 2, "letter": ["R", "T"],
                         "verdict": ["pass", "warn"], "reason": ["serves O1", "due late"]})  # fmt: skip
    shown = present(long)
    assert shown["Letter"].tolist() == ["R: Relevant", "T: Time-bound"]
    assert shown["KPI"].tolist() == ["Mean satisfaction"] * 2
