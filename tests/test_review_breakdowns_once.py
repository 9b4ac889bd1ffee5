"""Stage 5 asks for the breakdowns twice (table and chart): computed once per review."""

from __future__ import annotations

import pandas as pd

import csi_lib as csi
from csi_lib import review
from csi_lib.kpis import values as kpi_values


def test_breakdowns_are_computed_once_per_review(monkeypatch):
    cycle = csi.open_cycle(csi.SAMPLE_DATA.parent / "sample-cycle", as_of="2026-04-15")
    rv = review.assess(cycle)
    calls = []
    real = kpi_values.breakdown

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(kpi_values, "breakdown", counted)
    monkeypatch.setattr("csi_lib.kpis.breakdown", counted)
    first = review.breakdowns(rv, formatted=True)
    n = len(calls)
    assert n > 0
    table = review.breakdowns(rv)
    table.loc[:, "baseline"] = -1.0  # a caller changing its copy changes nothing stored
    again = review.breakdowns(rv)
    assert len(calls) == n
    assert (again["baseline"] != -1.0).any()
    assert again.attrs["hidden_note"] == table.attrs["hidden_note"]
    pd.testing.assert_frame_equal(review.breakdowns(rv, formatted=True), first)
