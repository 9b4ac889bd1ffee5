"""Big Parquet files are read a batch of rows at a time (csi_lib.sources.blocks): the load is
the same as reading the whole file at once, bad rows, duplicates across blocks, missing
values, category columns and typed columns included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_bad_input import SAME_EITHER_WAY

from csi_lib import sources
from csi_lib.testing import synthetic_requests

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_input"


def load_both_ways(monkeypatch, path, rows_per_block=7, **kw):
    whole = sources.load_requests(path, **kw)
    calls = []
    real = sources.blocks._ParquetBlocks.blocks

    def counted(self, *a):
        calls.append(1)
        return real(self, *a)

    monkeypatch.setattr(sources.blocks, "STREAM_MIN_ROWS", 0)
    monkeypatch.setattr(sources.blocks, "STREAM_BLOCK_ROWS", rows_per_block)
    monkeypatch.setattr(sources.blocks._ParquetBlocks, "blocks", counted)
    blocks = sources.load_requests(path, **kw)
    monkeypatch.undo()
    assert calls, "the file was not read in blocks"
    return whole, blocks


def assert_same(whole, blocks):
    pd.testing.assert_frame_equal(blocks.data, whole.data)
    pd.testing.assert_frame_equal(
        blocks.quarantine.astype("string"), whole.quarantine.astype("string")
    )
    for attr in (
        "rows_read",
        "rows_kept",
        "rows_quarantined",
        "rows_collapsed",
        "rows_blank",
        "fingerprint",
        "warnings",
        "columns_used",
        "adjusted_values",
    ):
        assert getattr(blocks, attr) == getattr(whole, attr), attr


#: the CSV files the CSV block reader is checked on (tests/test_bad_input.py), and empty rows
TEXT_FILES = [*SAME_EITHER_WAY, (CORPUS / "blank_rows.csv", {})]


@pytest.mark.parametrize(("csv", "kw"), TEXT_FILES, ids=[p.name for p, _ in TEXT_FILES])
def test_text_columns_in_blocks_load_the_same(csv, kw, tmp_path, monkeypatch):
    path = tmp_path / (csv.stem + ".parquet")
    pd.read_csv(csv, dtype=str, keep_default_na=False, sep=None, engine="python").to_parquet(path)
    assert_same(*load_both_ways(monkeypatch, path, **kw))


def typed_export(n: int = 400) -> pd.DataFrame:
    """A typed export (timestamps, numbers, dictionary-encoded text) with the rows a
    loader must refuse or collapse, spread over many blocks."""
    df = synthetic_requests(n, seed=5)
    df["request_id"] = df["request_id"].astype("str")
    df.loc[3, "opened_at"] = pd.NaT  # no opened_at: quarantined
    df.loc[10, "closed_at"] = df.loc[10, "opened_at"] - pd.Timedelta(days=3)  # before opened
    df.loc[350, "request_id"] = df.loc[20, "request_id"]  # differing rows, one id: both out
    df.loc[390] = df.loc[30]  # an exact copy far away: collapsed
    df.loc[100:140, "category"] = None
    df["category"] = df["category"].astype("str").astype("category")  # dictionary in Parquet
    df["channel"] = df["channel"].astype("str").replace({"Portal": " Portal "})  # spaces
    df["csat"] = df["csat"].astype("float64")  # whole numbers until the last block ...
    df.loc[380, "csat"] = 3.5  # ... not there: the column stays float everywhere
    df.loc[df.index.isin([3, 10, 20, 200, 350]), "csat"] = (
        4.0  # the quarantine shows 4.0, in every block
    )
    df["reopen_count"] = df["reopen_count"].astype("float64")  # whole numbers only
    df.loc[200, "opened_at"] = pd.Timestamp("2099-01-01", tz="UTC")  # in the future
    return df


@pytest.mark.parametrize("rows_per_block", [7, 64, 1000])
def test_typed_columns_in_blocks_load_the_same(tmp_path, monkeypatch, rows_per_block):
    path = tmp_path / "typed.parquet"
    typed_export().to_parquet(path)
    whole, blocks = load_both_ways(monkeypatch, path, rows_per_block=rows_per_block)
    assert_same(whole, blocks)
    assert whole.rows_quarantined >= 4 and whole.rows_collapsed == 1
    assert str(blocks.data["reopen_count"].dtype) == "Int64"


def test_integer_and_float_ids_in_blocks(tmp_path, monkeypatch):
    df = typed_export(120)
    n = len(df)
    odd = (np.arange(n) % (n - 3)).astype("float64")
    odd[-1] = 0.5  # one id that is not a whole number: every id is read as a float
    for ids in (np.arange(n) % (n - 3), (np.arange(n) % (n - 3)).astype("float64"), odd):
        df["request_id"] = ids  # three ids given twice, across blocks
        path = tmp_path / "ids.parquet"
        df.to_parquet(path)
        whole, blocks = load_both_ways(monkeypatch, path)
        assert_same(whole, blocks)


def test_small_or_damaged_files_are_read_whole(tmp_path):
    small = tmp_path / "small.parquet"
    typed_export(50).to_parquet(small)
    assert sources.blocks._block_source(small, sources.load_mapping()) is None
    assert sources.blocks._ParquetBlocks.open(CORPUS / "truncated.parquet") is None


def test_only_a_file_read_in_blocks_fixes_the_malloc_threshold(tmp_path, monkeypatch):
    """csi kpis on a file read whole keeps glibc's default (faster up to ~1M rows); a big
    file read in blocks fixes the threshold so freed blocks go back to the system."""
    path = tmp_path / "export.parquet"
    typed_export(50).to_parquet(path)
    calls: list[int] = []
    monkeypatch.setattr(sources.blocks, "return_freed_memory", lambda: calls.append(1) or True)
    sources.load_requests(path)
    assert calls == []
    monkeypatch.setattr(sources.blocks, "STREAM_MIN_ROWS", 0)
    sources.load_requests(path)
    assert calls == [1]
