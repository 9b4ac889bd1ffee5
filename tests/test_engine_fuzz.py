"""Differential tests: hostile cells through the SQL engines against the pandas engine.

Each example takes 150 requests of the sample as the export's text and puts odd cells
into them, drawn by hypothesis from what real exports hold and what broke an engine
before (white space of every kind around a value, missing-value spellings, control
characters anywhere, numbers beyond a float, a comma for the point, yes/no spellings,
outcomes in other cases, dates in other writings, out of range or impossible, repeated
and padded ids). The file is read by the pandas loader and by an engine: the requests
kept and every KPI of the period must be equal, or both must refuse the file.

Found this way on 2026-12-07, each now fixed and tested on its own: control characters
in a Parquet file's ids and dates (DuckDB), a table with one text column (PostgreSQL,
Spark), a reopen count of ``inf`` or ``1e30`` (the pandas loader, DuckDB, PostgreSQL),
``1e400`` as text (PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csi_lib import kpis as K
from csi_lib.engines import open_source
from csi_lib.errors import CsiError
from csi_lib.periods import Period
from csi_lib.sources import load_requests

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_requests.csv.gz"
PERIOD = Period.from_dates("2024-07-01", "2024-12-31")
BASE = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(150)
pytestmark = [pytest.mark.filterwarnings("ignore")]

PADS = ["", " ", "\u3000", "\xa0", "\t", "\u2003", "\x85"]
CONTROL = ["\x01", "\x7f", "\x80", "\x1b", "\x9f", "\uffff", "\x0b"]
MISSING = ["", "N/A", "null", " NULL ", "NaN", "#N/A", "?", "-", "none", "None"]
BY_COLUMN = {
    "request_id": ["7", "7.0", "A.B", "x", "REQ0000001", "REQ0000002 "],
    "csat": ["4.0", " 3 ", "0", "6", "-1", "2.5", "1e0", "4,0", "inf", "1e400", "three", "+4"],
    "reopen_count": ["1.0", "0", "-1", "2.5", "1e30", "inf", "-inf", "1e-400", "two", "04"],
    "sla_met": ["TRUE", "False", "yes", "No", "Y", "n", "1", "0", "t", "f", "maybe"],
    "outcome": ["Fulfilled", " fulfilled", "DECLINED", "cancelled ", "Open", "closed", "done"],
    "opened_at": ["2024-08-01 10:00", "2024-08-01", "2024-08-01T10:00:00+02:00",
                  "2024-08-01T10:00:00.123456Z", "2025-02-30T10:00:00Z", "1899-12-31",
                  "2300-01-01", "2024-13-01"],
}  # fmt: skip
DATES = [c for c in BASE.columns if c.endswith("_at")]


@st.composite
def hostile_frames(draw: st.DrawFn) -> pd.DataFrame:
    """The sample's first requests with up to 12 odd cells."""
    frame = BASE.copy()
    for _ in range(draw(st.integers(1, 12))):
        row = draw(st.integers(0, len(frame) - 1))
        col = draw(st.sampled_from(list(frame.columns)))
        cell = frame.at[row, col]
        kind = draw(st.sampled_from(["pad", "missing", "control", "value"]))
        if kind == "pad":
            cell = draw(st.sampled_from(PADS)) + cell + draw(st.sampled_from(PADS))
        elif kind == "missing":
            cell = draw(st.sampled_from(MISSING))
        elif kind == "control":
            at = draw(st.integers(0, len(cell)))
            cell = cell[:at] + draw(st.sampled_from(CONTROL)) + cell[at:]
        else:
            pool = BY_COLUMN.get("opened_at" if col in DATES else col)
            cell = draw(st.sampled_from(pool)) if pool else cell
        frame.at[row, col] = cell
    return frame


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return len(a) == len(b) and all(
        abs(x - y) < 1e-9 or (pd.isna(x) and pd.isna(y))
        for x, y in zip(a["value"], b["value"], strict=True)
    )


def _check(path_or_url: str | Path, engine: str, query: str | None = None) -> None:
    kw = {"query": query} if query else {}
    try:
        want = load_requests(path_or_url, quarantine_dir=None, **kw)
    except CsiError:
        with pytest.raises(CsiError):
            open_source(path_or_url, engine=engine, **kw)
        return
    rel = open_source(path_or_url, engine=engine, **kw)
    assert rel.counts().rows_kept == want.rows_kept
    assert _same(K.kpi_table(want.data, PERIOD), rel.kpi_table(PERIOD))
    assert _same(K.kpi_table(want.data, PERIOD, freq="month"), rel.kpi_table(PERIOD, freq="month"))


@pytest.fixture
def spark(request):
    from engines_support import spark_for

    return spark_for(request)


SETTINGS = {"deadline": None, "derandomize": True,
            "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}  # fmt: skip


@settings(max_examples=20, **SETTINGS)
@given(frame=hostile_frames())
def test_duckdb_reads_hostile_cells_as_pandas(tmp_path_factory, frame):
    """A Parquet file of text cells through DuckDB (20 examples in every run)."""
    path = tmp_path_factory.mktemp("fuzz") / "hostile.parquet"
    frame.to_parquet(path, index=False)
    _check(path, "duckdb")


@pytest.mark.slow
@settings(max_examples=15, **SETTINGS)
@given(frame=hostile_frames())
def test_postgres_reads_hostile_cells_as_pandas(postgres_url, frame):
    """A table of text cells (NUL, which PostgreSQL cannot hold, left out) through
    PostgreSQL."""
    from engines_support import load_into_postgres

    frame = frame.map(lambda v: v.replace("\x00", "") if isinstance(v, str) else v)
    load_into_postgres(postgres_url, "hostile_cells", frame)
    _check(postgres_url, "postgres", query="hostile_cells")


@pytest.mark.slow
@settings(max_examples=6, **SETTINGS)
@given(frame=hostile_frames())
def test_spark_reads_hostile_cells_as_pandas(spark, tmp_path_factory, frame):
    """A Parquet file of text cells through Spark."""
    path = tmp_path_factory.mktemp("fuzz") / "hostile.parquet"
    frame.to_parquet(path, index=False)
    _check(path, "spark")
