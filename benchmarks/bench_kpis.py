"""Benchmark: csi_lib's KPI engine against the same KPIs in DuckDB SQL.

For each size N (default 1,000,000 and 5,000,000; give others as arguments) it
generates N canonical requests over two years (csi_lib.testing.synthetic_requests:
numpy, 6 categories, 8 groups, log-normal durations), then times

- csi_lib: all KPIs over the whole period + a monthly series + a breakdown by category;
- DuckDB: the same three results in SQL on the same DataFrame (registered, one
  query per population, the same definitions),

and prints both times (best of 3), the ratio, the peak memory of the csi_lib run
against the frame's in-memory size, and checks that the overall KPI values of
both agree to 1e-6 (the monthly series and breakdown are compared too).

Usage::

    .venv/bin/python benchmarks/bench_kpis.py            # 1M and 5M
    .venv/bin/python benchmarks/bench_kpis.py 200000     # a quick run

This is a script, not a test; it is heavy (several GB of RAM at 5M rows).
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import threading
import time
import tracemalloc

import duckdb
import numpy as np
import pandas as pd
import psutil

from csi_lib.kpis import breakdown, kpi_series, kpi_values
from csi_lib.periods import Period
from csi_lib.testing import synthetic_requests

START, END = "2024-01-01", "2026-01-01"
PERIOD = Period.from_dates(START, "2025-12-31")
REPEAT = 3
TOL = 1e-6

CLOSED = "outcome IN ('fulfilled', 'declined', 'cancelled')"
HOURS = "(epoch_us(closed_at) - epoch_us(opened_at)) / 3600e6"
A_HOURS = "(epoch_us(assessed_at) - epoch_us(opened_at)) / 3600e6"
IN = "{col} >= TIMESTAMPTZ '{s}' AND {col} < TIMESTAMPTZ '{e}'"


def closed_sql(s: str, e: str, key: str) -> str:
    """All closed-population KPIs in one query, grouped by ``key`` (SQL expression)."""
    return f"""
    SELECT {key} AS k,
      count(*) AS n_closed,
      count(*) FILTER (WHERE outcome = 'fulfilled') AS fulfilled,
      count(*) FILTER (WHERE outcome = 'declined') AS declined,
      count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled,
      100.0 * count(*) FILTER (WHERE outcome = 'fulfilled') / count(*) AS pct_fulfilled,
      100.0 * count(*) FILTER (WHERE outcome = 'declined') / count(*) AS pct_declined,
      quantile_cont(h, 0.5) FILTER (WHERE outcome = 'fulfilled') AS fulfil_median_h,
      quantile_cont(h, 0.9) FILTER (WHERE outcome = 'fulfilled') AS fulfil_p90_h,
      avg(h) FILTER (WHERE outcome = 'fulfilled') AS fulfil_mean_h,
      100.0 * avg(CAST(coalesce(sla_met, closed_at <= sla_due_at) AS DOUBLE)) AS pct_within_sla,
      avg(csat) AS csat_mean,
      100.0 * avg(CASE WHEN csat IS NULL THEN NULL WHEN csat >= 4 THEN 1.0 ELSE 0.0 END)
        AS pct_satisfied,
      100.0 * count(csat) / count(*) AS csat_response_rate,
      100.0 * avg(CASE WHEN reopen_count IS NULL THEN NULL WHEN reopen_count > 0 THEN 1.0
                  ELSE 0.0 END) AS pct_reopened
    FROM (SELECT *, {HOURS} AS h FROM req
          WHERE {IN.format(col="closed_at", s=s, e=e)} AND {CLOSED})
    GROUP BY ALL"""


def duckdb_kpis(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Overall values, monthly series and breakdown by category, one query per population."""
    s, e = START, END
    month = "date_trunc('month', {col})"
    out = {}
    for name, key in (("overall", "'all'"), ("month", None), ("category", "category")):
        k_open = key or month.format(col="opened_at")
        k_closed = key or month.format(col="closed_at")
        k_assessed = key or month.format(col="assessed_at")
        received = con.sql(
            f"SELECT {k_open} AS k, count(*) AS received FROM req "
            f"WHERE {IN.format(col='opened_at', s=s, e=e)} GROUP BY ALL"
        ).df()
        closed = con.sql(closed_sql(s, e, k_closed)).df()
        assessed = con.sql(
            f"SELECT {k_assessed} AS k, quantile_cont({A_HOURS}, 0.5) AS assess_median_h, "
            f"quantile_cont({A_HOURS}, 0.9) AS assess_p90_h FROM req "
            f"WHERE {IN.format(col='assessed_at', s=s, e=e)} GROUP BY ALL"
        ).df()
        if key is None:  # backlog at each month end: range join on both bounds
            backlog = con.sql(
                f"""WITH ends AS (SELECT unnest(generate_series(TIMESTAMPTZ '{s}' + INTERVAL 1 MONTH,
                                  TIMESTAMPTZ '{e}', INTERVAL 1 MONTH)) AS e)
                SELECT e - INTERVAL 1 MONTH AS k, count(*) AS backlog FROM ends JOIN req
                ON opened_at < e AND coalesce(closed_at, TIMESTAMPTZ 'infinity') >= e
                GROUP BY ALL"""
            ).df()
        else:
            backlog = con.sql(
                f"SELECT {key} AS k, count(*) AS backlog FROM req WHERE opened_at < "
                f"TIMESTAMPTZ '{e}' AND (closed_at IS NULL OR closed_at >= TIMESTAMPTZ '{e}') "
                "GROUP BY ALL"
            ).df()
        frame = received
        for part in (closed, assessed, backlog):
            frame = frame.merge(part, on="k", how="outer")
        frame["throughput_ratio"] = frame["n_closed"] / frame["received"]
        out[name] = frame.drop(columns="n_closed")
    return out


def csi_kpis(df: pd.DataFrame) -> dict[str, pd.DataFrame | pd.Series]:
    return {
        "overall": kpi_values(df, PERIOD),
        "month": kpi_series(df, PERIOD, freq="month"),
        "category": breakdown(df, PERIOD, by="category"),
    }


def best_of(fn, *args):
    """(best wall time, first wall time, CPU time of the best run, result) over REPEAT runs."""
    times, result = [], None
    for _ in range(REPEAT):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        result = fn(*args)
        times.append((time.perf_counter() - t, time.process_time() - c))
    best = min(times)
    return best[0], times[0][0], best[1], result


def peak_rss_during(fn, *args) -> tuple[int, int]:
    """(RSS before, peak RSS while ``fn`` runs), sampled every 2 ms with psutil."""
    proc = psutil.Process(os.getpid())
    gc.collect()
    before = proc.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.002)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    fn(*args)
    done.set()
    th.join()
    return before, max(peak[0], proc.memory_info().rss)


def compare(csi: dict, duck: dict) -> list[str]:
    """Mismatches beyond TOL (relative to max(1, |value|))."""
    bad = []

    def check(where: str, a: float, b: float) -> None:
        if (np.isnan(a) and np.isnan(b)) or abs(a - b) <= TOL * max(1.0, abs(b)):
            return
        bad.append(f"{where}: csi_lib {a!r} vs DuckDB {b!r}")

    overall = duck["overall"].iloc[0]
    for key, value in csi["overall"].items():
        check(f"overall {key}", float(value), float(overall[key]))
    month = duck["month"].assign(k=pd.to_datetime(duck["month"]["k"], utc=True))
    series = csi["month"].pivot(index="period_start", columns="kpi", values="value")
    for _, row in month.iterrows():
        for key in series.columns:
            check(f"{row['k']:%Y-%m} {key}", float(series.loc[row["k"], key]), float(row[key]))
    table = csi["category"].pivot(index="category", columns="kpi", values="value")
    for _, row in duck["category"].iterrows():
        for key in table.columns:
            check(f"{row['k']} {key}", float(table.loc[row["k"], key]), float(row[key]))
    return bad


def run(n: int) -> bool:
    print(f"\n=== {n:,} requests ({START} to {END}) ===")
    t = time.perf_counter()
    df = synthetic_requests(n, start=START, end=END, seed=42)
    size = int(df.memory_usage(deep=True).sum())
    print(f"generated in {time.perf_counter() - t:.1f} s; frame in memory {size / 1e6:,.0f} MB")

    # warm-up (imports, first-call caches), then timings
    csi_kpis(df.head(1000))
    csi_best, csi_first, csi_cpu, csi = best_of(csi_kpis, df)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("req", df)
    duckdb_kpis(con)
    threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]
    duck_best, duck_first, duck_cpu, duck = best_of(duckdb_kpis, con)
    print(f"csi_lib  all KPIs + monthly series + breakdown: {csi_best:.3f} s "
          f"(first run {csi_first:.3f} s; CPU {csi_cpu:.3f} s)")  # fmt: skip
    print(f"DuckDB   same, in SQL ({duckdb.__version__}, {threads} threads): "
          f"{duck_best:.3f} s (first run {duck_first:.3f} s; CPU {duck_cpu:.3f} s)")  # fmt: skip
    print(f"ratio csi_lib / DuckDB: {csi_best / duck_best:.2f} (wall), "
          f"{csi_cpu / duck_cpu:.2f} (CPU); load average {os.getloadavg()[0]:.1f}")  # fmt: skip

    before, peak = peak_rss_during(csi_kpis, df)
    tracemalloc.start()
    csi_kpis(df)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"memory: RSS before {before / 1e6:,.0f} MB, peak during csi_lib {peak / 1e6:,.0f} MB "
          f"(+{(peak - before) / 1e6:,.0f} MB = {(peak - before) / size:.2f}x the frame); "
          f"peak traced allocations {traced_peak / 1e6:,.0f} MB ({traced_peak / size:.2f}x); "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6:,.0f} MB")  # fmt: skip

    bad = compare(csi, duck)
    if bad:
        print(f"MISMATCH ({len(bad)}):")
        for line in bad[:30]:
            print("  " + line)
    else:
        print(f"agreement: all {len(csi['overall'])} overall KPIs, the monthly series and the "
              f"breakdown match DuckDB to {TOL:g}")  # fmt: skip
    targets = []
    if n == 1_000_000:
        targets = [
            ("< 2 s", csi_best < 2.0),
            ("within 2x of DuckDB", csi_best <= 2 * duck_best),
            ("extra memory < 3x data", (peak - before) < 3 * size),
        ]
        print(
            "targets at 1M: " + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in targets)
        )
    con.close()
    return not bad and all(ok for _, ok in targets)


def main(argv: list[str]) -> int:
    sizes = [int(a.replace("_", "")) for a in argv] or [1_000_000, 5_000_000]
    print(f"cores: {os.cpu_count()}, pandas {pd.__version__}, numpy {np.__version__}")
    ok = [run(n) for n in sizes]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
