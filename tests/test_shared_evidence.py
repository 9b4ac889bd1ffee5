"""Stage 5's statistical evidence and each target's measurements are computed once per
saved run and read by the later stages.

A report run saves its run (:meth:`csi_lib.run.Run.save`); each stage opens it from its
``run_dir`` (:func:`csi_lib.run.open_run`). The evidence of each target is stored in that
folder, keyed by the data (fingerprint, mapping, the as-of cut), the KPI, scope, periods and
method, so a result is only reused for the very same question; outside a saved run nothing
is stored.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pandas as pd
import pytest

from csi_lib import momentum, review
from csi_lib.cycle import open_cycle
from csi_lib.run import make_run, open_run
from csi_lib.sources import load_requests

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-cycle"
DATA = SAMPLE.parent / "sample_requests.csv.gz"
AS_OF = "2026-04-15"
#: the module (``csi_lib.review.assess`` is also the name of its function)
assess_mod = importlib.import_module("csi_lib.review.assess")


@pytest.fixture(scope="module")
def load():
    return load_requests(DATA, preset="generic")


def _saved(folder: Path, load, as_of: str = AS_OF) -> Path:
    """A run of the sample cycle saved as ``csi report`` saves it."""
    return make_run(SAMPLE, as_of=as_of).use(load).save(folder)


@pytest.fixture
def run(tmp_path, load) -> Path:
    return _saved(tmp_path / ".run-data", load)


def _stage(folder: Path):
    """A stage kernel's cycle: opened from the run folder."""
    return open_cycle(open_run(folder))


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


def _stage_5(cycle) -> pd.DataFrame:
    """What stage 5 computes: the review table and the benefits (whose KPI named by a plan's
    benefit, the sample's reopened share, is judged as a target is)."""
    from csi_lib import benefits

    rv = review.assess(cycle)
    benefits.target_benefits(rv)
    return review.review_table(rv)


def _stage_6(cycle) -> pd.DataFrame:
    """What stage 6 computes from the review: the proposal, its note and the review table."""
    rv = review.assess(cycle)
    proposal = momentum.propose_next(rv, id="2026-h1", preview=True)
    momentum.proposal_note(proposal)
    return review.review_table(rv)


def test_stage_6_reads_the_evidence_stage_5_stored(run, compares, load):
    stage_5 = _stage_5(_stage(run))
    # computed once, by stage 5: 5 targets and the reopened share of I3's benefit
    assert len(compares) == len(stage_5) + 1 == 6
    # and the means behind T1's and T3's hours of waiting saved (Welch, csi_lib.benefits)
    assert len(list((run / "evidence").glob("*.json"))) == 8
    compares.clear()
    stage_6 = _stage_6(_stage(run))
    assert compares == []  # read, not computed again
    pd.testing.assert_frame_equal(stage_6, stage_5)
    # the same verdicts and numbers as computed outside a run, with nothing stored
    live = open_cycle(SAMPLE, as_of=AS_OF)
    live.run.use(load)
    pd.testing.assert_frame_equal(review.review_table(live), stage_5)


def test_evidence_of_other_data_is_computed_again(tmp_path, compares, load):
    review.review_table(_stage(_saved(tmp_path / "a", load)))
    compares.clear()
    other = dataclasses.replace(load, fingerprint="0" * 64)  # another export's bytes
    _stage_6(_stage(_saved(tmp_path / "b", other)))
    assert len(compares) == 6  # 5 targets, and the KPI a benefit of the plan names
    # another as-of date is another question too
    compares.clear()
    review.review_table(_stage(_saved(tmp_path / "c", load, "2026-02-15")))
    assert len(compares) == 5


def test_outside_a_run_nothing_is_stored(tmp_path, compares, monkeypatch, load):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        cycle = open_cycle(SAMPLE, as_of=AS_OF)
        cycle.run.use(load)
        review.review_table(cycle)
    assert len(compares) == 10 and list(tmp_path.iterdir()) == []


def test_each_target_is_measured_once_per_run(run, monkeypatch, load):
    """Stages 4, 5 and 6 each assess every target: the values and series of the first are
    stored in the run folder and read by the others, equal to measuring again."""
    calls: list[str] = []
    real = assess_mod._measured
    monkeypatch.setattr(
        assess_mod, "_measured", lambda s, p, k, *a: calls.append(k.key) or real(s, p, k, *a)
    )
    stage_4 = review.progress_table(_stage(run))
    assert len(calls) == 5 and len(list((run / "measured").glob("*.json"))) == 5
    rv = review.assess(_stage(run))  # the next stage, a new kernel
    stored = {t.target.id: t for t in rv}
    assert len(calls) == 5  # read, not measured again
    live = open_cycle(SAMPLE, as_of=AS_OF)
    live.run.use(load)
    fresh = review.assess(live)
    for t in fresh:
        got = stored[t.target.id]
        for attr in ("baseline_value", "baseline_n", "action_value", "review_value", "review_n"):
            assert getattr(got, attr) == getattr(t, attr) or (
                pd.isna(getattr(got, attr)) and pd.isna(getattr(t, attr))
            ), attr
        pd.testing.assert_frame_equal(got.series, t.series)
    pd.testing.assert_frame_equal(review.progress_table(fresh), stage_4)
