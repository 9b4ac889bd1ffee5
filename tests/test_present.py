"""The presentation layer (csi_lib.present): tables for readers, never data dumps."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from csi_lib import present as P
from csi_lib import review
from csi_lib.cycle import open_cycle
from csi_lib.kpis import kpi_values
from csi_lib.tables import scorecard

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-cycle"
SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


def _snake_headers(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if SNAKE.match(str(c).strip())]


# --------------------------------------------------------------------------- headers and cells


def test_headers_come_from_the_vocabulary_the_catalogue_or_words():
    assert P.header("gap_closed_pct") == "Gap closed (%)"
    assert P.header("p_value") == "p-value"
    assert P.header("fulfil_median_h") == "Median time to fulfil (h)"  # a KPI key: its label
    assert P.header("received") == "Requests received"  # unit "requests" needs no header unit
    assert P.header("time_to_triage_h") == "Time to triage (h)"  # unknown: in words
    assert P.header("Already in words") == "Already in words"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (True, None, "yes"),
        (False, None, "no"),
        (None, None, "—"),
        (float("nan"), "hours", "—"),
        (pd.NA, None, "—"),
        (pd.NaT, "date", "—"),
        (41.83, "hours", "41.8 h"),
        (93.14, "%", "93.1 %"),
        (12345, "count", "12,345"),
        (0.0004, "p", "p < 0.001"),
        (pd.Timestamp("2025-06-30 00:00", tz="UTC"), "date", "2025-06-30"),
        (pd.Timestamp("2025-06-30 14:05", tz="UTC"), None, "2025-06-30 14:05"),
        (["a", "b"], None, "a, b"),
    ],
)
def test_cells_in_words_and_units(value, unit, text):
    assert P.format_cell(value, unit) == text


def test_present_has_no_index_words_for_booleans_and_units_by_row_kpi():
    raw = pd.DataFrame(
        {
            "target": ["T1", "T2", "T3"],
            "kpi": ["fulfil_median_h", "pct_within_sla", "csat_response_rate"],
            "baseline": [41.83, 86.5, float("nan")],
            "change": [-15.2, 4.1, float("nan")],
            "change_pct": [-36.4, 4.7, float("nan")],
            "met": [True, False, None],
        }
    ).set_index("target")
    table = P.present(raw)
    assert list(table.columns) == [
        "Target", "KPI", "Baseline", "Change", "Change (% of baseline)", "Target met",
    ]  # fmt: skip
    assert isinstance(table.index, pd.RangeIndex)  # the index became the first column
    assert table["KPI"].tolist() == [
        "Median time to fulfil",
        "Closed within SLA",
        "Survey response rate",
    ]
    assert table["Baseline"].tolist() == ["41.8 h", "86.5 %", "not measured"]
    assert table["Change"].tolist() == ["−15.2 h", "+4.1 pp", "—"]  # percentage points
    assert table["Change (% of baseline)"].tolist() == ["−36", "+5", "—"]
    assert table["Target met"].tolist() == ["yes", "no", "—"]
    assert P.is_presented(table) and "Baseline" in table.attrs["numeric"]
    assert raw.loc["T1", "baseline"] == 41.83  # the tidy frame is untouched
    assert P.present(table) is table  # presenting twice changes nothing


def test_row_numbers_are_dropped_a_named_index_is_kept():
    filtered = pd.DataFrame({"owner": ["a", "b", "c"]}).iloc[[0, 2]]  # index 0, 2
    assert list(P.present(filtered).columns) == ["Owner"]
    named = pd.DataFrame({"value": [1.0]}, index=pd.Index(["x"], name="letter"))
    assert list(P.present(named, kpi_column=None).columns) == ["Letter", "Value"]


def test_html_keeps_every_character_escapes_and_classes_columns():
    long = "Faster fulfilment of the most requested items, " * 4 + "<b>end</b>"
    raw = pd.DataFrame({"title": [long], "coverage_pct": [97.25], "present": [True]})
    html = P.to_html(raw)
    assert "Faster fulfilment of the most requested items, " * 4 in html
    assert "&lt;b&gt;end&lt;/b&gt;" in html and "<b>" not in html
    assert "..." not in html and "…" not in html
    assert '<th scope="col" class="csi-num">Coverage (%)</th>' in html
    assert '<td class="csi-long">' in html  # long text wraps at a readable width
    assert "<th>0</th>" not in html and "dataframe" not in html.split("<tbody>")[0][:30]
    assert html.startswith('<div class="csi-table-wrap">')  # wide tables scroll in their box


def test_empty_table_says_so():
    html = P.to_html(pd.DataFrame(columns=["target", "verdict"]))
    assert "No rows to show." in html and "Verdict" in html


def test_install_draws_every_frame_for_readers():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert P.install(shell)
        data, _ = shell.display_formatter.format(pd.DataFrame({"coverage_pct": [1.0]}))
        assert "Coverage (%)" in data["text/html"] and "coverage_pct" not in data["text/html"]
    finally:
        InteractiveShell.clear_instance()
    assert P.install(None) is False or True  # outside IPython it returns False, never raises


# --------------------------------------------------------------------------- the workbook's tables


def test_scorecard_reads_not_measured_without_any_survey(make_requests, jan_2025):
    rows = [
        {"opened_at": "2025-01-02", "closed_at": "2025-01-03"},
        {"opened_at": "2025-01-04", "closed_at": "2025-01-06", "outcome": "declined"},
    ]
    card = scorecard(kpi_values(make_requests(rows), jan_2025))
    by_label = dict(zip(card["KPI"], card["Value"], strict=True))
    assert by_label["Survey response rate"] == "not measured"  # never "0.0 %"
    assert by_label["Mean satisfaction"] == "not measured"
    assert by_label["Requests received"] == "2"
    assert not _snake_headers(card) and isinstance(card.index, pd.RangeIndex)
    assert card.attrs["numeric"] == ["Value"]  # numbers as text are still right-aligned


@pytest.fixture(scope="module")
def sample_review():
    return review.assess(open_cycle(SAMPLE, as_of="2026-04-15"))


def test_review_and_progress_tables_for_readers(sample_review):
    table = review.review_table(sample_review, formatted=True)
    assert not _snake_headers(table)
    assert {"Target", "What is measured", "Baseline", "Review period", "Standing",
            "Verdict", "Evidence"} <= set(table.columns)  # fmt: skip
    assert "kpi" not in table.columns and "KPI" not in table.columns  # the label says it
    t1 = table[table["Target"] == "T1"].iloc[0]
    assert t1["Baseline"].endswith(" h") and t1["Standing"] == "Met"
    t2 = table[table["Target"] == "T2"].iloc[0]  # a percentage KPI
    assert t2["Baseline"].endswith(" %") and t2["Change"].endswith(
        " pp"
    )  # points, as in stage 5's text
    assert not any(
        str(v) in ("True", "False", "None", "<NA>", "nan") for v in table.to_numpy().ravel()
    )
    progress = review.progress_table(sample_review, formatted=True)
    assert not _snake_headers(progress) and "Gap closed (%)" in progress.columns
    # the raw tables stay for analysts
    raw = review.review_table(sample_review)
    assert "p_value" in raw.columns and raw["baseline"].dtype.kind == "f"


def test_contribution_table_lists_the_groups_that_matter(sample_review):
    raw = review.breakdowns(sample_review)
    table = review.breakdowns(sample_review, formatted=True, top=3)
    assert len(table) < len(raw)
    per_target = table.groupby("Target").size()
    assert (per_target <= 4).all()  # 3 groups and "the rest together"
    assert table["Group"].str.contains("other groups together").any()
    listed = table["Group"][~table["Group"].str.contains("together")]
    assert listed.str.match(r"^(Category|Channel|Priority|Support group): ").all()  # in words
    contribution = table["Contribution to the change"]
    assert contribution.str.match(r"^[+−±]").all()  # signed, with the KPI's unit
    assert not contribution.str.contains(r"e-|0\.00\d{3}").any()  # no -0.00598
    assert "Share of the change (%)" not in table.columns  # no 219 % shares
    # the rest together adds up: listed + rest = all groups' contributions
    t2 = raw[raw["target"] == "T2"].sort_values("contribution", key=abs, ascending=False)
    rest = t2["contribution"].iloc[3:].sum()
    row = table[table["Group"].str.contains("other") & table["Target"].str.startswith("T2")].iloc[0]
    assert row["Contribution to the change"].endswith(" pp")  # a % KPI: percentage points
    assert math.isclose(
        float(row["Contribution to the change"][1:].split()[0]), abs(rest), abs_tol=0.06
    )


def test_contribution_groups_are_hidden_by_the_kpis_own_population(sample_review):
    cycle = sample_review.cycle
    cycle.config.min_group_size = 300  # above some categories' fulfilled Laptop counts
    try:
        rv = review.assess(cycle)
        table = review.breakdowns(rv, target_id="T1")
        assert (table["n_baseline"] >= 300).all() and (table["n_review"] >= 300).all()
        assert table.attrs["hidden_by_target"]["T1"] >= 1
        assert "hidden to protect individuals" in table.attrs["hidden_note"]
        shown = review.breakdowns(rv, target_id="T1", formatted=True)
        assert shown.attrs["table_note"] == table.attrs["hidden_note"]
        assert "hidden to protect individuals" in P.to_html(shown)
    finally:
        cycle.config.min_group_size = 5


# --------------------------------------------------------------------------- charts on real data


def test_percent_of_baseline_axis_is_capped_and_the_true_value_written(sample_review):
    from csi_lib.charts.review import PCT_AXIS_LIMITS, review_figure

    table = review.review_table(sample_review)
    calm = review_figure(table).layout.xaxis.range
    wild = table.copy()
    wild.loc[1, "target_value"] = wild.loc[1, "baseline"] * 1414.05  # +141,305 %
    fig = review_figure(wild)
    lo, hi = fig.layout.xaxis.range
    assert hi <= PCT_AXIS_LIMITS[1] * 1.05 and hi - lo < 3 * (
        calm[1] - calm[0]
    )  # others not squashed
    assert [a.text for a in fig.layout.annotations] == ["target 141,405 % ▸"]
    assert "capped" in fig.layout.xaxis.title.text
    target = next(t for t in fig.data if t.name == "Target")
    assert max(target.x) <= hi and "141,405 % of the baseline" in target.text[1]
    assert "h" in target.text[0]  # hover values carry the KPI's unit


def test_xmr_panels_name_their_own_target_and_unit(sample_review):
    fig = review.targets_chart(sample_review)
    names = [t.name for t in fig.data if t.showlegend is not False and "target" in (t.name or "")]
    assert names[:2] == ["T1 target (28.0 h)", "T2 target (90.0 %)"]
    assert fig.layout.yaxis.title.text == "hours" and fig.layout.yaxis2.title.text == "%"


def test_contribution_chart_axis_has_the_kpis_unit(sample_review):
    from csi_lib.charts.review import breakdown_figure

    fig = breakdown_figure(review.breakdowns(sample_review), target_id="T1")
    assert fig.layout.xaxis.title.text == "contribution to the change (hours)"
    assert " h" in fig.data[0].text[0]


def test_fewer_than_two_baseline_periods_keep_the_target_line(sample_review):
    import copy

    from csi_lib.charts.review import target_figure

    tr = copy.copy(sample_review.target("T1"))
    tr.chart = None
    fig = target_figure(tr)
    assert any((t.name or "").startswith("Target (28") for t in fig.data)
    assert "process limits need at least 2 months" in fig.layout.title.text
    assert len(fig.layout.shapes) >= 3  # the phases stay shaded


def test_context_chart_words_follow_the_cycles_freq(sample_review):
    from csi_lib.charts.targets import target_context_figure

    series = pd.DataFrame(
        {"period_start": pd.to_datetime(["2025-03-03"], utc=True), "value": [30.0]}
    )
    fig = target_context_figure(series, None, target_value=28.0, best_value=30.0,
                                kpi="fulfil_median_h", freq="week")  # fmt: skip
    assert "best week observed" in [t.name for t in fig.data]
    assert [s.y0 for s in fig.layout.shapes if s.type == "line"] == [28.0]  # the target line stays
    note = " ".join(a.text for a in fig.layout.annotations)
    assert "target 28.0 h" in note
    assert "only 1 week of baseline" in note and "at least 2 weeks" in note


def test_duration_axis_has_readable_ticks(make_requests, jan_2025):
    from csi_lib.charts.baseline import duration_distribution_figure

    rows = [
        {"opened_at": "2025-01-02 08:00", "closed_at": f"2025-01-{d:02d} 09:00"}
        for d in range(2, 20)
    ]
    fig = duration_distribution_figure(make_requests(rows), jan_2025)
    assert fig.layout.xaxis.type == "log"
    assert "1 day" in fig.layout.xaxis.ticktext and "1 week" in fig.layout.xaxis.ticktext


def test_history_legend_stays_clear_of_the_titles():
    from csi_lib.charts.review import history_figure

    history = pd.DataFrame(
        {"cycle": ["a", "b"], "label": ["Median time to fulfil"] * 2, "kpi": ["fulfil_median_h"] * 2,
         "baseline": [40.0, 30.0], "target_value": [30.0, 25.0], "achieved": [29.0, 26.0]}
    )  # fmt: skip
    fig = history_figure(history)
    assert fig.layout.legend.yref == "container" and fig.layout.legend.yanchor == "bottom"
    assert fig.layout.yaxis.title.text == "hours"


def test_headline_grammar():
    assert (
        review.verdict_counts_text({"likely deterioration": 3}) == "3 show a likely deterioration"
    )
    assert (
        review.verdict_counts_text({"real improvement": 1, "no evidence of change": 2})
        == "1 shows a real improvement, 2 no evidence of change"
    )


def test_smart_styler_shows_a_table_for_readers(sample_review):
    from csi_lib.charts.targets import smart_styler
    from csi_lib.targets import cycle_smart_check, smart_table

    html = smart_styler(smart_table(cycle_smart_check(sample_review.cycle))).to_html()
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert heads[:3] == ["Target", "KPI", "S"] and not _snake_headers(pd.DataFrame(columns=heads))
    assert "Median time to fulfil" in html and "fulfil_median_h</td>" not in html
    assert 'class="csi-table csi-presented"' in html and "row_heading" not in html


def test_codes_in_cells_are_shown_in_words():
    """Target kinds, canonical columns and breakdown dimensions read as words (every
    target kind has its words), a user's own column keeps its name."""
    from csi_lib.cycle.config import PERIOD_NAMES
    from csi_lib.present import KIND_WORDS, PERIOD_WORDS, present
    from csi_lib.targets.model import KINDS

    assert set(KIND_WORDS) == set(KINDS)
    assert set(PERIOD_WORDS) == set(PERIOD_NAMES)
    raw = pd.DataFrame(
        {
            "column": ["opened_at", "reopen_count", "u_region"],
            "kind": ["maintain_below", "within", None],
            "period": ["baseline", "review", "2025-H2"],
        }
    )
    shown = present(raw).to_dict("list")
    assert shown["Period"] == ["Baseline", "Review period", "2025-H2"]
    assert shown["Column"] == ["Opened (received)", "Times reopened", "u_region"]
    assert shown["Target kind"] == ["Keep at or below", "Keep within a range", "—"]
