"""Stage 5's evidence at the edges and at scale: wall and CPU time of csi_lib.evidence.compare.

    .venv/bin/python benchmarks/bench_evidence.py

Cases per kind: n = 0, 1, 2 per period, all values tied, 5 against 30,000 (and 6 against
30,000 for a median, the fewest that make an interval), and 1,000,000 values per period;
then `csi review` on the sample cycle. Targets (issue 21): 5 against 30,000 under 1 s,
a million per period under 2 s, never an exception. Best of 3; prints a markdown table
and exits 1 when a target is missed or a case raised.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from csi_lib.evidence import compare
from csi_lib.periods import Period

ROOT = Path(__file__).resolve().parents[1]
BASE = Period(pd.Timestamp("2025-01-06", tz="UTC"), pd.Timestamp("2025-07-06", tz="UTC"))
REVIEW = Period(pd.Timestamp("2026-01-05", tz="UTC"), pd.Timestamp("2026-04-05", tz="UTC"))


def values(kind: str, n: int, rng: np.random.Generator, tied: bool, period: Period):
    if kind == "proportion":
        return pd.Series(np.ones(n, bool) if tied else rng.random(n) < 0.1)
    if kind == "count":
        span = (period.end - period.start).value
        times = period.start + pd.to_timedelta(np.sort(rng.integers(0, span, n)), unit="ns")
        return pd.Series(1.0, index=times)
    if tied:
        return pd.Series(np.full(n, 4.0))
    return pd.Series(rng.lognormal(2, 1, n) if kind == "duration" else rng.integers(1, 6, n) * 1.0)


def timed(fn) -> tuple[float, float, object]:
    best = (float("inf"), float("inf"), None)
    for _ in range(3):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best = min(
            best, (time.perf_counter() - w, time.process_time() - c, out), key=lambda t: t[0]
        )
    return best


def main() -> int:
    rng = np.random.default_rng(0)
    cases = [("0 / 0", 0, 0, False), ("1 / 1", 1, 1, False), ("2 / 2", 2, 2, False),
             ("tied, 500 / 500", 500, 500, True), ("5 / 30,000", 5, 30_000, False),
             ("6 / 30,000", 6, 30_000, False), ("1,000,000 / 1,000,000", 10**6, 10**6, False)]  # fmt: skip
    print("| kind | case | wall s | CPU s | method | target |")
    print("|---|---|---|---|---|---|")
    failed = False
    for kind, agg in (("duration", "median"), ("duration", "p90"), ("duration", "mean"),
                      ("score", None), ("proportion", None), ("count", None)):  # fmt: skip
        for name, nb, nr, tied in cases:
            b, r = values(kind, nb, rng, tied, BASE), values(kind, nr, rng, tied, REVIEW)
            try:
                wall, cpu, ev = timed(lambda b=b, r=r, kind=kind, agg=agg: compare(
                    b, r, kind=kind, better="lower", agg=agg,
                    baseline_period=BASE, review_period=REVIEW))  # fmt: skip
                method = ev.test
            except Exception as exc:  # noqa: BLE001 - a benchmark reports, never stops
                wall, cpu, method, failed = float("nan"), float("nan"), f"RAISED {exc!r}", True
            limit = 2.0 if nb >= 10**6 else 1.0
            ok = wall < limit
            failed |= not ok
            label = f"{kind} ({agg})" if agg else kind
            print(f"| {label} | {name} | {wall:.3f} | {cpu:.3f} | {method} | "
                  f"{'ok' if ok else 'MISSED'} (< {limit:.0f} s) |", flush=True)  # fmt: skip
    worst = pd.Series([True] * 4 + [False]), pd.Series([False] * 660)  # 3,976 tables: exact
    wall, cpu, ev = timed(lambda: compare(*worst, kind="proportion", better="lower"))
    failed |= wall >= 1.0
    print(f"\nproportion, 4 / 5 against 0 / 660: {wall:.3f} s wall, {cpu:.3f} s CPU, {ev.test}")
    w = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "csi_lib", "review", str(ROOT / "data" / "sample-cycle"),
                           "--as-of", "2026-04-15", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    print(f"\ncsi review data/sample-cycle --as-of 2026-04-15: {time.perf_counter() - w:.1f} s "
          f"wall, exit {done.returncode}")  # fmt: skip
    failed |= done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
