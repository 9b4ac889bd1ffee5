"""Write the configuration part of the bad-input corpus (``tests/bad_input/config/``).

Each file or cycle folder is one hostile or unusual configuration (issue 10):
YAML alias bombs, a recursive alias, unsafe markdown in a vision, dates no
calendar computation can hold, a cycle whose data lives in a database. The files
are committed; this script documents how each was made and re-creates them:

    .venv/bin/python tests/bad_input/make_config_corpus.py

What the user sees is in ``docs/bad-input.md`` ("Cycles, configuration and
servers"); the checks are in ``tests/test_bad_config.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent / "config"
SAMPLE_CYCLE = HERE.parents[2] / "data" / "sample-cycle"
#: the sample data, as seen from a cycle folder in HERE
DATA = "../../../../data/sample_requests.csv.gz"


def alias_bomb(levels: int, *, key: str = "lol") -> str:
    """``levels`` nested lists of 9 aliases each: 9**levels values once expanded."""
    lines = [f"{key}0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"{key}{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def cycle_folder(name: str, *, cycle: dict[str, str] | None = None, **files: str) -> Path:
    """A copy of the sample cycle's YAML files, ``cycle.yaml`` edited by ``cycle``
    (old text -> new text), other files replaced by ``files`` (name -> text)."""
    folder = HERE / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for file in ("cycle.yaml", "vision.yaml", "targets.yaml", "plan.yaml"):
        shutil.copy(SAMPLE_CYCLE / file, folder / file)
    text = (SAMPLE_CYCLE / "cycle.yaml").read_text(encoding="utf-8")
    text = text.replace("../sample_requests.csv.gz", DATA)
    for old, new in (cycle or {}).items():
        assert old in text, old
        text = text.replace(old, new, 1)
    (folder / "cycle.yaml").write_text(text, encoding="utf-8")
    for file, content in files.items():
        (folder / f"{file.removesuffix('_yaml')}.yaml").write_text(content, encoding="utf-8")
    return folder


def main() -> None:
    HERE.mkdir(exist_ok=True)
    # YAML bombs: 9 levels in a mapping (387 million values), a recursive alias
    mapping_head = "name: my-export\ncolumns: {request_id: request_id, opened_at: opened_at, outcome: outcome}\n"
    (HERE / "mapping_alias_bomb.yaml").write_text(
        mapping_head + "na_values: &n ['']\n" + alias_bomb(9), encoding="utf-8"
    )
    (HERE / "mapping_recursive_alias.yaml").write_text(
        "name: my-export\ncolumns: &c {request_id: request_id, self: *c}\n", encoding="utf-8"
    )
    # 7 levels in a cycle's vision.yaml (4.8 million values)
    vision = (SAMPLE_CYCLE / "vision.yaml").read_text(encoding="utf-8")
    cycle_folder("cycle_vision_bomb", vision_yaml=vision + alias_bomb(7, key="x"))
    # markdown that would run script or fetch from the network in the vision page
    unsafe = vision.replace(
        "vision: >-\n",
        "vision: >-\n  [Read the charter](javascript:alert(document.domain)) and\n"
        "  ![tracking pixel](http://tracker.invalid/p.png)\n"
        "  <img src=x onerror=alert(2)> [intranet](https://intranet.example/csi)\n",
        1,
    )
    cycle_folder("cycle_unsafe_markdown", vision_yaml=unsafe)
    # dates outside what calendar computations hold
    cycle_folder("cycle_review_never_ends", cycle={"  to: 2026-03-31": "  to: 9999-12-31"})
    cycle_folder("cycle_baseline_year_1000", cycle={"  from: 2025-01-01": "  from: 1000-01-01"})
    # a cycle whose data lives in a database (the password must never be shown)
    cycle_folder(
        "cycle_postgres",
        cycle={
            f"  source: {DATA}   # synthetic requests, 2025-01 .. 2026-03": (
                '  source: "postgresql://csi:s3cr3t-pw@db.invalid:5432/itsm"\n'
                "  query: SELECT * FROM requests"
            )
        },
    )


if __name__ == "__main__":
    main()
