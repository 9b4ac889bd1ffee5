"""Issue 12: stage 6's history of cycles reads what each cycle stored, never its data.

A workspace holds the sample cycle (with its sealed baseline snapshot), the next cycle
written by ``csi cycle next`` (its baseline snapshot is the sample cycle's review period)
whose data file is then deleted, and a third cycle whose data file is unreadable bytes and
which has no snapshot. The history comes from the snapshots alone: the loader is never
called for a sibling, the values equal those measured on the data, and what is not stored
is shown as such.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from csi_lib import momentum, review
from csi_lib.charts.review import history_figure
from csi_lib.cycle import open_cycle

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample-cycle"
VALUES = ["baseline", "target_value", "achieved", "met"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("history")
    shutil.copytree(SAMPLE, ws / "2025-h2")
    shutil.copy2(REPO / "data" / "sample_requests.csv.gz", ws / "sample_requests.csv.gz")
    new = momentum.next_cycle(ws / "2025-h2", id="2026-h1")
    # the next cycle's own export, deleted since
    config = yaml.safe_load((new / "cycle.yaml").read_text())
    config["data"]["source"] = "gone.csv.gz"
    (new / "cycle.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    # a draft cycle beside them: no snapshot, an export no reader can take
    draft = ws / "2026-h1-draft"
    draft.mkdir()
    for name in ("vision.yaml", "targets.yaml", "plan.yaml"):
        shutil.copy2(new / name, draft / name)
    config.update(id="2026-h1-draft", data={"source": "huge.parquet", "preset": "generic"})
    (draft / "cycle.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (draft / "huge.parquet").write_bytes(b"\x00not parquet" * 100_000)
    return ws


def _measured(folder: Path) -> pd.DataFrame:
    """The values measured on the data (what the history computed before it stored nothing)."""
    rv = review.assess(open_cycle(folder))
    rows = [
        {
            "target": tr.id,
            "baseline": tr.baseline_value,
            "target_value": tr.target_value,
            "achieved": tr.review_value,
            "met": tr.met,
        }
        for tr in rv
    ]
    return pd.DataFrame(rows).set_index("target")


def test_history_from_stored_snapshots_never_loads(workspace, load_calls):
    history = momentum.cycle_history(workspace)
    assert load_calls == []  # no cycle's data was read
    assert list(history["cycle"].unique()) == ["2025-h2", "2026-h1", "2026-h1-draft"]
    old = history[history["cycle"] == "2025-h2"].set_index("target")
    assert (old["state"] == momentum.STORED).all()
    # the same values as measured on the data
    expected = _measured(workspace / "2025-h2")
    for column in ("baseline", "target_value", "achieved"):
        pd.testing.assert_series_equal(
            old[column].astype("float64"), expected[column].astype("float64"), check_names=False
        )
    assert old["met"].tolist() == expected["met"].tolist()
    assert old["met"].tolist() == [True, True, True, False, True]
    # the next cycle: its baseline stored (the old achieved value), no review stored yet
    new = history[history["cycle"] == "2026-h1"].set_index("target")
    assert new.loc["T1", "baseline"] == pytest.approx(old.loc["T1", "achieved"])
    assert new["achieved"].isna().all() and new["met"].isna().all()
    assert (new["state"] == momentum.NO_REVIEW).all()
    # the draft: nothing stored, said so, no error
    draft = history[history["cycle"] == "2026-h1-draft"]
    assert draft[["baseline", "achieved"]].isna().all().all()
    assert draft["state"].str.startswith(momentum.NO_BASELINE).all()


def test_stage_6_measures_only_its_own_cycle(workspace, load_calls):
    """Stage 6 of the sample cycle: one load (its own data), siblings from their snapshots;
    the sample cycle's rows and figure are those of the history measured on the data."""
    rv = review.assess(open_cycle(workspace / "2025-h2", as_of="2026-04-15"))
    history = momentum.cycle_history(workspace, current=rv)
    assert len(load_calls) == 1 and Path(load_calls[0]).name == "sample_requests.csv.gz"
    own = history[history["cycle"] == "2025-h2"]
    assert (own["state"] == momentum.MEASURED).all()
    stored = momentum.cycle_history(workspace)
    pd.testing.assert_frame_equal(
        own[VALUES].reset_index(drop=True),
        stored[stored["cycle"] == "2025-h2"][VALUES].reset_index(drop=True),
    )
    assert history_figure(history).to_json() == history_figure(stored).to_json()


def test_scoped_value_not_in_a_snapshot_is_stated(workspace, tmp_path):
    """A scope of two values has no breakdown in a snapshot: empty values, a stated state."""
    ws = tmp_path / "ws"
    shutil.copytree(workspace / "2025-h2", ws / "2025-h2")
    shutil.copytree(workspace / "2026-h1", ws / "2026-h1")
    path = ws / "2025-h2" / "targets.yaml"
    targets = yaml.safe_load(path.read_text())
    targets["targets"][0]["scope"] = {"category": ["Laptop", "Access request"]}
    path.write_text(yaml.safe_dump(targets, sort_keys=False))
    history = momentum.cycle_history(ws).set_index(["cycle", "target"])
    row = history.loc[("2025-h2", "T1")]
    assert pd.isna(row["baseline"]) and pd.isna(row["achieved"]) and row["met"] is None
    assert row["state"] == momentum.NOT_STORED
    assert history.loc[("2025-h2", "T2"), "state"] == momentum.STORED
