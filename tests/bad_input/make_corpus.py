"""Write the bad-input corpus (the files beside this script).

Every file is one mistake that real exports contain. The files are committed;
this script documents how each was made and re-creates them:

    .venv/bin/python tests/bad_input/make_corpus.py

What the user sees for each file is in ``docs/bad-input.md``; the checks are in
``tests/test_bad_input.py``. The several-hundred-MB file is not committed: the
test writes it into a temporary folder.
"""

from __future__ import annotations

import gzip
import io
import shutil
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SAMPLE_CYCLE = HERE.parents[1] / "data" / "sample-cycle"

HEADER = "request_id,opened_at,assessed_at,closed_at,outcome,category,channel,priority,group,csat,reopen_count"
#: Five good rows used as the body of most files (one open request).
GOOD = [
    "R1,2025-03-03 09:00,2025-03-03 10:00,2025-03-04 09:00,fulfilled,Laptop,portal,P3,Desk,5,0",
    "R2,2025-03-03 11:00,2025-03-03 11:30,2025-03-03 15:00,declined,Software,email,P2,Apps,2,0",
    "R3,2025-03-04 08:00,,2025-03-05 08:00,cancelled,Phone,portal,P3,Desk,,0",
    "R4,2025-03-05 14:00,2025-03-05 15:00,2025-03-07 14:00,fulfilled,Laptop,phone,P4,Desk,4,1",
    "R5,2025-03-06 10:00,,,open,Access,portal,P3,Access,,",
]


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def write(name: str, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    (HERE / name).write_bytes(data)


def main() -> None:  # noqa: PLR0915 - one statement per corpus file
    # --- structure of the file -----------------------------------------------------------
    write("empty.csv", b"")
    write("blank_lines.csv", b"\n\n   \n\n")
    write("header_only.csv", HEADER + "\n")
    write(
        "missing_required_column.csv",
        csv_text(
            *[",".join(r.split(",")[:1] + r.split(",")[2:]) for r in GOOD],
            header=HEADER.replace("opened_at,", ""),
        ),
    )
    write("misspelt_header.csv", csv_text(*GOOD, header=HEADER.replace("opened_at", "opend_at")))
    write(
        "header_whitespace_case.csv",
        csv_text(
            *GOOD,
            header=" Request_ID , Opened_At ,"
            "assessed_at,closed_at,OUTCOME,category,channel,priority,group,csat,reopen_count",
        ),
    )
    write("ragged_row.csv", csv_text(*GOOD[:2], GOOD[2] + ",extra,fields", *GOOD[3:]))
    write(
        "unclosed_quote.csv",
        csv_text(*GOOD[:2], 'R9,2025-03-03 09:00,,,open,"Laptop,portal,P3,Desk,,', *GOOD[2:]),
    )
    write(
        "semicolon_delimiter.csv",
        csv_text(*[r.replace(",", ";") for r in GOOD], header=HEADER.replace(",", ";")),
    )
    write(
        "tab_delimiter.csv",
        csv_text(*[r.replace(",", "\t") for r in GOOD], header=HEADER.replace(",", "\t")),
    )
    write(
        "pipe_delimiter.txt",
        csv_text(*[r.replace(",", "|") for r in GOOD], header=HEADER.replace(",", "|")),
    )
    # --- encodings ----------------------------------------------------------------------------
    cafe = [
        r.replace("Phone", "Café machine").replace("Access,portal", "Réseau,portal") for r in GOOD
    ]
    write("bom_utf8.csv", b"\xef\xbb\xbf" + csv_text(*cafe).encode("utf-8"))
    write("latin1.csv", csv_text(*cafe).encode("latin-1"))
    write(
        "cp1252_semicolon.csv",
        csv_text(*[r.replace(",", ";") for r in cafe], header=HEADER.replace(",", ";")).encode(
            "cp1252"
        ),
    )
    write(
        "utf16_excel_unicode_text.txt",
        csv_text(*[r.replace(",", "\t") for r in cafe], header=HEADER.replace(",", "\t")).encode(
            "utf-16"
        ),
    )
    write("binary_named_csv.csv", bytes(range(256)) * 8)
    # --- dates ------------------------------------------------------------------------------------
    write(
        "mixed_date_formats.csv",
        csv_text(
            "R1,2025-03-03 09:00,,2025-03-04 09:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R2,2025-03-03T11:00:00,,2025-03-03T15:00:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R3,3 March 2025 08:00,,5 March 2025 08:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R4,2025/03/05 14:00,,2025/03/07 14:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R5,yesterday,,2025-03-07 14:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R6,2025-03-06 10:00,,31/02/2025 10:00,fulfilled,Laptop,portal,P3,Desk,5,0",
        ),
    )
    write(
        "dayfirst_ambiguous.csv",
        csv_text(
            "R1,01/02/2025 09:00,,03/02/2025 09:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R2,05/02/2025 11:00,,06/02/2025 15:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R3,13/02/2025 08:00,,14/02/2025 08:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R4,20/02/2025 14:00,,25/02/2025 14:00,fulfilled,Laptop,portal,P3,Desk,5,0",
        ),
    )
    write(
        "dayfirst_mapping.yaml",
        "\n".join(
            [
                "name: dayfirst-export",
                "timezone: Europe/London",
                "dayfirst: true",
                "columns:",
                "  request_id: request_id",
                "  opened_at: opened_at",
                "  closed_at: closed_at",
                "  outcome: outcome",
                "  category: category",
                "",
            ]
        ),
    )
    write(
        "future_dates.csv",
        csv_text(
            *GOOD[:3],
            "R6,2099-01-01 09:00,,,open,Laptop,portal,P3,Desk,,",
            "R7,2025-03-06 10:00,,2099-03-06 10:00,fulfilled,Laptop,portal,P3,Desk,4,0",
        ),
    )
    write(
        "closed_before_opened.csv",
        csv_text(
            *GOOD[:3],
            "R6,2025-03-06 10:00,,2025-03-05 10:00,fulfilled,Laptop,portal,P3,Desk,4,0",
        ),
    )
    write(
        "duplicate_ids.csv",
        csv_text(
            *GOOD,
            GOOD[0],  # exact copy: collapsed silently into one
            "R2,2025-03-03 11:00,2025-03-03 11:30,2025-03-05 15:00,fulfilled,Software,email,P2,Apps,4,0",
        ),
    )
    write(
        "open_with_closed_at.csv",
        csv_text(
            *GOOD[:2],
            "R6,2025-03-06 10:00,,2025-03-07 10:00,open,Laptop,portal,P3,Desk,,",
            "R7,2025-03-06 10:00,,,fulfilled,Laptop,portal,P3,Desk,,",
        ),
    )
    write(
        "unparseable_dates.csv",
        csv_text(
            *GOOD[:2],
            "R6,not a date,,,open,Laptop,portal,P3,Desk,,",
            "R7,2025-03-06 10:00,,2025-13-45 10:00,fulfilled,Laptop,portal,P3,Desk,,",
        ),
    )
    write(
        "missing_ids.csv", csv_text(*GOOD[:2], ",2025-03-06 10:00,,,open,Laptop,portal,P3,Desk,,")
    )
    write(
        "mixed_timezones.csv",
        csv_text(
            "R1,2025-03-03T09:00:00Z,,2025-03-03T17:00:00Z,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R2,2025-03-03 09:00,,2025-03-03 17:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R3,2025-03-03T10:00:00+01:00,,2025-03-03T18:00:00+01:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R4,2025-03-03 04:00:00-05:00,,2025-03-03 12:00:00-05:00,fulfilled,Laptop,portal,P3,Desk,5,0",
        ),
    )
    # --- values -----------------------------------------------------------------------------------
    write(
        "csat_out_of_range.csv",
        csv_text(
            *GOOD[:2],
            "R6,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,Laptop,portal,P3,Desk,0,0",
            "R7,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,Laptop,portal,P3,Desk,10,0",
        ),
    )
    write(
        "csat_text.csv",
        csv_text(
            *GOOD[:2],
            "R6,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,Laptop,portal,P3,Desk,Very satisfied,0",
            'R7,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,Laptop,portal,P3,Desk,"4,5",0',
        ),
    )
    write(
        "reopen_count_bad.csv",
        csv_text(
            *GOOD[:2],
            "R6,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,Laptop,portal,P3,Desk,4,-1",
            "R7,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,Laptop,portal,P3,Desk,4,1.5",
            "R8,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,Laptop,portal,P3,Desk,4,twice",
        ),
    )
    write(
        "unknown_outcome.csv",
        csv_text(
            *GOOD[:2],
            "R6,2025-03-06 10:00,,2025-03-07 10:00,Resolved,Laptop,portal,P3,Desk,4,0",
            "R7,2025-03-06 10:00,,2025-03-07 10:00,,Laptop,portal,P3,Desk,4,0",
        ),
    )
    write(
        "strict_outcome_mapping.yaml",
        "\n".join(
            [
                "name: strict-outcomes",
                "columns:",
                "  request_id: Ticket",
                "  opened_at: Opened",
                "  closed_at: Closed",
                "outcome:",
                "  column: Status",
                "  values:",
                "    fulfilled: [Done]",
                "    declined: [Rejected]",
                "    cancelled: [Withdrawn]",
                "    open: [New, In progress]",
                "  default: null        # any other value is quarantined as 'unknown outcome'",
                "",
            ]
        ),
    )
    write(
        "strict_outcome_export.csv",
        "\n".join(
            [
                "Ticket,Opened,Closed,Status,Assignee",
                "T1,2025-03-03 09:00,2025-03-04 09:00,Done,Ana",
                "T2,2025-03-03 10:00,,In progress,Bob",
                "T3,2025-03-03 11:00,2025-03-04 11:00,Resolved - duplicate,Cem",
                "T4,2025-03-03 12:00,2025-03-04 12:00,Rejected,Dee",
                "",
            ]
        ),
    )
    # a formula in a category cell, quoted as a spreadsheet writes it; six rows so that the
    # group is not hidden as smaller than 5
    formula = '"=HYPERLINK(""http://attacker.example/x"",""click"")"'
    write(
        "formula_injection.csv",
        csv_text(
            *[r.replace("Laptop", formula) for r in GOOD],
            *[
                ",".join(["F" + f[0][1:], *f[1:5], formula, "@SUM(1)", "-2+3", "+A1", *f[9:]])
                for f in (r.split(",") for r in GOOD)
            ],
        ),
    )
    # an unquoted cell holding the delimiter on every row: one field more than the header
    write(
        "extra_field_every_row.csv",
        csv_text(*[r.replace("Laptop", "Laptop, 14 inch") for r in GOOD]),
    )
    write("trailing_delimiter.csv", csv_text(*[r + "," for r in GOOD]))
    # --- containers ---------------------------------------------------------------------------------
    body = csv_text(*GOOD)
    full = gzip.compress(body.encode() * 1)
    write("truncated.csv.gz", full[: len(full) // 2])
    write("not_gzip.csv.gz", body)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("january.csv", body)
        zf.writestr("february.csv", body)
    write("two_files.zip", buf.getvalue())
    write("csv_named_xlsx.xlsx", body)
    write("unsupported_suffix.json", '{"request_id": "R1"}\n')
    notes = pd.DataFrame(
        {"About this export": ["Exported from the service desk", "Sheet 2 has the data"]}
    )
    data = pd.read_csv(io.StringIO(body), dtype=str)
    with pd.ExcelWriter(HERE / "several_sheets.xlsx", engine="openpyxl") as xw:
        notes.to_excel(xw, sheet_name="Notes", index=False)
        data.to_excel(xw, sheet_name="Requests", index=False)
        data.head(0).to_excel(xw, sheet_name="Empty", index=False)
    write("truncated.parquet", b"PAR1" + b"\x00" * 64)
    # --- mapping and cycle files ------------------------------------------------------------------
    write(
        "mapping_key_typo.yaml",
        "\n".join(
            [
                "name: my-export",
                "timezone: UTC",
                "colums:             # typo: columns",
                "  request_id: request_id",
                "  opened_at: opened_at",
                "",
            ]
        ),
    )
    write(
        "mapping_nested_typo.yaml",
        "\n".join(
            [
                "name: my-export",
                "columns:",
                "  request_id: request_id",
                "  opened_at: opened_at",
                "  closed_at: closed_at",
                "  categroy: category   # typo: category",
                "  outcome: outcome",
                "",
            ]
        ),
    )
    write(
        "mapping_bad_timezone.yaml",
        "\n".join(
            [
                "name: my-export",
                "timezone: Europe/Londn",
                "columns: {request_id: request_id, opened_at: opened_at, outcome: outcome}",
                "",
            ]
        ),
    )
    write("mapping_not_yaml.yaml", "name: [unclosed\ncolumns:\n  request_id: request_id\n")
    write(
        "mapping_python_tag.yaml",
        "\n".join(
            [
                "name: !!python/object/apply:os.system ['echo pwned > /tmp/csi-pwned']",
                "columns: {request_id: request_id, opened_at: opened_at, outcome: outcome}",
                "",
            ]
        ),
    )
    cycle = HERE / "cycle_with_tab"
    if cycle.exists():
        shutil.rmtree(cycle)
    cycle.mkdir()
    for name in ("vision.yaml", "plan.yaml", "targets.yaml"):
        shutil.copy(SAMPLE_CYCLE / name, cycle / name)
    text = (SAMPLE_CYCLE / "cycle.yaml").read_text(encoding="utf-8")
    text = text.replace("../sample_requests.csv.gz", "../../../data/sample_requests.csv.gz")
    text = text.replace("\n  to: 2025-06-30", "\n\tto: 2025-06-30", 1)
    (cycle / "cycle.yaml").write_text(text, encoding="utf-8")


def round_two() -> None:
    """Data-side cases of issue 10 (never dates, read-only SQL, password spellings, ...)."""
    # --- dates outside 1677..2262: "never" (9999-12-31), year 1000, year 0001 -------------
    header = "request_id,opened_at,assessed_at,closed_at,outcome,category,sla_due_at"
    never = [
        "R1,2025-03-03 09:00,2025-03-03 10:00,2025-03-04 09:00,fulfilled,Laptop,9999-12-31",
        "R2,1000-01-01 09:00,,2025-03-04 09:00,fulfilled,Laptop,",
        "R3,2025-03-04 08:00,9999-12-31 23:59:59,,open,Phone,2025-03-10 08:00",
        "R4,2025-03-05 14:00,,0001-01-01 00:00,fulfilled,Laptop,",
        "R5,2025-03-06 10:00,,9999-12-31,open,Access,9999-12-31",
    ]
    write("never_dates.csv", csv_text(*never, header=header))
    # the same as typed timestamps (microseconds hold year 9999; nanoseconds do not)
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.read_csv(io.StringIO(csv_text(*never, header=header)), dtype=str)
    table = pa.table(
        {
            col: pa.array(
                [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in frame[col]],
                type=pa.timestamp("us"),
            )
            if col.endswith("_at")
            else pa.array(frame[col].tolist(), type=pa.string())
            for col in frame.columns
        }
    )
    pq.write_table(table, HERE / "never_dates.parquet")
    # --- sla_met values that are neither true nor false ----------------------------------------
    write(
        "sla_met_unrecognised.csv",
        csv_text(
            *[
                r + f",{flag}"
                for r, flag in zip(GOOD, ["true", "maybe", "Ja", "no", "maybe"], strict=True)
            ],
            "R6,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,Laptop,portal,P3,Desk,4,0,yes",
            header=HEADER + ",sla_met",
        ),
    )
    # --- local times a daylight-saving change skips (30 March) or repeats (26 October) ---------
    write(
        "daylight_saving_times.csv",
        csv_text(
            "R1,2025-03-30 02:30,,2025-03-30 09:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R2,2025-10-26 02:30,,2025-10-26 09:00,fulfilled,Laptop,portal,P3,Desk,5,0",
            "R3,2025-03-30 08:00,,2025-03-30 09:00,fulfilled,Laptop,portal,P3,Desk,5,0",
        ),
    )
    write(
        "berlin_mapping.yaml",
        "\n".join(
            [
                "name: berlin-export",
                "timezone: Europe/Berlin",
                "columns:",
                "  request_id: request_id",
                "  opened_at: opened_at",
                "  closed_at: closed_at",
                "  outcome: outcome",
                "",
            ]
        ),
    )
    # --- ids a spreadsheet or Parquet wrote as numbers --------------------------------------
    write(
        "float_ids.csv",
        csv_text(
            *[
                ",".join([i, *r.split(",")[1:]])
                for i, r in zip(["123.0", "124", " 125.0 "], GOOD, strict=False)
            ]
        ),
    )
    ids = pd.read_csv(io.StringIO(csv_text(*GOOD[:3])), dtype=str)
    ids["request_id"] = [1.0, 2.0, 3.0]
    ids.to_parquet(HERE / "float_ids.parquet", index=False)
    ids["request_id"] = [124, 125.0, 126]
    with pd.ExcelWriter(HERE / "float_ids.xlsx", engine="openpyxl") as xw:
        ids.to_excel(xw, sheet_name="Requests", index=False)
    # --- a zip made on a Mac: a folder entry, __MACOSX/ metadata, .DS_Store ---------------------
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("export/", b"")
        zf.writestr("export/requests.csv", csv_text(*GOOD))
        zf.writestr("export/.DS_Store", b"\x00\x00\x00\x01Bud1")
        zf.writestr("__MACOSX/", b"")
        zf.writestr("__MACOSX/export/", b"")
        zf.writestr("__MACOSX/export/._requests.csv", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    write("macos_folder.zip", buf.getvalue())
    # --- a repeated header name: read by the mapping (an error) or not (loaded) --------------
    write(
        "duplicate_header.csv",
        csv_text(*[r + ",Extra" for r in GOOD], header=HEADER + ",category"),
    )
    write(
        "duplicate_unread_header.csv",
        csv_text(*[r + ",ana,bob" for r in GOOD], header=HEADER + ",Watchers,Watchers"),
    )
    # --- a mapping reading one source column for two canonical columns -------------------
    write(
        "mapping_shared_column.yaml",
        "\n".join(
            [
                "name: shared-column",
                "columns:",
                "  request_id: request_id",
                "  opened_at: opened_at",
                "  closed_at: opened_at      # a mistake: the closing time is in closed_at",
                "  outcome: outcome",
                "  category: category",
                "  group: category           # a mistake: the group is in group",
                "",
            ]
        ),
    )
    # --- empty rows: a CSV line of delimiters only, a workbook's formatted empty rows -------
    empty = "," * HEADER.count(",")
    write("blank_rows.csv", csv_text(*GOOD[:2], empty, " ," + empty[1:], *GOOD[2:], empty))
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "Requests"
    sheet.append(HEADER.split(","))
    for r in GOOD[:3]:
        sheet.append(r.split(","))
    sheet.append([])  # an empty row between the data
    for r in GOOD[3:]:
        sheet.append(r.split(","))
    yellow = PatternFill("solid", fgColor="FFFF00")
    for row in (5, *range(8, 30)):  # formatted, never typed in
        for col in range(1, HEADER.count(",") + 2):
            sheet.cell(row=row, column=col).fill = yellow
    book.save(HERE / "formatted_empty_rows.xlsx")
    # --- rows to quarantine, fix by hand and load again ------------------------------------
    write(
        "fix_and_reload.csv",
        csv_text(
            *GOOD[:2],
            # closed before opened; an id with spaces around it; csat NULL as written
            " R6 ,2025-03-06 10:00,,2025-03-05 10:00,fulfilled,Laptop,portal,P3,Desk,NULL,0",
            # a formula and a quoted formula in text cells; csat out of range
            'R7,2025-03-06 10:00,,2025-03-07 10:00,fulfilled,"=HYPERLINK(""http://x"")",'
            "'=1,P3,-Desk,9,0",
        ),
    )
    # --- a database (SQLite) for the read-only and password cases ---------------------------
    import sqlite3

    db = HERE / "requests.db"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as con:
        pd.read_csv(io.StringIO(csv_text(*GOOD)), dtype=str).to_sql("requests", con, index=False)
    con.close()


def _gzip(data: bytes) -> bytes:
    """``data`` gzip-compressed with no time in the header (the same bytes every run)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as fh:
        fh.write(data)
    return buf.getvalue()


def many_rows(n: int) -> str:
    """``n`` good rows with distinct ids (R1..Rn), the five rows of :data:`GOOD` in turn."""
    return "".join(f"R{i + 1}," + GOOD[i % len(GOOD)].split(",", 1)[1] + "\n" for i in range(n))


def round_three() -> None:
    """Issue 23: archives that end early or expand without bound, control characters."""
    # a gzip cut after 64 KB: its first 64 KB (the header sniffed) decompress fine
    full = _gzip((HEADER + "\n" + many_rows(60_000)).encode())
    write("truncated_after_64k.csv.gz", full[: 64 * 1024 + 100])
    # a small gzip bomb: 8 gzip members of 5 MB of rows each, 40 MB once decompressed
    # (the test lowers the limit to 16 MB with CSI_MAX_EXPANDED_MB; a real bomb of 3 GB is
    # made by the test, never committed)
    row = (GOOD[0] + "\n").encode()
    block = _gzip(row * (5 * 2**20 // len(row)))
    write("gzip_bomb.csv.gz", _gzip((HEADER + "\n").encode()) + block * 8)
    # the same as a zip: one member declaring 40 MB (the rows are copies: it never gets
    # as far as reading them)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("export.csv", date_time=(2025, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, (HEADER + "\n").encode() + row * (40 * 2**20 // len(row)))
    write("zip_bomb.zip", buf.getvalue())
    # control characters in text: a vertical tab and SOH (Excel's XML cannot hold them),
    # an ANSI colour code (it would colour a terminal)
    rows = [r.replace("Laptop", "Lap\x0btop\x01", 1) for r in GOOD[:2]] + [
        GOOD[2].replace("Phone", "\x1b[31mPhone"),
        *GOOD[3:],
    ]
    write("control_characters.csv", csv_text(*rows))
    # a SQLite table whose category holds bytes that are not UTF-8: a BLOB, and text
    # written with the wrong encoding (Python's sqlite3 refuses both by default)
    import sqlite3

    db = HERE / "not_utf8_values.db"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as con:
        pd.read_csv(io.StringIO(csv_text(*GOOD)), dtype=str).to_sql("requests", con, index=False)
        con.execute("UPDATE requests SET category = ? WHERE request_id = 'R1'", (b"Lap\xfftop",))
        con.execute(
            "UPDATE requests SET category = CAST(x'43616ff169' AS TEXT) WHERE request_id = 'R2'"
        )
    con.close()

    # --- the low items -------------------------------------------------------------------------
    cafe = csv_text(*GOOD)
    write("utf32.csv", cafe.encode("utf-32"))  # with its BOM: FF FE 00 00, like UTF-16's
    write("utf16_no_bom.txt", cafe.encode("utf-16-le"))
    # two headers matching the mapped 'category' only by case
    write(
        "case_only_headers.csv",
        csv_text(*[r + ",Hardware" for r in GOOD], header=HEADER.replace("category", "Category")
                 + ",CATEGORY"),
    )  # fmt: skip
    # dates as Excel serial numbers (cells never formatted as dates), in a workbook and in
    # a CSV saved from it
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["request_id", "opened_at", "closed_at", "outcome", "category"])
    sheet.append(["R1", 45719.375, 45720.5, "fulfilled", "Laptop"])  # 2025-03-03 09:00, 03-04 12:00
    sheet.append(["R2", 45719, None, "open", "Phone"])
    sheet.append(
        ["R3", dt.datetime(2025, 3, 3, 9), dt.datetime(2025, 3, 4, 9), "fulfilled", "Laptop"]
    )
    book.properties.created = dt.datetime(2025, 1, 1)
    book.save(HERE / "excel_serial_dates.xlsx")
    write(
        "excel_serial_dates.csv",
        "request_id,opened_at,closed_at,outcome,category\n"
        "R1,45719.375,45720.5,fulfilled,Laptop\nR2,45719,,open,Phone\n"
        "R3,2025-03-03 09:00,2025-03-04 09:00,fulfilled,Laptop\n",
    )
    # an Arrow IPC stream (not the IPC file format that Feather v2 is)
    import pyarrow as pa

    table = pa.Table.from_pandas(pd.read_csv(io.StringIO(cafe), dtype=str), preserve_index=False)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    write("arrow_stream.arrow", sink.getvalue())
    # an event log where two requests have one event only, already final
    write(
        "single_event_log.csv",
        "SR,When,Status\nA1,2025-03-03 09:00,Logged\nA1,2025-03-03 10:00,Accepted\n"
        "A1,2025-03-04 09:00,Completed\nA2,2025-03-05 09:00,Completed\n"
        "A3,2025-03-05 10:00,Logged\nA4,2025-03-06 11:00,Completed\n",
    )
    write(
        "single_event_mapping.yaml",
        "name: single-event-log\ncolumns: {}\nevents: {case: SR, time: When, status: Status}\n"
        "derive:\n  opened_at: first_time\n  assessed_at: {first_time_in: [Accepted]}\n"
        "  closed_at: {last_time_if_final_in: [Completed]}\n"
        "outcome:\n  column: Status\n  values: {fulfilled: [Completed]}\n  default: open\n",
    )


def round_four() -> None:
    """Issue 23 checked on input made differently: a Windows export with a byte-order mark,
    CRLF line ends and NUL bytes (in a header, an id and a category), and characters no
    text may hold (DEL, U+FFFF) in a group."""
    rows = [
        GOOD[0].replace("Laptop", "Lap\x00top"),
        GOOD[1].replace("R2", "R2\x00").replace("Apps", "Ap\x7fps"),
        GOOD[2].replace("Desk", "De\uffffsk"),
        *GOOD[3:],
    ]
    header = HEADER.replace("opened_at", "opened\x00_at")
    text = "\r\n".join([header, *rows]) + "\r\n"
    write("bom_crlf_nul.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))


if __name__ == "__main__":
    main()
    round_two()
    round_three()
    round_four()
