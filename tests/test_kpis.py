"""KPI catalogue and engine, with values worked out by hand (see tests/conftest.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csi_lib import kpis as K
from csi_lib.errors import ConfigError
from csi_lib.kpis import (
    KPI,
    breakdown,
    get_kpi,
    hidden_text,
    kpi_catalogue,
    kpi_series,
    kpi_table,
    kpi_values,
    observations,
    register_kpi,
    scope_filter,
)
from csi_lib.periods import Period
from csi_lib.testing import synthetic_requests

DESIGN_KEYS = [
    "received", "fulfilled", "declined", "cancelled", "pct_fulfilled", "pct_declined", "backlog",
    "throughput_ratio", "assess_median_h", "assess_p90_h", "fulfil_median_h", "fulfil_p90_h",
    "fulfil_mean_h", "pct_within_sla", "csat_mean", "pct_satisfied", "csat_response_rate",
    "pct_reopened",
]  # fmt: skip


def _v(table: pd.DataFrame, kpi: str, **where: object) -> float:
    rows = table[table["kpi"] == kpi]
    for col, val in where.items():
        rows = rows[rows[col] == val]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


def _n(table: pd.DataFrame, kpi: str, **where: object) -> int:
    rows = table[table["kpi"] == kpi]
    for col, val in where.items():
        rows = rows[rows[col] == val]
    assert len(rows) == 1, rows
    return int(rows["n"].iloc[0])


# ---------------------------------------------------------------- catalogue


def test_catalogue_has_the_18_design_kpis_in_order() -> None:
    cat = kpi_catalogue()
    assert cat["key"].tolist()[:18] == DESIGN_KEYS
    assert {"key", "label", "unit", "better", "kind", "description"} <= set(cat.columns)
    assert cat.set_index("key").loc["backlog", "better"] == "lower"
    assert cat.set_index("key").loc["received", "better"] == "neither"


def test_get_kpi_unknown_suggests_closest() -> None:
    with pytest.raises(ConfigError) as exc:
        get_kpi("fulfil_medain_h")
    msg = str(exc.value)
    assert "did you mean 'fulfil_median_h'" in msg.lower()
    assert "pct_reopened" in msg  # lists the known keys


def test_invalid_kpi_and_duplicate_registration_are_refused() -> None:
    with pytest.raises(ConfigError, match="population must be one of"):
        KPI("x", "X", "%", "higher", "everyone", None, "count", "count", "bad")
    with pytest.raises(ConfigError, match="needs a measure"):
        KPI("x", "X", "%", "higher", "received", None, "mean", "score", "bad")
    with pytest.raises(ConfigError, match="registered already"):
        register_kpi(get_kpi("received"))


@pytest.mark.parametrize(
    ("kind", "agg", "unit", "message"),
    [
        ("score", "median", "score", 'kind "score" aggregates by "mean"'),
        ("proportion", "mean", "%", 'kind "proportion" aggregates by "pct"'),
        ("count", "pct", "%", 'kind "count" aggregates by "count" or "sum"'),
        ("duration", "sum", "hours", "a percentile \\(pNN\\)"),
        ("duration", "p75", "minutes", 'unit must be "hours"'),
    ],
)
def test_a_kpis_kind_must_fit_what_it_aggregates(kind, agg, unit, message) -> None:
    # stage 5 compares what the kind names (a median score would have failed there; a
    # share declared a count would have been tested as a count per day)
    with pytest.raises(ConfigError, match=message):
        KPI("x", "X", unit, "lower", "closed", lambda d: d["csat"], agg, kind, "d")
    # a stock (open at the end) or a ratio (func) goes to its chart: any aggregation
    KPI("x", "X", unit, "lower", "open_at_end", lambda d: d["csat"], agg, kind, "d")
    KPI("x", "X", "hours", "lower", "closed", lambda d: d["csat"], "p75", "duration", "d")


# ---------------------------------------------------------------- every KPI on ten requests


def test_every_kpi_on_ten_requests(ten_requests, jan_2025) -> None:
    t = kpi_table(ten_requests, jan_2025)
    v = dict(zip(t["kpi"], t["value"], strict=True))
    n = dict(zip(t["kpi"], t["n"], strict=True))
    # received: opened in January = R1-R7, R9 (R8, R10 opened in December) = 8
    assert v["received"] == 8 and n["received"] == 8
    # closed in January: R1 R2 R3 R4 R5 R8 R10 = 7 (R9 closes 2 Feb); fulfilled R1 R2 R4 R8 R10
    assert (v["fulfilled"], v["declined"], v["cancelled"]) == (5, 1, 1)
    assert n["fulfilled"] == 7
    assert v["pct_fulfilled"] == pytest.approx(100 * 5 / 7)  # 71.43
    assert v["pct_declined"] == pytest.approx(100 * 1 / 7)  # 14.29
    # backlog at 1 Feb: R6, R7 open, R9 closed 2 Feb -> 3; n = opened before 1 Feb = 10
    assert v["backlog"] == 3 and n["backlog"] == 10
    # throughput: 7 closed / 8 received
    assert v["throughput_ratio"] == pytest.approx(0.875)
    # assessed in January: R1 2, R2 4, R3 6, R4 1, R5 8, R6 10, R9 3, R10 120 (hours)
    # sorted 1 2 3 4 6 8 10 120: median at 3.5 -> (4 + 6) / 2 = 5
    # p90 at 7 * 0.9 = 6.3 -> 10 + 0.3 * (120 - 10) = 43
    assert v["assess_median_h"] == pytest.approx(5.0)
    assert v["assess_p90_h"] == pytest.approx(43.0)
    assert n["assess_median_h"] == 8
    # fulfilled in January: R1 24, R2 48, R4 96, R8 360 (20 Dec -> 4 Jan), R10 312 (28 Dec -> 10 Jan)
    # sorted 24 48 96 312 360: median 96; p90 at 3.6 -> 312 + 0.6 * 48 = 340.8; mean 840 / 5 = 168
    assert v["fulfil_median_h"] == pytest.approx(96.0)
    assert v["fulfil_p90_h"] == pytest.approx(340.8)
    assert v["fulfil_mean_h"] == pytest.approx(168.0)
    assert n["fulfil_mean_h"] == 5
    # sla known among the 7 closed: R1 T, R2 F, R3 T, R4 T, R8 F -> 3 / 5
    assert v["pct_within_sla"] == pytest.approx(60.0) and n["pct_within_sla"] == 5
    # scores among closed: R1 5, R2 3, R4 4, R8 2 -> mean 14 / 4 = 3.5; >= 4: R1 R4 -> 50 %
    assert v["csat_mean"] == pytest.approx(3.5) and n["csat_mean"] == 4
    assert v["pct_satisfied"] == pytest.approx(50.0)
    # response rate: 4 scored / 7 closed
    assert v["csat_response_rate"] == pytest.approx(100 * 4 / 7) and n["csat_response_rate"] == 7
    # reopen known: R1 0, R2 1, R3 0, R4 0, R8 0, R10 2 -> 2 / 6
    assert v["pct_reopened"] == pytest.approx(100 * 2 / 6) and n["pct_reopened"] == 6


def test_kpi_values_is_a_series_by_key(ten_requests, jan_2025) -> None:
    s = kpi_values(ten_requests, jan_2025, kpis=["received", "backlog"])
    assert s.name == "value"
    assert s.to_dict() == {"received": 8.0, "backlog": 3.0}


def test_observations(ten_requests, jan_2025) -> None:
    fulfil = observations(ten_requests, jan_2025, "fulfil_median_h")
    assert sorted(fulfil) == [24.0, 48.0, 96.0, 312.0, 360.0]
    # backlog: 10 requests opened before 1 Feb, 3 of them still open then
    backlog = observations(ten_requests, jan_2025, "backlog")
    assert len(backlog) == 10 and backlog.sum() == 3
    # sla indicator over the 5 known: 1 0 1 1 0
    assert sorted(observations(ten_requests, jan_2025, "pct_within_sla")) == [0, 0, 1, 1, 1]
    # fulfilled: indicator over the 7 closed
    assert observations(ten_requests, jan_2025, "fulfilled").tolist().count(1.0) == 5
    with pytest.raises(ConfigError, match="no per-request values"):
        observations(ten_requests, jan_2025, "throughput_ratio")


# ---------------------------------------------------------------- edge cases


def test_empty_period_gives_nan_everywhere(ten_requests) -> None:
    # before any request: every population is empty, even the backlog's (nothing opened yet)
    v = kpi_values(ten_requests, Period.from_dates("2020-01-01", "2020-01-31"))
    assert v.isna().all()
    assert math.isnan(v["received"])


def test_period_after_the_data_only_has_a_backlog(ten_requests) -> None:
    t = kpi_table(ten_requests, Period.from_dates("2026-01-01", "2026-01-31"))
    v = dict(zip(t["kpi"], t["value"], strict=True))
    # R6 and R7 are still open in 2026; all 10 were opened before the end
    assert v["backlog"] == 2
    assert all(math.isnan(x) for k, x in v.items() if k != "backlog")
    assert (t["n"][t["kpi"] != "backlog"] == 0).all()


def test_all_open_data(make_requests, jan_2025) -> None:
    df = make_requests([{"opened_at": "2025-01-05"}, {"opened_at": "2025-01-06"}])
    v = kpi_values(df, jan_2025)
    assert v["received"] == 2 and v["backlog"] == 2
    # nothing closed: closed-population KPIs are missing, not 0
    for key in ("fulfilled", "pct_fulfilled", "fulfil_median_h", "pct_within_sla", "csat_mean"):
        assert math.isnan(v[key]), key
    # 0 closed / 2 received is a real 0
    assert v["throughput_ratio"] == 0.0


def test_missing_optional_columns(make_requests, jan_2025) -> None:
    rows = [
        {"opened_at": "2025-01-02", "closed_at": "2025-01-03"},
        {"opened_at": "2025-01-04", "closed_at": "2025-01-06", "outcome": "declined"},
    ]
    df = make_requests(rows)
    v = kpi_values(df, jan_2025)
    for key in ("pct_within_sla", "csat_mean", "pct_satisfied", "pct_reopened", "assess_median_h"):
        assert math.isnan(v[key]), key
    # no survey score anywhere in the data: the response rate is not measured (NaN), not 0 %
    assert math.isnan(v["csat_response_rate"])
    assert v["fulfil_median_h"] == 24.0
    # same result when the optional columns are absent altogether
    bare = df[["request_id", "opened_at", "closed_at", "outcome"]]
    pd.testing.assert_series_equal(kpi_values(bare, jan_2025), v)
    # a survey that has answers elsewhere, none in this period: 0 scored / 2 closed = a real 0 %
    later = {"opened_at": "2025-03-02", "closed_at": "2025-03-03", "csat": 4}
    surveyed = make_requests([*rows, later])
    assert kpi_values(surveyed, jan_2025)["csat_response_rate"] == 0.0


def test_sla_met_derived_from_due_date_when_missing(make_requests, jan_2025) -> None:
    df = make_requests([
        {"opened_at": "2025-01-02", "closed_at": "2025-01-03", "sla_due_at": "2025-01-04"},
        {"opened_at": "2025-01-02", "closed_at": "2025-01-05", "sla_due_at": "2025-01-04"},
        {"opened_at": "2025-01-02", "closed_at": "2025-01-05", "sla_met": True},
    ])  # fmt: skip
    # met (3 <= 4), missed (5 > 4), given True -> 2 of 3
    assert kpi_values(df, jan_2025)["pct_within_sla"] == pytest.approx(200 / 3)


def test_timezone_opened_late_january_new_york_is_february_utc(make_requests) -> None:
    df = make_requests([{"opened_at": "2025-01-31 23:30-05:00"}])
    jan = Period.from_dates("2025-01-01", "2025-01-31")
    feb = Period.from_dates("2025-02-01", "2025-02-28")
    # 23:30 at UTC-5 is 04:30 on 1 February UTC
    assert math.isnan(kpi_values(df, jan, kpis="received")["received"])
    assert kpi_values(df, feb, kpis="received")["received"] == 1


def test_half_open_boundaries(make_requests, jan_2025) -> None:
    df = make_requests([
        # opened exactly at the start: received; closed exactly at the end: not closed in January
        {"opened_at": "2025-01-01 00:00", "closed_at": "2025-02-01 00:00"},
        # closed exactly at the start: closed in January
        {"opened_at": "2024-12-31 12:00", "closed_at": "2025-01-01 00:00"},
        # opened exactly at the end: not received
        {"opened_at": "2025-02-01 00:00"},
    ])  # fmt: skip
    v = kpi_values(df, jan_2025)
    assert v["received"] == 1
    assert v["fulfilled"] == 1
    assert v["fulfil_median_h"] == 12.0  # the one closed at the start: 12:00 -> 00:00
    # backlog at 1 Feb 00:00: the first (closed at the end instant) is still open then;
    # the third was not opened before the end
    assert v["backlog"] == 1


# ---------------------------------------------------------------- series


@pytest.fixture
def gap_frame(make_requests):
    return make_requests([
        {"opened_at": "2025-01-10", "closed_at": "2025-01-11"},  # S1: 24 h
        {"opened_at": "2025-01-20", "closed_at": "2025-03-05"},  # S2: 44 days = 1056 h
        {"opened_at": "2025-03-02", "closed_at": "2025-03-03"},  # S3: 24 h
    ])  # fmt: skip


def test_monthly_series_keeps_the_empty_month(gap_frame) -> None:
    q1 = Period.from_dates("2025-01-01", "2025-03-31")
    s = kpi_series(gap_frame, q1, freq="month")
    assert list(s.columns) == ["period_start", "period_end", "kpi", "value", "n"]
    assert len(s) == 3 * len(DESIGN_KEYS)
    starts = s["period_start"].drop_duplicates().dt.strftime("%Y-%m-%d").tolist()
    assert starts == ["2025-01-01", "2025-02-01", "2025-03-01"]
    feb = pd.Timestamp("2025-02-01", tz="UTC")
    mar = pd.Timestamp("2025-03-01", tz="UTC")
    jan = pd.Timestamp("2025-01-01", tz="UTC")
    assert _v(s, "received", period_start=jan) == 2
    assert math.isnan(_v(s, "received", period_start=feb))  # nothing opened in February
    assert _n(s, "received", period_start=feb) == 0
    assert math.isnan(_v(s, "fulfilled", period_start=feb))
    assert _v(s, "received", period_start=mar) == 1
    # backlog: end of Jan S2 open (n 2), end of Feb S2 open (n 2), end of Mar none open (n 3)
    assert [_v(s, "backlog", period_start=p) for p in (jan, feb, mar)] == [1, 1, 0]
    assert [_n(s, "backlog", period_start=p) for p in (jan, feb, mar)] == [2, 2, 3]
    # March closes S2 (1056 h) and S3 (24 h): median (24 + 1056) / 2 = 540
    assert _v(s, "fulfil_median_h", period_start=mar) == pytest.approx(540.0)
    assert _v(s, "fulfil_median_h", period_start=jan) == pytest.approx(24.0)


def test_weekly_series_bins_are_clipped_and_complete(gap_frame) -> None:
    q1 = Period.from_dates("2025-01-01", "2025-03-31")
    s = kpi_series(gap_frame, q1, freq="week", kpis="received")
    # Wednesday 1 Jan .. Monday 6 Jan (clipped), then 13 Monday-to-Monday weeks up to 31 Mar,
    # the last one 31 Mar .. 1 Apr (clipped): 14 bins
    assert len(s) == 14
    assert s["period_start"].iloc[0] == pd.Timestamp("2025-01-01", tz="UTC")
    assert s["period_end"].iloc[0] == pd.Timestamp("2025-01-06", tz="UTC")
    assert s["period_end"].iloc[-1] == pd.Timestamp("2025-04-01", tz="UTC")
    got = s.dropna(subset=["value"])
    # S1 Fri 10 Jan -> week of 6 Jan; S2 Mon 20 Jan 00:00 -> week starting that instant;
    # S3 Sun 2 Mar -> week of 24 Feb
    assert got["period_start"].dt.strftime("%m-%d").tolist() == ["01-06", "01-20", "02-24"]
    assert got["value"].tolist() == [1, 1, 1]
    assert s["value"].isna().sum() == 11


def test_backlog_at_the_end_of_successive_months(make_requests) -> None:
    df = make_requests([
        {"opened_at": "2025-01-05", "closed_at": "2025-02-10", "group": "X"},  # B1
        {"opened_at": "2025-01-20", "closed_at": "2025-03-15", "group": "X"},  # B2
        {"opened_at": "2025-02-20", "group": "Y"},  # B3 open
        {"opened_at": "2025-03-01", "closed_at": "2025-03-31 23:00", "group": "Y"},  # B4
        {"opened_at": "2024-12-15", "group": "X"},  # B5 open since before the period
        {"opened_at": "2025-01-31 23:59", "closed_at": "2025-02-01 00:00", "group": "Y"},  # B6
    ])  # fmt: skip
    q1 = Period.from_dates("2025-01-01", "2025-03-31")
    s = kpi_series(df, q1, freq="month", kpis="backlog")
    # 1 Feb: B1 B2 B5 B6 (closed exactly then) = 4 of 4 opened; 1 Mar: B2 B3 B5 = 3 of 5
    # (B4 opened exactly 1 Mar is not before the end); 1 Apr: B3 B5 = 2 of 6
    assert s["value"].tolist() == [4, 3, 2]
    assert s["n"].tolist() == [4, 5, 6]
    by = kpi_series(df, q1, freq="month", kpis="backlog", by="group")
    # X: B1 B2 B5 -> 3, 2 (B2 B5), 1 (B5); Y: B6 -> 1, 1 (B3), 1 (B3)
    assert by[by["group"] == "X"]["value"].tolist() == [3, 2, 1]
    assert by[by["group"] == "Y"]["value"].tolist() == [1, 1, 1]
    assert kpi_values(df, q1, kpis="backlog")["backlog"] == 2


# ---------------------------------------------------------------- breakdowns, scope


def test_breakdown_by_category(ten_requests, jan_2025) -> None:
    b = breakdown(ten_requests, jan_2025, by="category", min_group_size=1)
    assert list(b.columns) == ["category", "kpi", "value", "n"]
    assert b.attrs["hidden_groups"] == 0
    # A: R1 R2 R5 R7 received, R1 R2 R5 R8 closed (fulfilled R1 R2 R8), R7 open at end
    # B: R3 R4 R6 R9 received, R3 R4 R10 closed (fulfilled R4 R10), R6 R9 open at end
    assert _v(b, "received", category="A") == 4 and _v(b, "received", category="B") == 4
    assert _v(b, "fulfilled", category="A") == 3 and _v(b, "fulfilled", category="B") == 2
    assert _v(b, "backlog", category="A") == 1 and _v(b, "backlog", category="B") == 2
    # A fulfilled durations 24 48 360 -> median 48; B 96 312 -> median 204
    assert _v(b, "fulfil_median_h", category="A") == 48
    assert _v(b, "fulfil_median_h", category="B") == 204


def test_breakdown_totals_of_counts_equal_the_ungrouped_value(ten_requests, jan_2025) -> None:
    counts = ["received", "fulfilled", "declined", "cancelled", "backlog"]
    total = kpi_values(ten_requests, jan_2025, kpis=counts)
    for dim in ("category", "group", "priority"):
        b = breakdown(ten_requests, jan_2025, by=dim, kpis=counts, min_group_size=0)
        sums = b.groupby("kpi")["value"].sum()
        assert sums[counts].tolist() == total[counts].tolist(), dim


def test_breakdown_totals_on_synthetic_data() -> None:
    df = synthetic_requests(3000, start="2025-01-01", end="2025-07-01", seed=3)
    period = Period.from_dates("2025-02-01", "2025-05-31")
    counts = ["received", "fulfilled", "declined", "cancelled", "backlog"]
    total = kpi_values(df, period, kpis=counts)
    b = breakdown(df, period, by="group", kpis=counts, min_group_size=0)
    assert b.groupby("kpi")["value"].sum()[counts].tolist() == total[counts].tolist()
    assert total["received"] > 1000


def test_min_group_size_hides_small_groups(ten_requests, jan_2025) -> None:
    # received in January: G1 R1-R6 = 6, G2 R7 R9 = 2
    b = breakdown(ten_requests, jan_2025, by="group")  # default 5
    assert set(b["group"]) == {"G1"}
    assert b.attrs["hidden_groups"] == 1
    both = breakdown(ten_requests, jan_2025, by="group", min_group_size=2)
    assert set(both["group"]) == {"G1", "G2"} and both.attrs["hidden_groups"] == 0


def test_small_groups_are_hidden_by_each_kpis_own_population(ten_requests, jan_2025) -> None:
    # A: 4 received, 4 closed, 3 fulfilled; B: 4 received, 3 closed, 2 fulfilled
    b = breakdown(ten_requests, jan_2025, by="category", min_group_size=4,
                  kpis=["received", "pct_fulfilled", "fulfil_median_h"])  # fmt: skip
    shown = {(str(c), k) for c, k in zip(b["category"], b["kpi"], strict=True)}
    assert shown == {("A", "received"), ("B", "received"), ("A", "pct_fulfilled")}
    assert b.attrs["hidden_by_kpi"] == {"received": 0, "pct_fulfilled": 1, "fulfil_median_h": 2}
    assert b.attrs["hidden_groups"] == 0  # every group shows at least one KPI
    assert hidden_text(b, "fulfil_median_h").startswith("2 groups with fewer than 4 requests")
    assert hidden_text(b, "received") == ""
    # fulfil_median_h counts fulfilled requests: A (3) is shown at 3, B (2) is not
    only = breakdown(
        ten_requests, jan_2025, by="category", min_group_size=3, kpis="fulfil_median_h"
    )
    assert set(only["category"].astype(str)) == {"A"} and only["n"].tolist() == [3]


def test_missing_dimension_values_form_their_own_group(ten_requests, jan_2025) -> None:
    # nobody has a channel: one group "(missing)" with all 8 received
    b = breakdown(ten_requests, jan_2025, by="channel", kpis="received")
    assert b["channel"].tolist() == [K.MISSING_GROUP]
    assert b["value"].tolist() == [8]


def test_by_extra_column_and_unknown_column(make_requests, jan_2025) -> None:
    df = make_requests([
        {"opened_at": "2025-01-02", "site": "Paris"},
        {"opened_at": "2025-01-03", "site": "Oslo"},
        {"opened_at": "2025-01-04", "site": "Oslo"},
    ])  # fmt: skip
    t = kpi_table(df, jan_2025, by="site", kpis="received")
    assert dict(zip(t["site"], t["value"], strict=True)) == {"Oslo": 2, "Paris": 1}
    with pytest.raises(ConfigError) as exc:
        kpi_table(df, jan_2025, by="region")
    assert "region" in str(exc.value) and "site" in str(exc.value) and "category" in str(exc.value)


def test_scope_filter(ten_requests, jan_2025) -> None:
    assert len(scope_filter(ten_requests, {"category": "A"})) == 5
    assert len(scope_filter(ten_requests, {"category": ["A", "B"], "group": "G2"})) == 4
    assert scope_filter(ten_requests, None) is ten_requests
    assert (
        kpi_values(ten_requests, jan_2025, kpis="received", scope={"category": "A"})["received"]
        == 4
    )
    with pytest.raises(ConfigError, match="column 'team'"):
        scope_filter(ten_requests, {"team": "X"})
    with pytest.raises(ConfigError, match="'C' does not occur"):
        scope_filter(ten_requests, {"category": "C"})


# ---------------------------------------------------------------- custom KPIs


@pytest.fixture
def p1_kpi():
    kpi = register_kpi(
        KPI(
            key="pct_p1_requests",
            label="P1 share of demand",
            unit="%",
            better="lower",
            population="received",
            measure=lambda d: d["priority"] == "P1",
            agg="pct",
            kind="proportion",
            description="100 * share of requests received in the period with priority P1",
        )
    )
    yield kpi
    K.REGISTRY.pop(kpi.key)


def test_custom_kpi_behaves_like_a_builtin(p1_kpi, ten_requests, jan_2025) -> None:
    assert "pct_p1_requests" in kpi_catalogue()["key"].tolist()
    t = kpi_table(ten_requests, jan_2025)
    # received: R1-R7 R9; P1 among them R1 R6 R7 -> 3 / 8
    assert _v(t, "pct_p1_requests") == pytest.approx(37.5)
    b = breakdown(ten_requests, jan_2025, by="category", min_group_size=1)
    # A received R1 R2 R5 R7 (P1: R1 R7) -> 50 %; B R3 R4 R6 R9 (P1: R6) -> 25 %
    assert _v(b, "pct_p1_requests", category="A") == 50.0
    assert _v(b, "pct_p1_requests", category="B") == 25.0
    assert len(observations(ten_requests, jan_2025, "pct_p1_requests")) == 8


def test_custom_open_at_end_kpi_sees_bin_end(ten_requests, jan_2025) -> None:
    age = KPI("backlog_age_mean_h", "Mean age of backlog", "hours", "lower", "open_at_end",
              lambda d: (d["bin_end"] - d["opened_at"]) / pd.Timedelta(hours=1), "mean",
              "duration", "mean age of the requests open at the end")  # fmt: skip
    # open at 1 Feb: R6 (20 Jan, 288 h), R7 (25 Jan, 168 h), R9 (28 Jan, 96 h) -> 552 / 3 = 184
    assert kpi_values(ten_requests, jan_2025, kpis=[age])["backlog_age_mean_h"] == 184.0


# ---------------------------------------------------------------- cross-check against pandas


def test_engine_matches_plain_pandas_per_month_and_group() -> None:
    df = synthetic_requests(4000, start="2025-01-01", end="2025-05-01", seed=7)
    period = Period.from_dates("2025-01-01", "2025-04-30")
    s = kpi_series(df, period, freq="month", by="category",
                   kpis=["fulfil_median_h", "fulfil_p90_h", "assess_p90_h", "pct_within_sla"])  # fmt: skip
    closed = df[df["outcome"].isin(["fulfilled", "declined", "cancelled"])]
    closed = closed.assign(month=closed["closed_at"].dt.strftime("%Y-%m"))
    ful = closed[closed["outcome"] == "fulfilled"]
    hours = (ful["closed_at"] - ful["opened_at"]) / pd.Timedelta(hours=1)
    ref_med = hours.groupby([ful["month"], ful["category"]], observed=True).median()
    ref_p90 = hours.groupby([ful["month"], ful["category"]], observed=True).quantile(0.9)
    ref_sla = (
        closed["sla_met"]
        .astype(float)
        .groupby([closed["month"], closed["category"]], observed=True)
        .mean()
    )
    s = s.assign(month=s["period_start"].dt.strftime("%Y-%m"))
    for kpi, ref, scale in (("fulfil_median_h", ref_med, 1), ("fulfil_p90_h", ref_p90, 1),
                            ("pct_within_sla", ref_sla, 100)):  # fmt: skip
        got = s[s["kpi"] == kpi].set_index(["month", "category"])["value"]
        ref = (ref * scale).reindex(got.index)
        assert np.allclose(got.to_numpy(), ref.to_numpy(), equal_nan=True), kpi
    assessed = df[df["assessed_at"].notna()]
    a_hours = (assessed["assessed_at"] - assessed["opened_at"]) / pd.Timedelta(hours=1)
    a_month = assessed["assessed_at"].dt.strftime("%Y-%m")
    ref = a_hours.groupby([a_month, assessed["category"]], observed=True).quantile(0.9)
    got = s[s["kpi"] == "assess_p90_h"].set_index(["month", "category"])["value"]
    in_period = got.index.get_level_values(0) <= "2025-04"
    assert np.allclose(got[in_period], ref.reindex(got.index)[in_period], equal_nan=True)
