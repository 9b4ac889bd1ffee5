"""The bad-input corpus (tests/bad_input/) through the real command line.

Every file is a mistake real exports contain. For each, ``csi validate`` (and for
some ``csi kpis``) must either exit 2 with one paragraph naming the file and,
where it applies, the column, the row and what to do, or exit 0 with exactly the
expected rows quarantined for the expected reasons. Never a traceback, never a
half-written file. The table users read is docs/bad-input.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from csi_lib.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_input"
PYTHON = sys.executable


@dataclass(frozen=True)
class Case:
    """One corpus file, the extra command-line arguments, and what the user must see."""

    file: str
    args: tuple[str, ...] = ()
    status: int = 2
    #: texts the error message must contain (file name is always checked)
    says: tuple[str, ...] = ()
    column: str | None = None
    row: int | None = None
    #: exit 0: {source_row: reason} of the quarantine file
    quarantined: dict[int, str] = field(default_factory=dict)
    rows_kept: int | None = None


def m(name: str) -> tuple[str, str]:
    return ("--mapping", str(CORPUS / name))


CASES: dict[str, Case] = {
    # --- the file itself ------------------------------------------------------------------
    "empty": Case("empty.csv", says=("the file is empty", "header row")),
    "blank lines": Case("blank_lines.csv", says=("the file is empty",)),
    "header only": Case("header_only.csv", says=("no data rows", "export filter")),
    "missing required column": Case(
        "missing_required_column.csv",
        column="opened_at",
        says=("no such column", "Fix the mapping"),
    ),
    "misspelt header": Case(
        "misspelt_header.csv", column="opened_at", says=("closest columns in the file: opend_at",)
    ),
    "header case and spaces": Case("header_whitespace_case.csv", status=0, rows_kept=5),
    "ragged row": Case("ragged_row.csv", row=3, says=("as many fields as the header",)),
    "unclosed quote": Case("unclosed_quote.csv", row=3, says=("check the quotes",)),
    "extra field on every row": Case(
        "extra_field_every_row.csv", row=1, says=("more fields than the header", "quoted")
    ),
    "trailing delimiter": Case("trailing_delimiter.csv", status=0, rows_kept=5),
    "semicolon delimiter": Case("semicolon_delimiter.csv", status=0, rows_kept=5),
    "tab delimiter in a .csv": Case("tab_delimiter.csv", status=0, rows_kept=5),
    "pipe delimiter": Case("pipe_delimiter.txt", status=0, rows_kept=5),
    "binary named .csv": Case("binary_named_csv.csv", says=("not a text file",)),
    "truncated gzip": Case("truncated.csv.gz", says=("cannot be read", "complete")),
    # issue 23: cut after the 64 KB sniffed for the header (before: "aborted", exit 130)
    "gzip truncated after 64 KB": Case(
        "truncated_after_64k.csv.gz", says=("ends before its end marker", "incomplete")
    ),
    # issue 23, the low items
    "UTF-32 with its BOM": Case("utf32.csv", status=0, rows_kept=5),  # before: read as UTF-16
    "UTF-16 without a BOM": Case("utf16_no_bom.txt", status=0, rows_kept=5),
    "two headers differing only by case": Case(
        "case_only_headers.csv",
        column="category",
        says=("2 columns that differ from it only in upper and lower case", "'CATEGORY'"),
    ),
    "Excel serial dates in a workbook": Case(
        "excel_serial_dates.xlsx",
        status=0,
        rows_kept=3,
        says=("are Excel serial numbers, not dates", "45719.375 = 2025-03-03 09:00:00"),
    ),
    "Excel serial dates in a CSV": Case(
        "excel_serial_dates.csv",
        status=0,
        rows_kept=1,
        says=("look like Excel serial day numbers (e.g. 45719.375)",),
        quarantined={
            1: "unparseable opened_at; unparseable closed_at",
            2: "unparseable opened_at",
        },
    ),
    "an Arrow IPC stream": Case("arrow_stream.arrow", status=0, rows_kept=5),
    "requests with a single, final event": Case(
        "single_event_log.csv",
        m("single_event_mapping.yaml"),
        status=0,
        rows_kept=4,
        says=("2 request(s) have a single event, whose status is final", "0 h"),
    ),
    "control characters in text": Case(
        "control_characters.csv",
        status=0,
        rows_kept=5,
        says=("2 value(s) of 'category' held control characters", "'Laptop'"),
    ),
    # issue 23, made differently: before, one NUL byte made the file "not a text file"
    "BOM, CRLF and NUL bytes": Case(
        "bom_crlf_nul.csv",
        status=0,
        rows_kept=5,
        says=(
            "1 column name(s) held control characters (e.g. 'opened\\x00_at')",
            "1 value(s) of 'category' held control characters (e.g. 'Lap\\x00top')",
            "2 value(s) of 'group' held control characters",
        ),
    ),
    "plain text named .gz": Case("not_gzip.csv.gz", says=("Not a gzipped file",)),
    "zip of two files": Case("two_files.zip", says=("holds 2 files", "exactly one CSV")),
    "CSV named .xlsx": Case("csv_named_xlsx.xlsx", says=("not a readable Excel workbook",)),
    "unsupported suffix": Case("unsupported_suffix.json", says=("cannot be read", "Supported")),
    "damaged parquet": Case("truncated.parquet", says=("not a readable Parquet file",)),
    "no such file": Case("no_such_export.csv", says=("does not exist",)),
    # --- encodings ----------------------------------------------------------------------------
    "UTF-8 with BOM": Case("bom_utf8.csv", status=0, rows_kept=5),
    "Latin-1": Case("latin1.csv", status=0, rows_kept=5, says=("not UTF-8",)),
    "Windows-1252 + semicolons": Case("cp1252_semicolon.csv", status=0, rows_kept=5),
    "UTF-16 (Excel Unicode text)": Case("utf16_excel_unicode_text.txt", status=0, rows_kept=5),
    # --- dates --------------------------------------------------------------------------------
    "mixed date formats": Case(
        "mixed_date_formats.csv",
        status=0,
        rows_kept=4,
        quarantined={5: "unparseable opened_at", 6: "unparseable closed_at"},
    ),
    "day-first dates read month-first": Case(
        "dayfirst_ambiguous.csv", column="opened_at", row=3, says=("day-first", "dayfirst: true")
    ),
    "day-first dates with dayfirst: true": Case(
        "dayfirst_ambiguous.csv", m("dayfirst_mapping.yaml"), status=0, rows_kept=4
    ),
    "dates in the future": Case(
        "future_dates.csv",
        status=0,
        rows_kept=3,
        quarantined={4: "opened_at in the future", 5: "closed_at in the future"},
    ),
    "closed before opened": Case(
        "closed_before_opened.csv", status=0, rows_kept=3, quarantined={4: "closed before opened"}
    ),
    "unparseable dates": Case(
        "unparseable_dates.csv",
        status=0,
        rows_kept=2,
        quarantined={3: "unparseable opened_at", 4: "unparseable closed_at"},
    ),
    "aware and naive timestamps mixed": Case("mixed_timezones.csv", status=0, rows_kept=4),
    "open with closed_at / closed without": Case(
        "open_with_closed_at.csv",
        status=0,
        rows_kept=2,
        quarantined={3: "open request with closed_at", 4: "closed outcome without closed_at"},
    ),
    # --- values -------------------------------------------------------------------------------
    "duplicate ids, different content": Case(
        "duplicate_ids.csv",
        status=0,
        rows_kept=4,  # 7 rows: R1's exact copy collapsed, both R2 rows quarantined
        quarantined={2: "duplicate request_id", 7: "duplicate request_id"},
    ),
    "missing ids": Case(
        "missing_ids.csv", status=0, rows_kept=2, quarantined={3: "missing request_id"}
    ),
    "csat 0 and 10": Case(
        "csat_out_of_range.csv",
        status=0,
        rows_kept=2,
        quarantined={3: "csat out of range 1..5", 4: "csat out of range 1..5"},
    ),
    "csat 'Very satisfied'": Case(
        "csat_text.csv", status=0, rows_kept=3, quarantined={3: "csat not a number"}
    ),
    "reopen_count -1, 1.5, 'twice'": Case(
        "reopen_count_bad.csv",
        status=0,
        rows_kept=2,
        quarantined={
            3: "reopen_count not a whole number",
            4: "reopen_count not a whole number",
            5: "reopen_count not a whole number",
        },
    ),
    "unknown outcome value": Case(
        "unknown_outcome.csv",
        status=0,
        rows_kept=2,
        quarantined={3: "unknown outcome", 4: "missing outcome"},
    ),
    "outcome the mapping does not know": Case(
        "strict_outcome_export.csv",
        m("strict_outcome_mapping.yaml"),
        status=0,
        rows_kept=3,
        quarantined={3: "unknown outcome"},
    ),
    "export needing a mapping, loaded with the generic preset": Case(
        "strict_outcome_export.csv", column="request_id", says=("Ticket, Opened",)
    ),
    "formula in cells": Case("formula_injection.csv", status=0, rows_kept=10),
    # --- workbooks ----------------------------------------------------------------------------
    "several sheets, cover sheet first": Case(
        "several_sheets.xlsx", column="request_id", says=("3 sheets", "--sheet", "'Notes'")
    ),
    "several sheets, --sheet Requests": Case(
        "several_sheets.xlsx", ("--sheet", "Requests"), status=0, rows_kept=5
    ),
    "misspelt sheet name": Case(
        "several_sheets.xlsx", ("--sheet", "Reqests"), says=("did you mean 'Requests'",)
    ),
    "empty sheet": Case("several_sheets.xlsx", ("--sheet", "Empty"), says=("no data rows",)),
    # --- mapping files ------------------------------------------------------------------------
    "mapping key typo": Case(
        "bom_utf8.csv",
        m("mapping_key_typo.yaml"),
        row=3,
        column="colums",
        says=("mapping_key_typo.yaml", "did you mean 'columns'"),
    ),
    "mapping column typo": Case(
        "bom_utf8.csv",
        m("mapping_nested_typo.yaml"),
        row=6,
        says=("mapping_nested_typo.yaml", "did you mean 'category'"),
    ),
    "mapping unknown timezone": Case(
        "bom_utf8.csv",
        m("mapping_bad_timezone.yaml"),
        row=2,
        column="timezone",
        says=("Europe/London",),
    ),
    "mapping not YAML": Case(
        "bom_utf8.csv", m("mapping_not_yaml.yaml"), row=2, says=("not valid YAML",)
    ),
    # --- issue 10, data side ---------------------------------------------------------------
    "dates outside 1677..2262 (9999-12-31, 1000, 0001)": Case(
        "never_dates.csv",
        status=0,
        rows_kept=3,
        quarantined={
            2: "opened_at out of range 1677..2262",
            4: "closed_at out of range 1677..2262",
        },
        says=(
            "2 value(s) of 'sla_due_at' (sla_due_at) are dates outside",
            "1 value(s) of 'closed_at' (closed_at)",
            "1 value(s) of 'assessed_at' (assessed_at)",
            "read as missing",
        ),
    ),
    "typed Parquet timestamps outside 1677..2262": Case(
        "never_dates.parquet",
        status=0,
        rows_kept=3,
        quarantined={
            2: "opened_at out of range 1677..2262",
            4: "closed_at out of range 1677..2262",
        },
        says=("2 value(s) of 'sla_due_at' (sla_due_at) are dates outside",),
    ),
    "sla_met 'maybe' and 'Ja'": Case(
        "sla_met_unrecognised.csv",
        status=0,
        rows_kept=6,
        says=("3 value(s) of 'sla_met'", "neither true nor false", "'maybe' (2), 'Ja' (1)"),
    ),
    "local times skipped and repeated by daylight saving": Case(
        "daylight_saving_times.csv",
        m("berlin_mapping.yaml"),
        status=0,
        rows_kept=2,
        quarantined={2: "unparseable opened_at"},
        says=(
            "1 value(s) of 'opened_at' (e.g. '2025-03-30 02:30') fall in the hour skipped",
            "repeated hour",
        ),
    ),
    "ids written as floats (CSV)": Case("float_ids.csv", status=0, rows_kept=3),
    "ids written as floats (Parquet)": Case("float_ids.parquet", status=0, rows_kept=3),
    "ids written as numbers (Excel)": Case("float_ids.xlsx", status=0, rows_kept=3),
    "repeated header name read by the mapping": Case(
        "duplicate_header.csv",
        column="category",
        says=("appears 2 times in the header", "rename or remove"),
    ),
    "repeated header name the mapping does not read": Case(
        "duplicate_unread_header.csv", status=0, rows_kept=5
    ),
    "mapping reading one column twice": Case(
        "bom_utf8.csv",
        m("mapping_shared_column.yaml"),
        status=0,
        rows_kept=4,
        quarantined={5: "open request with closed_at"},
        says=(
            "opened_at and closed_at both come from 'opened_at'",
            "reads the column 'category' for category and group",
        ),
    ),
    "zip made on a Mac (folder entries, __MACOSX/, .DS_Store)": Case(
        "macos_folder.zip", status=0, rows_kept=5
    ),
    "CSV lines of delimiters only": Case(
        "blank_rows.csv", status=0, rows_kept=5, says=("3 empty skipped",)
    ),
    "workbook rows formatted but empty": Case(
        "formatted_empty_rows.xlsx", status=0, rows_kept=5, says=("1 empty skipped",)
    ),
    "rows to fix and load again": Case(
        "fix_and_reload.csv",
        status=0,
        rows_kept=2,
        quarantined={3: "closed before opened", 4: "csat out of range 1..5"},
    ),
    "mapping with a python tag": Case(
        "bom_utf8.csv",
        m("mapping_python_tag.yaml"),
        row=1,
        says=("could not determine a constructor",),
    ),
}


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out + err


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files left in ``folder`` (atomic writes leave none)."""
    return [str(p) for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


@pytest.mark.parametrize("name", list(CASES))
def test_corpus_case(name, tmp_path, capsys):
    case = CASES[name]
    path = CORPUS / case.file
    quarantine = tmp_path / "quarantine"
    status, text = run_cli(
        ["validate", str(path), *case.args, "--quarantine-dir", str(quarantine)], capsys
    )
    assert "Traceback" not in text
    assert status == case.status, text
    for phrase in case.says:
        assert phrase.lower() in " ".join(text.split()).lower(), (phrase, text)
    assert not leftovers(tmp_path)
    if case.status == 2:
        assert text.startswith("error: "), text
        assert text.count("\n") == 1, "one paragraph"
        # a bad mapping file is named itself; every other error names the export
        shown = case.args[1] if case.args[:1] == ("--mapping",) else str(path)
        assert f"file '{shown}'" in text
        if case.column:
            assert f"column '{case.column}'" in text
        if case.row:
            assert f"row {case.row}:" in text
        assert not quarantine.exists() or not any(quarantine.iterdir()), "no output on error"
        return
    assert f"{case.rows_kept:,} kept" in text, text
    files = list(quarantine.glob("*.csv")) if quarantine.exists() else []
    if not case.quarantined:
        assert files == []
        return
    assert len(files) == 1
    q = pd.read_csv(files[0], dtype={"source_row": int}, keep_default_na=False)
    assert dict(zip(q["source_row"], q["reason"], strict=True)) == case.quarantined
    assert f"{len(case.quarantined):,} quarantined" in text


def test_corpus_has_thirty_files():
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".py", ".md")]
    assert len(files) >= 30, len(files)


#: corpus files checked by their own tests below (database sources)
OWN_TESTS = {
    "requests.db",
    "gzip_bomb.csv.gz",
    "zip_bomb.zip",
    "not_utf8_values.db",
}  # + tests/test_hostile_input.py


def test_every_corpus_file_is_in_a_case():
    used = (
        {c.file for c in CASES.values()}
        | OWN_TESTS
        | {a.removeprefix(str(CORPUS) + "/") for c in CASES.values() for a in c.args}
    )
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix not in (".py", ".md")}
    assert files - used == set()


def test_python_tag_in_mapping_runs_nothing(tmp_path, capsys):
    marker = Path("/tmp/csi-pwned")
    marker.unlink(missing_ok=True)
    status, _ = run_cli(
        ["validate", str(CORPUS / "bom_utf8.csv"), *m("mapping_python_tag.yaml")], capsys
    )
    assert status == 2
    assert not marker.exists()


def test_values_of_the_loaded_files(capsys):
    from csi_lib.sources import load_requests

    tz = load_requests(CORPUS / "mixed_timezones.csv").data
    # 09:00Z, 09:00 naive (UTC), 10:00+01:00, 04:00-05:00 are all 09:00 UTC
    assert tz["opened_at"].nunique() == 1
    assert tz["opened_at"].iloc[0] == pd.Timestamp("2025-03-03 09:00", tz="UTC")
    day = load_requests(CORPUS / "dayfirst_ambiguous.csv", mapping=CORPUS / "dayfirst_mapping.yaml")
    # 01/02/2025 09:00 London (GMT in February) is 1 February 09:00 UTC
    assert day.data["opened_at"].iloc[0] == pd.Timestamp("2025-02-01 09:00", tz="UTC")
    for name in ("bom_utf8.csv", "latin1.csv", "utf16_excel_unicode_text.txt"):
        cats = set(load_requests(CORPUS / name).data["category"].cat.categories)
        assert {"Café machine", "Réseau"} <= cats, name
    mixed = load_requests(CORPUS / "mixed_date_formats.csv").data.set_index("request_id")
    assert mixed.loc["R3", "opened_at"] == pd.Timestamp("2025-03-03 08:00", tz="UTC")
    assert mixed.loc["R4", "closed_at"] == pd.Timestamp("2025-03-07 14:00", tz="UTC")


def test_kpis_command_on_quarantined_file(capsys):
    # 4 rows, R6 quarantined: R1, R2, R3 received 3-4 March; the period is the data's span.
    # With --format json the JSON object is the only thing on stdout
    status = main(
        ["kpis", str(CORPUS / "closed_before_opened.csv"), "--format", "json", "--kpi", "received"]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert json.loads(out) == {"received": 3.0}


def test_kpis_command_error_leaves_no_quarantine(tmp_path, capsys):
    status, text = run_cli(
        [
            "kpis",
            str(CORPUS / "misspelt_header.csv"),
            "--quarantine-dir",
            str(tmp_path / "q"),
            "--format",
            "csv",
        ],
        capsys,
    )
    assert status == 2 and "Traceback" not in text
    assert not (tmp_path / "q").exists()


def test_cycle_yaml_with_a_tab(capsys):
    # csi cycle check exits with SystemExit(2) by design (see csi_lib/cli/cycle.py)
    with pytest.raises(SystemExit) as exit_info:
        main(["cycle", "check", str(CORPUS / "cycle_with_tab")])
    out, err = capsys.readouterr()
    text = out + err
    assert exit_info.value.code == 2
    assert "cycle.yaml:14" in text and "tab" in text and "spaces" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "case",
    [
        "misspelt header",
        "dates in the future",
        "mapping key typo",
        "truncated gzip",
        "gzip truncated after 64 KB",
    ],
)
def test_console_script_in_a_subprocess(case, tmp_path):
    """The installed entry (python -m csi_lib) prints the same paragraph, no traceback."""
    c = CASES[case]
    proc = subprocess.run(
        [
            PYTHON,
            "-m",
            "csi_lib",
            "validate",
            str(CORPUS / c.file),
            *c.args,
            "--quarantine-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == c.status, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


# --------------------------------------------------------------------------------------
# A file of a few hundred MB, written by the test (never committed)
# --------------------------------------------------------------------------------------

BIG_ROWS = 2_400_000


def write_big_csv(path: Path, rows: int, *, seed: int = 7, bad_every: int = 0) -> None:
    """A canonical CSV of ``rows`` requests, written with pyarrow in blocks of 1M rows.

    With ``bad_every``, every ``bad_every``-th row (1-based rows k*bad_every) is closed an
    hour before it was opened.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01").value // 10**9
    span = 365 * 24 * 3600
    cats = np.array(["Laptop", "Phone", "Software", "Access", "Monitor", "Headset"])
    outcomes = np.array(["fulfilled", "declined", "cancelled", "open"])
    writer = None
    block = 1_000_000
    try:
        for first in range(0, rows, block):
            n = min(block, rows - first)
            idx = np.arange(first + 1, first + n + 1)
            opened = start + rng.integers(0, span, n)
            fulfil = rng.gamma(2.0, 20 * 3600, n).astype("int64") + 60
            outcome = outcomes[rng.choice(4, n, p=[0.8, 0.08, 0.04, 0.08])]
            closed = np.where(outcome == "open", -1, opened + fulfil)
            if bad_every:
                bad = idx % bad_every == 0
                outcome[bad] = "fulfilled"
                closed[bad] = opened[bad] - 3600

            def ts(sec: np.ndarray) -> pa.Array:
                arr = pa.array(sec.astype("datetime64[s]"))
                return pa.compute.if_else(pa.array(sec < 0), pa.scalar(None, arr.type), arr)

            csat = rng.integers(1, 6, n).astype(float)
            csat[rng.random(n) < 0.7] = np.nan
            table = pa.table(
                {
                    "request_id": pa.array(np.char.add("REQ", idx.astype(str))),
                    "opened_at": ts(opened),
                    "assessed_at": ts(opened + 1800),
                    "closed_at": ts(closed),
                    "outcome": outcome,
                    "category": cats[rng.integers(0, len(cats), n)],
                    "channel": np.array(["portal", "email", "phone"])[rng.integers(0, 3, n)],
                    "priority": np.array(["P2", "P3", "P4"])[rng.integers(0, 3, n)],
                    "group": np.array(["Desk", "Apps", "Access"])[rng.integers(0, 3, n)],
                    "csat": pa.array(csat, from_pandas=True),
                    "reopen_count": rng.integers(0, 2, n),
                    "description": np.char.add("Please help with ticket ", idx.astype(str)),
                }
            )
            if writer is None:
                writer = pacsv.CSVWriter(str(path), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


@pytest.mark.slow
def test_several_hundred_mb_file(tmp_path, capsys):
    big = tmp_path / "big_export.csv"
    t0 = time.perf_counter()
    write_big_csv(big, BIG_ROWS, bad_every=1_000_000)
    size_mb = big.stat().st_size / 1e6
    t1 = time.perf_counter()
    status, text = run_cli(
        [
            "kpis",
            str(big),
            "--kpi",
            "received",
            "--kpi",
            "fulfilled",
            "--format",
            "json",
            "--from",
            "2024-01-01",
            "--to",
            "2024-12-31",
            "--quarantine-dir",
            str(tmp_path / "q"),
        ],
        capsys,
    )
    t2 = time.perf_counter()
    print(
        f"\nbig file: {size_mb:.0f} MB, {BIG_ROWS:,} rows; write {t1 - t0:.1f} s, kpis {t2 - t1:.1f} s"
    )
    assert size_mb > 200
    assert status == 0 and "Traceback" not in text
    values = json.loads(text.strip().splitlines()[-1])
    # rows 1,000,000 and 2,000,000 are closed before opened: quarantined, 2,399,998 kept;
    # every request was opened in 2024 (opened = start + [0, 365 days))
    assert values["received"] == BIG_ROWS - 2
    files = list((tmp_path / "q").glob("*.csv"))
    q = pd.read_csv(files[0])
    assert q["source_row"].tolist() == [1_000_000, 2_000_000]
    assert set(q["reason"]) == {"closed before opened"}
    # the free-text column never reaches the quarantine file either
    assert "description" not in q.columns


# --------------------------------------------------------------------------------------
# Big files are read in blocks: the result is the same as a one-piece load
# --------------------------------------------------------------------------------------

FIXTURES = ROOT / "tests" / "fixtures" / "exports"
SAME_EITHER_WAY = [
    (CORPUS / "closed_before_opened.csv", {}),
    (CORPUS / "duplicate_ids.csv", {}),
    (CORPUS / "mixed_date_formats.csv", {}),
    (CORPUS / "future_dates.csv", {}),
    (CORPUS / "csat_text.csv", {}),
    (CORPUS / "reopen_count_bad.csv", {}),
    (CORPUS / "bom_utf8.csv", {}),
    (CORPUS / "semicolon_delimiter.csv", {}),
    (CORPUS / "tab_delimiter.csv", {}),
    (CORPUS / "header_whitespace_case.csv", {}),
    (CORPUS / "unknown_outcome.csv", {}),
    (CORPUS / "formula_injection.csv", {}),
    (CORPUS / "strict_outcome_export.csv", {"mapping": CORPUS / "strict_outcome_mapping.yaml"}),
    (CORPUS / "dayfirst_ambiguous.csv", {"mapping": CORPUS / "dayfirst_mapping.yaml"}),
    (FIXTURES / "generic.csv", {}),
    (FIXTURES / "servicenow.csv", {"preset": "servicenow"}),
    (FIXTURES / "jira.csv", {"preset": "jira-sm"}),
]


def load_both_ways(monkeypatch, path, **kw):
    from csi_lib import sources

    whole = sources.load_requests(path, **kw)
    monkeypatch.setattr(sources.blocks, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(sources.blocks, "STREAM_BLOCK_BYTES", 300)  # a few rows per block
    blocks = sources.load_requests(path, **kw)
    monkeypatch.undo()
    return whole, blocks


@pytest.mark.parametrize(("path", "kw"), SAME_EITHER_WAY, ids=[p.name for p, _ in SAME_EITHER_WAY])
def test_reading_in_blocks_gives_the_same_result(path, kw, monkeypatch):
    whole, blocks = load_both_ways(monkeypatch, path, **kw)
    pd.testing.assert_frame_equal(blocks.data, whole.data)
    pd.testing.assert_frame_equal(
        blocks.quarantine.astype("string"), whole.quarantine.astype("string")
    )
    for attr in ("rows_read", "rows_kept", "rows_quarantined", "rows_collapsed", "fingerprint"):
        assert getattr(blocks, attr) == getattr(whole, attr), attr
    assert blocks.warnings == whole.warnings
    assert blocks.columns_used == whole.columns_used


def test_blocks_see_duplicates_and_date_order_across_blocks(tmp_path, monkeypatch):
    rows = [f"R{i},2025-03-{1 + i % 28:02d} 09:00,,,open,Cat{i % 7}" for i in range(60)]
    rows[50] = "R3,2025-03-20 09:00,,,open,Cat3"  # differs from row 4 (R3): both quarantined
    rows[55] = rows[10]  # an exact copy of R10 far away: collapsed
    src = tmp_path / "far.csv"
    src.write_text(
        "request_id,opened_at,assessed_at,closed_at,outcome,category\n" + "\n".join(rows)
    )
    whole, blocks = load_both_ways(monkeypatch, src)
    # 60 rows: R10's copy collapsed, both R3 rows quarantined -> 57 kept
    assert blocks.rows_kept == whole.rows_kept == 57
    assert blocks.rows_collapsed == 1
    assert blocks.quarantine["source_row"].tolist() == [4, 51]
    pd.testing.assert_frame_equal(blocks.data, whole.data)

    dates = [f"R{i},0{1 + i % 9}/0{1 + (i + 1) % 9}/2025 09:00,open" for i in range(60)]
    dates[58] = "R58,25/03/2025 09:00,open"  # only day-first, long after the 01/01-style ones
    src.write_text("request_id,opened_at,outcome\n" + "\n".join(dates))
    monkeypatch.setattr("csi_lib.sources.blocks.STREAM_MIN_BYTES", 0)
    monkeypatch.setattr("csi_lib.sources.blocks.STREAM_BLOCK_BYTES", 300)
    from csi_lib.errors import InputError
    from csi_lib.sources import load_requests

    with pytest.raises(InputError) as info:
        load_requests(src)
    assert info.value.row == 59 and info.value.column == "opened_at"


def test_ids_written_as_floats_with_exact_copies_keep_their_order_in_blocks(
    tmp_path, monkeypatch, recwarn
):
    """Ids written as floats ("7.0") are read as "7": a piece's exact copies of them used
    to be looked up by the id as written, found nowhere, and their source rows became
    NaN cast to int64 (a RuntimeWarning, then rows sorted by garbage across blocks)."""
    rows = [f"{i}.0,2025-03-{1 + i % 28:02d} 09:00,,,open,Cat{i % 7}" for i in range(60)]
    rows[12] = " 30.0 ,2025-03-20 09:00,,,open,Cat3"  # R30 again, differently written
    rows[55] = rows[3]  # an exact copy of "3.0" far away: collapsed into row 4
    rows[40] = rows[41]  # and one next to it
    src = tmp_path / "floats.csv"
    src.write_text(
        "request_id,opened_at,assessed_at,closed_at,outcome,category\n" + "\n".join(rows)
    )
    whole, blocks = load_both_ways(monkeypatch, src)
    assert not [w for w in recwarn.list if issubclass(w.category, RuntimeWarning)]
    assert blocks.rows_collapsed == whole.rows_collapsed == 2
    pd.testing.assert_frame_equal(blocks.data, whole.data)
    ids = whole.data["request_id"].tolist()
    assert ids[:5] == ["0", "1", "2", "3", "4"] and "40" not in ids and ids.count("3") == 1


def test_a_malformed_big_file_gets_the_whole_file_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("csi_lib.sources.blocks.STREAM_MIN_BYTES", 0)
    monkeypatch.setattr("csi_lib.sources.blocks.STREAM_BLOCK_BYTES", 300)
    for name, row in (("ragged_row.csv", 3), ("extra_field_every_row.csv", 1)):
        status, text = run_cli(["validate", str(CORPUS / name)], capsys)
        assert status == 2 and f"row {row}:" in text and "Traceback" not in text


# --------------------------------------------------------------------------------------
# Issue 10, data side: values of the loaded files, read-only databases, password spellings
# --------------------------------------------------------------------------------------


def test_values_outside_the_date_range_are_missing_not_a_traceback():
    from csi_lib.sources import load_requests

    for name in ("never_dates.csv", "never_dates.parquet"):
        res = load_requests(CORPUS / name)
        data = res.data.set_index("request_id")
        assert list(data.index) == ["R1", "R3", "R5"], name
        # 9999-12-31 is "never": no due date, not assessed, open (not closed)
        assert data["sla_due_at"].isna().tolist() == [True, False, True]
        assert data.loc["R3", "sla_due_at"] == pd.Timestamp("2025-03-10 08:00", tz="UTC")
        assert pd.isna(data.loc["R3", "assessed_at"])
        assert pd.isna(data.loc["R5", "closed_at"]) and data.loc["R5", "outcome"] == "open"
        assert res.summary()["adjusted_values"] == {
            "assessed_at out of range, read as missing": 1,
            "closed_at out of range, read as missing": 1,
            "sla_due_at out of range, read as missing": 2,
        }


def test_sla_met_values_not_recognised_are_counted():
    from csi_lib.sources import load_requests

    res = load_requests(CORPUS / "sla_met_unrecognised.csv")
    assert res.data["sla_met"].tolist() == [True, pd.NA, pd.NA, False, pd.NA, True]
    assert res.summary()["adjusted_values"] == {"sla_met not recognised, read as unknown": 3}


def test_nonexistent_local_time_is_moved_forward_and_counted():
    from csi_lib.sources import load_requests

    res = load_requests(
        CORPUS / "daylight_saving_times.csv", mapping=CORPUS / "berlin_mapping.yaml"
    )
    # 02:30 does not exist in Berlin on 30 March 2025: moved to 03:00 CEST (01:00 UTC)
    assert res.data.set_index("request_id").loc["R1", "opened_at"] == pd.Timestamp(
        "2025-03-30 01:00", tz="UTC"
    )
    assert res.summary()["adjusted_values"] == {
        "opened_at in a skipped daylight-saving hour, moved forward": 1
    }


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("float_ids.csv", ["123", "124", "125"]),
        ("float_ids.parquet", ["1", "2", "3"]),
        ("float_ids.xlsx", ["124", "125", "126"]),
    ],
)
def test_ids_written_as_floats_read_the_same_in_every_reader(name, ids):
    from csi_lib.sources import load_requests

    assert load_requests(CORPUS / name).data["request_id"].tolist() == ids


@pytest.fixture
def database(tmp_path) -> Path:
    """A copy of the corpus database (the originals are never handed to a test that writes)."""
    import shutil

    db = tmp_path / "requests.db"
    shutil.copy(CORPUS / "requests.db", db)
    return db


def table_rows(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    con.close()
    return rows


WRITES = [
    "DROP TABLE requests",
    "DELETE FROM requests",
    "INSERT INTO requests (request_id) VALUES ('X')",
    "UPDATE requests SET outcome = 'open'",
    "CREATE TABLE t AS SELECT * FROM requests",
    "PRAGMA writable_schema = 1",
    "SELECT * FROM requests; DROP TABLE requests",
    "SELECT * FROM requests;\nDELETE FROM requests -- a comment",
    "ATTACH DATABASE 'other.db' AS other",
    "WITH gone AS (DELETE FROM requests RETURNING *) SELECT * FROM gone",
    "SELECT * INTO copy FROM requests",
    "VACUUM INTO 'copy.db'",
    "REPLACE INTO requests (request_id) VALUES ('R1')",
]


@pytest.mark.parametrize("query", WRITES)
def test_a_statement_that_is_not_a_query_is_refused_before_it_is_sent(
    query, database, tmp_path, capsys, monkeypatch
):
    import sqlalchemy

    sent = []
    real = sqlalchemy.create_engine
    monkeypatch.setattr(
        sqlalchemy, "create_engine", lambda *a, **k: sent.append(a) or real(*a, **k)
    )
    monkeypatch.chdir(tmp_path)
    status, text = run_cli(["validate", f"sqlite:///{database}", "--query", query], capsys)
    assert status == 2 and "Traceback" not in text
    assert text.startswith("error: ") and text.count("\n") == 1
    assert "column 'query'" in text and "only ever reads a database" in text or "statements" in text
    assert sent == [], "nothing was sent to the database"
    assert table_rows(database) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.db"]


def test_drop_table_exits_2_and_the_table_is_still_there(database, capsys):
    status, text = run_cli(
        ["validate", f"sqlite:///{database}", "--query", "DROP TABLE requests"], capsys
    )
    assert status == 2
    assert "it holds DROP" in text
    assert table_rows(database) == 5


def test_sqlite_is_opened_read_only_even_if_a_write_slipped_through(database, monkeypatch):
    """The second line of defence: SQLite opened with mode=ro refuses the write itself."""
    from csi_lib import sources
    from csi_lib.errors import InputError

    monkeypatch.setattr(sources.sql, "check_read_only_query", lambda query, label: None)
    with pytest.raises(InputError, match="readonly database"):
        sources.load_requests(f"sqlite:///{database}", query="DELETE FROM requests RETURNING *")
    assert table_rows(database) == 5


def test_every_database_read_is_rolled_back(database, monkeypatch):
    import sqlalchemy as sa

    from csi_lib.sources import load_requests

    rolled_back = []
    real = sa.engine.Connection.rollback
    monkeypatch.setattr(
        sa.engine.Connection, "rollback", lambda self: rolled_back.append(1) or real(self)
    )
    assert load_requests(f"sqlite:///{database}", query="requests").rows_kept == 5
    assert load_requests(f"sqlite:///{database}", query="SELECT * FROM requests").rows_kept == 5
    assert len(rolled_back) == 2


def test_read_only_transaction_where_the_dialect_has_one():
    from csi_lib.sources import READ_ONLY_TRANSACTION

    for dialect in ("postgresql", "mysql", "oracle"):
        assert READ_ONLY_TRANSACTION[dialect] == "SET TRANSACTION READ ONLY"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM requests WHERE outcome <> 'drop table'",
        "select request_id, replace(category, 'a', 'b') AS category, opened_at, closed_at, outcome from requests",
        "WITH r AS (SELECT * FROM requests) SELECT * FROM r;",
        "-- the requests\nSELECT * FROM requests /* all of them */",
    ],
)
def test_queries_that_only_read_are_run(query, database):
    from csi_lib.sources import load_requests

    assert load_requests(f"sqlite:///{database}", query=query).rows_read == 5


def test_a_missing_sqlite_database_is_not_created(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "request.db").write_bytes((CORPUS / "requests.db").read_bytes())
    status, text = run_cli(["validate", "sqlite:///requests.db", "--query", "requests"], capsys)
    assert status == 2 and "Traceback" not in text
    assert "no such database" in text and "did you mean request.db" in text.lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["request.db"]


SECRET = "Pa55word-x"
SPELLINGS = {
    "URL-encoded odbc_connect PWD": "?odbc_connect=DRIVER%3D%7BSQLite%7D%3BUID%3Dsa%3BPWD%3D{s}%3B",
    "odbc_connect encoded twice": "?odbc_connect=DRIVER%253DSQLite%253BPWD%253D{s}%253B",
    "passwd=": "?passwd={s}",
    "sslpassword=": "?sslpassword={s}",
    "password= after another parameter": "?timeout=5&password={s}",
    "token=": "?access_token={s}",
}


def spelled(name: str, db: Path) -> str:
    if name == "empty user":
        return f"sqlite://:{SECRET}@/{db}"
    return f"sqlite:///{db}" + SPELLINGS[name].format(s=SECRET)


@pytest.mark.parametrize("name", [*SPELLINGS, "empty user"])
def test_password_spellings_never_shown(name, database, tmp_path, capsys):
    """The Source: line, csi kpis, a baseline's manifest.json and an error message."""
    url = spelled(name, database)
    status, text = run_cli(["validate", url, "--query", "requests"], capsys)
    assert status == 0, text
    # the console wraps long lines at any character (a long tmp path can split "***"): join them back
    source_line = "".join(text.split("Source:")[1].split("mapping:")[0].split())
    assert source_line.startswith("sqlite://") and "***" in source_line
    status, kpis_text = run_cli(["kpis", url, "--query", "requests", "--kpi", "received"], capsys)
    assert status == 0, kpis_text
    out = tmp_path / "baseline"
    status, base_text = run_cli(["baseline", url, "--query", "requests", "--out", str(out)], capsys)
    assert status == 0, base_text
    manifest = json.loads((out / "manifest.json").read_text())
    assert "***" in manifest["source"]
    status, error = run_cli(["validate", url, "--query", "no_such_table"], capsys)
    assert status == 2 and "***" in error
    for shown in (text, kpis_text, base_text, error, *(p.read_text() for p in out.rglob("*.json"))):
        unwrapped = "".join(shown.split())
        assert SECRET not in unwrapped
        assert SECRET.replace("-", "%2D") not in unwrapped


def test_a_driver_message_with_the_decoded_password_is_scrubbed():
    from csi_lib.sources import _scrub

    url = "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Dsa%3BPWD%3Ds3cr%40t%3B"
    message = "Login failed: DRIVER={ODBC};UID=sa;PWD=s3cr@t; (18456)"
    assert "s3cr" not in _scrub(message, url)


def test_quarantine_keeps_the_rows_as_read_and_loads_again_once_fixed(tmp_path):
    """quarantine -> fix -> load: the fixed rows load as the corrected export would."""
    from csi_lib.sources import load_requests

    res = load_requests(CORPUS / "fix_and_reload.csv", quarantine_dir=tmp_path)
    written = res.quarantine_path.read_text(encoding="utf-8")
    # the rows as read: untrimmed id, NULL as written, formulas neutralised reversibly
    assert "3,R6,closed_at,closed before opened, R6 ,2025-03-06 10:00,," in written
    assert ",NULL," in written
    assert '"\'=HYPERLINK(""http://x"")"' in written and ",''=1," in written
    assert ",'-Desk," in written
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(
        written.replace("2025-03-05 10:00", "2025-03-08 10:00").replace(",9,0", ",4,0"),
        encoding="utf-8",
    )
    again = load_requests(fixed)
    assert again.rows_quarantined == 0 and again.rows_kept == 2
    # the same rows, corrected in the original export
    original = (CORPUS / "fix_and_reload.csv").read_text(encoding="utf-8")
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(
        original.replace("2025-03-05 10:00", "2025-03-08 10:00").replace(",9,0", ",4,0"),
        encoding="utf-8",
    )
    expected = load_requests(corrected).data
    expected = expected[expected["request_id"].isin(["R6", "R7"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        again.data.astype("string"), expected.astype("string"), check_categorical=False
    )
    row = again.data.set_index("request_id").loc["R7"]
    assert row["category"] == '=HYPERLINK("http://x")' and row["channel"] == "'=1"
    assert row["group"] == "-Desk"


def test_quarantine_of_a_mapped_export_loads_again_with_its_mapping(tmp_path):
    from csi_lib.sources import load_requests

    mapping = CORPUS / "strict_outcome_mapping.yaml"
    res = load_requests(
        CORPUS / "strict_outcome_export.csv", mapping=mapping, quarantine_dir=tmp_path
    )
    written = res.quarantine_path.read_text(encoding="utf-8")
    assert "Assignee" not in written  # a column the mapping does not read stays out
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(written.replace("Resolved - duplicate", "Withdrawn"), encoding="utf-8")
    again = load_requests(fixed, mapping=mapping)
    assert again.data["request_id"].tolist() == ["T3"]
    assert again.data["outcome"].tolist() == ["cancelled"]


def test_neutralised_cells_are_restored_exactly():
    from csi_lib.safe import neutralise_cell, restore_cell

    for text in ["=1", "'=1", "''+A1", "-2+3", "@SUM(1)", "'quoted", "plain", "\tx", "", "'"]:
        assert restore_cell(neutralise_cell(text)) == text, text


def test_empty_rows_are_skipped_and_counted(capsys):
    from csi_lib.sources import load_requests

    res = load_requests(CORPUS / "blank_rows.csv")
    assert res.rows_blank == 3 and res.summary()["rows_blank"] == 3
    assert res.rows_read == res.rows_kept + res.rows_quarantined + res.rows_blank
    book = load_requests(CORPUS / "formatted_empty_rows.xlsx")
    assert book.data["request_id"].tolist() == ["R1", "R2", "R3", "R4", "R5"]
    assert book.quarantine.empty


def test_empty_rows_skipped_the_same_in_blocks(monkeypatch):
    whole, blocks = load_both_ways(monkeypatch, CORPUS / "blank_rows.csv")
    pd.testing.assert_frame_equal(blocks.data, whole.data)
    assert blocks.rows_blank == whole.rows_blank == 3


def test_repeated_header_in_blocks_is_the_same_error(monkeypatch, capsys):
    monkeypatch.setattr("csi_lib.sources.blocks.STREAM_MIN_BYTES", 0)
    status, text = run_cli(["validate", str(CORPUS / "duplicate_header.csv")], capsys)
    assert status == 2 and "column 'category'" in text and "appears 2 times" in text


def test_repeated_header_in_a_workbook(tmp_path, capsys):
    frame = pd.read_csv(CORPUS / "duplicate_header.csv", dtype=str)
    path = tmp_path / "repeated.xlsx"
    frame.to_excel(path, index=False)  # pandas writes the header category.1 ...
    from openpyxl import load_workbook

    book = load_workbook(path)
    book.active.cell(row=1, column=frame.shape[1]).value = "category"  # ... as Excel would not
    book.save(path)
    status, text = run_cli(["validate", str(path)], capsys)
    assert status == 2 and "column 'category'" in text and "appears 2 times" in text


def test_a_column_read_for_two_canonical_columns_is_warned():
    from csi_lib.sources import load_requests

    mapping = {
        "name": "shared",
        "columns": {
            "request_id": "request_id",
            "opened_at": "opened_at",
            "closed_at": "closed_at",
            "sla_due_at": "closed_at",
            "outcome": "outcome",
        },
    }
    res = load_requests(CORPUS / "bom_utf8.csv", mapping=mapping)
    assert any(
        "reads the column 'closed_at' for closed_at and sla_due_at" in w for w in res.warnings
    )
