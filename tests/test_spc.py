"""Tests of csi_lib.spc: XmR limits, the four special-cause rules, classification, assurance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csi_lib.errors import ConfigError, InputError
from csi_lib.spc import RULES, assurance, summary, xmr

# A stable baseline used by most rule tests, frozen so the limits are known exactly:
#   values 10, 12, 10, 12, 10, 12 -> mean 66 / 6 = 11
#   moving ranges 2, 2, 2, 2, 2 -> mean MR 2
#   limits 11 -/+ 2.66 * 2 = 5.68 .. 16.32; sigma = 2 / 1.128 = 1.77305
#   2 sigma band 11 -/+ 3.54610 = 7.45390 .. 14.54610
BASE = [10.0, 12, 10, 12, 10, 12]


def monthly(values, start="2025-01-01"):
    return pd.Series(
        values, index=pd.date_range(start, periods=len(values), freq="MS", tz="UTC"), dtype=float
    )


def frozen(tail, **kw):
    """BASE followed by ``tail``, limits frozen on the first six points (integer index)."""
    s = pd.Series(BASE + list(tail), dtype=float)
    return xmr(s, baseline=(0, 5), **kw)


# ---------------------------------------------------------------- worked example


def test_worked_example_limits_by_hand():
    # Twelve monthly values (textbook-style worked example, arithmetic done by hand):
    x = [39, 41, 35, 38, 44, 40, 37, 42, 36, 43, 39, 41]
    # sum = 475, mean = 475 / 12 = 39.58333
    # moving ranges: 2, 6, 3, 6, 4, 3, 5, 6, 7, 4, 2 -> sum 48 over 11 -> mean MR 4.36364
    # upper = 39.58333 + 2.66 * 4.36364 = 39.58333 + 11.60727 = 51.19061
    # lower = 39.58333 - 11.60727 = 27.97606
    # sigma = 4.36364 / 1.128 = 3.86847
    chart = xmr(monthly(x), better="higher")
    assert chart["centre"].iloc[0] == pytest.approx(39.583, abs=5e-4)
    assert chart["mr"].iloc[1:].mean() == pytest.approx(4.364, abs=5e-4)
    assert chart["upper"].iloc[0] == pytest.approx(51.191, abs=5e-4)
    assert chart["lower"].iloc[0] == pytest.approx(27.976, abs=5e-4)
    assert chart["sigma"].iloc[0] == pytest.approx(3.868, abs=5e-4)
    assert np.isnan(chart["mr"].iloc[0])
    assert chart["mr"].iloc[1:].tolist() == [2, 6, 3, 6, 4, 3, 5, 6, 7, 4, 2]
    # one set of limits for every point, no rule fires: all common cause
    assert chart["upper"].nunique() == 1
    assert not chart["signal"].any()
    assert (chart["variation"] == "common cause").all()
    assert chart.index.name == "period"
    assert list(chart.columns[:8]) == [
        "x",
        "mr",
        "centre",
        "lower",
        "upper",
        "sigma",
        "segment",
        "baseline",
    ]


# ---------------------------------------------------------------- rule 1: beyond the limits


def test_beyond_limits_unfrozen_by_hand():
    # 10, 11, 10, 11, 10, 11, 20: mean 83/7 = 11.857; MRs 1,1,1,1,1,9 -> 14/6 = 2.333
    # upper = 11.857 + 2.66 * 2.333 = 18.064 -> 20 is beyond
    chart = xmr(pd.Series([10.0, 11, 10, 11, 10, 11, 20]), better="lower")
    assert chart["upper"].iloc[0] == pytest.approx(18.064, abs=5e-4)
    assert chart["beyond_limits"].tolist() == [False] * 6 + [True]
    assert chart["variation"].iloc[-1] == "concern"  # high and lower is better
    assert chart["side"].iloc[-1] == "high"
    assert chart["rules"].iloc[-1] == "beyond_limits"


def test_beyond_limits_negative_and_low_side():
    inside = frozen([16.0])  # 16 < 16.32: inside the limits
    assert not inside["beyond_limits"].any()
    assert not inside["signal"].any()
    low = frozen([5.0], better="higher")  # 5 < 5.68: below the lower limit
    assert low["beyond_limits"].iloc[-1]
    assert low["variation"].iloc[-1] == "concern"
    high = frozen([17.0], better="higher")
    assert high["variation"].iloc[-1] == "improvement"


# ---------------------------------------------------------------- rule 2: run of 7


def test_run_of_seven_flags_every_point():
    # BASE ends above the centre (12 > 11), so the tail starts with 10 (below); then
    # 7 points above 11 but inside the 2 sigma band (< 14.546), alternating (no trend)
    tail = [10.0, 11.5, 12, 11.5, 12, 11.5, 12, 11.5]
    chart = frozen(tail, better="higher")
    assert chart["run_7"].tolist() == [False] * 7 + [True] * 7
    assert not chart["trend_6"].any() and not chart["two_of_three"].any()
    assert (chart["variation"].iloc[7:] == "improvement").all()
    assert (chart["variation"].iloc[:7] == "common cause").all()


def test_run_of_six_is_not_a_signal():
    chart = frozen([10.0, 11.5, 12, 11.5, 12, 11.5, 12, 10.5])  # 6 above, then below
    assert not chart["run_7"].any()


def test_point_on_the_centre_line_breaks_a_run():
    chart = frozen([10.0, 11.5, 12, 11.5, 11.0, 12, 11.5, 12, 11.5])  # 3 above, on centre, 4 above
    assert not chart["run_7"].any()


def test_missing_point_neither_breaks_nor_counts_in_a_run():
    gappy = frozen([10.0, 11.5, 12, 11.5, np.nan, 12, 11.5, 12, 11.5])  # 7 present above
    assert gappy["run_7"].tolist() == [False] * 7 + [True] * 3 + [False] + [True] * 4
    assert pd.isna(gappy["variation"].iloc[10])
    short = frozen([10.0, 11.5, 12, 11.5, np.nan, 12, 11.5, 12])  # only 6 present above
    assert not short["run_7"].any()


# ---------------------------------------------------------------- rule 3: trend of 6


def test_rising_trend_of_six_flags_every_point():
    # 10.5 (below), 11 (on centre), then above: no run; all inside 2 sigma
    chart = frozen([10.5, 11, 11.5, 12, 12.5, 13], better="higher")
    assert chart["trend_6"].tolist() == [False] * 6 + [True] * 6
    assert not chart["run_7"].any() and not chart["two_of_three"].any()
    # a rising trend is high: improvement when higher is better, even below the centre
    assert (chart["variation"].iloc[6:] == "improvement").all()


def test_falling_trend_is_improvement_when_lower_is_better():
    chart = frozen([13.0, 12.5, 12, 11.5, 11, 10.5], better="lower")
    assert chart["trend_6"].iloc[6:].all()
    assert (chart["variation"].iloc[6:] == "improvement").all()


def test_five_rising_or_an_equal_step_is_not_a_trend():
    assert not frozen([10.5, 11, 11.5, 12, 12.5])["trend_6"].any()
    assert not frozen([10.5, 11, 11, 11.5, 12, 12.5, 13])["trend_6"].any()


# ---------------------------------------------------------------- rule 4: two of three beyond 2 sigma


def test_two_of_three_flags_the_points_beyond_two_sigma_all_on_one_side():
    # 15 > 14.546 (2 sigma) but < 16.32 (limit); 12 is above the centre line 11
    chart = frozen([15.0, 12, 15], better="lower")
    assert chart["two_of_three"].tolist() == [False] * 6 + [True, False, True]
    assert chart["variation"].iloc[6:].tolist() == ["concern", "common cause", "concern"]
    assert not chart["beyond_limits"].any()


def test_two_of_three_needs_the_third_point_on_the_same_side():
    # DESIGN.md: "all three on the same side of the mean"; the case (15, 7, 15) and
    # a third point on the centre line (11) or just below it (10.9) do not fire
    assert not frozen([15.0, 7, 15])["two_of_three"].any()
    assert not frozen([15.0, 11, 15])["two_of_three"].any()
    assert not frozen([15.0, 10.9, 15])["two_of_three"].any()
    assert not frozen([7.0, 11.1, 7])["two_of_three"].any()
    assert frozen([7.0, 10.9, 7])["two_of_three"].iloc[6:].tolist() == [True, False, True]


def test_two_of_three_counts_a_point_beyond_the_limit():
    # 17 is beyond the upper limit 16.32; with 15 beyond 2 sigma and 12 above the line
    chart = frozen([17.0, 12, 15])
    assert chart["two_of_three"].iloc[6:].tolist() == [True, False, True]
    assert chart["beyond_limits"].iloc[6:].tolist() == [True, False, False]


def test_two_of_three_low_side():
    chart = frozen([10.0, 7, 7], better="lower")  # 7 < 7.454, > 5.68; 10 below the line
    assert chart["two_of_three"].iloc[6:].tolist() == [False, True, True]
    assert chart["variation"].iloc[6:].tolist() == ["common cause", "improvement", "improvement"]
    # BASE ends on 12, above the line: (12, 7, 7) is not all on one side
    assert not frozen([7.0, 7])["two_of_three"].any()


def test_two_of_three_negative_cases():
    assert not frozen([15.0, 11, 11, 15])["two_of_three"].any()  # never 2 in a window of 3
    assert not frozen([15.0, 7, 11])["two_of_three"].any()  # opposite sides
    assert not frozen([14.0, 14.5, 11])["two_of_three"].any()  # inside 2 sigma


def test_two_of_three_skips_a_partial_point():
    # the partial 7 (below the line) is not a neighbour: 15, 12, 15 around it fire
    s = pd.Series(BASE + [15.0, 12, 7, 15], dtype=float)
    chart = xmr(s, baseline=(0, 5), partial=[8])
    assert chart["two_of_three"].iloc[6:].tolist() == [True, False, False, True]


# ---------------------------------------------------------------- run and trend lengths


def test_run_and_trend_lengths_can_be_set():
    # BASE ends on 12, above the line: a 10 first, so that the run starts after it
    assert frozen([10.0] + [12.0] * 7)["run_7"].iloc[7:].all()
    assert not frozen([10.0] + [12.0] * 7, run=8)["run_7"].any()
    assert frozen([10.0] + [12.0] * 8, run=8)["run_7"].iloc[7:].all()
    assert frozen([10.0], run=8).attrs["run"] == 8
    rising = [10.5, 11, 11.5, 12, 12.5, 13]  # 6 rising (the 12 of BASE before it does not rise)
    assert frozen(rising)["trend_6"].iloc[6:].all()
    assert not frozen(rising, trend=7)["trend_6"].any()
    assert frozen(rising + [13.5], trend=7)["trend_6"].iloc[6:].all()
    chart = frozen(rising, trend=7)
    assert summary(frozen(rising + [13.5], trend=7))["signals"][-1]["label"] == (
        "trend of 7 rising or falling"
    )
    assert chart.attrs["trend"] == 7


@pytest.mark.parametrize("bad", [{"run": 3}, {"trend": 13}, {"run": 7.5}, {"trend": "6"}])
def test_run_and_trend_lengths_are_checked(bad):
    with pytest.raises(ConfigError, match="run|trend"):
        frozen([12.0], **bad)


def test_a_partial_point_neither_extends_nor_breaks_a_set_run():
    s = pd.Series(BASE + [10.0] + [12.0] * 4 + [2.0] + [12.0] * 4, dtype=float)
    chart = xmr(s, baseline=(0, 5), partial=[11], run=8)
    assert chart["run_7"].iloc[7:].tolist() == [True] * 4 + [False] + [True] * 4
    assert not chart["beyond_limits"].iloc[11] and chart["variation"].iloc[11] == "partial"


# ---------------------------------------------------------------- classification


def test_neither_direction_classifies_signals_as_neither():
    chart = frozen([20.0, 2.0], better="neither")
    assert chart["variation"].iloc[6:].tolist() == ["neither", "neither"]
    assert chart["signal"].iloc[6:].all()


def test_signal_column_is_any_rule():
    chart = frozen([10.0, 11.5, 12, 11.5, 12, 11.5, 12, 11.5, 20])
    assert (chart["signal"] == chart[list(RULES)].any(axis=1)).all()
    assert chart["rules"].iloc[-1] == "beyond_limits, run_7"


def test_bad_better_is_a_config_error():
    with pytest.raises(ConfigError, match="better"):
        xmr(pd.Series([1.0, 2.0]), better="up")


# ---------------------------------------------------------------- assurance


@pytest.mark.parametrize(
    ("target", "better", "expected"),
    [
        # limits of the worked example: 27.976 .. 51.191
        (25, "higher", "consistently passes"),
        (55, "higher", "consistently fails"),
        (40, "higher", "hit and miss"),
        (25, "lower", "consistently fails"),
        (55, "lower", "consistently passes"),
        (40, "lower", "hit and miss"),
        (40, "neither", "hit and miss"),
        (55, "neither", "unknown"),
        (None, "higher", "no target"),
        (float("nan"), "higher", "no target"),
    ],
)
def test_assurance(target, better, expected):
    chart = xmr(monthly([39, 41, 35, 38, 44, 40, 37, 42, 36, 43, 39, 41]))
    assert assurance(chart, target=target, better=better) == expected


def test_assurance_unknown_without_limits_and_attrs_from_xmr():
    assert assurance(xmr(pd.Series([3.0])), target=1, better="lower") == "unknown"
    chart = xmr(pd.Series([90.0, 92, 91, 93, 92]), better="higher", target=80)
    assert chart.attrs["assurance"] == "consistently passes"
    assert (chart["target"] == 80).all()


def test_assurance_uses_the_latest_segment():
    # segment 0 around 11 (limits 5.68..16.32), segment 1 around 21 (15.68..26.32)
    s = pd.Series(BASE + [20.0, 22, 20, 22, 20, 22, 20, 22])
    chart = xmr(s, recalc_from=6)
    assert assurance(chart, target=14, better="higher") == "consistently passes"


# ---------------------------------------------------------------- frozen limits, recalculation


def test_frozen_baseline_on_dates():
    s = monthly(BASE + [30.0, 11, 12, 10, 11, 12])
    chart = xmr(s, better="lower", baseline=("2025-01", "2025-06"))
    # limits from the six baseline points only (the 12 -> 30 moving range of 18 is not used)
    assert (chart["centre"] == 11).all()
    assert chart["upper"].iloc[-1] == pytest.approx(16.32)
    assert chart["lower"].iloc[0] == pytest.approx(5.68)
    assert chart["baseline"].tolist() == [True] * 6 + [False] * 6
    assert chart["beyond_limits"].iloc[6]
    same = xmr(s, better="lower", baseline=slice("2025-01-01", "2025-06-30"))
    pd.testing.assert_frame_equal(chart, same)


def test_unfrozen_limits_differ_from_frozen():
    s = monthly(BASE + [30.0, 11, 12, 10, 11, 12])
    # all 12 points: mean = (66 + 30 + 56) / 12 = 12.6667
    assert xmr(s)["centre"].iloc[0] == pytest.approx(12.6667, abs=5e-4)


def test_empty_baseline_is_a_config_error():
    with pytest.raises(ConfigError, match="baseline"):
        xmr(monthly(BASE), baseline=("2030-01", "2030-06"))


def test_recalculation_starts_a_new_segment():
    s = monthly(BASE + [20.0, 22, 20, 22, 20, 22, 20, 22])
    one = xmr(s)
    assert one["run_7"].iloc[6:].all()  # the shift is a signal without recalculation
    two = xmr(s, recalc_from="2025-07-01")
    assert two["segment"].tolist() == [0] * 6 + [1] * 8
    # segment 1: mean (4 * 20 + 4 * 22) / 8 = 21, MRs all 2 -> limits 15.68 .. 26.32
    assert two["centre"].iloc[6:].eq(21).all()
    assert two["upper"].iloc[-1] == pytest.approx(26.32)
    assert two["lower"].iloc[-1] == pytest.approx(15.68)
    assert two["centre"].iloc[:6].eq(11).all()
    assert np.isnan(two["mr"].iloc[6])  # no moving range across the boundary
    assert not two["signal"].any()


def test_recalculation_with_several_labels():
    s = pd.Series(BASE + [20.0, 22, 20, 22] + [30.0, 32, 30])
    chart = xmr(s, recalc_from=[6, 10])
    assert chart["segment"].tolist() == [0] * 6 + [1] * 4 + [2] * 3
    assert chart["centre"].iloc[-1] == pytest.approx(92 / 3)


# ---------------------------------------------------------------- edge cases


def test_constant_series():
    chart = xmr(pd.Series([5.0] * 10), better="higher")
    assert (chart["centre"] == 5).all()
    assert (chart["lower"] == 5).all() and (chart["upper"] == 5).all()
    assert (chart["sigma"] == 0).all()
    assert not chart["signal"].any()
    assert (chart["variation"] == "common cause").all()


@pytest.mark.parametrize("values", [[], [3.0], [3.0, np.nan], [1.0, np.nan, 2.0]])
def test_short_series_has_no_limits_and_no_signals(values):
    chart = xmr(pd.Series(values, dtype=float))
    assert len(chart) == len(values)
    assert chart["upper"].isna().all() and chart["lower"].isna().all()
    assert not chart["signal"].any()


def test_gappy_series_no_moving_range_across_gaps():
    s = monthly([10.0, 12, np.nan, 10, 12, np.nan, np.nan, 10, 12])
    chart = xmr(s)
    # moving ranges only for 10->12 three times: mean MR 2; mean 66 / 6 = 11
    assert chart["mr"].isna().tolist() == [True, False, True, True, False, True, True, True, False]
    assert chart["centre"].iloc[0] == pytest.approx(11.0)
    assert chart["upper"].iloc[0] == pytest.approx(11.0 + 5.32)
    assert chart["variation"].isna().tolist() == s.isna().tolist()


def test_floor_and_ceiling_clip_the_limits():
    # counts 0, 3, 0, 3: mean 1.5, MR 3 -> lower 1.5 - 7.98 < 0 -> clipped to 0
    counts = xmr(pd.Series([0.0, 3, 0, 3]), floor=0)
    assert (counts["lower"] == 0).all()
    assert counts["upper"].iloc[0] == pytest.approx(1.5 + 7.98)
    assert xmr(pd.Series([0.0, 3, 0, 3]))["lower"].iloc[0] == pytest.approx(1.5 - 7.98)
    pct = xmr(pd.Series([98.0, 100, 98, 100]), ceiling=100)  # 99 + 5.32 -> 100
    assert (pct["upper"] == 100).all()


def test_screening_moving_ranges():
    # MRs: eight of 1 and one of 50 -> mean 58 / 9 = 6.444; 3.267 * 6.444 = 21.05 < 50
    s = pd.Series([10.0, 11, 10, 11, 10, 11, 10, 11, 10, 60])
    assert xmr(s)["sigma"].iloc[0] == pytest.approx(58 / 9 / 1.128)
    assert xmr(s, screen_mr=True)["sigma"].iloc[0] == pytest.approx(1 / 1.128)


def test_unsorted_index_is_sorted_and_duplicates_rejected():
    s = pd.Series([3.0, 1.0, 2.0], index=[2, 0, 1])
    assert xmr(s)["x"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(InputError, match="more than one value"):
        xmr(pd.Series([1.0, 2.0], index=[0, 0]))
    with pytest.raises(InputError, match="not numbers"):
        xmr(pd.Series(["a", "b"]))
    with pytest.raises(InputError):
        xmr([1.0, 2.0])


# ---------------------------------------------------------------- summary


def test_summary_of_a_sustained_shift():
    # Jan..Jun BASE (centre 11), Jul on the centre, Aug above, Sep..Mar 7 points below
    s = monthly(BASE + [11.0, 11.5, 10.5, 10, 10.5, 10, 10.5, 10, 10.5])
    chart = xmr(s, better="lower", baseline=("2025-01", "2025-06"))
    out = summary(chart, "lower")
    assert out["description"] == (
        "A sustained shift of 7 points below the centre line since 2025-09: improvement."
    )
    assert out["latest_variation"] == "improvement"
    assert out["latest_period"] == pd.Timestamp("2026-03-01", tz="UTC")
    (sig,) = out["signals"]
    assert sig["rule"] == "run_7" and sig["points"] == 7
    assert sig["start"] == pd.Timestamp("2025-09-01", tz="UTC")


def test_summary_of_a_stable_process_and_of_no_data():
    out = summary(xmr(pd.Series([10.0, 12, 10, 12])), "higher", target=5)
    assert out["signals"] == []
    assert out["description"].startswith("Common cause variation only")
    assert out["latest_variation"] == "common cause"
    assert out["assurance"] == "consistently passes"  # lower limit 5.68 > 5
    assert summary(xmr(pd.Series([], dtype=float)))["description"] == "No data to chart."


def test_summary_lists_a_past_point_beyond_the_limits():
    s = pd.Series([10.0, 11, 10, 11, 10, 11, 20, 10, 11, 10])
    out = summary(xmr(s, better="higher"))
    assert [x["rule"] for x in out["signals"]] == ["beyond_limits"]
    assert out["description"] == "A point above the upper process limit at point 6: improvement."


# ---------------------------------------------------------------- figure


def test_xmr_figure_traces_colours_and_hover(monkeypatch):
    import plotly.graph_objects as go

    from csi_lib.charts import theme
    from csi_lib.charts.spc import xmr_figure

    def no_show(*args, **kwargs):
        raise AssertionError("xmr_figure must not call show()")

    monkeypatch.setattr(go.Figure, "show", no_show)
    # monthly BASE (limits 5.68 .. 16.32) then 20 (beyond, high) and 2 (beyond, low)
    s = monthly(BASE + [11.0, 20.0, 2.0])
    chart = xmr(s, better="lower", baseline=("2025-01", "2025-06"))
    fig = xmr_figure(chart, title="Median fulfilment time", unit="hours", target=9, better="lower")
    names = [t.name for t in fig.data]
    assert names == [
        "Value",
        "Centre (mean)",
        "Process limits",
        "Lower process limit",
        "Target (9 hours)",
        "Improvement (special cause)",
        "Concern (special cause)",
        "Common cause",
    ]
    by_name = {t.name: t for t in fig.data}
    concern = by_name["Concern (special cause)"]
    assert concern.marker.color == theme.VARIATION["concern"] == "#E69F00"
    assert list(concern.y) == [20.0]
    assert list(concern.x) == [pd.Timestamp("2025-08-01", tz="UTC")]
    assert "beyond a process limit" in concern.text[0]
    improvement = by_name["Improvement (special cause)"]
    assert improvement.marker.color == "#0072B2" and list(improvement.y) == [2.0]
    assert len(by_name["Common cause"].x) == 7
    assert by_name["Target (9 hours)"].line.dash == "dash"
    assert list(by_name["Target (9 hours)"].y) == [9, 9]
    assert by_name["Process limits"].y[0] == pytest.approx(16.32)
    assert fig.layout.yaxis.title.text == "hours"
    assert "lower is better" in fig.layout.title.text


def test_xmr_figure_steps_limits_per_segment():
    from csi_lib.charts.spc import xmr_figure

    s = monthly(BASE + [20.0, 22, 20, 22, 20, 22])
    fig = xmr_figure(xmr(s, recalc_from="2025-07"), title="t", unit="%")
    centre = next(t for t in fig.data if t.name == "Centre (mean)")
    # 6 points of segment 0 at 11, a gap, 6 points of segment 1 at 21
    assert list(centre.y) == [11.0] * 6 + [None] + [21.0] * 6
    assert "Target" not in " ".join(t.name for t in fig.data)
    empty = xmr_figure(xmr(pd.Series([], dtype=float)), title="t", unit="%")
    assert [t.name for t in empty.data] == [
        "Value",
        "Centre (mean)",
        "Process limits",
        "Lower process limit",
    ]


def test_summary_splits_a_rise_then_a_fall_into_two_trends():
    # 1..6 rising then 5..1 falling (the peak 6 belongs to both trends); on integer index
    s = pd.Series([1.0, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1])
    chart = xmr(s, better="higher")
    assert chart["trend_6"].all()
    trends = [x for x in summary(chart)["signals"] if x["rule"] == "trend_6"]
    assert [(t["start"], t["end"], t["side"], t["points"]) for t in trends] == [
        (0, 5, "high", 6),
        (5, 10, "low", 6),
    ]
    assert summary(chart)["description"] == ("A falling trend of 6 points since point 5: concern.")


@pytest.mark.parametrize("seed", range(5))
def test_random_gappy_series_invariants(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 5, 40)
    x[rng.random(40) < 0.15] = np.nan
    chart = xmr(pd.Series(x), better="lower", recalc_from=20)
    assert (chart["signal"] == chart[list(RULES)].any(axis=1)).all()
    ok = chart["upper"].notna()
    # limits symmetric around the centre: 2.66 x mean MR = 2.66 x 1.128 sigma either side
    up = chart.loc[ok, "upper"] - chart.loc[ok, "centre"]
    down = chart.loc[ok, "centre"] - chart.loc[ok, "lower"]
    assert np.allclose(up, down) and np.allclose(up, 2.66 * 1.128 * chart.loc[ok, "sigma"])
    assert not chart.loc[chart["x"].isna(), "signal"].any()
    assert chart["variation"].isna().tolist() == chart["x"].isna().tolist()


# --------------------------------------------------------------------------- partial periods


def test_partial_point_is_drawn_but_takes_no_part_in_limits_or_rules():
    base = [10.0, 12, 11, 13, 12, 11, 12]
    full = xmr(pd.Series(base, index=range(7)))
    chart = xmr(pd.Series([*base, 40.0], index=range(8)), partial=[7])
    assert chart["x"].iloc[-1] == 40.0  # drawn as it is
    assert chart["centre"].iloc[-1] == pytest.approx(full["centre"].iloc[0])
    assert chart["upper"].iloc[0] == pytest.approx(full["upper"].iloc[0])
    assert not chart["signal"].iloc[-1] and chart["variation"].iloc[-1] == "partial"
    assert chart["partial"].tolist() == [False] * 7 + [True]
    # without the flag the same point is a signal beyond the limits
    assert xmr(pd.Series([*base, 40.0], index=range(8)))["beyond_limits"].iloc[-1]


def test_partial_point_breaks_no_run_and_adds_no_moving_range():
    # six low points then a partial low one: the run of 7 must not fire
    values = pd.Series([5.0, 15, 5, 15, 5, 15, 1, 1, 1, 1, 1, 1, 0.5], index=range(13))
    flags = [False] * 12 + [True]
    chart = xmr(values, partial=flags)
    assert not chart["run_7"].any()
    assert np.isnan(chart["mr"].iloc[-1])
    assert xmr(values)["run_7"].iloc[-1]


def test_partial_mask_follows_the_values_when_the_index_is_sorted():
    values = pd.Series([3.0, 1.0, 2.0], index=[30, 10, 20])
    chart = xmr(values, partial=[True, False, False])  # flags the value 3.0 at label 30
    assert chart.loc[30, "partial"] and not chart.loc[10, "partial"]


def test_partial_labels_must_be_on_the_index():
    with pytest.raises(ConfigError, match="partial point"):
        xmr(pd.Series([1.0, 2.0, 3.0]), partial=[9])


def test_summary_speaks_of_the_last_complete_point():
    chart = xmr(pd.Series([5.0, 5, 6, 5, 6, 5, 30]), better="lower", partial=[6])
    s = summary(chart)
    assert s["latest_period"] == 5 and s["latest_value"] == 5.0
    assert s["signals"] == [] and s["description"].startswith("Common cause")
