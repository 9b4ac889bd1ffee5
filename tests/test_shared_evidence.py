"""Issue 12: stage 5's statistical evidence is computed once per report run and read by stage 6.

A report run stores its load in ``CSI_RUN_DATA`` (:mod:`csi_lib.runstore`); the evidence of
each target is stored there too, keyed by the data's fingerprint and mapping, the KPI, scope,
periods and method. Stage 6 then reads it instead of running the tests again; a load with
another fingerprint never reuses it.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pandas as pd
import pytest

from csi_lib import momentum, review, runstore
from csi_lib.cycle import open_cycle
from csi_lib.sources import load_requests

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-cycle"
DATA = SAMPLE.parent / "sample_requests.csv.gz"
AS_OF = "2026-04-15"
#: the module (``csi_lib.review.assess`` is also the name of its function)
assess_mod = importlib.import_module("csi_lib.review.assess")


@pytest.fixture(scope="module")
def load():
    return load_requests(DATA, preset="generic")


@pytest.fixture
def run(tmp_path, monkeypatch, load) -> Path:
    """A report run's folder holding its one load, as ``csi report`` stores it."""
    key = runstore.load_key(str(DATA), load.mapping)
    folder = runstore.save(load, tmp_path / ".run-data", key=key, source=str(DATA))
    monkeypatch.setenv(runstore.ENV, str(folder))
    return folder


@pytest.fixture
def compares(monkeypatch) -> list[str]:
    """Every statistical test a target's evidence runs from now on (KPI keys)."""
    real = assess_mod.compare
    calls: list[str] = []

    def counting(*args, **kwargs):
        calls.append(kwargs.get("kind", ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(assess_mod, "compare", counting)
    return calls


def _stage_6(cycle) -> pd.DataFrame:
    """What stage 6 computes from the review: the proposal, its note and the review table."""
    rv = review.assess(cycle)
    proposal = momentum.propose_next(rv, id="2026-h1", preview=True)
    momentum.proposal_note(proposal)
    return review.review_table(rv)


def test_stage_6_reads_the_evidence_stage_5_stored(run, compares, monkeypatch):
    stage_5 = review.review_table(open_cycle(SAMPLE, as_of=AS_OF))
    assert len(compares) == len(stage_5) == 5  # computed once, by stage 5
    assert len(list((run / runstore.EVIDENCE_DIR).glob("*.json"))) == 5
    compares.clear()
    stage_6 = _stage_6(open_cycle(SAMPLE, as_of=AS_OF))
    assert compares == []  # read, not computed again
    pd.testing.assert_frame_equal(stage_6, stage_5)
    # the same verdicts and numbers as computed outside a run, with nothing stored
    monkeypatch.delenv(runstore.ENV)
    pd.testing.assert_frame_equal(review.review_table(open_cycle(SAMPLE, as_of=AS_OF)), stage_5)


def test_evidence_of_other_data_is_computed_again(run, compares, load):
    review.review_table(open_cycle(SAMPLE, as_of=AS_OF))
    compares.clear()
    cycle = open_cycle(SAMPLE, as_of=AS_OF)
    cycle.load = dataclasses.replace(load, fingerprint="0" * 64)  # another export's bytes
    _stage_6(cycle)
    assert len(compares) == 5
    # other periods (an earlier as_of) are other questions too
    compares.clear()
    review.review_table(open_cycle(SAMPLE, as_of="2026-02-15"))
    assert len(compares) == 5


def test_outside_a_run_nothing_is_stored(tmp_path, compares, monkeypatch):
    monkeypatch.delenv(runstore.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    review.review_table(open_cycle(SAMPLE, as_of=AS_OF))
    review.review_table(open_cycle(SAMPLE, as_of=AS_OF))
    assert len(compares) == 10 and list(tmp_path.iterdir()) == []


def test_each_target_is_measured_once_per_run(run, monkeypatch):
    """Stages 4, 5 and 6 each assess every target: the values and series of the first are
    stored in the run folder and read by the others, equal to measuring again."""
    calls: list[str] = []
    real = assess_mod._measured
    monkeypatch.setattr(
        assess_mod, "_measured", lambda s, p, k, f: calls.append(k.key) or real(s, p, k, f)
    )
    stage_4 = review.progress_table(open_cycle(SAMPLE, as_of=AS_OF))
    assert len(calls) == 5 and len(list((run / runstore.MEASURED_DIR).glob("*.json"))) == 5
    rv = review.assess(open_cycle(SAMPLE, as_of=AS_OF))  # the next stage, a new kernel
    stored = {t.target.id: t for t in rv}
    assert len(calls) == 5  # read, not measured again
    monkeypatch.delenv(runstore.ENV)
    fresh = review.assess(open_cycle(SAMPLE, as_of=AS_OF))
    for t in fresh:
        got = stored[t.target.id]
        for attr in ("baseline_value", "baseline_n", "action_value", "review_value", "review_n"):
            assert getattr(got, attr) == getattr(t, attr) or (
                pd.isna(getattr(got, attr)) and pd.isna(getattr(t, attr))
            ), attr
        pd.testing.assert_frame_equal(got.series, t.series)
    pd.testing.assert_frame_equal(review.progress_table(fresh), stage_4)
