"""Load benchmark: a 10,000,000-request CSV validated, loaded and measured.

Writes a canonical CSV (plus a free-text column that must be dropped, and a few
bad rows that must be quarantined) with pyarrow, then, in a fresh child process
per size, runs ``load_requests`` + every catalogue KPI over the whole year +
the monthly series, and reports wall time per step, the peak resident memory
of the child (``getrusage(RUSAGE_CHILDREN).ru_maxrss``) and the memory of the
final canonical frame.

    .venv/bin/python benchmarks/bench_load.py               # 10M rows (about 1.5 GB of CSV)
    .venv/bin/python benchmarks/bench_load.py --rows 1000000 --rows 10000000

The CSV is written to a temporary folder (``--keep`` leaves it there).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

BAD_EVERY = 1_000_000  # rows k * BAD_EVERY are closed before they were opened


def child(path: str, whole_file: bool = False) -> None:
    """Run in a fresh process: load, validate, compute; print one JSON line of figures."""
    import pandas as pd

    from csi_lib import kpis as K
    from csi_lib import sources
    from csi_lib.periods import Period
    from csi_lib.sources import load_requests

    if whole_file:  # the one-piece reader, for comparison
        sources.blocks.STREAM_MIN_BYTES = 1 << 62
    t0 = time.perf_counter()
    res = load_requests(path, preset="generic")
    t1 = time.perf_counter()
    load_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    period = Period.from_dates("2024-01-01", "2024-12-31")
    values = K.kpi_values(res.data, period)
    t2 = time.perf_counter()
    series = K.kpi_series(res.data, period, freq="month")
    t3 = time.perf_counter()
    frame_mb = res.data.memory_usage(deep=True).sum() / 2**20
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows_read": res.rows_read,
                "rows_kept": res.rows_kept,
                "rows_quarantined": res.rows_quarantined,
                "reasons": res.quarantined_by_reason(),
                "free_text_dropped": "description" not in res.data.columns,
                "received": float(values["received"]),
                "series_rows": len(series),
                "load_s": round(t1 - t0, 1),
                "kpis_s": round(t2 - t1, 1),
                "series_s": round(t3 - t2, 1),
                "frame_mb": round(frame_mb),
                "load_peak_rss_mb": round(load_peak_mb),
                "peak_rss_mb": round(peak_mb),
                "pandas": pd.__version__,
            }
        )
    )


def measure(path: Path, whole_file: bool) -> dict:
    extra = ["--whole-file"] if whole_file else []
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(path), *extra], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="requests (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the CSV files")
    parser.add_argument(
        "--whole-file", action="store_true", help="read the file in one piece (the old way)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.whole_file)
        return
    from test_bad_input import write_big_csv

    sizes = args.rows or [10_000_000]
    folder = Path(tempfile.mkdtemp(prefix="csi-bench-load-"))
    print(f"{'rows':>12} {'CSV MB':>8} {'write s':>8} {'load s':>7} {'kpis s':>7} "
          f"{'series s':>8} {'frame MB':>9} {'load peak MB':>13} {'peak RSS MB':>12} "
          f"{'peak/frame':>10} quarantined")  # fmt: skip
    for rows in sizes:
        path = folder / f"requests-{rows}.csv"
        t0 = time.perf_counter()
        write_big_csv(path, rows, bad_every=BAD_EVERY)
        write_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 2**20
        r = measure(path, args.whole_file)
        assert r["rows_read"] == rows and r["rows_quarantined"] == rows // BAD_EVERY, r
        assert r["free_text_dropped"], r
        print(
            f"{rows:>12,} {size_mb:>8,.0f} {write_s:>8.1f} {r['load_s']:>7.1f} {r['kpis_s']:>7.1f} "
            f"{r['series_s']:>8.1f} {r['frame_mb']:>9,} {r['load_peak_rss_mb']:>13,} "
            f"{r['peak_rss_mb']:>12,} "
            f"{r['peak_rss_mb'] / r['frame_mb']:>10.1f} {r['rows_quarantined']:,}",
            flush=True,
        )
        if not args.keep:
            path.unlink()
    if not args.keep:
        folder.rmdir()


if __name__ == "__main__":
    main()
