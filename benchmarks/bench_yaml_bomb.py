"""Time to refuse YAML alias bombs (issue 10, item 6), in a fresh process.

    .venv/bin/python benchmarks/bench_yaml_bomb.py

For 5 to 9 levels of 9 aliases each (9**levels values once expanded) it writes
a mapping file and a cycle's vision.yaml holding the bomb, and times, best of 5,
``load_mapping`` (the mapping) and ``load_yaml`` (every cycle file) until they
refuse it with a ConfigError; then ``csi validate`` with the 9-level mapping as
a whole process (start-up included). It prints seconds per case and exits 1 if
any bomb is not refused.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "bad_input"))

from make_config_corpus import alias_bomb  # noqa: E402

from csi_lib.errors import ConfigError  # noqa: E402
from csi_lib.sources import load_mapping  # noqa: E402
from csi_lib.yamlio import load_yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HEAD = (
    "name: my-export\ncolumns: {request_id: request_id, opened_at: opened_at, outcome: outcome}\n"
)


def refuse_time(load, path: Path) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        try:
            load(path)
        except ConfigError:
            best = min(best, time.perf_counter() - start)
        else:
            raise SystemExit(f"not refused: {path}")
    return best


def main() -> None:
    vision = (ROOT / "data" / "sample-cycle" / "vision.yaml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'levels':>6} {'values':>13} {'mapping (s)':>12} {'vision.yaml (s)':>16}")
        for levels in range(5, 10):
            mapping = folder / f"mapping{levels}.yaml"
            mapping.write_text(HEAD + alias_bomb(levels), encoding="utf-8")
            cycle_file = folder / f"vision{levels}.yaml"
            cycle_file.write_text(vision + alias_bomb(levels, key="x"), encoding="utf-8")
            t_map = refuse_time(lambda p: load_mapping(mapping=p), mapping)
            t_yaml = refuse_time(load_yaml, cycle_file)
            print(f"{levels:>6} {9**levels:>13,} {t_map:>12.4f} {t_yaml:>16.4f}")
        worst = folder / "mapping9.yaml"
        sample = ROOT / "data" / "sample_requests.csv.gz"
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "csi_lib", "validate", str(sample), "--mapping", str(worst)],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        print(f"csi validate --mapping (9 levels), whole process: {elapsed:.2f} s, "
              f"exit {proc.returncode}")  # fmt: skip
        if proc.returncode != 2:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
