"""Event-log benchmark: 10,000,000 status-change events folded into requests.

Writes an event log (one row per status change, about 8 events per request, the
file in time order as audit exports are) with pyarrow, then, each in a fresh child
process, times:

- **read**: reading the file as text (``sources.read_table``, the reader every
  load uses);
- **load**: ``load_requests`` with an ``events:``/``derive:`` mapping (read, clean,
  parse the times, fold, validate);
- **fold**: ``events.fold_events`` alone on the parsed events (the sort and the
  group-wise rules).

It prints wall and CPU seconds and the peak resident memory of each child, and
checks that the load formed one request per case id.

    .venv/bin/python benchmarks/bench_events.py                  # 10M events
    .venv/bin/python benchmarks/bench_events.py --events 1000000
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

MAPPING = {
    "name": "bench-events",
    "datetime_format": "%Y-%m-%d %H:%M:%S",
    "events": {"case": "SR Number", "time": "Change Date+Time", "status": "Status"},
    "derive": {
        "opened_at": "first_time",
        "assessed_at": {"first_time_in": ["Accepted"]},
        "closed_at": {"last_time_if_final_in": ["Completed"]},
        "reopen_count": {"transitions_from": ["Completed"]},
    },
    "columns": {"category": "Product", "priority": "Impact"},
    "outcome": {"column": "Status", "values": {"fulfilled": ["Completed"]}, "default": "open"},
}


def write_log(path: Path, n_events: int, seed: int = 7) -> int:
    """An event log of ``n_events`` rows; returns the number of requests."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    n_req = max(1, n_events // 8)
    req = np.sort(rng.integers(0, n_req, n_events))
    start = np.searchsorted(req, np.arange(n_req))
    pos = np.arange(n_events) - start[req]
    last = np.r_[req[1:] != req[:-1], True]
    status = rng.choice(np.array(["Accepted", "Wait", "Completed"]), n_events, p=[0.6, 0.35, 0.05])
    status = np.where(pos == 0, "Queued", status)
    closes = rng.random(n_events) < 0.85
    status = np.where(last & (pos > 0), np.where(closes, "Completed", "Accepted"), status)
    opened = rng.integers(0, 2 * 365 * 86400, n_req)
    gaps = rng.exponential(8 * 3600, n_events).astype("int64")
    gaps[pos == 0] = 0
    steps = np.cumsum(gaps)
    seconds = opened[req] + steps - steps[start[req]]
    epoch = np.datetime64("2024-01-01T00:00:00", "s")
    order = np.argsort(seconds, kind="stable")  # an audit export: in time order
    ids = pc.binary_join_element_wise("SR", pa.array(req[order]).cast(pa.string()), "")
    table = pa.table(
        {
            "SR Number": ids,
            "Change Date+Time": pa.array(epoch + seconds[order].astype("timedelta64[s]")),
            "Status": pa.array(status[order]),
            "Product": pa.array(rng.choice(["Laptop", "Phone", "Access", "Software"], n_events)),
            "Impact": pa.array(rng.choice(["Low", "Medium", "High"], n_events)),
            "Owner": pc.binary_join_element_wise(
                "Person ", pa.array(rng.integers(0, 900, n_events)).cast(pa.string()), ""
            ),
        }
    )
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="none"))
    return int(len(np.unique(req)))


def child(step: str, path: str) -> None:
    """Run one step in this (fresh) process; print one JSON line of figures."""
    import numpy as np

    from csi_lib import events, sources

    cpu0, t0 = time.process_time(), time.perf_counter()
    out: dict = {}
    if step == "read":
        table = sources.read_table(path, sources.ReadOptions())
        out["rows"] = len(table.frame)
    elif step == "load":
        res = sources.load_requests(path, mapping=MAPPING)
        out |= res.events.as_dict() | {"rows_kept": res.rows_kept}
        out["fulfilled"] = int((res.data["outcome"] == "fulfilled").sum())
    else:  # fold alone, on events read and parsed beforehand (not timed)
        import pandas as pd

        work = pd.read_csv(path, engine="pyarrow", dtype=str)
        times = pd.to_datetime(
            work["Change Date+Time"], format=MAPPING["datetime_format"], utc=True
        )
        rules = {k: events.parse_rule(v) for k, v in MAPPING["derive"].items()}
        cpu0, t0 = time.process_time(), time.perf_counter()
        folded = events.fold_events(
            work,
            case="SR Number",
            status="Status",
            times=times,
            rules=rules,
            time_column="Change Date+Time",
        )
        out["requests"] = int(len(folded.positions))
        out["reopened"] = int(np.count_nonzero(folded.derived["reopen_count"].to_numpy()))
    out["wall_s"] = round(time.perf_counter() - t0, 2)
    out["cpu_s"] = round(time.process_time() - cpu0, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


def run(step: str, path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, str(path)], capture_output=True, text=True
    )
    if proc.returncode:
        sys.exit(f"{step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--child", nargs=2, metavar=("STEP", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    import os

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.csv"
        t0 = time.perf_counter()
        n_req = write_log(path, args.events)
        size = path.stat().st_size / 2**20
        print(
            f"=== {args.events:,} events of {n_req:,} requests "
            f"({size:,.0f} MB CSV, written in {time.perf_counter() - t0:.1f} s) ==="
        )
        results = {step: run(step, path) for step in ("read", "load", "fold")}
    for step, r in results.items():
        print(
            f"{step:5s} wall {r['wall_s']:7.2f} s  CPU {r['cpu_s']:7.2f} s  "
            f"peak RSS {r['peak_rss_mb']:,} MB"
        )
    load, read = results["load"], results["read"]
    print(
        f"load / read: {load['wall_s'] / read['wall_s']:.2f} (wall), "
        f"{load['cpu_s'] / read['cpu_s']:.2f} (CPU); load average {os.getloadavg()[0]:.1f}"
    )
    print(f"load: {json.dumps({k: v for k, v in load.items() if not k.endswith(('_s', '_mb'))})}")
    ok = load["requests_formed"] == n_req == results["fold"]["requests"]
    print("requests formed: " + ("one per case id" if ok else "MISMATCH"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
