"""Hostile and unusual input, round three (issue 23): bounded reads, every failure a message.

Each case runs through the real ``csi`` command: in a subprocess where today's
code would hang or be killed (a named pipe, ``/dev/zero``, a gzip bomb), else
in-process through :func:`csi_lib.cli.main`. Every error is one paragraph that
names the file and says what to do, with exit status 2. The table users read is
docs/bad-input.md; the corpus files are made by ``tests/bad_input/make_corpus.py``.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_bad_config import cycle_command as run  # csi ARGS in-process: (status, text)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_input"
SAMPLE = ROOT / "data" / "sample_requests.csv.gz"
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"


def csi(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60):
    """``python -m csi_lib ARGS`` in a subprocess: (exit status, stdout + stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "csi_lib", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


def one_paragraph(text: str, file: str | Path) -> None:
    assert "Traceback" not in text, text
    assert text.startswith("error: ") and text.count("\n") == 1, text
    assert f"'{file}'" in text, text


# --------------------------------------------------------------------------- not regular files


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "export.csv"
    os.mkfifo(path)
    return path


def test_a_named_pipe_as_the_export_is_refused_at_once(fifo, tmp_path):
    """Before: the load waited for ever for a writer."""
    status, text = csi(["validate", str(fifo)], cwd=tmp_path, timeout=30)
    assert status == 2, text
    one_paragraph(text, fifo)
    assert "named pipe (FIFO), not a regular file" in text and "saved on disk" in text


@pytest.mark.parametrize("command", [["validate"], ["kpis"]])
def test_dev_zero_behind_a_link_as_the_export_is_refused(command, tmp_path):
    link = tmp_path / "export.csv"
    link.symlink_to("/dev/zero")
    status, text = csi([*command, str(link)], cwd=tmp_path, timeout=30)
    assert status == 2, text
    one_paragraph(text, link)
    assert "character device (/dev/zero), not a regular file" in text


def cycle_copy(tmp_path: Path) -> Path:
    cycle = tmp_path / "cycle"
    shutil.copytree(SAMPLE_CYCLE, cycle)
    text = (cycle / "cycle.yaml").read_text()
    (cycle / "cycle.yaml").write_text(text.replace("../sample_requests.csv.gz", str(SAMPLE)))
    return cycle


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
@pytest.mark.parametrize("name", ["vision.yaml", "targets.yaml"])
def test_a_cycle_file_that_is_a_pipe_or_a_device(kind, name, tmp_path):
    """Before: a pipe hung csi cycle check; /dev/zero ended in a MemoryError traceback."""
    cycle = cycle_copy(tmp_path)
    path = cycle / name
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    status, text = csi(["cycle", "check", str(cycle)], cwd=tmp_path, timeout=30)
    assert status == 2, text
    assert "Traceback" not in text and "MemoryError" not in text
    assert name in text and "not a regular file" in text


def test_a_mapping_file_that_is_a_pipe(fifo, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    os.mkfifo(mapping)
    status, text = csi(["validate", str(SAMPLE), "--mapping", str(mapping)], cwd=tmp_path)
    assert status == 2, text
    one_paragraph(text, mapping)
    assert "named pipe" in text


def test_report_on_a_cycle_whose_data_is_dev_zero(tmp_path):
    """The report fingerprints its data before any stage: /dev/zero would be read for ever."""
    cycle = cycle_copy(tmp_path)
    data = tmp_path / "requests.csv"
    data.symlink_to("/dev/zero")
    text = (cycle / "cycle.yaml").read_text().replace(str(SAMPLE), str(data))
    (cycle / "cycle.yaml").write_text(text)
    status, out = csi(["report", str(cycle), "--out", str(tmp_path / "r")], cwd=tmp_path)
    assert status == 2, out
    assert "Traceback" not in out and "not a regular file" in out


# --------------------------------------------------------------------------- archives


@pytest.mark.parametrize("name", ["gzip_bomb.csv.gz", "zip_bomb.zip"])
def test_an_archive_expanding_beyond_the_limit_is_refused(name, tmp_path):
    path = CORPUS / name
    status, text = csi(["validate", str(path)], cwd=tmp_path, env={"CSI_MAX_EXPANDED_MB": "16"})
    assert status == 2, text
    one_paragraph(text, path)
    assert "expands to more than 16 MB once decompressed" in text
    assert "CSI_MAX_EXPANDED_MB" in text and "decompress it first" in text


def test_the_limit_is_settable(tmp_path):
    """40 MB of copies of one row under a limit of 64 MB: read (the copies collapse)."""
    status, text = csi(
        ["validate", str(CORPUS / "gzip_bomb.csv.gz")], cwd=tmp_path,
        env={"CSI_MAX_EXPANDED_MB": "64"}, timeout=300,
    )  # fmt: skip
    assert status == 0, text
    assert "1 kept" in text


def test_a_limit_that_is_not_a_number(tmp_path):
    status, text = csi(
        ["validate", str(CORPUS / "gzip_bomb.csv.gz")], cwd=tmp_path,
        env={"CSI_MAX_EXPANDED_MB": "lots"},
    )  # fmt: skip
    assert status == 2 and "CSI_MAX_EXPANDED_MB is 'lots', not a number of megabytes" in text


def test_a_workbook_expanding_beyond_the_limit(tmp_path):
    """An .xlsx is a zip: its parts' sizes are bounded like any archive's."""
    import pandas as pd

    path = tmp_path / "big.xlsx"
    pd.DataFrame({"request_id": ["R1"] * 60_000, "note": ["x" * 40] * 60_000}).to_excel(
        path, index=False
    )
    status, text = csi(["validate", str(path)], cwd=tmp_path, env={"CSI_MAX_EXPANDED_MB": "1"})
    assert status == 2, text
    one_paragraph(text, path)
    assert "expands to more than 1 MB" in text


@pytest.mark.slow
def test_a_real_gzip_bomb_under_the_default_limit(tmp_path):
    """9 MB expanding to 3 GB (300 gzip members of 10 MB): refused in constant memory.
    Before: read into memory (a 4 GB cap gave an ArrowMemoryError traceback)."""
    row = b"R1,2025-03-03 09:00,,,open,Laptop,portal,P3,Desk,,\n"
    block = gzip.compress(row * (10 * 2**20 // len(row)), mtime=0)
    path = tmp_path / "bomb.csv.gz"
    with open(path, "wb") as fh:
        fh.write(gzip.compress(b"request_id,opened_at,assessed_at,closed_at,outcome\n", mtime=0))
        for _ in range(300):
            fh.write(block)
    status, text = csi(["validate", str(path)], cwd=tmp_path, timeout=300)
    assert status == 2, text
    one_paragraph(text, path)
    assert "expands to more than 2,048 MB" in text


def test_out_of_memory_is_a_message(monkeypatch, capsys, tmp_path):
    """Whatever runs out of memory (pyarrow's ArrowMemoryError is a MemoryError) ends in
    one paragraph and exit 2, never a traceback."""
    import csi_lib.sources.loading as loading

    def exhausted(*_a, **_k):
        raise MemoryError("malloc of size 524352 failed")

    monkeypatch.setattr(loading, "_load", exhausted)
    status, text = run(["validate", str(CORPUS / "bom_utf8.csv")], capsys)
    assert status == 2 and text.startswith("error: ") and "out of memory" in text
    assert "Traceback" not in text


# --------------------------------------------------------------------------- control characters


def test_control_characters_never_crash_the_excel_workbook(tmp_path):
    """Before: openpyxl's IllegalCharacterError ended the report after every stage ran."""
    import pandas as pd
    from openpyxl import load_workbook

    from csi_lib.excel import HEADER_ROW, Sheet, write_kpi_workbook

    frame = pd.DataFrame({"Category": ["Lap\x0btop\x01", "=1+1"], "n": [1, 2]})
    sheets = {"By category": Sheet("By category\x0b, baseline", frame),
              "By a/b [x]": Sheet("x", pd.DataFrame({"x": [1]}))}  # fmt: skip
    path = write_kpi_workbook(tmp_path / "kpis.xlsx", sheets)
    book = load_workbook(path)
    assert book.sheetnames == ["By category", "By a_b _x_"]
    sheet = book["By category"]
    assert sheet.cell(1, 1).value == "By category, baseline"
    values = [sheet.cell(row, 1).value for row in range(HEADER_ROW, HEADER_ROW + 3)]
    assert values == ["Category", "Laptop", "'=1+1"]


# --------------------------------------------------------------------------- local midnights

CONFIG = CORPUS / "config"


@pytest.mark.parametrize(
    ("tz", "first", "last", "says"),
    [
        ("America/Santiago", "2025-09-07", "2025-09-30",
         "2025-09-07 00:00 does not exist in America/Santiago (the clocks go forward at that "
         "time); 01:00, the first instant that exists, is used instead"),
        ("America/Havana", "2025-03-09", "2025-03-31",
         "2025-03-09 00:00 does not exist in America/Havana"),
        ("America/Havana", "2025-10-01", "2025-11-01",  # the day after ends at 00:00 twice
         "2025-11-02 00:00 happens twice in America/Havana (the clocks go back at that time); "
         "the first of the two (00:00 CDT) is used"),
    ],
)  # fmt: skip
def test_a_local_midnight_the_clocks_skip_or_repeat(tz, first, last, says, capsys):
    """Before: a traceback (tz_localize without nonexistent=)."""
    status, text = run(["kpis", str(SAMPLE), "--tz", tz, "--from", first, "--to", last], capsys)
    assert status == 0, text
    assert "Traceback" not in text
    assert f"note: {says}" in text and text.count("note: ") == 1


def test_cycle_check_says_the_midnight_is_moved(capsys):
    status, text = run(["cycle", "check", str(CONFIG / "cycle_santiago_dst")], capsys)
    assert status == 0, text
    assert "note: 2025-09-07 00:00 does not exist in America/Santiago" in text


@pytest.mark.slow
def test_report_on_a_cycle_whose_action_starts_at_a_missing_midnight(tmp_path):
    """Before: stage 4 and later ended in a traceback, though csi cycle check passed."""
    cycle = tmp_path / "cycle"
    shutil.copytree(CONFIG / "cycle_santiago_dst", cycle)
    text = (cycle / "cycle.yaml").read_text()
    (cycle / "cycle.yaml").write_text(
        text.replace("../../../../data/sample_requests.csv.gz", str(SAMPLE))
    )
    status, out = csi(
        ["report", str(cycle), "--as-of", "2026-04-15", "--out", str(tmp_path / "r"),
         "--stage", "1", "--stage", "4", "--stage", "5"],
        cwd=tmp_path, timeout=900,
    )  # fmt: skip
    assert status == 0, out[-3000:]
    assert "Traceback" not in out
    assert "note: 2025-09-07 00:00 does not exist in America/Santiago" in out


# --------------------------------------------------------------------------- data sources


@pytest.mark.parametrize(
    ("folder", "says"),
    [
        ("cycle_web_source", "'https://example.invalid/requests.csv' is a web address"),
        ("cycle_file_url_source", "give the path of the file itself (/srv/itsm/requests.csv)"),
    ],
)
@pytest.mark.parametrize("command", [["cycle", "check"], ["targets", "check"]])
def test_cycle_check_refuses_what_the_report_refuses(folder, says, command, capsys):
    """Before: csi cycle check passed an http:// or file:// source that the report refused."""
    status, text = run([*command, str(CONFIG / folder)], capsys)
    assert status == 2, text
    assert "cycle.yaml:8: data.source:" in text and says in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.invalid/x.csv", "is a web address"),
        ("file:///tmp/x.csv", "give the path of the file itself (/tmp/x.csv)"),
        ("nosuchdb://host/x", "no database is known by the name 'nosuchdb'"),
    ],
)
def test_a_url_that_is_not_a_database(url, says, capsys):
    status, text = run(["validate", url, "--query", "requests"], capsys)
    assert status == 2 and says in text, text
    assert text.startswith("error: ") and text.count("\n") == 1


def test_database_values_that_are_not_utf8(capsys):
    """A BLOB and text in another encoding in SQLite. Before: a UnicodeDecodeError
    traceback (BLOB), the whole query refused (text)."""
    db = CORPUS / "not_utf8_values.db"
    status, text = run(["validate", f"sqlite:///{db}", "--query", "requests"], capsys)
    assert status == 0, text
    assert "Traceback" not in text and "5 kept" in text
    assert (
        "1 value(s) of 'category' are bytes that are not UTF-8 text (e.g. b'Lap\\xfftop')" in text
    )
    assert "1 text value(s) of the database are not UTF-8 (e.g. b'Cao\\xf1i')" in text
    from csi_lib.sources import load_requests

    categories = set(load_requests(f"sqlite:///{db}", query="requests").data["category"])
    assert {"Lap\ufffdtop", "Cao\ufffdi"} <= categories


# --------------------------------------------------------------------------- cycle files


@pytest.mark.parametrize("command", [["cycle", "check"], ["targets", "check"]])
def test_a_percentage_target_no_kpi_can_reach(command, capsys):
    """1e308 % within SLA and -50 % declined. Before: accepted (summary.txt printed a
    309-digit percentage)."""
    status, text = run([*command, str(CONFIG / "cycle_target_out_of_range")], capsys)
    assert status == 2, text
    assert "Traceback" not in text
    assert (
        "targets.yaml:30: targets[1]: the value 1e+308 is outside what Closed within SLA can "
        "be (0 to 100 %)" in text
    )
    assert "targets.yaml:57: targets[4]: the value -50 is outside what Declined share" in text


def test_a_target_value_inside_the_range_is_kept():
    from csi_lib.targets.model import Target

    for kpi, value in (("pct_within_sla", 100), ("pct_within_sla", 0), ("fulfil_median_h", 1e5)):
        Target(id="T1", kpi=kpi, kind="maximize", value=value, due="2026-03-31")
    with pytest.raises(ValueError, match="outside what Median time to fulfil can be"):
        Target(id="T1", kpi="fulfil_median_h", kind="minimize", value=-1, due="2026-03-31")


@pytest.mark.parametrize("new_id", ["bad id!", "../elsewhere", "", "a/b"])
def test_a_bad_id_for_the_next_cycle(new_id, tmp_path, capsys):
    """Before: pydantic's validation dump (several lines, its URL)."""
    status, text = run(
        ["cycle", "next", str(SAMPLE_CYCLE), "--id", new_id, "--as-of", "2026-04-15",
         "--out", str(tmp_path)],
        capsys,
    )  # fmt: skip
    assert status == 2, text
    assert text.startswith("error: ") and text.count("\n") == 1, text
    assert f"'{new_id}' cannot be the id of a cycle" in text and "such as 2026-h1" in text
    assert "pydantic" not in text and "validation error" not in text
    assert list(tmp_path.iterdir()) == []
