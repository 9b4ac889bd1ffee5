"""Stage 6 (csi_lib.momentum, csi cycle next/history): the next cycle and the history of cycles.

The sample cycle is copied once (module-scoped) into a workspace with its data
file beside it, as in the repository; ``next`` runs on that copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from csi_lib import cli, momentum
from csi_lib.baseline import load_snapshot
from csi_lib.cli import momentum as cli_momentum
from csi_lib.cycle import check_cycle, open_cycle
from csi_lib.errors import ConfigError, OutputError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample-cycle"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("ws")
    old = ws / "2025-h2"
    old.mkdir()
    for name in ("cycle.yaml", "vision.yaml", "targets.yaml", "plan.yaml"):
        shutil.copy2(SAMPLE / name, old / name)
    shutil.copy2(REPO / "data" / "sample_requests.csv.gz", ws / "sample_requests.csv.gz")
    return ws


@pytest.fixture(scope="module")
def next_run(workspace):
    old = workspace / "2025-h2"
    before = _hashes(old)
    new = momentum.next_cycle(old, id="2026-h1")
    return old, new, before


def test_old_cycle_unchanged(next_run):
    old, _, before = next_run
    assert _hashes(old) == before  # every file byte for byte, none added


def test_new_cycle_is_valid(next_run):
    _, new, _ = next_run
    assert new == next_run[0].parent / "2026-h1"
    assert check_cycle(new) == []
    assert (new / "vision.yaml").read_bytes() == (next_run[0] / "vision.yaml").read_bytes()


def test_new_periods(next_run):
    config = yaml.safe_load((next_run[1] / "cycle.yaml").read_text())
    # the old review 2026-01-01..03-31 is the baseline; 6 months of action, 3 of review after it
    assert config["baseline"] == {"from": dt.date(2026, 1, 1), "to": dt.date(2026, 3, 31)}
    assert config["action"] == {"from": dt.date(2026, 4, 1), "to": dt.date(2026, 9, 30)}
    assert config["review"] == {"from": dt.date(2026, 10, 1), "to": dt.date(2026, 12, 31)}
    assert config["data"] == {"source": "../sample_requests.csv.gz", "preset": "generic"}


def test_targets_restated_and_held(next_run):
    text = (next_run[1] / "targets.yaml").read_text()
    targets = {t["id"]: t for t in yaml.safe_load(text)["targets"]}
    # T4 (csat 4.3, not met) is re-stated unchanged, due at the end of the new cycle
    assert targets["T4"] == {
        "id": "T4", "kpi": "csat_mean", "kind": "maximize", "value": 4.3,
        "due": dt.date(2026, 12, 31), "objective": "O3", "owner": "Service desk team leads",
        "note": "Customers should rate the service highly, not just tolerate it.",
    }  # fmt: skip
    # T1 (Laptop 28 h, met) becomes "hold the gain": never looser than 28 h; it was due at
    # the end of the old action period, so it is due at the end of the new one
    t1 = targets["T1"]
    assert (t1["kind"], t1["scope"], t1["due"]) == (
        "maintain_below",
        {"category": "Laptop"},
        dt.date(2026, 9, 30),
    )
    assert t1["value"] <= 28.0
    # T3 was a relative target (-20 %): re-stated as an absolute value
    assert "change" not in targets["T3"] and targets["T3"]["value"] > 0
    assert "# not met in 2025-h2" in text and "hold the gain" in text
    words = " ".join(text.replace("#", " ").split())  # comments wrap over lines
    assert "hold the gain, keep at or below the stricter of" in words  # the kind in words


def test_plan_carried(next_run):
    plan = yaml.safe_load((next_run[1] / "plan.yaml").read_text())
    # I1 and I2 are done; I3 (in progress) moves to the new action period; I4 is proposed to
    # realise the rest of I2's benefit on T3 (6,419 of 7,408 hours expected were realised)
    assert [i["id"] for i in plan["initiatives"]] == ["I3", "I4"]
    assert plan["initiatives"][0]["start"] == dt.date(2026, 4, 1)
    # I3's benefit on the reopened share was not established: carried whole
    assert plan["initiatives"][0]["benefits"] == [
        {"kpi": "pct_reopened", "change": -0.5, "value": "agent_hour"}
    ]
    assert plan["initiatives"][1]["targets"] == ["T3"]
    assert plan["initiatives"][1]["benefits"] == [
        {"target": "T3", "change": -0.2, "value": "customer_hour"}  # -1.5 x (1 - 6,419 / 7,408)
    ]
    # the values those benefits name come along in cycle.yaml
    config = yaml.safe_load((next_run[1] / "cycle.yaml").read_text())
    assert config["value"] == {"customer_hour": 30.0, "agent_hour": 45.0, "currency": "EUR"}
    assert [r["id"] for r in plan["register"]] == ["R1", "R2", "R3", "R4", "R5", "R6"]


def test_new_baseline_snapshot(next_run):
    snap = load_snapshot(next_run[1] / "baseline")
    assert snap.period.label == "2026-01-01 to 2026-03-31"


def test_refuses_existing_folder(next_run):
    old, new, before = next_run
    with pytest.raises(OutputError):
        momentum.next_cycle(old, id="2026-h1")
    assert _hashes(old) == before


def test_refuses_review_not_over(workspace, tmp_path):
    with pytest.raises(ConfigError, match="is not over"):
        momentum.next_cycle(workspace / "2025-h2", id="x", out=tmp_path, as_of="2026-02-01")
    assert not (tmp_path / "x").exists()


def test_propose_writes_nothing(tmp_path):
    before = _hashes(SAMPLE.parent)
    proposal = momentum.propose_next(open_cycle(SAMPLE, as_of="2026-04-15"), id="2026-h1")
    assert list(proposal.targets_table()["id"]) == ["T1", "T2", "T3", "T4", "T5"]
    assert list(proposal.plan_table()["id"]) == ["I3", "I4"]
    carried = proposal.benefits_table()
    assert list(carried["Benefit of"]) == ["Median time to assess", "Reopened"]
    assert carried["Why"].str.contains("realised 6,419 of the 7,408 hours of waiting saved").any()
    assert _hashes(SAMPLE.parent) == before


def test_history(next_run):
    history = momentum.cycle_history(next_run[0].parent)
    assert list(history["cycle"].unique()) == ["2025-h2", "2026-h1"]
    old = history[history["cycle"] == "2025-h2"].set_index("target")
    assert old.loc["T1", "target_value"] == 28.0
    assert bool(old.loc["T1", "met"]) is True and bool(old.loc["T4", "met"]) is False
    new = history[history["cycle"] == "2026-h1"].set_index("target")
    # the new baseline is the old achieved value; nothing is achieved yet
    assert new.loc["T1", "baseline"] == pytest.approx(old.loc["T1", "achieved"])
    assert new["achieved"].isna().all()


def test_cli_next_and_history(next_run, tmp_path):
    cli_momentum.register(cli.app)
    runner = CliRunner()
    old = next_run[0]
    result = runner.invoke(
        cli.app, ["cycle", "next", str(old), "--id", "2026-h1b", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert check_cycle(tmp_path / "2026-h1b") == []
    result = runner.invoke(cli.app, ["cycle", "history", str(old.parent)])
    assert result.exit_code == 0, result.output
    assert "2025-h2" in result.output and "not met" in result.output
    # an existing folder: a one-paragraph error and exit status 2
    assert cli.main(["cycle", "next", str(old), "--id", "2026-h1b", "--out", str(tmp_path)]) == 2


def test_history_figure_of_one_cycle_draws_nothing():
    """One cycle gives single dots, not a history: the figure is empty (nb.nonempty hides it)."""
    import pandas as pd

    from csi_lib.charts.review import history_figure
    from csi_lib.nb import nonempty

    row = {"cycle": "2025-h2", "label": "Median time to fulfil", "kpi": "fulfil_median_h",
           "baseline": 41.8, "target_value": 28.0, "achieved": 26.6}  # fmt: skip
    one = pd.DataFrame([row, {**row, "label": "Closed within SLA", "kpi": "pct_within_sla"}])
    assert nonempty(history_figure(one)) is None
    two = pd.concat([one, one.assign(cycle="2026-h1")], ignore_index=True)
    fig = history_figure(two)
    assert nonempty(fig) is fig and len(fig.data) == 6  # 2 KPIs x baseline, target, achieved
