"""Stage 2's baseline statistics: computed once per scope and shared by the SMART check
and the target contexts of a cycle, with the same numbers as one target at a time."""

from __future__ import annotations

import pandas as pd
import pytest

import csi_lib as csi
from csi_lib.kpis import values as kpi_values
from csi_lib.targets import cycle_smart_check, cycle_target_contexts
from csi_lib.targets.context import _Evaluator


@pytest.fixture(scope="module")
def cycle():
    return csi.open_cycle(csi.SAMPLE_DATA.parent / "sample-cycle", as_of="2026-04-15")


def _count_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for name in ("kpi_table", "kpi_series"):
        real = getattr(kpi_values, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(kpi_values, name, counted)
        monkeypatch.setattr(f"csi_lib.kpis.{name}", counted)
    return calls


def test_prefetched_stats_equal_one_target_at_a_time(cycle):
    targets = list(cycle.targets.targets)
    period = cycle.planned_periods["baseline"]
    together = _Evaluator(cycle.data, baseline_period=period, freq="month")
    together.prefetch(targets)
    for t in targets:
        alone = _Evaluator(cycle.data, baseline_period=period, freq="month").stats(t.kpi, t.scope)
        mine = together.stats(t.kpi, t.scope)
        assert (mine.value, mine.n, mine.lowest, mine.highest) == (
            alone.value,
            alone.n,
            alone.lowest,
            alone.highest,
        ) or pd.isna(alone.value)
        pd.testing.assert_frame_equal(mine.history, alone.history)
        pd.testing.assert_frame_equal(mine.series, alone.series)
        if alone.chart is None:
            assert mine.chart is None
        else:
            pd.testing.assert_frame_equal(mine.chart, alone.chart)


def test_smart_check_and_contexts_compute_once_per_scope(cycle, monkeypatch):
    cycle.__dict__.pop("_target_evaluators", None)
    calls = _count_calls(monkeypatch)
    smart = cycle_smart_check(cycle)
    contexts = cycle_target_contexts(cycle)
    scopes = {tuple(sorted((t.scope or {}).items())) for t in cycle.targets.targets}
    # one KPI table and one series per scope, for the check and the contexts together
    # (kpi_series is a kpi_table by month: two kpi_table calls per scope)
    assert calls.count("kpi_table") == 2 * len(scopes)
    assert calls.count("kpi_series") == len(scopes)
    assert len(contexts) == len(cycle.targets.targets)
    assert set(smart["target"]) == {t.id for t in cycle.targets.targets}


def test_a_scope_the_data_cannot_serve_is_still_reported_by_the_check(cycle):
    from csi_lib.targets import smart_check

    bad = cycle.targets.model_copy(deep=True) if hasattr(cycle.targets, "model_copy") else None
    if bad is None:
        pytest.skip("targets are not a pydantic model")
    bad.targets[0].scope = {"category": ["No such category"]}
    smart = smart_check(
        bad,
        df=cycle.data,
        baseline_period=cycle.planned_periods["baseline"],
        cycle_end="2026-03-31",
        objectives={"O1", "O2"},
    )
    first = smart[smart["target"] == bad.targets[0].id].set_index("letter")
    assert first.loc["S", "verdict"] in ("warn", "fail")
