"""The floor of ``csi kpis --engine duckdb``: its own SQL, replayed with nothing else.

Issue 24 asks for ``csi kpis`` on 10M requests from Parquet within 1.3x of a DuckDB
process computing the 18 KPIs (benchmarks/bench_e2e.py). This script asks how much of
the gap is csi's Python (imports, Ibis, compilation) and how much is the SQL itself:

1. ``csi kpis FILE --engine duckdb --format json`` runs once with the DuckDB connection
   wrapped, recording every statement it sends (the id check, the view, the table of
   validated rows, the KPI queries).
2. Each round times, each in a fresh process: the recorded statements replayed by a
   process that imports ``duckdb`` alone (the id hashes sorted in NumPy, as csi checks
   them for repeats), the DuckDB process of bench_e2e.py, and ``csi kpis`` itself.

It prints each wall time and the ratios to the DuckDB process. A replay above 1.3x
means no trimming of csi's Python can meet the target.

Usage::

    .venv/bin/python benchmarks/bench_sql_floor.py /tmp/e2e/requests-10000000.parquet
    .venv/bin/python benchmarks/bench_sql_floor.py FILE --rounds 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_e2e import DUCKDB_CHILD, FROM, TO

CSI = str(Path(sys.executable).with_name("csi"))

#: Runs csi kpis with the DuckDB connection wrapped; writes its statements as JSON.
RECORD = r"""
import json, sys
import ibis.backends.duckdb as D
out, args = sys.argv[1], sys.argv[2:]
seen = []
class Recorded:
    def __init__(self, con): self._con = con
    def __getattr__(self, name):
        attr = getattr(self._con, name)
        if name not in ("sql", "execute", "query"):
            return attr
        def call(q, *a, **kw):
            seen.append(str(q)); return attr(q, *a, **kw)
        return call
connect = D.Backend.do_connect
def do_connect(self, *a, **kw):
    connect(self, *a, **kw); self.con = Recorded(self.con)
D.Backend.do_connect = do_connect
from csi_lib.cli import main
status = main(args)
json.dump(seen, open(out, "w"))
sys.exit(status)
"""

#: Replays the statements with duckdb alone: results fetched, the id hashes sorted.
REPLAY = r"""
import json, sys
import duckdb
import numpy as np
con = duckdb.connect()
for q in json.load(open(sys.argv[1])):
    if "?" in q and "duckdb_views" in q:  # a parameter: a check of csi's own, not the work
        continue
    r = con.sql(q)
    if r is None:
        continue
    if "_h" in r.columns:  # the id check: hashes back, sorted for repeats
        h = r.fetch_arrow_table().column(0).to_numpy(zero_copy_only=False)
        h.sort()
    else:
        r.fetchall()
"""


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("parquet", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    kpis = ["kpis", str(a.parquet), "--engine", "duckdb", "--format", "json",
            "--from", FROM, "--to", TO]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        sql = Path(tmp) / "statements.json"
        subprocess.run([sys.executable, "-c", RECORD, str(sql), *kpis], check=True,
                       capture_output=True)  # fmt: skip
        print(f"{len(json.loads(sql.read_text()))} statements recorded", flush=True)
        end = (dt.date.fromisoformat(TO) + dt.timedelta(days=1)).isoformat()  # half-open
        for r in range(1, a.rounds + 1):
            replay = timed([sys.executable, "-W", "ignore", "-c", REPLAY, str(sql)])
            duck = timed([sys.executable, "-c", DUCKDB_CHILD, str(a.parquet), FROM, end])
            csi = timed([CSI, *kpis])
            print(
                f"round {r}: replay {replay:.2f} s ({replay / duck:.2f}x) | DuckDB process "
                f"{duck:.2f} s | csi kpis {csi:.2f} s ({csi / duck:.2f}x)",
                flush=True,
            )


if __name__ == "__main__":
    main()
