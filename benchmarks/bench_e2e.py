"""End-to-end benchmark: ``csi kpis`` against DuckDB, and ``csi report`` at scale.

A script, not a test (issue 12). Every measured thing is a fresh process, timed from
outside, with the peak resident memory of its whole process tree (the process and all
its children, e.g. the stage kernels of a report; psutil, sampled every 0.1 s).

1. Data: ``csi_lib.sample.generate_requests(rows=N, seed=42)`` (the generator of the
   bundled sample, same dates) written as Parquet and as CSV.gz (``write_requests``);
   the time of each write is printed.
2. ``csi kpis FILE --format json --from 2024-07-01 --to 2026-06-30`` on the first size,
   from Parquet and from CSV.gz, against a DuckDB process computing the same 18 KPIs
   in SQL on the same file (the definitions of benchmarks/bench_kpis.py); the values
   of both are compared (relative 1e-6).
3. ``csi report`` of a copy of the sample cycle (data/sample-cycle, as of 2026-04-15,
   every stage, no baseline snapshot yet: stage 1 takes it) on the bundled sample
   (40,000 requests) and on each size from Parquet: wall time, the time of each stage
   (from the progress lines) and peak RSS of the process tree.

4. Memory: ``csi kpis`` (same arguments) on 10M requests from Parquet, the peak RSS.

It prints the ratios against the targets of issue 12:
``csi kpis`` on 1M Parquet within 3x of DuckDB and no slower than from CSV.gz; the 1M
report within 1.5x of the sample report; the 5M report within 3x of it and under 4 GB;
``csi kpis`` on 10M Parquet under 3 GB.

Usage::

    .venv/bin/python benchmarks/bench_e2e.py                       # 1M and 5M
    .venv/bin/python benchmarks/bench_e2e.py --rows 200000         # a quick run
    .venv/bin/python benchmarks/bench_e2e.py --no-report           # csi kpis only
    .venv/bin/python benchmarks/bench_e2e.py --workdir /tmp/e2e    # keep the files there
    .venv/bin/python benchmarks/bench_e2e.py --memory-rows 0       # no 10M memory run
    .venv/bin/python benchmarks/bench_e2e.py --no-kpis --no-report --memory-rows 0 \
        --engine-rows 10000000 --engine-big-rows 100000000 --spark \
        --postgres postgresql://... --postgres-table requests_bench   # issue 24

Heavy: about 1.5 GB of disk at 5M rows, several GB of RAM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CSI = str(Path(sys.executable).with_name("csi"))
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"
SAMPLE_DATA = ROOT / "data" / "sample_requests.csv.gz"
AS_OF = "2026-04-15"
FROM, TO = "2024-07-01", "2026-06-30"
TOL = 1e-6


# ----------------------------------------------------------------------------- running


def run_measured(cmd: list[str], **kwargs) -> dict:
    """Run ``cmd``; wall time, peak RSS of its process tree (MB), exit status, output."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                rss = 0
                for p in tree:
                    with contextlib.suppress(psutil.Error):
                        rss += p.memory_info().rss
                peak[0] = max(peak[0], rss)
            except psutil.Error:
                pass
            time.sleep(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    done.set()
    th.join()
    return {
        "wall": time.perf_counter() - started,
        "peak_mb": peak[0] / 2**20,
        "status": proc.returncode,
        "stdout": out,
        "stderr": err,
    }


# ----------------------------------------------------------------------------- DuckDB

DUCKDB_CHILD = r'''
import json, sys, duckdb
path, s, e = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.sql("SET enable_progress_bar = false")
ts = ["opened_at", "assessed_at", "closed_at", "sla_due_at"]
if path.endswith(".parquet"):
    con.sql(f"CREATE VIEW req AS SELECT * FROM read_parquet('{path}')")
else:
    types = {c: "TIMESTAMPTZ" for c in ts}
    types.update({"request_id": "VARCHAR", "sla_met": "BOOLEAN", "csat": "DOUBLE",
                  "reopen_count": "BIGINT"})
    spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    con.sql(f"CREATE VIEW req AS SELECT * FROM read_csv('{path}', header=true, types={spec})")
IN = "{c} >= TIMESTAMPTZ '%s' AND {c} < TIMESTAMPTZ '%s'" % (s, e)
H = "(epoch_us(closed_at) - epoch_us(opened_at)) / 3600e6"
A = "(epoch_us(assessed_at) - epoch_us(opened_at)) / 3600e6"
CLOSED = "outcome IN ('fulfilled', 'declined', 'cancelled')"
# one table (a temp table of the columns used), then one query per population
con.sql("CREATE TEMP TABLE r AS SELECT " + ", ".join(f"CAST({c} AS TIMESTAMPTZ) AS {c}" for c in ts)
        + ", outcome, sla_met, csat, reopen_count FROM req")
out = {}
out.update(con.sql(f"SELECT count(*) AS received FROM r WHERE {IN.format(c='opened_at')}").df().iloc[0].to_dict())
out.update(con.sql(f"""SELECT count(*) AS n_closed,
  count(*) FILTER (WHERE outcome = 'fulfilled') AS fulfilled,
  count(*) FILTER (WHERE outcome = 'declined') AS declined,
  count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled,
  100.0 * count(*) FILTER (WHERE outcome = 'fulfilled') / count(*) AS pct_fulfilled,
  100.0 * count(*) FILTER (WHERE outcome = 'declined') / count(*) AS pct_declined,
  quantile_cont({H}, 0.5) FILTER (WHERE outcome = 'fulfilled') AS fulfil_median_h,
  quantile_cont({H}, 0.9) FILTER (WHERE outcome = 'fulfilled') AS fulfil_p90_h,
  avg({H}) FILTER (WHERE outcome = 'fulfilled') AS fulfil_mean_h,
  100.0 * avg(CAST(coalesce(sla_met, closed_at <= sla_due_at) AS DOUBLE)) AS pct_within_sla,
  avg(csat) AS csat_mean,
  100.0 * avg(CASE WHEN csat IS NULL THEN NULL WHEN csat >= 4 THEN 1.0 ELSE 0.0 END) AS pct_satisfied,
  100.0 * count(csat) / count(*) AS csat_response_rate,
  100.0 * avg(CASE WHEN reopen_count IS NULL THEN NULL WHEN reopen_count > 0 THEN 1.0 ELSE 0.0 END)
    AS pct_reopened
  FROM r WHERE {IN.format(c='closed_at')} AND {CLOSED}""").df().iloc[0].to_dict())
out.update(con.sql(f"SELECT quantile_cont({A}, 0.5) AS assess_median_h, quantile_cont({A}, 0.9) "
                   f"AS assess_p90_h FROM r WHERE {IN.format(c='assessed_at')}").df().iloc[0].to_dict())
out.update(con.sql(f"SELECT count(*) AS backlog FROM r WHERE opened_at < TIMESTAMPTZ '{e}' AND "
                   f"(closed_at IS NULL OR closed_at >= TIMESTAMPTZ '{e}')").df().iloc[0].to_dict())
out["throughput_ratio"] = out.pop("n_closed") / out["received"]
print(json.dumps({k: float(v) for k, v in out.items()}))
'''


def kpis_from_csi(stdout: str) -> dict[str, float]:
    """``csi kpis --format json``: one object {kpi: value} (null for a missing value)."""
    values = json.loads(stdout)
    return {str(k): math.nan if v is None else float(v) for k, v in values.items()}


def agree(csi: dict[str, float], duck: dict[str, float]) -> list[str]:
    bad = []
    for key, b in duck.items():
        a = csi.get(key, math.nan)
        if (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOL * max(1.0, abs(b)):
            continue
        bad.append(f"{key}: csi {a!r} vs DuckDB {b!r}")
    return bad


def bench_kpis(parquet: Path, csv_gz: Path) -> dict[str, float]:
    end = "2026-07-01"  # the day after TO: csi's --to is inclusive
    results = {}
    for label, path in (("Parquet", parquet), ("CSV.gz", csv_gz)):
        csi = run_measured([CSI, "kpis", str(path), "--format", "json", "--from", FROM, "--to", TO])
        if csi["status"] != 0:
            raise SystemExit(f"csi kpis failed: {csi['stderr'][-2000:]}")
        duck = run_measured([sys.executable, "-c", DUCKDB_CHILD, str(path), FROM, end])
        if duck["status"] != 0:
            raise SystemExit(f"DuckDB failed: {duck['stderr'][-2000:]}")
        bad = agree(
            kpis_from_csi(csi["stdout"]), json.loads(duck["stdout"].strip().splitlines()[-1])
        )
        print(
            f"csi kpis {label:8} {csi['wall']:7.1f} s  peak {csi['peak_mb']:7,.0f} MB | "
            f"DuckDB {duck['wall']:6.1f} s  peak {duck['peak_mb']:6,.0f} MB | "
            f"ratio {csi['wall'] / duck['wall']:.2f} | "
            + ("all 18 KPIs agree" if not bad else "MISMATCH: " + "; ".join(bad)),
            flush=True,
        )
        results[label] = csi["wall"]
        results[f"duckdb {label}"] = duck["wall"]
        results[f"agree {label}"] = not bad
    return results


def bench_memory(n: int, work: Path) -> dict:
    """Peak RSS of ``csi kpis`` on ``n`` requests from Parquet (the file made if missing)."""
    path = work / f"requests-{n}.parquet"
    if not path.exists():
        from csi_lib.sample import generate_requests, write_requests

        write_requests(generate_requests(rows=n, seed=42), path, overwrite=True)
    res = run_measured([CSI, "kpis", str(path), "--format", "json", "--from", FROM, "--to", TO])
    if res["status"] != 0:
        raise SystemExit(f"csi kpis failed: {res['stderr'][-2000:]}")
    print(f"csi kpis {n:,} Parquet: {res['wall']:.1f} s, peak RSS {res['peak_mb']:,.0f} MB")
    return res


# ----------------------------------------------------------------------------- engines (issue 24)


def bench_engines(n: int, work: Path, *, big: int = 0, services: dict | None = None) -> list:
    """``csi kpis`` computed by the DuckDB engine on ``n`` requests from Parquet against a
    DuckDB process (start-up included), the same query with ``--engine pandas``; with
    ``big``, the DuckDB engine on ``big`` requests (the ``n`` file repeated with new ids,
    written by DuckDB); with ``services`` ({"postgres": url, "spark": True}), the same
    query computed by PostgreSQL (a typed table loaded once) and by Spark, timed beside it."""
    path = work / f"requests-{n}.parquet"
    if not path.exists():
        from csi_lib.sample import generate_requests, write_requests

        write_requests(generate_requests(rows=n, seed=42), path, overwrite=True)
    end = "2026-07-01"
    args = ["--format", "json", "--from", FROM, "--to", TO]
    verdicts = []
    duck = run_measured([sys.executable, "-c", DUCKDB_CHILD, str(path), FROM, end])
    want = json.loads(duck["stdout"].strip().splitlines()[-1])
    print(f"DuckDB process {n:,}: {duck['wall']:.1f} s, peak {duck['peak_mb']:,.0f} MB")
    runs = {"duckdb": [CSI, "kpis", str(path), "--engine", "duckdb", *args],
            "pandas": [CSI, "kpis", str(path), "--engine", "pandas", *args]}  # fmt: skip
    if services and services.get("spark"):
        runs["spark"] = [CSI, "kpis", str(path), "--engine", "spark", *args]
    if services and services.get("postgres"):
        runs["postgres"] = [CSI, "kpis", services["postgres"], "--query", services["table"], *args]
    for name, cmd in runs.items():
        res = run_measured(cmd)
        if res["status"] != 0:
            print(f"csi kpis --engine {name} failed: {res['stderr'][-1500:]}")
            verdicts.append((f"csi kpis --engine {name} runs", False))
            continue
        bad = agree(kpis_from_csi(res["stdout"]), want)
        ratio = res["wall"] / duck["wall"]
        print(
            f"csi kpis --engine {name:8} {n:,}: {res['wall']:6.1f} s, peak {res['peak_mb']:6,.0f} MB,"
            f" {ratio:.2f}x the DuckDB process; "
            + ("all 18 KPIs agree" if not bad else "MISMATCH: " + "; ".join(bad)),
            flush=True,
        )
        if name == "duckdb":
            verdicts.append((f"csi kpis {n:,} Parquet within 1.3x of DuckDB", ratio <= 1.3))
            verdicts.append((f"csi kpis {n:,} Parquet under 1.5 GB", res["peak_mb"] < 1536))
        verdicts.append((f"--engine {name} agrees with DuckDB", not bad))
    if big:
        big_path = work / f"requests-{big}.parquet"
        if not big_path.exists():
            import duckdb

            times = -(-big // n)
            src = str(path).replace("'", "''")
            duckdb.sql(
                f"COPY (SELECT * REPLACE (request_id || '-' || CAST(i AS VARCHAR) AS request_id) "
                f"FROM read_parquet('{src}'), range({times}) AS r(i) LIMIT {big}) "
                f"TO '{big_path}' (FORMAT parquet)"
            )
        res = run_measured([CSI, "kpis", str(big_path), "--engine", "duckdb", *args])
        print(
            f"csi kpis --engine duckdb {big:,}: {res['wall']:.1f} s, peak {res['peak_mb']:,.0f} MB"
            + ("" if res["status"] == 0 else " FAILED " + res["stderr"][-800:]),
            flush=True,
        )
        verdicts.append((f"DuckDB engine {big:,} Parquet under 4 GB",
                         res["status"] == 0 and res["peak_mb"] < 4096))  # fmt: skip
    return verdicts


# ----------------------------------------------------------------------------- reports

STAGE_LINE = re.compile(r"\[(\d+)/(\d+)\] (.+?): (done|FAILED.*?) \(([\d.]+) s\)")


def make_cycle(folder: Path, data: Path) -> Path:
    """A copy of the sample cycle (no baseline snapshot yet) whose data is ``data``."""
    cycle = folder / "cycle"
    cycle.mkdir(parents=True)
    for name in ("vision.yaml", "targets.yaml", "plan.yaml"):
        shutil.copy(SAMPLE_CYCLE / name, cycle / name)
    text = (SAMPLE_CYCLE / "cycle.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s*source:).*$", rf"\1 {data.resolve()}", text)
    (cycle / "cycle.yaml").write_text(text, encoding="utf-8")
    return cycle


def bench_report(name: str, data: Path, work: Path) -> dict:
    folder = work / f"report-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    cycle = make_cycle(folder, data)
    env = {**os.environ, "TERM": "dumb"}
    res = run_measured(
        [CSI, "report", str(cycle), "--as-of", AS_OF, "--out", str(folder / "reports")], env=env
    )
    stages = {
        m.group(3): (m.group(4), float(m.group(5)))
        for m in STAGE_LINE.finditer(res["stdout"] + res["stderr"])
    }
    failed = [t for t, (status, _) in stages.items() if status != "done"]
    print(
        f"csi report {name:>9}: {res['wall']:7.1f} s, peak RSS of the process tree "
        f"{res['peak_mb']:7,.0f} MB, exit {res['status']}"
        + (f", FAILED stages: {', '.join(failed)}" if failed else ""),
        flush=True,
    )
    print("    " + "; ".join(f"{t} {s:.1f} s" for t, (_, s) in stages.items()), flush=True)
    if res["status"] != 0 and not stages:
        print(res["stderr"][-3000:])
    return {"wall": res["wall"], "peak_mb": res["peak_mb"], "ok": res["status"] == 0 and not failed}


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="requests (repeatable)")
    parser.add_argument("--workdir", type=Path, help="keep the data and reports here")
    parser.add_argument("--no-kpis", action="store_true", help="skip csi kpis against DuckDB")
    parser.add_argument("--no-report", action="store_true", help="skip the csi report runs")
    parser.add_argument(
        "--engine-rows",
        type=int,
        default=0,
        help="csi kpis --engine duckdb/pandas on this many requests (10M: issue 24)",
    )
    parser.add_argument(
        "--engine-big-rows",
        type=int,
        default=0,
        help="and the DuckDB engine on this many (100M: issue 24)",
    )
    parser.add_argument("--postgres", help="postgresql:// URL of a server to time beside")
    parser.add_argument(
        "--postgres-table",
        default="requests_bench",
        help="typed table of the --engine-rows requests in that server",
    )
    parser.add_argument("--spark", action="store_true", help="time --engine spark beside")
    parser.add_argument(
        "--memory-rows", type=int, default=10_000_000, help="csi kpis memory run (0: none)"
    )
    args = parser.parse_args()
    sizes = args.rows or [1_000_000, 5_000_000]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="csi-bench-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; work in {work}")

    from csi_lib.sample import generate_requests, write_requests

    files = {}
    for n in sizes:
        parquet, csv_gz = work / f"requests-{n}.parquet", work / f"requests-{n}.csv.gz"
        if not parquet.exists() or (n == sizes[0] and not args.no_kpis and not csv_gz.exists()):
            t = time.perf_counter()
            df = generate_requests(rows=n, seed=42)
            gen = time.perf_counter() - t
            t = time.perf_counter()
            write_requests(df, parquet, overwrite=True)
            pq_s = time.perf_counter() - t
            line = f"data {n:,} requests: generated {gen:.1f} s, Parquet written {pq_s:.1f} s"
            if n == sizes[0] and not args.no_kpis:
                t = time.perf_counter()
                write_requests(df, csv_gz, overwrite=True)
                line += f", CSV.gz written {time.perf_counter() - t:.1f} s"
            del df
            print(line, flush=True)
        files[n] = (parquet, csv_gz)

    verdicts = []
    if not args.no_kpis:
        n = sizes[0]
        print(f"\n== csi kpis on {n:,} requests (all 18 KPIs, {FROM} to {TO}) ==")
        k = bench_kpis(*files[n])
        verdicts.append(
            (f"csi kpis {n:,} Parquet within 3x of DuckDB", k["Parquet"] <= 3 * k["duckdb Parquet"])
        )
        verdicts.append(
            (f"csi kpis {n:,} Parquet no slower than CSV.gz", k["Parquet"] <= k["CSV.gz"])
        )
        verdicts.append(
            ("csi kpis values agree with DuckDB", k["agree Parquet"] and k["agree CSV.gz"])
        )

    if not args.no_report:
        print(f"\n== csi report of the sample cycle as of {AS_OF} ==")
        base = bench_report("sample", SAMPLE_DATA, work)
        for n in sizes:
            r = bench_report(f"{n:,}", files[n][0], work)
            ratio = r["wall"] / base["wall"]
            limit = 1.5 if n <= 1_000_000 else 3.0
            print(f"    ratio to the sample report: {ratio:.2f} (target {limit}x)")
            verdicts.append(
                (f"report {n:,} within {limit}x of the sample report", r["ok"] and ratio <= limit)
            )
            if n >= 5_000_000:
                verdicts.append((f"report {n:,} peak RSS under 4 GB", r["peak_mb"] < 4096))

    if args.memory_rows:
        print(f"\n== memory: csi kpis on {args.memory_rows:,} requests from Parquet ==")
        mem = bench_memory(args.memory_rows, work)
        verdicts.append(
            (f"csi kpis {args.memory_rows:,} Parquet peak RSS under 3 GB", mem["peak_mb"] < 3072)
        )

    if args.engine_rows:
        print(f"\n== engines: csi kpis on {args.engine_rows:,} requests from Parquet ==")
        services = {"spark": args.spark, "postgres": args.postgres, "table": args.postgres_table}
        verdicts += bench_engines(args.engine_rows, work, big=args.engine_big_rows,
                                  services=services)  # fmt: skip

    print("\n== targets ==")
    for text, ok in verdicts:
        print(f"{'met    ' if ok else 'MISSED '} {text}")
    print(f"load average at the end {os.getloadavg()[0]:.1f} (shared machine)")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if all(ok for _, ok in verdicts) else 1)


if __name__ == "__main__":
    main()
