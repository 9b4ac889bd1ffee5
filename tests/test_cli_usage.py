"""Usage mistakes on the command line: one short message naming the option, exit 2, no traceback.

One test per mistake of issue 9 (and a few of the same kind); the checks hold
whatever typer/click is installed (typer 0.29 raises the exceptions of its own
copy of click).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from csi_lib import __version__
from csi_lib.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample_requests.csv.gz"
CYCLE = REPO / "data" / "sample-cycle"
CSI = Path(sys.executable).with_name("csi")


def run(argv: list[str], capsys) -> tuple[int, str]:
    status = main(argv)
    out = capsys.readouterr()
    return status, out.out + out.err


# (argv, words the message must hold): the option named and the expected form
MISTAKES = {
    "unknown command kpis-list": (["kpis-list"], ["kpis-list", "kpi-list"]),
    "unknown command close to none": (["frobnicate"], ["frobnicate", "csi --help"]),
    "misspelt option --frm": (["kpis", str(SAMPLE), "--frm", "2025-01-01"], ["--frm", "--from"]),
    "value after a switch --pdf true": (
        ["report", str(CYCLE), "--pdf", "true"],
        ["--pdf", "switch", "true"],
    ),
    "as-of not ISO 15/04/2026": (
        ["report", str(CYCLE), "--as-of", "15/04/2026"],
        ["--as-of", "15/04/2026", "YYYY-MM-DD"],
    ),
    "from 01/07/2025 never read as 7 January": (
        ["kpis", str(SAMPLE), "--from", "01/07/2025"],
        ["--from", "01/07/2025", "YYYY-MM-DD"],
    ),
    "from 13/07/2025": (["kpis", str(SAMPLE), "--from", "13/07/2025"], ["--from", "YYYY-MM-DD"]),
    "to without zero padding": (["kpis", str(SAMPLE), "--to", "2025-7-1"], ["--to", "YYYY-MM-DD"]),
    "not a calendar day": (["kpis", str(SAMPLE), "--to", "2025-02-30"], ["--to", "2025-02-30"]),
    "year 0001": (["kpis", str(SAMPLE), "--from", "0001-01-01"], ["--from", "1900"]),
    "year 9999": (["report", str(CYCLE), "--as-of", "9999-12-31"], ["--as-of", "2199"]),
    "unknown time zone": (
        ["kpis", str(SAMPLE), "--tz", "Europe/Londn"],
        ["--tz", "Europe/Londn", "Europe/London"],
    ),
    "bad choice": (["kpis", str(SAMPLE), "--format", "xml"], ["--format", "xml"]),
    "not a number": (["kpis", str(SAMPLE), "--min-group-size", "many"], ["--min-group-size"]),
    "missing argument": (["validate"], ["Missing argument", "data"]),
    "cycle new with a bad date": (
        [
            "cycle",
            "new",
            "x",
            "--data",
            "d.csv",
            "--baseline-from",
            "2025/01/01",
            "--baseline-to",
            "2025-06-30",
        ],
        ["--baseline-from", "YYYY-MM-DD"],
    ),  # fmt: skip
    "sample with a bad date": (["sample", "--out", "x.csv", "--start", "1.7.2024"], ["--start"]),
}


@pytest.mark.parametrize("argv, words", MISTAKES.values(), ids=list(MISTAKES))
def test_usage_mistake_is_one_message_and_exit_2(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written anywhere else
    status, text = run(argv, capsys)
    assert status == 2, text
    assert "Traceback" not in text
    assert text.startswith("error: ")
    assert len(text.strip().splitlines()) == 1, text
    for word in words:
        assert word in text, (word, text)
    assert list(tmp_path.iterdir()) == []


def test_version(capsys):
    status, text = run(["--version"], capsys)
    assert status == 0
    assert text.strip() == f"csi-workbook {__version__}"


def test_help_names_commands_that_exist(capsys):
    status, text = run(["kpis", "--help"], capsys)
    assert status == 0
    assert "csi kpi-list" in text and "kpis-list" not in text


def test_scaffolded_targets_name_the_kpi_list_command(tmp_path):
    from csi_lib.cycle import new_cycle

    folder = new_cycle(
        tmp_path / "c",
        data=str(SAMPLE),
        preset="generic",
        baseline_from="2025-01-01",
        baseline_to="2025-06-30",
    )
    text = (folder / "targets.yaml").read_text()
    assert "csi kpi-list" in text


def test_the_console_script_gives_no_traceback():
    """The real entry point, in its own process (the installed typer and click)."""
    proc = subprocess.run(
        [str(CSI), "kpis", str(SAMPLE), "--tz", "Europe/Londn"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "--tz" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("where", ["project root", "another folder"])
def test_readme_report_form_with_relative_paths(where, tmp_path):
    """`csi report --data data/servicenow_export.csv --preset servicenow --from .. --to ..`."""
    if where == "project root":
        cwd, data, out = REPO, "data/servicenow_export.csv", os.path.relpath(tmp_path / "r", REPO)
    else:
        cwd = tmp_path / "work"
        (cwd / "exports").mkdir(parents=True)
        shutil.copy(REPO / "data" / "servicenow_export.csv", cwd / "exports" / "sn.csv")
        data, out = "exports/sn.csv", "reports"
    proc = subprocess.run(
        [str(CSI), "report", "--data", data, "--preset", "servicenow",
         "--from", "2024-07-01", "--to", "2024-12-31", "--as-of", "2025-01-15", "--out", out],
        cwd=cwd, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    index = Path(cwd, proc.stdout.strip().splitlines()[-1])
    assert index.name == "index.html" and index.exists()
    assert (cwd / out).resolve() in index.resolve().parents
    page = (index.parent / "01_where_are_we_now.html").read_text()
    assert "does not exist" not in page and "Traceback" not in page
