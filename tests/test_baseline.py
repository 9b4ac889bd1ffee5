"""Baseline snapshots: content, save/load round trip, immutability, tamper detection."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

import csi_lib
from csi_lib import baseline as B
from csi_lib.baseline import create_snapshot, load_snapshot, redact, row_counts
from csi_lib.errors import SnapshotError

MAPPING = {"name": "generic-csv", "timezone": "UTC", "columns": {"request_id": "id"}}


@pytest.fixture
def snap(ten_requests, jan_2025):
    return create_snapshot(
        ten_requests,
        jan_2025,
        source="postgresql://ana:s3cret@db/itsm",
        fingerprint="ab" * 32,
        mapping=MAPPING,
        rows={"read": 11, "kept": 10, "quarantined": 1},
        min_group_size=4,
    )


def test_snapshot_content(snap) -> None:
    m = snap.manifest
    assert m["period"] == {
        "start": "2025-01-01T00:00:00+00:00",
        "end": "2025-02-01T00:00:00+00:00",
        "from": "2025-01-01",
        "to": "2025-01-31",
    }
    # hand-worked in test_kpis: 8 received, backlog 3, median fulfilment 96 h
    assert m["kpis"]["received"] == 8 and m["kpis"]["backlog"] == 3
    assert m["kpis"]["fulfil_median_h"] == 96
    assert m["source"] == "postgresql://ana:***@db/itsm"
    assert m["library_version"] == csi_lib.__version__
    assert m["rows"] == {"read": 11, "kept": 10, "quarantined": 1}
    # channel has no data in the ten requests, so it is not a default breakdown
    assert m["by"] == ["category", "priority", "group"]
    # min_group_size 4: category A 4, B 4 received; group G1 6, G2 2 -> one hidden;
    # priority P1 3 (R1 R6 R7), P2 2, P3 2, P4 1 (R9) -> all four hidden
    assert m["hidden_groups"] == {"category": 0, "priority": 4, "group": 1}
    assert snap.kpi_values["fulfil_p90_h"] == pytest.approx(340.8)
    assert list(snap.breakdowns.columns) == ["dimension", "group", "kpi", "value", "n"]
    assert set(snap.breakdowns["dimension"]) == {"category", "group"}
    # one month and the five ISO weeks of January (1-6, 6-13, 13-20, 20-27, 27-1 Feb)
    assert snap.series_month["period_start"].nunique() == 1
    assert snap.series_week["period_start"].nunique() == 5
    assert {"label", "unit", "better", "kind"} <= set(snap.kpis.columns)


def test_missing_kpi_is_null_in_manifest(make_requests, jan_2025, tmp_path) -> None:
    df = make_requests([{"opened_at": "2025-01-03"}])  # nothing closed
    snap = create_snapshot(df, jan_2025, source="x.csv", fingerprint="0", mapping={}, rows={})
    snap.save(tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["kpis"]["fulfil_median_h"] is None
    assert manifest["kpis"]["received"] == 1
    assert manifest["by"] == []
    assert math.isnan(load_snapshot(tmp_path / "b").kpi_values["fulfil_median_h"])


def test_save_load_round_trip(snap, tmp_path) -> None:
    out = snap.save(tmp_path / "baseline")
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["manifest.json", *B.TABLES.values()])
    back = load_snapshot(out)
    assert back.manifest == snap.manifest
    assert set(back.manifest["files"]) == set(B.TABLES.values())
    pd.testing.assert_frame_equal(back.kpis, snap.kpis)
    pd.testing.assert_frame_equal(back.series_month, snap.series_month)
    pd.testing.assert_frame_equal(back.series_week, snap.series_week)
    pd.testing.assert_frame_equal(back.breakdowns, snap.breakdowns)
    pd.testing.assert_series_equal(back.kpi_values, snap.kpi_values)
    assert back.period == snap.period
    # no temporary folder left beside it
    assert [p.name for p in tmp_path.iterdir()] == ["baseline"]


def test_save_into_empty_folder_is_allowed(snap, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    snap.save(tmp_path / "empty")
    assert load_snapshot(tmp_path / "empty").manifest["kpis"]["received"] == 8


def test_refuses_to_overwrite(snap, tmp_path) -> None:
    snap.save(tmp_path / "b")
    before = (tmp_path / "b" / "manifest.json").read_bytes()
    with pytest.raises(SnapshotError, match="snapshots are immutable: choose another --out"):
        snap.save(tmp_path / "b")
    assert (tmp_path / "b" / "manifest.json").read_bytes() == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(SnapshotError, match="immutable"):
        snap.save(other)


def test_crash_leaves_nothing_half_written(snap, tmp_path, monkeypatch) -> None:
    calls = []

    def failing_hash(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return "0" * 64

    monkeypatch.setattr(B, "sha256_file", failing_hash)
    with pytest.raises(RuntimeError):
        snap.save(tmp_path / "b")
    assert list(tmp_path.iterdir()) == []


def test_tampered_parquet_is_named(snap, tmp_path) -> None:
    out = snap.save(tmp_path / "b")
    target = out / "series_month.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(SnapshotError) as exc:
        load_snapshot(out)
    msg = str(exc.value)
    assert "series_month.parquet" in msg and "edited by hand? snapshots are immutable" in msg


def test_missing_file_and_not_a_snapshot(snap, tmp_path) -> None:
    out = snap.save(tmp_path / "b")
    (out / "breakdowns.parquet").unlink()
    with pytest.raises(SnapshotError, match="breakdowns.parquet.*missing"):
        load_snapshot(out)
    with pytest.raises(SnapshotError, match="not a baseline snapshot"):
        load_snapshot(tmp_path)


def test_redact() -> None:
    assert redact("mssql://sa:p@ss@host/db") == "mssql://sa:***@host/db"
    assert redact("Server=x;Password=hunter2;") == "Server=x;Password=***;"
    assert redact("data/export.csv") == "data/export.csv"


def test_row_counts_of_a_load_result() -> None:
    class Load:  # the three counters of csi_lib.sources.LoadResult
        rows_read, rows_kept, rows_quarantined = 12, 9, 3

    assert row_counts(Load()) == {"read": 12, "kept": 9, "quarantined": 3}
