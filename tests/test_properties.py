"""Property-based tests (hypothesis) of the KPI engine's invariants.

Frames are drawn row by row (opened within 60 days of 2025-01-01, any outcome, a
closing time 0..40 days later unless open, optional assessment, csat, reopen count,
SLA flag, and a category that may be missing) and built with
``csi_lib.testing.make_requests``, so they have the exact canonical dtypes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csi_lib import kpis as K
from csi_lib.periods import Period
from csi_lib.testing import make_requests

#: The DESIGN.md catalogue (custom KPIs other tests register are left out).
DESIGN_KPIS = [
    "received", "fulfilled", "declined", "cancelled", "pct_fulfilled", "pct_declined",
    "backlog", "throughput_ratio", "assess_median_h", "assess_p90_h", "fulfil_median_h",
    "fulfil_p90_h", "fulfil_mean_h", "pct_within_sla", "csat_mean", "pct_satisfied",
    "csat_response_rate", "pct_reopened",
]  # fmt: skip
COUNTS = ["received", "fulfilled", "declined", "cancelled"]
PERCENTS = [k for k in DESIGN_KPIS if K.get_kpi(k).unit == "%"]
T0 = pd.Timestamp("2025-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def request_row(draw) -> dict:
    opened = T0 + draw(st.integers(0, 60 * 24)) * HOUR
    outcome = draw(st.sampled_from(["fulfilled", "declined", "cancelled", "open"]))
    row: dict = {"opened_at": opened, "outcome": outcome}
    if outcome != "open":
        row["closed_at"] = opened + draw(st.integers(0, 40 * 24 * 60)) * pd.Timedelta(minutes=1)
    if draw(st.booleans()):
        row["assessed_at"] = opened + draw(st.integers(0, 72 * 60)) * pd.Timedelta(minutes=1)
    row["category"] = draw(st.sampled_from(["Laptop", "Phone", "Access", None]))
    row["csat"] = draw(st.one_of(st.none(), st.integers(1, 5)))
    row["reopen_count"] = draw(st.one_of(st.none(), st.integers(0, 2)))
    row["sla_met"] = draw(st.one_of(st.none(), st.booleans()))
    return row


frames = st.lists(request_row(), min_size=0, max_size=40).map(make_requests)
#: Period edges in hours after T0 (the data spans about 0 .. 100 days).
cuts = st.lists(st.integers(-10 * 24, 110 * 24), min_size=3, max_size=3, unique=True).map(sorted)


def period(a: int, b: int) -> Period:
    return Period(T0 + a * HOUR, T0 + b * HOUR)


def values(df: pd.DataFrame, p: Period) -> pd.Series:
    return K.kpi_values(df, p, kpis=DESIGN_KPIS)


def closed_in(df: pd.DataFrame, p: Period) -> int:
    """Requests closed in the period, counted directly (DESIGN.md)."""
    closed = df["outcome"].isin(["fulfilled", "declined", "cancelled"])
    inside = (df["closed_at"] >= p.start) & (df["closed_at"] < p.end)
    return int((closed & inside.fillna(False)).sum())


@SETTINGS
@given(df=frames, c=cuts)
def test_fulfilled_declined_cancelled_add_up_to_closed(df, c):
    p = period(c[0], c[2])
    v = values(df, p)
    n_closed = closed_in(df, p)
    if n_closed == 0:
        # empty closed population: the three counts are missing, never 0
        assert v[["fulfilled", "declined", "cancelled"]].isna().all()
        return
    assert v["fulfilled"] + v["declined"] + v["cancelled"] == n_closed
    assert np.isclose(v["pct_fulfilled"], 100 * v["fulfilled"] / n_closed)


@SETTINGS
@given(df=frames, c=cuts)
def test_percentages_within_0_and_100(df, c):
    v = values(df, period(c[0], c[2]))
    pct = v[PERCENTS].dropna()
    assert ((pct >= 0) & (pct <= 100)).all(), pct.to_dict()
    series = K.kpi_series(df, period(c[0], c[2]), freq="week", kpis=PERCENTS)["value"].dropna()
    assert ((series >= 0) & (series <= 100)).all()


@SETTINGS
@given(df=frames, c=cuts)
def test_counts_over_adjacent_periods_add_up(df, c):
    a, b, union = period(c[0], c[1]), period(c[1], c[2]), period(c[0], c[2])
    va, vb, vu = values(df, a)[COUNTS], values(df, b)[COUNTS], values(df, union)[COUNTS]
    for key in COUNTS:
        # a missing count (empty population) contributes no request
        total = np.nansum([va[key], vb[key]])
        if np.isnan(vu[key]):
            assert np.isnan(va[key]) and np.isnan(vb[key]), key
        else:
            assert total == vu[key], key


@SETTINGS
@given(df=frames, c=cuts, seed=st.integers(0, 2**32 - 1))
def test_row_order_changes_no_kpi(df, c, seed):
    p = period(c[0], c[2])
    shuffled = df.sample(frac=1.0, random_state=np.random.RandomState(seed))
    before, after = values(df, p), values(shuffled, p)
    assert np.allclose(before.to_numpy(float), after.to_numpy(float), equal_nan=True, rtol=1e-12)
    by_before = K.kpi_table(df, p, by="category", kpis=COUNTS)
    by_after = K.kpi_table(shuffled.reset_index(drop=True), p, by="category", kpis=COUNTS)
    pd.testing.assert_frame_equal(by_before, by_after)


@SETTINGS
@given(df=frames, c=cuts)
def test_kpi_over_an_empty_population_is_missing(df, c):
    # before the first request there is no population at all: every KPI missing, none 0
    before = Period(T0 - 400 * 24 * HOUR, T0 - 300 * 24 * HOUR)
    assert values(df, before).isna().all()
    table = K.kpi_table(df, period(c[0], c[2]), kpis=DESIGN_KPIS)
    for row in table.itertuples():
        kpi = K.get_kpi(row.kpi)
        if row.n == 0 and kpi.agg != "func":
            assert np.isnan(row.value), row
        if kpi.agg == "count" and row.n > 0:
            assert not np.isnan(row.value), row


@SETTINGS
@given(df=frames, c=cuts)
def test_breakdown_totals_match_the_ungrouped_count(df, c):
    p = period(c[0], c[2])
    keys = [*COUNTS, "backlog"]
    whole = K.kpi_values(df, p, kpis=keys)
    by = K.kpi_table(df, p, by="category", kpis=keys)
    # rows with no category form the group "(missing)", so no request is lost; a group
    # absent from the table had no request counted (a group whose only rows are requests
    # closed before the end has backlog 0 and is left out), so it adds 0
    for key in keys:
        groups = by.loc[by["kpi"] == key, "value"]
        if np.isnan(whole[key]):
            assert groups.isna().all(), key
        else:
            assert np.nansum(groups.to_numpy(float)) == whole[key], key


@SETTINGS
@given(df=frames, c=cuts, min_size=st.integers(1, 8))
def test_breakdown_hides_small_groups_and_counts_them(df, c, min_size):
    p = period(c[0], c[2])
    full = K.kpi_table(df, p, by="category", kpis=["received"])
    shown = K.breakdown(df, p, by="category", kpis=["received"], min_group_size=min_size)
    received = full.set_index("category")["value"].fillna(0)
    small = received[received < min_size]
    assert set(shown["category"]) == set(received.index) - set(small.index)
    assert shown.attrs["hidden_groups"] == len(small)
