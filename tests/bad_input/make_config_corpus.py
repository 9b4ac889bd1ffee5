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

import gzip
import io
import shutil
from pathlib import Path
from typing import Any

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


def payload(tag: str) -> str:
    """Text that would run script, load an image or link to script if it reached a page,
    a Markdown file or a slide unescaped; ``tag`` tells which field it came from."""
    return (
        f"{tag} <script>alert('{tag}')</script> <img src=x onerror=alert('{tag}')> "
        f"[j{tag}](javascript:alert('{tag}')) [m{tag}](http://evil.invalid/{tag}) *{tag}*"
    )


def _hostile(value: Any, tag: str) -> Any:
    """Every free-text value of a cycle file replaced by :func:`payload` (ids, dates, numbers,
    KPI keys and the words of a vocabulary kept, so the cycle is still valid)."""
    keep = {"id", "kpi", "kind", "objective", "way_of_working", "status", "due", "start",
            "end", "targets", "from", "to", "source", "preset", "timezone", "freq",
            "change", "review_date"}  # fmt: skip
    if isinstance(value, dict):
        return {
            k: v
            if k in keep and not (isinstance(v, list) and v and isinstance(v[0], dict))
            else _hostile(v, f"{tag}.{k}" if tag else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hostile(v, f"{tag}{i}") for i, v in enumerate(value)]
    if isinstance(value, str):
        return payload(tag)
    return value


#: The data columns a report shows by value: breakdowns, scopes, charts.
HOSTILE_COLUMNS = ("category", "group", "channel", "priority")


def hostile_requests(sample: Path, every: int = 4) -> bytes:
    """Every ``every``-th request of the sample, gzip CSV, with each value of the
    columns the report shows by name made hostile (``Laptop`` -> ``Laptop <script>...``)
    and control characters in every group's name."""
    import pandas as pd

    df = pd.read_csv(sample, dtype=str, keep_default_na=False).iloc[::every]
    for col in HOSTILE_COLUMNS:
        df[col] = df[col].map(lambda v, c=col: f"{v} {payload(c + '.' + v)}" if v else v)
    # control characters in a group's name (Excel's XML cannot hold them)
    df["group"] = df["group"].str.replace(" ", "\x0b\x01 ", n=1, regex=False)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as fh:
        fh.write(df.to_csv(index=False).encode("utf-8"))
    return buf.getvalue()


def hostile_cycle(folder: Path) -> Path:
    """A cycle where every text of every file (cycle.yaml, vision.yaml, targets.yaml,
    plan.yaml, decisions.md) and every value of the data columns shown holds script,
    an image with onerror, a javascript: link and a Markdown link (:func:`payload`)."""
    import yaml

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "requests.csv.gz").write_bytes(
        hostile_requests(HERE.parents[2] / "data" / "sample_requests.csv.gz")
    )
    for name in ("cycle.yaml", "vision.yaml", "targets.yaml", "plan.yaml"):
        data = yaml.safe_load((SAMPLE_CYCLE / name).read_text(encoding="utf-8"))
        data = _hostile(data, "")
        if name == "cycle.yaml":
            data["data"]["source"] = "requests.csv.gz"
        if name == "plan.yaml":  # a line break that would end a comment of the next cycle's plan
            data["initiatives"][0]["title"] += "\ninitiatives: injected"
        if name == "targets.yaml":  # the laptop target's scope names the hostile category
            data["targets"][0]["scope"] = {"category": f"Laptop {payload('category.Laptop')}"}
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
        (folder / name).write_text(text, encoding="utf-8")
    decisions = (
        "# Decisions\n\n"
        f"## 2026-04-15 10:30:00 UTC \u2014 stage 3: How do we get there? \u2014 recorded by "
        f"{payload('decision.author')}\n\n> {payload('decision.text')}\n"
    )
    (folder / "decisions.md").write_text(decisions, encoding="utf-8")
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
    # issue 23: a reporting timezone whose midnight does not exist on the action's first day
    # (America/Santiago, 2025-09-07: the clocks go from 00:00 to 01:00)
    cycle_folder(
        "cycle_santiago_dst",
        cycle={
            "  to: 2025-06-30": "  to: 2025-09-06",
            "  from: 2025-07-01": "  from: 2025-09-07",
            "timezone: UTC": "timezone: America/Santiago",
        },
    )
    # percentage targets no KPI can reach: 1e308 % within SLA, -50 % declined
    targets = (SAMPLE_CYCLE / "targets.yaml").read_text(encoding="utf-8")
    targets = targets.replace("    value: 90            #", "    value: 1.0e+308      #", 1)
    targets = targets.replace("    value: 5             #", "    value: -50           #", 1)
    cycle_folder("cycle_target_out_of_range", targets_yaml=targets)
    # data sources the report refuses: a web address and a file address
    for name, source in (("cycle_web_source", "https://example.invalid/requests.csv"),
                         ("cycle_file_url_source", "file:///srv/itsm/requests.csv")):  # fmt: skip
        cycle_folder(name, cycle={f"  source: {DATA}": f'  source: "{source}"'})
    # script, images and links in every text of every cycle file and every data value shown
    hostile_cycle(HERE / "cycle_hostile_text")
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
