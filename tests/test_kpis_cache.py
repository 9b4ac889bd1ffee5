"""Issue 12: the opt-in cache of ``csi kpis`` (``--cache DIR`` or ``CSI_CACHE_DIR``).

The second call on an unchanged export reads the validated load from the cache instead of
parsing the file, and prints the same bytes; a changed file or mapping loads again; rows
quarantined for lying in the future are never cached; nothing is written unless asked.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from csi_lib import runstore
from csi_lib.cli import main
from csi_lib.sample import generate_requests
from csi_lib.sources import load_requests


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """2,000 requests as CSV.gz with two bad rows (closed before opened, csat out of range)."""
    df = generate_requests(rows=2_000, seed=7)
    df.loc[4, "closed_at"] = df.loc[4, "opened_at"] - pd.Timedelta(hours=2)
    df.loc[4, "outcome"] = "fulfilled"
    df.loc[9, "csat"] = 11.0
    path = tmp_path / "export.csv.gz"
    df.to_csv(path, index=False)
    return path


def _run(args: list[str], capsys) -> tuple[str, str]:
    assert main(args) == 0
    out, err = capsys.readouterr()
    return out, err


def _quarantine_files(folder: Path) -> list[str]:
    return sorted(p.read_text() for p in folder.glob("quarantine-*.csv"))


@pytest.mark.parametrize(
    "extra", [["--format", "json"], ["--by", "category", "--format", "csv"], ["--freq", "month"]]
)
def test_second_call_reads_the_cache_and_prints_the_same(
    export, tmp_path, capsys, load_calls, extra, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    args = ["kpis", str(export), *extra, "--cache", str(tmp_path / "cache")]
    first, first_err = _run(args, capsys)
    assert len(load_calls) == 1 and len(list((tmp_path / "cache").iterdir())) == 1
    second, second_err = _run(args, capsys)
    assert len(load_calls) == 1  # read from the cache, not parsed
    assert second == first  # byte for byte
    assert second_err.split(" (see")[0] == first_err.split(" (see")[0]  # counts, warnings
    # the quarantine file is written again, with the same rows
    files = _quarantine_files(tmp_path / "quarantine")
    assert len(files) == 2 and files[0] == files[1] and files[0].count("\n") == 3
    # without the cache: the same output from a fresh load
    plain, _ = _run(args[:-2], capsys)
    assert plain == first and len(load_calls) == 2


def test_cache_folder_from_the_environment(export, tmp_path, capsys, load_calls, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(runstore.CACHE_ENV, str(tmp_path / "env-cache"))
    args = ["kpis", str(export), "--format", "json"]
    assert _run(args, capsys)[0] == _run(args, capsys)[0]
    assert len(load_calls) == 1 and (tmp_path / "env-cache").is_dir()


def test_nothing_written_unless_asked(export, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(runstore.CACHE_ENV, raising=False)
    before = sorted(p.name for p in tmp_path.iterdir())
    _run(["kpis", str(export), "--format", "json"], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "quarantine"])


def test_changed_file_or_mapping_loads_again(export, tmp_path, capsys, load_calls, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache"
    args = ["kpis", str(export), "--format", "json", "--cache", str(cache)]
    first, _ = _run(args, capsys)
    # the same bytes rewritten (a new modification time) still hit
    export.write_bytes(export.read_bytes())
    _run(args, capsys)
    assert len(load_calls) == 1
    # other bytes: loaded again, and the output follows the file
    df = generate_requests(rows=2_500, seed=8)
    df.to_csv(export, index=False)
    changed, _ = _run(args, capsys)
    assert len(load_calls) == 2 and changed != first
    # a mapping file edited between calls: loaded again
    mapping = tmp_path / "mapping.yaml"
    spec = load_requests(export, preset="generic").mapping.model_dump(mode="json")
    mapping.write_text(yaml.safe_dump(spec))
    with_mapping = [*args, "--mapping", str(mapping)]
    assert _run(with_mapping, capsys)[0] == changed
    assert len(load_calls) == 3  # the load just above: the preset's contents in a file hit
    spec["name"] = "ours"
    mapping.write_text(yaml.safe_dump(spec))
    _run(with_mapping, capsys)
    _run(with_mapping, capsys)
    assert len(load_calls) == 4
    del spec["columns"]["csat"]  # no satisfaction scores read any more
    mapping.write_text(yaml.safe_dump(spec))
    edited, _ = _run(with_mapping, capsys)
    assert len(load_calls) == 5 and edited != changed
    assert len(list(cache.iterdir())) == 4


def test_rows_in_the_future_are_not_cached(tmp_path, load_calls):
    df = generate_requests(rows=300, seed=3)
    df.loc[0, "opened_at"] = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=30)
    path = tmp_path / "future.csv"
    df.to_csv(path, index=False)
    first = runstore.cached_load(path, tmp_path / "cache", preset="generic")
    assert first.rows_quarantined == 1
    runstore.cached_load(path, tmp_path / "cache", preset="generic")
    assert len(load_calls) == 2 and not list((tmp_path / "cache").glob("[!.]*"))


def test_cached_load_equals_a_fresh_load(export, tmp_path):
    fresh = load_requests(export, preset="generic")
    runstore.cached_load(export, tmp_path / "cache", preset="generic")
    cached = runstore.cached_load(export, tmp_path / "cache", preset="generic")
    pd.testing.assert_frame_equal(cached.data, fresh.data)
    pd.testing.assert_frame_equal(cached.quarantine, fresh.quarantine)
    assert cached.summary() == fresh.summary()
