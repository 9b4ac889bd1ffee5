"""The configuration part of the bad-input corpus (tests/bad_input/config/, issue 10).

Hostile or unusual configuration: YAML alias bombs and a recursive alias, markdown
in a vision that would run script or fetch from the network, dates no calendar
computation holds, a snapshot whose seal was removed, an ``--out`` that is a file.
Each must give one paragraph naming the file (and the line where it applies) with
exit status 2, or be made harmless. The table users read is docs/bad-input.md
("Cycles, configuration and servers").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from csi_lib.cli import main
from csi_lib.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "tests" / "bad_input" / "config"
SAMPLE = ROOT / "data" / "sample_requests.csv.gz"
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"


def cycle_command(args: list[str], capsys) -> tuple[int, str]:
    """Run ``csi ARGS`` in-process; ``cycle check`` exits through SystemExit by design."""
    try:
        status = main(args)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out + err


# --------------------------------------------------------------------------- YAML bombs


@pytest.mark.parametrize(
    ("file", "line", "says"),
    [
        ("mapping_alias_bomb.yaml", 12, "expand to 490,329,077 values"),
        ("mapping_recursive_alias.yaml", 2, "the alias *c refers to the entry that contains it"),
    ],
)
def test_alias_bombs_in_a_mapping_are_refused(file, line, says, capsys):
    path = CONFIG / file
    status, text = cycle_command(["validate", str(SAMPLE), "--mapping", str(path)], capsys)
    assert status == 2, text
    assert "Traceback" not in text and "RecursionError" not in text
    assert text.startswith("error: ") and text.count("\n") == 1, text
    assert f"file '{path}', row {line}:" in text
    assert says in text and "&anchors and *aliases" in text


def test_alias_bomb_in_a_vision_is_one_problem_of_cycle_check(capsys):
    status, text = cycle_command(["cycle", "check", str(CONFIG / "cycle_vision_bomb")], capsys)
    assert status == 2
    assert "vision.yaml:30: its aliases" in text and "expand to 6,053,480 values" in text
    assert "Traceback" not in text


def test_the_same_bomb_in_every_file_of_a_cycle(tmp_path, capsys):
    """cycle.yaml, targets.yaml and plan.yaml are read by the same guarded loader, and
    so is the round-trip editor (plan edits of the workshop)."""
    from csi_lib.yamlio import edit_yaml, load_yaml

    bomb = (CONFIG / "cycle_vision_bomb" / "vision.yaml").read_text()
    bomb = bomb[bomb.index("x0: &a0") :]
    for name in ("cycle.yaml", "targets.yaml", "plan.yaml"):
        path = tmp_path / name
        path.write_text((SAMPLE_CYCLE / name).read_text() + bomb)
        with pytest.raises(ConfigError, match="expand to"):
            load_yaml(path)
    with pytest.raises(ConfigError, match="expand to"), edit_yaml(tmp_path / "plan.yaml"):
        pass


def test_a_few_small_aliases_are_still_read(tmp_path):
    from csi_lib.yamlio import load_yaml

    path = tmp_path / "plan.yaml"
    path.write_text("owner: &o Service Desk\na: *o\nb: [*o, *o]\n")
    data, _ = load_yaml(path)
    assert data == {"owner": "Service Desk", "a": "Service Desk", "b": ["Service Desk"] * 2}


def test_worst_bomb_is_refused_in_a_fresh_process(tmp_path):
    """The 9-level bomb (387 million values) through the installed command: exit 2,
    no traceback (its time is measured in benchmarks/bench_yaml_bomb.py)."""
    proc = subprocess.run(
        [sys.executable, "-m", "csi_lib", "validate", str(SAMPLE), "--mapping",
         str(CONFIG / "mapping_alias_bomb.yaml")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "aliases" in proc.stderr


# --------------------------------------------------------------------------- markdown


def _rendered(markdown_text: str) -> str:
    """HTML of a markdown output as the report exporter (nbconvert, mistune) renders it."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(markdown_text)


def test_vision_markdown_cannot_run_script_or_fetch():
    from csi_lib import nb
    from csi_lib.cycle import open_cycle
    from csi_lib.vision import vision_text

    cycle = open_cycle(CONFIG / "cycle_unsafe_markdown")
    html = _rendered(nb.markdown(vision_text(cycle.vision)).data)
    assert "javascript:" in html  # shown, as text
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html, re.I)
    assert "<img" not in html and "onerror=" not in html.replace("onerror=alert", "")
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert '<a href="https://intranet.example/csi">intranet</a>' in html


@pytest.mark.parametrize(
    "written",
    [
        "[x](javascript:alert(1))",
        "[x]( JaVaScRiPt:alert(1))",
        "[x](java\\script:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](<javascript:alert(1)>)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[a [b] c](javascript:alert(1))",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "[x]\n\n[x]: <javascript:alert(1)>",
        "<a href='javascript:alert(1)'>x</a>",
        "<javascript:alert(1)>",
        "[x](vbscript:msgbox(1))",
        "[x](file:///etc/passwd)",
    ],
)
def test_only_http_and_mailto_links_stay_links(written):
    from csi_lib.nb import safe_markdown

    html = _rendered(safe_markdown(written))
    assert "<a " not in html, html


@pytest.mark.parametrize(
    "written", ["![](http://host/p.png)", "![a][r]\n\n[r]: http://host/p.png", "<img src=x>"]
)
def test_images_are_never_loaded(written):
    from csi_lib.nb import safe_markdown

    assert "<img" not in _rendered(safe_markdown(written))


@pytest.mark.parametrize(
    ("written", "href"),
    [
        ("[site](https://example.org/a?b=1&c=2)", "https://example.org/a?b=1&amp;c=2"),
        ("[mail](mailto:desk@example.org)", "mailto:desk@example.org"),
        ('[t](http://example.org "title")', "http://example.org"),
    ],
)
def test_http_and_mailto_links_stay(written, href):
    from csi_lib.nb import safe_markdown

    assert f'href="{href}"' in _rendered(safe_markdown(written))


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("folder", "where", "value"),
    [
        ("cycle_review_never_ends", "cycle.yaml:24: review.to", "9999-12-31"),
        ("cycle_baseline_year_1000", "cycle.yaml:13: baseline.from", "1000-01-01"),
    ],
)
@pytest.mark.parametrize("command", [["cycle", "check"], ["targets", "check"]])
def test_dates_no_calendar_holds(folder, where, value, command, capsys):
    status, text = cycle_command([*command, str(CONFIG / folder)], capsys)
    assert status == 2, text
    assert "Traceback" not in text and "OutOfBounds" not in text
    assert where in text and f"{value} is outside the dates" in text


@pytest.mark.parametrize(
    ("first", "last"), [("1000-01-01", "2025-01-31"), ("2025-01-01", "9999-12-31")]
)
def test_dates_no_calendar_holds_on_the_command_line(first, last, capsys):
    status, text = cycle_command(
        ["kpis", str(SAMPLE), "--from", first, "--to", last, "--kpi", "received"], capsys
    )
    assert status == 2 and "Traceback" not in text
    assert "is outside the dates the workbook computes with" in text


def test_baseline_out_an_existing_file(tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    status, text = cycle_command(
        ["baseline", str(SAMPLE), "--from", "2025-01-01", "--to", "2025-01-31",
         "--out", str(existing)],
        capsys,
    )  # fmt: skip
    assert status == 2 and "Traceback" not in text
    assert f"file '{existing}'" in text and "is a file" in text
    assert existing.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# --------------------------------------------------------------------------- snapshot seal


def test_unsealed_sample_baseline_is_unverifiable(tmp_path):
    from csi_lib.cycle import open_cycle
    from csi_lib.errors import SnapshotError

    cycle = tmp_path / "cycle"
    shutil.copytree(SAMPLE_CYCLE, cycle)
    text = (cycle / "cycle.yaml").read_text().replace("../sample_requests.csv.gz", str(SAMPLE))
    (cycle / "cycle.yaml").write_text(text)
    assert open_cycle(cycle, as_of="2026-04-15").baseline_snapshot().kpi_values["received"] > 0
    manifest_path = cycle / "baseline" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["manifest_sha256"]
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    with pytest.raises(SnapshotError) as info:
        open_cycle(cycle, as_of="2026-04-15").baseline_snapshot()
    text = str(info.value)
    assert "manifest.json" in text and "no seal" in text and "Re-create" in text


# --------------------------------------------------------------------------- database cycles

PASSWORD = "s3cr3t-pw"


@pytest.fixture(scope="module")
def sqlite_cycle(tmp_path_factory):
    """The sample data in a SQLite database, and a copy of the sample cycle reading it
    with ``data.source: sqlite:////abs/itsm.db`` and a query."""
    import sqlite3

    import pandas as pd

    base = tmp_path_factory.mktemp("dbcycle")
    db = base / "itsm.db"
    with sqlite3.connect(db) as con:
        pd.read_csv(SAMPLE, dtype=str).to_sql("requests", con, index=False)
    cycle = base / "cycle"
    shutil.copytree(SAMPLE_CYCLE, cycle)
    text = (cycle / "cycle.yaml").read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("source:"))
    text = text.replace(line, f'  source: "sqlite:///{db}"\n  query: SELECT * FROM requests')
    (cycle / "cycle.yaml").write_text(text)
    return cycle, f"sqlite:///{db}"


def _files(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*")}


def test_a_database_cycle_is_checked_and_continued(sqlite_cycle, tmp_path, capsys):
    cycle, url = sqlite_cycle
    before = _files(cycle)
    status, text = cycle_command(["cycle", "check", str(cycle)], capsys)
    assert status in (0, None) and "OK" in text, text
    status, text = cycle_command(["targets", "check", str(cycle)], capsys)
    assert status in (0, None) and "5 target(s)" in text, text
    nxt = tmp_path / "2026-h1"
    status, text = cycle_command(
        [
            "cycle",
            "next",
            str(cycle),
            "--id",
            "2026-h1",
            "--out",
            str(tmp_path),
            "--as-of",
            "2026-04-15",
        ],
        capsys,
    )
    assert status in (0, None), text
    written = (nxt / "cycle.yaml").read_text()
    assert url in written and "query: SELECT * FROM requests" in written
    # the next baseline is taken from the data as it stood at the end of 2026-04-15: the
    # 4,366 sample requests opened later are not part of it
    assert json.loads((nxt / "baseline" / "manifest.json").read_text())["rows"]["kept"] == 35_634
    assert _files(cycle) == before, "nothing is written into the cycle folder"


def test_the_password_of_a_database_cycle_is_never_shown(tmp_path, capsys):
    """A cycle on PostgreSQL (no server, no driver here): every command fails with one
    paragraph, exit 2, and the password is in none of it."""
    cycle = CONFIG / "cycle_postgres"
    assert PASSWORD in (cycle / "cycle.yaml").read_text()
    status, text = cycle_command(["cycle", "check", str(cycle)], capsys)
    assert PASSWORD not in text
    for args in (
        ["targets", "check", str(cycle)],
        ["cycle", "next", str(cycle), "--id", "n", "--out", str(tmp_path)],
        ["report", str(cycle), "--out", str(tmp_path / "r"), "--as-of", "2026-04-15"],
        ["report", "--data", f"postgresql://csi:{PASSWORD}@db.invalid/itsm", "--query",
         "requests", "--out", str(tmp_path / "r")],
    ):  # fmt: skip
        status, text = cycle_command(args, capsys)
        assert status == 2, (args, text)
        assert "Traceback" not in text and PASSWORD not in text, (args, text)
        assert "csi:***@db.invalid" in text, text
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(PASSWORD not in p.read_text(errors="replace") for p in leftovers)


def test_report_data_url_needs_a_query(sqlite_cycle, tmp_path, capsys):
    _, url = sqlite_cycle
    status, text = cycle_command(["report", "--data", url, "--out", str(tmp_path)], capsys)
    assert status == 2 and "needs the query" in text and "--query" in text
    assert not any(tmp_path.iterdir())


def test_next_cycle_in_a_report_folder_holds_no_password(sqlite_cycle, tmp_path):
    """Stage 6 writes the next cycle into the (shared) report folder: its cycle.yaml
    gets the source with the password redacted; csi cycle next keeps it."""
    import dataclasses

    from csi_lib import momentum, review
    from csi_lib.cycle import open_cycle

    cycle, _ = sqlite_cycle
    nxt = momentum.propose_next(
        review.assess(open_cycle(cycle, as_of="2026-04-15")), id="2026-h1", preview=True
    )
    secret = dataclasses.replace(nxt, source=f"postgresql://csi:{PASSWORD}@db.example/itsm")
    shared = momentum.texts(secret, tmp_path, shared=True)["cycle.yaml"]
    assert PASSWORD not in shared and "postgresql://csi:***@db.example/itsm" in shared
    assert "put it back" in shared
    assert PASSWORD in momentum.texts(secret, tmp_path)["cycle.yaml"]


@pytest.mark.slow
def test_report_of_a_database_cycle(sqlite_cycle, tmp_path):
    """csi report on a cycle whose data is in SQLite: stage 1 runs on it, and the
    notebooks get no database URL as a parameter (it would be saved in them)."""
    from csi_lib.report import build_report

    cycle, url = sqlite_cycle
    result = build_report(cycle, as_of="2026-04-15", out=tmp_path, stages=["1"])
    assert result.ok, [r.error for r in result.failed]
    page = (result.folder / "01_where_are_we_now.html").read_text()
    assert "40,000" in page
    from csi_lib.report.staging import run_logs

    notebook = (run_logs(result.folder) / "01_where_are_we_now.ipynb").read_text()
    params = next(
        c for c in json.loads(notebook)["cells"] if "injected-parameters" in c["metadata"]["tags"]
    )
    # the stages read the saved run: its folder is their only data parameter, never the URL
    source = "".join(params["source"])
    assert "run_dir = " in source and "data_path" not in source and url not in source


@pytest.mark.slow
def test_report_on_a_database_url_without_a_cycle(sqlite_cycle, tmp_path, capsys):
    _, url = sqlite_cycle
    status, text = cycle_command(
        ["report", "--data", url, "--query", "SELECT * FROM requests", "--out", str(tmp_path),
         "--as-of", "2026-04-15"],
        capsys,
    )  # fmt: skip
    assert status in (0, None), text
    (notebook,) = tmp_path.rglob("01_where_are_we_now.ipynb")
    params = next(
        c
        for c in json.loads(notebook.read_text())["cells"]
        if "injected-parameters" in c["metadata"]["tags"]
    )
    source = "".join(params["source"])
    assert "run_dir = " in source and "data_path" not in source and url not in source
    assert notebook.relative_to(tmp_path).parts[0] == "itsm"  # named by the database
    assert not [k for k in os.environ if k.startswith("CSI_REPORT_SOURCE_")]


# --------------------------------------------------------------------------- read-only cycles


@pytest.fixture
def cycle_with_bad_rows(tmp_path):
    """A copy of the sample cycle whose data has 3 rows closed before they were opened,
    made read-only (``chmod -R a-w``; root writes anyway, so the tests compare the files)."""
    import pandas as pd

    df = pd.read_csv(SAMPLE, dtype=str)
    df.loc[[10, 20, 30], "closed_at"] = "2024-01-01 00:00:00+00:00"
    df.to_csv(tmp_path / "requests.csv", index=False)
    cycle = tmp_path / "cycle"
    shutil.copytree(SAMPLE_CYCLE, cycle)
    shutil.rmtree(cycle / "baseline")  # another data set: no baseline yet
    text = (cycle / "cycle.yaml").read_text()
    (cycle / "cycle.yaml").write_text(text.replace("../sample_requests.csv.gz", "../requests.csv"))
    subprocess.run(["chmod", "-R", "a-w", str(cycle)], check=True)
    yield cycle
    subprocess.run(["chmod", "-R", "u+w", str(cycle)], check=True)


def test_a_command_never_writes_quarantine_into_the_cycle(
    cycle_with_bad_rows, tmp_path, capsys, monkeypatch
):
    cycle = cycle_with_bad_rows
    before = _files(cycle)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    status, text = cycle_command(["targets", "check", str(cycle)], capsys)
    assert "Traceback" not in text, text
    (default,) = (work / "quarantine").glob("*.csv")
    assert len(default.read_text().splitlines()) == 4  # header + the 3 bad rows
    chosen = tmp_path / "q"
    status, text = cycle_command(
        ["targets", "check", str(cycle), "--quarantine-dir", str(chosen)], capsys
    )
    assert len(list(chosen.glob("*.csv"))) == 1
    assert _files(cycle) == before, "nothing new in the cycle folder"


@pytest.mark.slow
def test_a_report_writes_one_quarantine_file_into_its_own_folder(cycle_with_bad_rows, tmp_path):
    from csi_lib.report import build_report

    cycle = cycle_with_bad_rows
    before = _files(cycle)
    subprocess.run(["chmod", "u+w", str(cycle)], check=True)  # stage 1 takes the baseline
    result = build_report(cycle, as_of="2026-04-15", out=tmp_path / "r", stages=["1", "2"])
    assert result.ok, [r.error for r in result.failed]
    assert len(list((result.folder / "quarantine").glob("*.csv"))) == 1
    added = set(_files(cycle)) - set(before)
    assert added and all(p.startswith("baseline") for p in added), added


# --------------------------------------------------------------------------- the output location


def test_latest_that_is_a_real_folder_stops_the_run_before_any_stage(tmp_path, capsys):
    parent = tmp_path / "2025-h2"
    (parent / "latest").mkdir(parents=True)
    (parent / "latest" / "mine.txt").write_text("keep")
    status, text = cycle_command(
        ["report", str(SAMPLE_CYCLE), "--out", str(tmp_path), "--as-of", "2026-04-15"], capsys
    )
    assert status == 2, text
    assert "'latest' in the reports folder is a real folder" in " ".join(text.split())
    assert "[1/" not in text, "no stage ran"
    assert sorted(p.name for p in parent.iterdir() if p.name != ".lock") == ["latest"]
    assert (parent / "latest" / "mine.txt").read_text() == "keep"


def test_a_dangling_link_as_the_as_of_folder_is_stepped_over(tmp_path):
    from csi_lib.report import _point_latest, _unique_folder

    (tmp_path / "2026-04-15").symlink_to(tmp_path / "gone")
    assert _unique_folder(tmp_path, "2026-04-15").name == "2026-04-15_2"
    (tmp_path / "latest").mkdir()  # publishing onto a real folder fails, and leaves nothing
    (tmp_path / "2026-04-15_2").mkdir()
    with pytest.raises(OSError):
        _point_latest(tmp_path, tmp_path / "2026-04-15_2")
    assert not list(tmp_path.glob(".latest.*"))


# --------------------------------------------------------------------------- concurrent runs


@pytest.mark.slow
def test_two_concurrent_stage_one_runs_share_nothing(tmp_path):
    """Two reports on the same data with different --out at the same time: both finish,
    each with its own pages, and every kernel socket folder is private and removed."""
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "csi_lib",
                "report",
                "--data",
                str(SAMPLE),
                "--out",
                str(tmp_path / name),
                "--as-of",
                "2026-04-15",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=tmp_path,
        )  # fmt: skip
        for name in ("a", "b")
    ]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    pages = [sorted((tmp_path / n).rglob("01_where_are_we_now.html")) for n in ("a", "b")]
    assert all(len(p) == 1 for p in pages) and pages[0][0] != pages[1][0]
    assert not list(private_tmp.glob("csi-kernel-*")), "kernel socket folders removed"
