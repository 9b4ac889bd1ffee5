"""What the KPI engine keeps per frame (csi_lib.kpis.memo): the same numbers as computing
afresh, populations computed once per (frame, bins, grouping), nothing kept for a frame
that changed, bounded memory, and nothing kept once the frame is gone."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from csi_lib.kpis import breakdown, engine, kpi_catalogue, kpi_series, kpi_table, memo
from csi_lib.periods import Period
from csi_lib.testing import synthetic_requests

PERIOD = Period.from_dates("2024-03-01", "2024-12-31")
KEYS = list(kpi_catalogue()["key"])


@pytest.fixture
def df() -> pd.DataFrame:
    memo.clear()
    return synthetic_requests(5_000, seed=11)


@pytest.fixture
def population_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str | None]]:
    calls: list[tuple[int, str | None]] = []
    real = engine._populations

    def counted(df, kpis, edges, codes, n_groups):
        calls.append((len(edges) - 1, n_groups))
        return real(df, kpis, edges, codes, n_groups)

    monkeypatch.setattr(engine, "_populations", counted)
    return calls


def _afresh(df: pd.DataFrame, **kw) -> pd.DataFrame:
    memo.clear()
    return kpi_table(df.copy(), PERIOD, **kw)


@pytest.mark.parametrize(("freq", "by"), [(None, None), ("week", None), (None, "category")])
def test_one_kpi_at_a_time_equals_all_at_once_afresh(df, population_calls, freq, by):
    for key in KEYS:  # the way a review asks: one target's KPI after another
        kpi_table(df, PERIOD, freq=freq, by=by, kpis=[key])
    assert len(population_calls) == 1  # the populations of these bins, once
    kept = kpi_table(df, PERIOD, freq=freq, by=by)
    assert len(population_calls) == 1
    pd.testing.assert_frame_equal(kept, _afresh(df, freq=freq, by=by))


def test_each_bins_and_grouping_has_its_own_populations(df, population_calls):
    kpi_series(df, PERIOD, freq="month", kpis=["received"])
    kpi_series(df, PERIOD, freq="week", kpis=["received"])
    breakdown(df, PERIOD, by="channel", kpis=["received"])
    kpi_series(df, PERIOD, freq="month", kpis=["backlog", "fulfil_median_h"])
    assert [bins for bins, _ in population_calls] == [10, 45, 1]


def test_backlog_after_counts_only_is_right(df):
    """The requests open at each bin's end are first kept as counts only; a KPI that
    measures them later gets their rows computed again."""
    kpi_series(df, PERIOD, freq="week", kpis=["received"])
    later = kpi_series(df, PERIOD, freq="week", kpis=["backlog"])
    memo.clear()
    fresh = kpi_series(df.copy(), PERIOD, freq="week", kpis=["backlog"])
    pd.testing.assert_frame_equal(later, fresh)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.__setitem__("outcome", d["outcome"].where(d.index % 3 != 0)),
        lambda d: d.loc.__setitem__((d.index[:800], "closed_at"), pd.NaT),
        lambda d: d.iloc.__setitem__(
            (slice(0, 900), d.columns.get_loc("opened_at")), pd.Timestamp("2024-06-01", tz="UTC")
        ),  # fmt: skip
        lambda d: d.update(pd.DataFrame({"csat": 1.0}, index=d.index[:3000])),
    ],
    ids=["column replaced", "values set with loc", "values set with iloc", "updated in place"],
)
def test_a_changed_frame_is_computed_again(df, change):
    kpi_table(df, PERIOD, freq="month", by="category")
    change(df)
    after = kpi_table(df, PERIOD, freq="month", by="category")
    pd.testing.assert_frame_equal(after, _afresh(df, freq="month", by="category"))


def test_a_change_is_seen_in_the_numbers(df):
    before = kpi_table(df, PERIOD, kpis=["fulfilled"])["value"].iloc[0]
    df.loc[df.index[::2], "closed_at"] = pd.NaT
    after = kpi_table(df, PERIOD, kpis=["fulfilled"])["value"].iloc[0]
    assert 0 < after < before


def test_nothing_is_kept_once_the_frame_is_gone():
    memo.clear()
    frame = synthetic_requests(1_000, seed=2)
    kpi_table(frame, PERIOD)
    assert len(memo._MEMOS) == 1
    del frame
    gc.collect()
    assert len(memo._MEMOS) == 0


def test_memory_is_bounded(df, monkeypatch):
    monkeypatch.setattr(memo, "MAX_ENTRIES", 2)
    for freq in ("month", "week", None):
        kpi_series(df, PERIOD, freq=freq, kpis=["received"]) if freq else kpi_table(df, PERIOD)
    (kept,) = [m for _r, m in memo._MEMOS.values()]
    assert len(kept.entries) == 2
    monkeypatch.setattr(memo, "MAX_BYTES", 1)
    table = kpi_series(df, PERIOD, freq="week", kpis=["received", "fulfil_median_h"])
    assert all(not e.pops for e in kept.entries.values())  # rows dropped, numbers kept
    memo.clear()
    fresh = kpi_series(df.copy(), PERIOD, freq="week", kpis=["received", "fulfil_median_h"])
    pd.testing.assert_frame_equal(table, fresh)


def test_a_scope_is_selected_once(df, monkeypatch):
    calls = []
    real = engine.scope_filter
    monkeypatch.setattr(engine, "scope_filter", lambda d, s: calls.append(s) or real(d, s))
    scope = {"category": "Laptop"}
    first = kpi_table(df, PERIOD, kpis=["received"], scope=scope)
    second = kpi_table(df, PERIOD, kpis=["fulfil_median_h"], scope=scope)
    assert len(calls) == 1
    memo.clear()
    laptops = df[df["category"] == "Laptop"]
    assert first["value"].iloc[0] == len(laptops[laptops["opened_at"].between(
        PERIOD.start, PERIOD.end, inclusive="left")])  # fmt: skip
    assert np.isclose(
        second["value"].iloc[0],
        kpi_table(laptops, PERIOD, kpis=["fulfil_median_h"])["value"].iloc[0],
    )


def test_measures_are_kept_from_their_second_use(df, monkeypatch):
    kpi_table(df, PERIOD, kpis=["fulfil_median_h", "pct_within_sla"])
    kept = memo._MEMOS[id(df)][1]
    assert kept.measures and all(v is None for v in kept.measures.values())  # one pass: none
    series = kpi_series(df, PERIOD, freq="week", kpis=["fulfil_median_h", "pct_within_sla"])
    values = [v for v in kept.measures.values() if v is not None]
    assert len(values) == 2 and not any(v.flags.writeable for v in values)
    again = kpi_series(df, PERIOD, freq="month", kpis=["fulfil_median_h", "pct_within_sla"])
    memo.clear()
    fresh = df.copy()
    pd.testing.assert_frame_equal(
        series, kpi_series(fresh, PERIOD, freq="week", kpis=["fulfil_median_h", "pct_within_sla"])
    )
    pd.testing.assert_frame_equal(
        again, kpi_series(fresh, PERIOD, freq="month", kpis=["fulfil_median_h", "pct_within_sla"])
    )
    monkeypatch.setattr(memo, "MAX_MEASURE_BYTES", 1)
    kpi_table(df, PERIOD, kpis=["fulfil_median_h"])
    kpi_table(df, PERIOD, freq="month", kpis=["fulfil_median_h"])
    kept = memo._MEMOS[id(df)][1]
    assert all(v is None for v in kept.measures.values())  # over the budget: none kept


def test_groups_take_the_rows_of_the_ungrouped_populations(df, population_calls):
    table = kpi_table(df, PERIOD)
    by_group = {
        by: breakdown(df, PERIOD, by=by, min_group_size=1) for by in ("category", "channel")
    }
    weekly = kpi_series(df, PERIOD, freq="week")
    weekly_by = kpi_series(df, PERIOD, freq="week", by="priority")
    assert len(population_calls) == 2  # the period and the weeks: no pass for a grouping
    memo.clear()
    fresh = df.copy()
    pd.testing.assert_frame_equal(table, kpi_table(fresh, PERIOD))
    for by, got in by_group.items():
        pd.testing.assert_frame_equal(got, breakdown(fresh, PERIOD, by=by, min_group_size=1))
    pd.testing.assert_frame_equal(weekly, kpi_series(fresh, PERIOD, freq="week"))
    pd.testing.assert_frame_equal(weekly_by, kpi_series(fresh, PERIOD, freq="week", by="priority"))
