"""Issue 12: typed columnar input (Parquet, Arrow) gives the same results as the text path.

The same requests are written as CSV (text) and as Parquet / Arrow (typed: timestamps,
numbers, booleans, dictionary-encoded categories) and loaded through the same mapping;
the canonical frames, the quarantines and the KPIs must be identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from csi_lib import kpis as K
from csi_lib.periods import Period
from csi_lib.sample import generate_requests
from csi_lib.sources import load_requests

SAMPLE_CYCLE = Path(__file__).resolve().parents[1] / "data" / "sample-cycle"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The same 3,000 requests (with untidy values and bad rows) as CSV, Parquet and Arrow."""
    folder = tmp_path_factory.mktemp("typed")
    df = generate_requests(rows=3_000, seed=12)
    # untidy text: spaces around a category, a missing-value spelling, an odd outcome spelling
    cat = df["category"].astype("str")
    cat.iloc[::97] = " " + cat.iloc[::97] + " "
    cat.iloc[5::101] = "N/A"
    df["category"] = cat.astype("category")
    outcome = df["outcome"].astype("str")
    outcome.iloc[7::211] = " Fulfilled "
    df["outcome"] = outcome.astype("category")
    # bad rows: closed before opened, a duplicated id, csat out of range
    df.loc[10, "closed_at"] = df.loc[10, "opened_at"] - pd.Timedelta(hours=3)
    df.loc[11, "outcome"] = "fulfilled"
    df.loc[20, "request_id"] = df.loc[21, "request_id"]
    df.loc[30, "csat"] = 9.0
    df["description"] = "free text that must not survive"  # dropped: not mapped
    csv = folder / "requests.csv"
    df.to_csv(csv, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    parquet = folder / "requests.parquet"
    df.to_parquet(parquet, index=False)
    arrow = folder / "requests.arrow"
    table = pa.Table.from_pandas(df, preserve_index=False)
    # an unmapped column of a type the loader could not take: never read at all
    table = table.append_column("tags", pa.array([[1, 2]] * len(df), pa.list_(pa.int64())))
    feather.write_feather(table, arrow)
    pq_tags = folder / "requests-tags.parquet"
    import pyarrow.parquet as pq

    pq.write_table(table, pq_tags)
    return {"csv": csv, "parquet": parquet, "arrow": arrow, "parquet_tags": pq_tags}


def _load(path):
    return load_requests(path, preset="generic")


def test_parquet_and_arrow_give_the_csv_frame_quarantine_and_kpis(exports):
    text = _load(exports["csv"])
    assert text.rows_quarantined >= 3  # the bad rows are there to be compared
    period = Period.from_dates("2024-07-01", "2026-06-30")
    expected = K.kpi_values(text.data, period)
    for key in ("parquet", "arrow", "parquet_tags"):
        typed = _load(exports[key])
        pd.testing.assert_frame_equal(typed.data, text.data)
        assert "description" not in typed.data.columns and "tags" not in typed.data.columns
        assert (typed.rows_read, typed.rows_kept, typed.rows_quarantined) == (
            text.rows_read,
            text.rows_kept,
            text.rows_quarantined,
        )
        cols = ["source_row", "request_id", "column", "reason"]
        pd.testing.assert_frame_equal(typed.quarantine[cols], text.quarantine[cols])
        pd.testing.assert_series_equal(K.kpi_values(typed.data, period), expected)
        assert typed.fingerprint != text.fingerprint  # of the file's own bytes


def test_typed_timestamps_skip_the_day_month_text_check(exports, monkeypatch):
    """Typed timestamps are never turned into text (that cost 29 of 34.5 s at 1M rows)."""
    from csi_lib import schema

    calls: list[str] = []
    real = schema._as_text

    def spy(raw: pd.Series, **kw) -> pd.Series:
        calls.append(str(raw.dtype))
        return real(raw, **kw)

    monkeypatch.setattr(schema, "_as_text", spy)
    res = _load(exports["parquet"])
    assert len(res.data) > 0
    assert not [d for d in calls if d.startswith("datetime64")]


def test_naive_parquet_timestamps_take_the_mapping_zone(tmp_path):
    df = pd.DataFrame(
        {
            "request_id": ["R1", "R2"],
            "opened_at": pd.to_datetime(["2025-03-30 00:30", "2025-07-01 09:00"]),
            "closed_at": pd.to_datetime(["2025-03-30 03:30", pd.NaT]),
            "outcome": ["fulfilled", "open"],
        }
    )
    path = tmp_path / "naive.parquet"
    df.to_parquet(path, index=False)
    mapping = {
        "name": "naive",
        "timezone": "Europe/London",
        "columns": {c: c for c in ("request_id", "opened_at", "closed_at", "outcome")},
    }
    res = load_requests(path, mapping=mapping)
    assert res.data["opened_at"].tolist() == [
        pd.Timestamp("2025-03-30 00:30", tz="UTC"),  # GMT before the change
        pd.Timestamp("2025-07-01 08:00", tz="UTC"),  # BST
    ]
    # 01:00-02:00 is skipped on that day: 03:30 BST is 02:30 UTC
    assert res.data["closed_at"].iloc[0] == pd.Timestamp("2025-03-30 02:30", tz="UTC")


def test_typed_booleans_and_numbers_need_no_spellings(tmp_path):
    df = pd.DataFrame(
        {
            "request_id": np.arange(1, 4),
            "opened_at": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"], utc=True),
            "closed_at": pd.to_datetime(["2025-01-02", "2025-01-04", None], utc=True),
            "state": pd.Categorical(["Done", "Done", "Open"]),
            "made_sla": [True, False, None],
            "score": [5, 3, None],
        }
    )
    path = tmp_path / "typed.parquet"
    df.to_parquet(path, index=False)
    mapping = {
        "name": "typed",
        "columns": {
            "request_id": "request_id",
            "opened_at": "opened_at",
            "closed_at": "closed_at",
            "csat": "score",
        },
        "outcome": {"column": "state", "values": {"fulfilled": ["done"]}},
        "sla_met": {"column": "made_sla", "true_values": ["Yes"]},  # for text; a bool is a bool
    }
    res = load_requests(path, mapping=mapping)
    assert res.data["request_id"].tolist() == ["1", "2", "3"]
    assert res.data["outcome"].astype("str").tolist() == ["fulfilled", "fulfilled", "open"]
    assert res.data["sla_met"].tolist() == [True, False, pd.NA]
    assert res.data["csat"].tolist()[:2] == [5.0, 3.0]


# ---------------------------------------------------------------- statistics that scale


@pytest.mark.parametrize("agg", [None, "p90"])
def test_large_sample_interval_agrees_with_the_bootstrap(agg, monkeypatch):
    """Above BOOTSTRAP_MAX_N values a period's quantile gets its interval from order
    statistics, in O(n log n); on the same data it is close to the bootstrap's, with the
    same estimate and decision."""
    from csi_lib.evidence import compare, quantile

    rng = np.random.default_rng(3)
    before = pd.Series(rng.lognormal(3.0, 1.0, 6_000))
    after = pd.Series(rng.lognormal(2.9, 1.0, 6_000))
    large = compare(before, after, kind="duration", better="lower", agg=agg)
    assert large.test.startswith("order-statistics interval")
    monkeypatch.setattr(quantile, "BOOTSTRAP_MAX_N", 10_000)  # the same data bootstrapped
    boot = compare(before, after, kind="duration", better="lower", agg=agg)
    assert boot.test.startswith("bootstrap interval")
    assert (large.effect, large.direction) == (boot.effect, boot.direction)
    width = boot.ci_high - boot.ci_low
    assert large.ci_low == pytest.approx(boot.ci_low, abs=0.1 * width)
    assert large.ci_high == pytest.approx(boot.ci_high, abs=0.1 * width)
    assert large.ci_low < large.effect < large.ci_high


def test_large_sample_median_interval_by_hand():
    """The order statistics of the interval, for a sample of 0..n-1 hours: the exact
    binomial ranks are close to n/2 -/+ 1.96 sqrt(n / 4) (4902 and 5099)."""
    from statistics import NormalDist

    from csi_lib.evidence.quantile import _order_statistics_se

    n, z = 10_001, NormalDist().inv_cdf(0.975)
    x = np.random.default_rng(0).permutation(np.arange(n, dtype="float64"))
    half = z * np.sqrt(n * 0.25)
    expected = (np.ceil(n * 0.5 + half) - np.floor(n * 0.5 - half)) / (2 * z)
    assert _order_statistics_se(x, 0.5, 0.05) == pytest.approx(expected, rel=0.02)
    assert _order_statistics_se(np.full(50, 3.0), 0.5, 0.05) == 0.0  # all equal: no spread


# ---------------------------------------------------------------- load once per run


@pytest.fixture
def stored(tmp_path):
    """A load of the 3,000-request CSV (with bad rows) saved as a report run saves it."""
    from csi_lib.run import make_run

    src = tmp_path / "requests.csv"
    df = generate_requests(rows=3_000, seed=5)
    df.loc[3, "closed_at"] = df.loc[3, "opened_at"] - pd.Timedelta(hours=1)
    df.loc[3, "outcome"] = "fulfilled"
    df.to_csv(src, index=False)
    run = make_run(data=src, preset="generic", quarantine_dir=tmp_path / "q")
    result = run.load()
    folder = run.save(tmp_path / "run")
    return src, result, folder


def test_stored_load_round_trips(stored):
    from csi_lib import runstore

    src, result, folder = stored
    back = runstore.read(folder, result.mapping)
    pd.testing.assert_frame_equal(back.data, result.data)
    pd.testing.assert_frame_equal(back.quarantine, result.quarantine)
    assert back.summary() == result.summary()
    assert result.rows_quarantined == 1


def test_stages_read_the_saved_run_not_the_export(stored, load_calls, tmp_path, monkeypatch):
    """A stage opens the saved run (its ``run_dir``) and reads the stored frame, never the
    export, and writes no second quarantine file; nothing travels through the environment:
    a load of the export itself, whatever is set there, reads the export."""
    from csi_lib.run import open_run

    src, result, folder = stored
    calls = load_calls
    again = open_run(folder).load()
    assert calls == []
    pd.testing.assert_frame_equal(again.data, result.data)
    assert not (tmp_path / "q2").exists()
    monkeypatch.setenv("CSI_RUN_DATA", str(folder))  # the variable earlier versions read
    load_requests(src, preset="generic")
    assert calls == [str(src)]


def test_report_takes_the_lock_before_loading(tmp_path, monkeypatch):
    """A second run exits 3 at once, before it loads anything."""
    from filelock import FileLock

    from csi_lib import report as R
    from csi_lib import sources

    def no_load(*args, **kwargs):
        raise AssertionError("loaded before taking the lock")

    monkeypatch.setattr(sources, "load_requests", no_load)
    (tmp_path / "reports" / "2025-h2").mkdir(parents=True)
    lock = FileLock(str(tmp_path / "reports" / "2025-h2" / ".lock"))
    with lock, pytest.raises(R.ReportBusy) as exc:
        R.build_report(SAMPLE_CYCLE, as_of="2026-04-15", out=tmp_path / "reports")
    assert exc.value.exit_code == 3
