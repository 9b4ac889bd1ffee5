"""Issue 23's cases made differently, as a hostile or careless user would (round four).

The first rounds fixed a named pipe, ``/dev/zero``, a gzip bomb, a midnight that does
not exist in America/Santiago, ``\\x0b`` in a category. Here the same kinds of input
come another way: a symbolic link that loops or leads nowhere, a folder where a file
is expected, a pipe or a device as a cycle's data or its decisions log, a whole day
the clocks skip (Samoa, 2011-12-30) or a midnight skipped in Cairo, NUL bytes in a
Windows export, U+FFFF in a category. Each runs through the real ``csi`` command (in
a subprocess where the old code would hang) and ends in one message naming the file
with exit 2, or loads with a warning; never a traceback. docs/bad-input.md lists them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_bad_config import cycle_command as run  # csi ARGS in-process: (status, text)
from test_hostile_input import csi, cycle_copy  # csi in a subprocess; the sample cycle

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_requests.csv.gz"


def make(path: Path, kind: str) -> Path:
    """``path`` made into a file that is not one: a loop of links, a link to nothing, a
    folder, a named pipe or a link to ``/dev/zero``."""
    if kind == "loop":
        path.symlink_to(path.name)
    elif kind == "dangling":
        path.symlink_to("/nonexistent/export.csv")
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


SAYS = {
    "loop": "it is a symbolic link that leads back to itself (a loop of links), so it reaches "
    "no file",
    "dangling": "it is a symbolic link to '/nonexistent/export.csv', which does not exist",
    "folder": "it is a folder, not a file",
    "fifo": "it is a named pipe (FIFO), not a regular file",
    "zero": "it is a character device (/dev/zero), not a regular file",
}


def one_paragraph(text: str, file: Path) -> None:
    assert "Traceback" not in text, text
    assert text.startswith("error: ") and text.count("\n") == 1, text
    assert f"file '{file}'" in text, text


# --------------------------------------------------------------------------- links and folders


@pytest.mark.parametrize("kind", ["loop", "dangling", "folder"])
def test_an_export_that_is_a_loop_a_broken_link_or_a_folder(kind, tmp_path, capsys):
    """Before: a loop or a broken link was 'the file does not exist. Did you mean
    loop.csv?' (its own name)."""
    path = make(tmp_path / "export.csv", kind)
    status, text = run(["validate", str(path)], capsys)
    assert status == 2, text
    one_paragraph(text, path)
    assert SAYS[kind] in text and "did you mean" not in text.lower()


@pytest.mark.parametrize("kind", ["loop", "dangling", "folder"])
def test_a_mapping_file_that_is_a_loop_a_broken_link_or_a_folder(kind, tmp_path, capsys):
    """Before: 'the mapping file does not exist' for a link; a folder 'could wait for ever'."""
    mapping = make(tmp_path / "mapping.yaml", kind)
    status, text = run(["validate", str(SAMPLE), "--mapping", str(mapping)], capsys)
    assert status == 2, text
    one_paragraph(text, mapping)
    assert SAYS[kind] in text and "wait for ever" not in text


@pytest.mark.parametrize("kind", ["loop", "dangling", "folder"])
@pytest.mark.parametrize("name", ["cycle.yaml", "plan.yaml"])
def test_a_cycle_file_that_is_a_loop_a_broken_link_or_a_folder(name, kind, tmp_path, capsys):
    """Before: 'the file is missing; csi cycle new creates an example' for a link."""
    cycle = cycle_copy(tmp_path)
    (cycle / name).unlink()
    make(cycle / name, kind)
    status, text = run(["cycle", "check", str(cycle)], capsys)
    assert status == 2, text
    assert f"{cycle / name}: {SAYS[kind]}" in text, text
    assert "Traceback" not in text and "is missing" not in text


@pytest.mark.parametrize("kind", ["loop", "dangling", "folder", "fifo", "zero"])
@pytest.mark.parametrize("command", [["cycle", "check"], ["targets", "check"]])
def test_a_cycle_whose_data_is_not_a_file(command, kind, tmp_path, capsys):
    """The check refuses what the load would: before, a pipe, a device or a folder as
    the data passed csi cycle check (it only asked whether the path exists)."""
    cycle = cycle_copy(tmp_path)
    data = make(tmp_path / "requests.csv", kind)
    text = (cycle / "cycle.yaml").read_text().replace(str(SAMPLE), str(data))
    (cycle / "cycle.yaml").write_text(text)
    status, out = run([*command, str(cycle)], capsys)
    assert status == 2, out
    assert "Traceback" not in out
    assert f"cycle.yaml:8: data.source: the data file '{data}': {SAYS[kind]}" in out, out


@pytest.mark.parametrize("kind", ["fifo", "zero", "loop"])
def test_a_decisions_log_that_is_not_a_file(kind, tmp_path):
    """The workshop's decisions log read and appended: before, a pipe hung the workshop
    and /dev/zero filled its memory. In a subprocess: the old code would never return."""
    cycle = cycle_copy(tmp_path)
    make(cycle / "decisions.md", kind)
    code = (
        "import sys\n"
        "from csi_lib.errors import CsiError\n"
        "from csi_lib.workshop import read_decisions, record_decision\n"
        "for f in (lambda: read_decisions(sys.argv[1]), lambda: record_decision(sys.argv[1], 'x')):\n"
        "    try:\n"
        "        f()\n"
        "    except CsiError as exc:\n"
        "        print(exc)\n"
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", code, str(cycle)], capture_output=True, text=True, timeout=60
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) == 2, proc.stdout + proc.stderr
    for line in lines:
        assert line.startswith(f"file '{cycle / 'decisions.md'}': ") and SAYS[kind] in line


def test_did_you_mean_ends_with_its_question_mark(tmp_path, capsys):
    (tmp_path / "requests.csv").write_text("x\n")
    status, text = run(["validate", str(tmp_path / "request.csv")], capsys)
    assert status == 2 and text.rstrip().endswith("Did you mean requests.csv?"), text


# --------------------------------------------------------------------------- local midnights


@pytest.mark.parametrize(
    ("tz", "first", "says"),
    [
        ("Africa/Cairo", "2025-04-25",
         "2025-04-25 00:00 does not exist in Africa/Cairo (the clocks go forward at that time); "
         "01:00, the first instant that exists, is used instead"),
        ("Asia/Beirut", "2025-03-30", "2025-03-30 00:00 does not exist in Asia/Beirut"),
        # the whole day was skipped: pandas' shift_forward gives 01:00 on the 31st
        ("Pacific/Apia", "2011-12-30",
         "2011-12-30 00:00 does not exist in Pacific/Apia (the clocks go forward at that time); "
         "2011-12-31 00:00, the first instant that exists, is used instead"),
    ],
)  # fmt: skip
def test_other_midnights_the_clocks_skip(tz, first, says, capsys):
    status, text = run(["kpis", str(SAMPLE), "--tz", tz, "--from", first, "--freq", "week"], capsys)
    assert status == 0, text
    assert "Traceback" not in text and f"note: {says}" in text


def test_a_skipped_day_starts_at_its_first_instant():
    """Samoa went from 2011-12-29 23:59:59 (UTC-10) to 2011-12-31 00:00 (UTC+14)."""
    import pandas as pd

    from csi_lib.periods import Period, period_edges

    period = Period.from_dates("2011-12-30", "2012-01-31", tz="Pacific/Apia")
    assert period.start == pd.Timestamp("2011-12-30 10:00", tz="UTC")
    edges = period_edges(Period.from_dates("2011-12-01", "2011-12-31", tz="Pacific/Apia"), "week")
    assert edges[0] == pd.Timestamp("2011-12-01 10:00", tz="UTC")


# --------------------------------------------------------------------------- characters


def test_characters_no_workbook_can_hold(tmp_path):
    """U+FFFF and U+FFFE are valid UTF-8 but not XML: the workbook written with them could
    not be opened (openpyxl's own reader: 'not well-formed')."""
    import pandas as pd
    from openpyxl import load_workbook

    from csi_lib.excel import HEADER_ROW, Sheet, write_kpi_workbook

    frame = pd.DataFrame({"Category\ufffe": ["Lap\ufffftop", "Desk\x7ftop"], "n": [1, 2]})
    path = write_kpi_workbook(tmp_path / "kpis.xlsx", {"By\uffff": Sheet("t\ufffe", frame)})
    sheet = load_workbook(path)["By"]
    values = [sheet.cell(row, 1).value for row in range(HEADER_ROW, HEADER_ROW + 3)]
    assert values == ["Category", "Laptop", "Desktop"]


# --------------------------------------------------------------------------- pulls


def test_a_lone_surrogate_in_a_pulled_record(tmp_path):
    """JSON may escape half of a UTF-16 pair ("Lap\\ud800top"): before, writing the store
    ended in a UnicodeEncodeError traceback (exit 1); now it reads Lap\ufffdtop."""
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "pull"))
    import pull_imitation as im

    from csi_lib.pull import Credentials, ServiceNowSource, pull, read_store

    sn = im.servicenow_app(im.truth(5))

    def change(query, body):
        for record in body["result"]:
            record["cat_item"]["display_value"] = "Lap\ud800top \U0001f600"

    sn.edit(change)
    with im.Server(sn):
        result = pull(
            ServiceNowSource(sn.url, page_size=100),
            tmp_path / "s.parquet",
            Credentials(user="csi.integration", password="s3cret-pw"),
        )
    assert result.total == 5
    frame = read_store(tmp_path / "s.parquet")[0]
    assert set(frame["dv_cat_item"]) == {"Lap\ufffdtop \U0001f600"}


@pytest.mark.parametrize("written", ["true", "yes", "off"])
def test_a_target_value_of_true_or_false(written, tmp_path, capsys):
    """YAML reads 'value: true' (or yes, off) as a truth value: before, a target of 1 (or 0)."""
    cycle = cycle_copy(tmp_path)
    path = cycle / "targets.yaml"
    path.write_text(path.read_text().replace("value: 28 ", f"value: {written} ", 1))
    status, text = run(["cycle", "check", str(cycle)], capsys)
    assert status == 2, text
    assert "targets.yaml:24: targets[0].value: " in text and "is not a number" in text, text


# --------------------------------------------------------------------------- columnar bombs


def _long_text_table(rows: int, width: int):
    """Requests whose category is one long text repeated: a few kB of Parquet or compressed
    Arrow (dictionary pages, zstd) that expand to rows x width bytes once read."""
    import numpy as np
    import pyarrow as pa

    start = np.datetime64("2025-01-01T00:00:00", "us")
    return pa.table(
        {
            "request_id": pa.array([f"R{i}" for i in range(rows)]),
            "opened_at": pa.array(start + np.arange(rows).astype("timedelta64[m]")),
            "closed_at": pa.array(start + (np.arange(rows) + 600).astype("timedelta64[m]")),
            "outcome": pa.array(["fulfilled"] * rows),
            "category": pa.array(["x" * width] * rows),  # plain text, not an Arrow dictionary
        }
    )


def _write_columnar(table, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        pq.write_table(table, path, compression="zstd")
        return
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.OSFile(str(path), "wb") as sink:
        make = pa.ipc.new_file if path.suffix == ".arrow" else pa.ipc.new_stream
        with make(sink, table.schema, options=options) as writer:
            writer.write_table(table, max_chunksize=5_000)


@pytest.mark.parametrize("name", ["bomb.parquet", "bomb.arrow", "bomb.arrows"])
def test_a_columnar_file_whose_text_expands_beyond_the_limit(name, tmp_path):
    """Parquet and compressed Arrow are decompressed as they are read, like a gzip: 20,000
    copies of a 200-byte category (4 MB of text) under a 1 MB limit are refused before they
    are held (before: read whole; a 24 MB Parquet file of 1.9M such rows took 7.6 GB)."""
    path = tmp_path / name
    _write_columnar(_long_text_table(20_000, 200), path)
    assert path.stat().st_size < 1_000_000
    status, text = csi(["validate", str(path)], cwd=tmp_path, env={"CSI_MAX_EXPANDED_MB": "1"})
    assert status == 2, text
    assert "Traceback" not in text and text.startswith("error: ")
    assert "its text columns expand to more than 1 MB once decompressed" in text
    assert "--engine duckdb" in text and "CSI_MAX_EXPANDED_MB" in text
    status, text = csi(["validate", str(path)], cwd=tmp_path, env={"CSI_MAX_EXPANDED_MB": "8"})
    assert status == 0 and "20,000 kept" in text, text


def test_a_big_parquet_read_in_blocks_is_bounded_too(tmp_path, monkeypatch):
    """The block reader of big Parquet files (2M rows or more) counts its text the same way."""
    from csi_lib import sources
    from csi_lib.errors import InputError

    monkeypatch.setattr(sources.blocks, "STREAM_MIN_ROWS", 0)
    monkeypatch.setenv("CSI_MAX_EXPANDED_MB", "1")
    path = tmp_path / "bomb.parquet"
    _write_columnar(_long_text_table(20_000, 200), path)
    with pytest.raises(InputError, match="its text columns expand to more than 1 MB"):
        sources.load_requests(path, quarantine_dir=None)
    monkeypatch.setenv("CSI_MAX_EXPANDED_MB", "8")
    assert sources.load_requests(path, quarantine_dir=None).rows_kept == 20_000


def test_out_of_memory_reading_a_columnar_file_is_said_as_such(tmp_path, monkeypatch):
    """pyarrow's ArrowMemoryError (a memory cap) reads as memory, not as a damaged file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from csi_lib.errors import InputError
    from csi_lib.sources import readers

    path = tmp_path / "r.parquet"
    _write_columnar(_long_text_table(10, 5), path)

    def no_memory(*args, **kwargs):
        raise pa.ArrowMemoryError("realloc of size 1056964608 failed")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", no_memory)
    with pytest.raises(InputError) as err:
        readers.read_parquet(path, readers.ReadOptions())
    assert "needs more memory than this machine gives" in str(err.value)
    assert "not a readable Parquet file" not in str(err.value)
