"""Faults: a report run killed mid-way, a full disk, a read-only folder, a hand-edited snapshot.

Tests run as root in CI, where ``chmod 0o555`` does not stop writes; read-only
folders and full disks are simulated by making the system call raise
``OSError(EROFS)`` / ``OSError(ENOSPC)`` at the exact place the library writes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from csi_lib import baseline as B
from csi_lib import storage
from csi_lib.cli import main
from csi_lib.errors import OutputError, SnapshotError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_requests.csv.gz"
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"
CORPUS = ROOT / "tests" / "bad_input"


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (symlinks: their target) under ``folder``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def raising(err: int):
    def fail(*args, **kwargs):
        raise OSError(err, os.strerror(err))

    return fail


# --------------------------------------------------------------------------------------
# SIGKILL in the middle of a report run
# --------------------------------------------------------------------------------------


def report_cmd(cycle: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "csi_lib", "report", str(cycle),
        "--stage", "1", "--as-of", "2026-04-15", "--out", str(out),
    ]  # fmt: skip


@pytest.mark.slow
def test_report_killed_midway_leaves_everything_as_it_was(tmp_path):
    # a private copy of the sample cycle, with its data beside it as in data/
    shutil.copy(SAMPLE, tmp_path / SAMPLE.name)
    cycle = tmp_path / "sample-cycle"
    shutil.copytree(SAMPLE_CYCLE, cycle)
    out = tmp_path / "reports"
    first = subprocess.run(report_cmd(cycle, out), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    parent = out / "2025-h2"
    assert os.readlink(parent / "latest") == "2026-04-15"
    reports_before = tree_digest(parent)
    cycle_before = tree_digest(cycle)

    victim = subprocess.Popen(
        report_cmd(cycle, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    staged = []
    while time.monotonic() < deadline and victim.poll() is None:
        staged = [p for p in parent.glob(".*.partial-*") if (p / "notebooks").is_dir()]
        if staged:
            break
        time.sleep(0.05)
    assert staged, "the run never reached its staging folder"
    time.sleep(1.0)  # into the stage notebook
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    # the previous report, `latest` and the cycle folder are exactly as they were;
    # the killed run left only its hidden staging folder and the lock file
    after = tree_digest(parent)
    visible = {k: v for k, v in after.items() if not k.startswith(".")}
    assert visible == {k: v for k, v in reports_before.items() if not k.startswith(".")}
    assert tree_digest(cycle) == cycle_before
    assert sorted(p.name for p in parent.iterdir() if not p.name.startswith(".")) == [
        "2026-04-15",
        "latest",
    ]

    # the next run takes the lock (the dead run's lock died with it), succeeds,
    # removes the dead run's staging folder and writes a new folder beside the old one
    again = subprocess.run(report_cmd(cycle, out), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert os.readlink(parent / "latest") == "2026-04-15_2"
    assert not list(parent.glob(".*.partial-*"))
    assert {k: v for k, v in tree_digest(parent).items() if k.startswith("2026-04-15/")} == {
        k: v for k, v in reports_before.items() if k.startswith("2026-04-15/")
    }
    assert tree_digest(cycle) == cycle_before
    assert (parent / "2026-04-15_2" / "index.html").is_file()


# --------------------------------------------------------------------------------------
# Disk full / read-only folder
# --------------------------------------------------------------------------------------


def test_atomic_write_disk_full_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    monkeypatch.setattr(storage.os, "replace", raising(errno.ENOSPC))
    with pytest.raises(OutputError) as info:
        storage.atomic_write(target, "new\n", overwrite=True)
    assert "the disk is full" in str(info.value)
    assert "Free some space" in str(info.value)
    assert str(target) in str(info.value)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"], "no temporary file left"


def test_atomic_write_read_only_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(storage.tempfile, "mkstemp", raising(errno.EROFS))
    with pytest.raises(OutputError) as info:
        storage.atomic_write(tmp_path / "x.csv", "a\n")
    assert "read-only" in str(info.value) and "writable" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("err", "says"), [(errno.EROFS, "read-only"), (errno.ENOSPC, "the disk is full")]
)
def test_cli_quarantine_file_on_a_read_only_or_full_disk(err, says, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(storage.os, "replace", raising(err))
    q = tmp_path / "q"
    status = main(
        ["validate", str(CORPUS / "closed_before_opened.csv"), "--quarantine-dir", str(q)]
    )
    out, errtext = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in out + errtext
    assert errtext.startswith("error: file '") and says in errtext
    assert not [p for p in q.rglob("*") if p.is_file()], "no partial quarantine file"


def test_cli_baseline_disk_full(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(B.os, "rename", raising(errno.ENOSPC))
    out = tmp_path / "baselines" / "2025-03"
    status = main(["baseline", str(CORPUS / "bom_utf8.csv"), "--out", str(out)])
    _, err = capsys.readouterr()
    assert status == 2, err
    assert "snapshot cannot be written" in err and "free space" in err and "Traceback" not in err
    assert not out.exists()
    assert not [p for p in (tmp_path / "baselines").iterdir() if p.name.startswith(".")]


def test_report_on_a_read_only_folder(tmp_path, monkeypatch):
    from csi_lib.report import build_report

    monkeypatch.setattr(os, "mkdir", raising(errno.EROFS))
    with pytest.raises(OutputError) as info:
        build_report(data=str(SAMPLE), stages=["1"], out=tmp_path / "reports")
    assert "cannot be made" in str(info.value) and "writable --out" in str(info.value)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_report_disk_full_while_writing_leaves_no_staging_folder(tmp_path, monkeypatch):
    """A full disk after the stages ran: a clear OutputError, no half-written report."""
    import csi_lib.report as R
    import csi_lib.report.run as stage_run  # where the stages are executed and exported

    monkeypatch.setattr(stage_run, "execute_stage", fake_stage)
    monkeypatch.setattr(
        stage_run, "export_html", lambda executed, path, **kw: path.write_text("<p>")
    )
    monkeypatch.setattr(storage.os, "replace", raising(errno.ENOSPC))
    with pytest.raises(OutputError) as info:
        R.build_report(data=str(SAMPLE), stages=["1"], out=tmp_path / "reports", as_of="2026-04-15")
    assert "the disk is full" in str(info.value)
    parent = tmp_path / "reports" / "sample_requests"
    assert sorted(p.name for p in parent.iterdir()) == [".lock"]


def fake_stage(stage, params, executed, **_kw):
    from csi_lib.report.execute import StageRun

    executed.parent.mkdir(parents=True, exist_ok=True)
    executed.write_text("{}")
    return StageRun(stage=stage, executed=executed, ok=True, error=None, seconds=0.0)


# --------------------------------------------------------------------------------------
# A snapshot edited by hand
# --------------------------------------------------------------------------------------


@pytest.fixture
def saved_snapshot(tmp_path, make_requests, jan_2025):
    df = make_requests(
        [
            {"opened_at": "2025-01-06 09:00", "closed_at": "2025-01-06 17:00", "category": "A"},
            {"opened_at": "2025-01-07 09:00", "closed_at": "2025-01-08 09:00", "category": "A"},
            {"opened_at": "2025-01-08 09:00", "category": "B"},
        ]
    )
    snap = B.create_snapshot(
        df, jan_2025, source="x.csv", fingerprint="0" * 64, mapping={"name": "generic"},
        rows={"read": 3, "kept": 3, "quarantined": 0},
    )  # fmt: skip
    return snap.save(tmp_path / "baseline")


def test_untouched_snapshot_loads(saved_snapshot):
    snap = B.load_snapshot(saved_snapshot)
    # 3 received in January 2025; 2 fulfilled
    assert snap.kpi_values["received"] == 3
    assert snap.kpi_values["fulfilled"] == 2


def test_edited_table_is_detected(saved_snapshot):
    table = pd.read_parquet(saved_snapshot / "kpis.parquet")
    table.loc[table["kpi"] == "received", "value"] = 2.0
    table.to_parquet(saved_snapshot / "kpis.parquet", index=False)
    with pytest.raises(SnapshotError) as info:
        B.load_snapshot(saved_snapshot)
    assert "kpis.parquet" in str(info.value) and "edited by hand" in str(info.value)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["kpis"].update(received=30.0),
        lambda m: m["period"].update(end="2025-03-01T00:00:00+00:00"),
        lambda m: m.update(source="other.csv"),
    ],
    ids=["kpi value", "period", "source"],
)
def test_edited_manifest_is_detected(saved_snapshot, edit):
    path = saved_snapshot / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest, indent=2))
    with pytest.raises(SnapshotError) as info:
        B.load_snapshot(saved_snapshot)
    assert "manifest.json" in str(info.value) and "edited by hand" in str(info.value)


def test_snapshot_without_its_seal_is_unverifiable(saved_snapshot):
    """A manifest without manifest_sha256 cannot be checked: deleting the seal must not
    switch the check off (issue 10, item 8)."""
    path = saved_snapshot / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest[B.MANIFEST_HASH]
    path.write_text(json.dumps(manifest, indent=2))
    with pytest.raises(SnapshotError) as info:
        B.load_snapshot(saved_snapshot)
    text = str(info.value).lower()
    assert "manifest.json" in text and "no seal" in text and "re-create" in text


def test_shipped_sample_baseline_is_sealed():
    """The sample cycle's baseline carries its seal, and it matches (every byte is covered)."""
    path = SAMPLE_CYCLE / "baseline" / "manifest.json"
    manifest = json.loads(path.read_text())
    assert manifest[B.MANIFEST_HASH] == B._manifest_digest(manifest)
    assert B.load_snapshot(path.parent).kpi_values["received"] > 0
    manifest["kpis"]["received"] += 1
    assert manifest[B.MANIFEST_HASH] != B._manifest_digest(manifest)


def test_edited_snapshot_through_the_cli(tmp_path, capsys):
    """csi report on a cycle whose baseline was edited: exit 2 before any stage runs."""
    shutil.copy(SAMPLE, tmp_path / SAMPLE.name)
    cycle = tmp_path / "sample-cycle"
    shutil.copytree(SAMPLE_CYCLE, cycle)
    from csi_lib.cycle import open_cycle

    table = pd.read_parquet(cycle / "baseline" / "series_month.parquet")
    table.loc[0, "value"] = table.loc[0, "value"] + 1
    table.to_parquet(cycle / "baseline" / "series_month.parquet", index=False)
    with pytest.raises(SnapshotError) as info:
        open_cycle(cycle, as_of="2026-04-15").baseline_snapshot()
    assert "series_month.parquet" in str(info.value)
