"""The engine materialises a population's rows only for the KPIs that need them; every
KPI's values, and the cells shown, are the same whichever KPIs are asked for together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csi_lib.kpis import engine, kpi_catalogue, kpi_table, memo
from csi_lib.periods import Period
from csi_lib.testing import synthetic_requests


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return synthetic_requests(20_000, seed=3)


@pytest.mark.parametrize("freq", [None, "month", "week"])
@pytest.mark.parametrize("by", [None, "category"])
def test_each_kpi_alone_equals_all_together(df, freq, by):
    period = Period.from_dates("2024-03-01", "2024-12-31")
    everything = kpi_table(df, period, freq=freq, by=by)
    for key in kpi_catalogue()["key"]:
        memo.clear()  # computed afresh, not taken from what the first call kept
        alone = kpi_table(df, period, freq=freq, by=by, kpis=[key])
        mine = everything[everything["kpi"] == key].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone.reset_index(drop=True), mine, check_categorical=False)


@pytest.mark.parametrize("freq", [None, "month", "week"])
@pytest.mark.parametrize("by", [None, "category"])
def test_open_counts_equal_the_materialised_rows(df, by, freq):
    period = Period.from_dates("2024-01-01", "2024-12-31")
    edges = engine._edges(period, freq)
    df = df.copy()  # and rows the loader would have refused: no opened_at, closed before
    df.loc[df.index[:40], "opened_at"] = pd.NaT
    df.loc[df.index[40:80], "closed_at"] = df.loc[df.index[40:80], "opened_at"] - pd.Timedelta(
        days=40
    )
    codes, labels = engine._groups(engine._prepare(df), by)
    n_groups = len(labels) if labels is not None else 1
    n_cells = (len(edges) - 1) * n_groups
    rows = engine._population(df, "open_at_end", edges, codes, n_groups)
    counts = engine._population(df, "open_at_end", edges, codes, n_groups, rows_needed=False)
    assert counts.cell.size == 0 and rows.cell.size > 0
    np.testing.assert_array_equal(counts.occupied, np.bincount(rows.cell, minlength=n_cells))
    np.testing.assert_array_equal(counts.size, rows.size)
