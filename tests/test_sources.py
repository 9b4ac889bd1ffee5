"""Tests for csi_lib.sources: mappings, presets, readers, load_requests, data_quality.

Fixtures are small hand-made exports in tests/fixtures/exports/; binary formats
(xlsx, parquet, gzip, zip, SQLite) are built from them in a temporary folder.
"""

from __future__ import annotations

import gzip
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from csi_lib.errors import ConfigError, InputError
from csi_lib.sources import (
    Mapping,
    data_quality,
    list_presets,
    load_mapping,
    load_requests,
    redact_url,
)

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
UCI_ZIP = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "incident_event_log.zip"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def identity_mapping(**extra) -> dict:
    return {
        "name": "test",
        "columns": {c: c for c in ("request_id", "opened_at", "closed_at", "outcome")},
        **extra,
    }


# ---- mappings and presets -------------------------------------------------------------


def test_presets_listed_and_loaded():
    assert list_presets() == ["generic", "jira-sm", "servicenow"]
    for name in list_presets():
        assert isinstance(load_mapping(preset=name), Mapping)
    assert load_mapping().name == "generic"  # neither given: the generic preset


def test_missing_value_spellings_are_compared_stripped(tmp_path):
    """Cells are stripped before they are compared with the mapping's missing-value
    spellings, so a spelling written padded (" - ") is the stripped one, once."""
    m = Mapping(name="x", columns={"request_id": "id", "opened_at": "at"},
                na_values=["", " - ", "-", "\tN/A "])  # fmt: skip
    assert m.na_values == ["", "-", "N/A"]
    path = tmp_path / "padded.csv"
    path.write_text("id,at,state,csat\nA,2025-01-02,open,  - \nB,2025-01-03,open, N/A\n", "utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: x\nna_values: [' - ', ' N/A']\n"
        "columns: {request_id: id, opened_at: at, outcome: state, csat: csat}\n",
        "utf-8",
    )
    res = load_requests(path, mapping=mapping, quarantine_dir=None)
    assert res.rows_kept == 2 and res.data["csat"].isna().all()


def test_absent_optional_columns_are_named_as_readers_know_them(tmp_path):
    """An optional column the source lacks is named by its label and the column the
    mapping looked for, not by its key."""
    path = tmp_path / "few.csv"
    path.write_text("request_id,opened_at,outcome\nA,2025-01-02,open\n", "utf-8")
    res = load_requests(path, preset="generic", quarantine_dir=None)
    (note,) = [w for w in res.warnings if "left empty" in w]
    assert "Satisfaction score (column 'csat')" in note and "SLA met (column 'sla_met')" in note
    assert "sla_met (" not in note and "csat," not in note


def test_unknown_preset_lists_known_ones():
    with pytest.raises(ConfigError) as exc:
        load_mapping(preset="servicenw")
    text = str(exc.value)
    assert "servicenw" in text and "did you mean 'servicenow'" in text.lower()
    assert "generic, jira-sm, servicenow" in text


def test_preset_and_mapping_together_is_an_error():
    with pytest.raises(ConfigError, match="both a preset and a mapping"):
        load_mapping(preset="generic", mapping=EXPORTS / "event_log.yaml")


def test_mapping_typo_key_names_file_line_and_suggestion():
    path = EXPORTS / "typo_mapping.yaml"
    with pytest.raises(ConfigError) as exc:
        load_mapping(mapping=path)
    err = exc.value
    assert err.row == 3  # "datetime_fromat:" is on line 3 of the file
    assert err.column == "datetime_fromat"
    assert str(path) in str(err)
    assert "did you mean 'datetime_format'" in str(err).lower()


def test_mapping_unknown_canonical_column_suggests_closest():
    with pytest.raises(ConfigError) as exc:
        load_mapping(mapping=EXPORTS / "typo_nested.yaml")
    err = exc.value
    assert err.row == 4  # "  opend_at: created"
    assert "opend_at" in str(err) and "did you mean 'opened_at'" in str(err).lower()


def test_mapping_bad_timezone_and_yaml_syntax(tmp_path):
    bad_tz = tmp_path / "tz.yaml"
    bad_tz.write_text("name: x\ntimezone: Europe/Londn\ncolumns: {request_id: id}\n")
    with pytest.raises(ConfigError) as exc:
        load_mapping(mapping=bad_tz)
    assert exc.value.row == 2 and "Europe/London" in str(exc.value)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ncolumns:\n  request_id: [id\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_mapping(mapping=broken)


# ---- presets on small exports (expected values worked out by hand) ----------------------


def test_servicenow_preset():
    res = load_requests(EXPORTS / "servicenow.csv", preset="servicenow")
    d = res.data.set_index("request_id")
    # 6 rows read; RITM0010006 was closed (06 Mar) before it was opened (07 Mar)
    assert (res.rows_read, res.rows_kept, res.rows_quarantined) == (6, 5, 1)
    assert res.quarantine.loc[0, "reason"] == "closed before opened"
    assert res.quarantine.loc[0, "source_row"] == 6
    assert d["outcome"].to_dict() == {
        "RITM0010001": "fulfilled",  # Closed Complete
        "RITM0010002": "declined",  # Closed Incomplete
        "RITM0010003": "cancelled",  # Closed Skipped
        "RITM0010004": "open",  # Work in Progress -> default
        "RITM0010005": "fulfilled",  # numeric state 3 = Closed Complete
    }
    assert d.loc["RITM0010001", "opened_at"] == ts("2025-03-03 09:00")
    assert d.loc["RITM0010001", "assessed_at"] == ts("2025-03-03 10:30")  # approval_set
    assert d.loc["RITM0010002", "closed_at"] == ts("2025-03-03 15:00")
    assert pd.isna(d.loc["RITM0010004", "closed_at"])
    assert d.loc["RITM0010002", "category"] == "Software Request"
    assert d.loc["RITM0010002", "channel"] == "Email"
    assert d.loc["RITM0010002", "group"] == "Software Team"
    assert d.loc["RITM0010002", "priority"] == "2 - High"
    assert d["sla_met"].tolist() == [True, False, True, pd.NA, False]  # "" -> unknown
    # personal and free-text columns never survive, not even into the quarantine
    for col in ("short_description", "requested_for"):
        assert col not in res.data.columns and col not in res.quarantine.columns
    assert (
        res.fingerprint
        == __import__("hashlib").sha256((EXPORTS / "servicenow.csv").read_bytes()).hexdigest()
    )


def test_jira_preset():
    res = load_requests(EXPORTS / "jira.csv", preset="jira-sm")
    d = res.data.set_index("request_id")
    assert d["outcome"].to_dict() == {
        "SD-1": "fulfilled",  # Done
        "SD-2": "declined",  # Won't Do
        "SD-3": "cancelled",  # Duplicate
        "SD-4": "open",  # no resolution
    }
    # "03/Mar/25 2:30 PM" -> 14:30; "05/Mar/25 11:59 PM" -> 23:59
    assert d.loc["SD-1", "closed_at"] == ts("2025-03-03 14:30")
    assert d.loc["SD-4", "opened_at"] == ts("2025-03-05 23:59")
    assert d["csat"].tolist()[:2] == [5.0, 2.0]
    assert pd.isna(d.loc["SD-3", "csat"])
    assert d.loc["SD-2", "category"] == "Request hardware"
    assert d.loc["SD-2", "group"] == "Hardware"  # Team
    # SD-5's satisfaction is words, not a score
    assert res.quarantine[["source_row", "request_id", "reason"]].values.tolist() == [
        [5, "SD-5", "csat not a number"]
    ]
    assert "Reporter" not in res.quarantine.columns and "Summary" not in res.data.columns


def test_generic_preset_keep_and_derived_sla():
    res = load_requests(EXPORTS / "generic.csv", keep=["site"])
    d = res.data.set_index("request_id")
    assert d.loc["R2", "outcome"] == "fulfilled"  # "Fulfilled" in the file
    # R1 closed 07 Jan 09:00 <= due 08 Jan 09:00: met; R2 closed 09 Jan > due 08 Jan: not met;
    # R3 has no due time; R4 is open
    assert d["sla_met"].tolist() == [True, False, pd.NA, pd.NA]
    assert d["reopen_count"].tolist() == [0, 1, pd.NA, 0]
    assert d["site"].tolist() == ["Leeds", "York", "Leeds", "York"]
    assert "requester_email" not in res.data.columns
    assert res.columns_used["sla_met"] == "derived from sla_due_at"
    assert any("channel" not in w and "sla_met" in w for w in res.warnings)


def test_event_log_dedupe_keeps_last_update():
    res = load_requests(EXPORTS / "event_log.csv", mapping=EXPORTS / "event_log.yaml")
    d = res.data.set_index("request_id")
    # 7 event rows, 3 incidents -> 4 superseded rows
    assert (res.rows_read, res.rows_deduplicated, res.rows_kept) == (7, 4, 3)
    # INC001's last update (5/3/2016 12:00, file row 3) is Closed, although it is not the last line
    assert d.loc["INC001", "outcome"] == "fulfilled"
    assert d.loc["INC001", "closed_at"] == ts("2016-03-05 12:00")
    assert d.loc["INC001", "opened_at"] == ts("2016-02-29 01:16")  # day-first, leap day
    # INC002's last update is Active, made_sla false, reopened once
    assert d.loc["INC002", "outcome"] == "open"
    assert d["sla_met"].tolist() == [True, False, True]  # INC001, INC002, INC003
    assert d.loc["INC002", "reopen_count"] == 1
    # INC003: two updates at the same minute -> the later line in the file (Active) wins
    assert d.loc["INC003", "outcome"] == "open"
    assert "caller_id" not in res.data.columns


def test_event_log_source_row_is_the_row_kept(tmp_path):
    text = (
        (EXPORTS / "event_log.csv")
        .read_text()
        .replace(
            "INC001,Closed,true,0,Caller 1,29/2/2016 01:16,5/3/2016 12:00,3 - Moderate,5/3/2016 12:00",
            "INC001,Closed,true,0,Caller 1,29/2/2016 01:16,5/3/2016 12:00,3 - Moderate,1/1/2016 12:00",
        )
    )
    src = tmp_path / "events.csv"
    src.write_text(text)
    res = load_requests(src, mapping=EXPORTS / "event_log.yaml")
    # the kept (last) row of INC001 is data row 3; it closes before it opens
    assert res.quarantine[["source_row", "request_id", "reason"]].values.tolist() == [
        [3, "INC001", "closed before opened"]
    ]


def test_dayfirst_inference():
    res = load_requests(EXPORTS / "dayfirst.csv", mapping=identity_mapping(dayfirst=True))
    assert res.data["opened_at"].tolist() == [ts("2025-02-01 10:00"), ts("2025-02-13 08:30")]


def test_london_naive_times_to_utc_with_dst():
    res = load_requests(EXPORTS / "london.csv", mapping=identity_mapping(timezone="Europe/London"))
    d = res.data.set_index("request_id")
    assert d.loc["L1", "opened_at"] == ts("2025-01-15 10:00")  # winter: GMT = UTC
    assert d.loc["L2", "opened_at"] == ts("2025-07-01 09:00")  # summer: BST = UTC+1
    assert d.loc["L2", "closed_at"] == ts("2025-07-01 10:30")
    assert d.loc["L3", "opened_at"] == ts("2025-03-30 01:00")  # 01:30 does not exist -> 02:00 BST
    assert d.loc["L5", "opened_at"] == ts("2025-07-01 08:00")  # +02:00 offset given
    # 01:30 on 26 Oct 2025 happens twice in London: cannot be placed, quarantined with a warning
    assert res.quarantine[["request_id", "reason"]].values.tolist() == [
        ["L4", "unparseable opened_at"]
    ]
    assert any("daylight-saving" in w for w in res.warnings)


# ---- bad rows and the quarantine file -------------------------------------------------


def test_every_reason_lands_in_quarantine_file(tmp_path):
    res = load_requests(EXPORTS / "bad_rows.csv", quarantine_dir=tmp_path)
    got = dict(zip(res.quarantine["source_row"], res.quarantine["reason"], strict=True))
    assert got == {
        2: "missing request_id",
        3: "unparseable opened_at",
        4: "missing opened_at",
        5: "closed before opened",
        6: "duplicate request_id",
        7: "duplicate request_id",
        10: "csat out of range 1..5",
        11: "csat not a number",
        12: "unknown outcome",
        13: "closed outcome without closed_at",
        14: "open request with closed_at",
        15: "reopen_count not a whole number",
        16: "csat out of range 1..5; reopen_count not a whole number",
        17: "unparseable closed_at",
        18: "unparseable assessed_at",
    }
    # rows 8 and 9 are identical copies of G8: collapsed to one and kept
    assert res.data["request_id"].tolist() == ["G1", "G8", "G19"]
    assert res.rows_collapsed == 1
    # 19 read = 3 kept + 15 quarantined + 1 collapsed
    assert res.rows_read == res.rows_kept + res.rows_quarantined + res.rows_collapsed == 19
    path = res.quarantine_path
    assert path is not None and path.parent == tmp_path
    assert re.fullmatch(r"quarantine-bad_rows-\d{8}T\d{6}Z(-\d+)?\.csv", path.name)
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert written["source_row"].tolist()[:3] == ["2", "3", "4"]
    assert (
        written.set_index("source_row").loc["3", "opened_at"] == "not a date"
    )  # the source's own value
    summary = res.summary()
    assert summary["quarantined_by_reason"]["csat out of range 1..5"] == 2  # rows 10 and 16
    assert summary["rows_quarantined"] == 15 and summary["quarantine_path"] == str(path)
    # a second load never overwrites the first quarantine file
    again = load_requests(EXPORTS / "bad_rows.csv", quarantine_dir=tmp_path)
    assert again.quarantine_path != path and path.exists()


def test_mapping_column_absent_names_file_column_and_closest():
    with pytest.raises(InputError) as exc:
        load_requests(EXPORTS / "missing_col.csv", mapping=EXPORTS / "missing_col_mapping.yaml")
    text = str(exc.value)
    assert "missing_col.csv" in text and "'Opened'" in text
    assert "missing_col_mapping.yaml" in text
    assert "closest columns in the file: opened on" in text.lower()


def test_missing_required_canonical_column(tmp_path):
    src = tmp_path / "no_opened.csv"
    src.write_text("request_id,outcome\nA,open\n")
    with pytest.raises(InputError) as exc:
        load_requests(src)
    assert exc.value.column == "opened_at" and "no_opened.csv" in str(exc.value)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("empty.csv", "empty"),
        ("header_only.csv", "header row but no data rows"),
        ("binary.csv", "not a text file"),
    ],
)
def test_unreadable_files(name, match):
    with pytest.raises(InputError, match=match) as exc:
        load_requests(EXPORTS / name)
    assert name in str(exc.value)


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_requests(tmp_path / "nope.csv")
    odd = tmp_path / "export.json"
    odd.write_text("{}")
    with pytest.raises(InputError, match="suffix '.json'"):
        load_requests(odd)


# ---- encodings, delimiters and formats ------------------------------------------------


def test_latin1_semicolon_file():
    res = load_requests(EXPORTS / "latin1_semicolon.csv")
    assert res.data["category"].tolist() == ["Café machine", "Imprimante réseau"]
    assert res.data["closed_at"].tolist()[0] == ts("2025-01-06 10:00")
    assert any("not UTF-8" in w for w in res.warnings)


def test_bom_is_not_part_of_the_first_column():
    res = load_requests(EXPORTS / "bom.csv")
    assert res.data["request_id"].tolist() == ["B1"]
    assert res.data["category"].tolist() == ["Café machine"]
    assert not any("UTF-8" in w for w in res.warnings)


def expected_generic() -> pd.DataFrame:
    return load_requests(EXPORTS / "generic.csv").data


def test_gzip_and_zip(tmp_path):
    gz = tmp_path / "generic.csv.gz"
    gz.write_bytes(gzip.compress((EXPORTS / "generic.csv").read_bytes()))
    zipped = tmp_path / "generic.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(EXPORTS / "generic.csv", "generic.csv")
    for src in (gz, zipped):
        pd.testing.assert_frame_equal(load_requests(src).data, expected_generic())


def test_zip_with_two_files_is_refused(tmp_path):
    zipped = tmp_path / "two.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(EXPORTS / "generic.csv", "a.csv")
        zf.write(EXPORTS / "generic.csv", "b.csv")
    with pytest.raises(InputError, match="exactly one CSV"):
        load_requests(zipped)


def test_parquet_with_typed_columns(tmp_path):
    raw = pd.read_csv(EXPORTS / "generic.csv")
    for col in ("opened_at", "assessed_at", "closed_at", "sla_due_at"):
        raw[col] = pd.to_datetime(raw[col])  # naive datetimes -> UTC per the mapping
    src = tmp_path / "generic.parquet"
    raw.to_parquet(src)
    data = load_requests(src).data
    pd.testing.assert_frame_equal(data, expected_generic(), check_categorical=False)


def test_excel_two_sheets(tmp_path):
    src = tmp_path / "export.xlsx"
    with pd.ExcelWriter(src) as writer:
        pd.read_csv(EXPORTS / "generic.csv", dtype=str).to_excel(
            writer, sheet_name="Requests", index=False
        )
        pd.DataFrame({"note": ["exported by hand"]}).to_excel(
            writer, sheet_name="Notes", index=False
        )
    res = load_requests(src)
    pd.testing.assert_frame_equal(res.data, expected_generic())
    assert any("2 sheets" in w and "Requests" in w for w in res.warnings)
    named = load_requests(src, sheet="Requests")
    assert not any("sheets" in w for w in named.warnings)
    with pytest.raises(InputError, match="no sheet named 'Request'") as exc:
        load_requests(src, sheet="Request")
    assert "did you mean 'requests'" in str(exc.value).lower()


def test_sqlite_table_and_query(tmp_path):
    db = tmp_path / "itsm.db"
    with sqlite3.connect(db) as conn:
        pd.read_csv(EXPORTS / "generic.csv", dtype=str).to_sql("requests", conn, index=False)
    url = f"sqlite:///{db}"
    by_table = load_requests(url, query="requests")
    pd.testing.assert_frame_equal(by_table.data, expected_generic())
    assert by_table.source == url and len(by_table.fingerprint) == 64
    by_query = load_requests(url, query="SELECT * FROM requests WHERE outcome <> 'open'")
    assert by_query.data["request_id"].tolist() == ["R1", "R2", "R3"]
    with pytest.raises(InputError, match="no table 'request'") as exc:
        load_requests(url, query="request")
    assert "did you mean requests" in str(exc.value).lower()
    with pytest.raises(ConfigError, match="needs a query"):
        load_requests(url)


def test_password_is_redacted():
    url = "postgresql://ana:s3cret@127.0.0.1:9/itsm"
    assert redact_url(url) == "postgresql://ana:***@127.0.0.1:9/itsm"
    with pytest.raises(InputError) as exc:
        load_requests(url, query="requests")
    assert "s3cret" not in str(exc.value) and "s3cret" not in repr(exc.value.args)
    assert "ana:***@" in str(exc.value)


# ---- data quality and summary --------------------------------------------------------


def test_data_quality_and_summary():
    res = load_requests(EXPORTS / "generic.csv")
    dq = data_quality(res).set_index("column")
    # 4 requests; assessed_at given for R1 and R3 -> 50 %; closed_at for R1..R3 -> 75 %
    assert dq.loc["assessed_at", "coverage_pct"] == 50.0
    assert dq.loc["closed_at", "non_null"] == 3 and dq.loc["closed_at", "coverage_pct"] == 75.0
    assert dq.loc["opened_at", "min"] == ts("2025-01-06 09:00")
    assert dq.loc["opened_at", "max"] == ts("2025-01-08 15:00")
    assert dq.loc["csat", "min"] == 2.0 and dq.loc["csat", "max"] == 4.0
    assert dq.loc["channel", "present"] and dq.loc["channel", "source"] == "channel"
    assert dq.loc["sla_met", "source"] == "derived from sla_due_at"
    assert not dq.loc["sla_met", "present"] or dq.loc["sla_met", "non_null"] == 2
    assert dq.loc["category", "distinct"] == 3
    s = res.summary()
    for key in (
        "source",
        "mapping",
        "rows_read",
        "rows_kept",
        "rows_quarantined",
        "quarantined_by_reason",
        "quarantine_path",
        "warnings",
    ):
        assert key in s
    assert (s["rows_read"], s["rows_kept"], s["rows_quarantined"]) == (4, 4, 0)
    assert s["mapping"] == "generic"


@pytest.mark.slow
@pytest.mark.skipif(not UCI_ZIP.exists(), reason="UCI incident event log not available")
def test_real_uci_event_log(tmp_path):
    mapping = (
        Path(__file__).resolve().parents[1] / "data" / "mappings" / "uci-incident-event-log.yaml"
    )
    src = tmp_path / UCI_ZIP.name
    shutil.copy(UCI_ZIP, src)
    res = load_requests(src, mapping=mapping, quarantine_dir=tmp_path)
    # 119,998 events of 20,769 incidents
    assert res.rows_read == 119_998
    assert res.rows_read - res.rows_deduplicated == 20_769
    assert res.rows_kept + res.rows_quarantined + res.rows_collapsed == 20_769
    assert res.rows_quarantined < 100
    assert set(res.quarantined_by_reason()) <= {
        "open request with closed_at",
        "closed before opened",
        "closed outcome without closed_at",
    }
    d = res.data
    assert d["request_id"].is_unique
    assert d["opened_at"].min() >= ts("2016-02-29") and d["opened_at"].max() < ts("2016-05-14")
    assert set(d["outcome"].unique()) <= {"fulfilled", "open"}
    assert d["sla_met"].notna().all() and d["reopen_count"].notna().all()
    assert {"impact", "urgency"} <= set(d.columns) and "caller_id" not in d.columns


def test_example_mappings_load_and_my_export_works():
    folder = Path(__file__).resolve().parents[1] / "data" / "mappings"
    names = sorted(p.name for p in folder.glob("*.yaml"))
    assert {"my-export.yaml", "uci-incident-event-log.yaml"} <= set(names)
    for path in folder.glob("*.yaml"):
        assert load_mapping(mapping=path).path == str(path)
    res = load_requests(EXPORTS / "my_export.csv", mapping=folder / "my-export.yaml")
    d = res.data.set_index("request_id")
    assert d.loc["T-1", "opened_at"] == ts("2025-01-31 14:05")  # GMT in January
    assert d.loc["T-1", "outcome"] == "fulfilled" and d.loc["T-1", "csat"] == 5.0
    # 01:30 on 30 March 2025 does not exist in London: shifted to 02:00 BST = 01:00 UTC
    assert d.loc["T-2", "opened_at"] == ts("2025-03-30 01:00")
    assert d["sla_met"].tolist() == [True, pd.NA]
    assert d["Business unit"].tolist() == ["Finance", "Sales"]
    assert "Requester" not in res.data.columns


def test_wrong_date_format_quarantines_all_with_a_warning():
    mapping = identity_mapping(datetime_format="%m/%d/%Y %H:%M")  # the file is ISO
    res = load_requests(EXPORTS / "dayfirst.csv", mapping=mapping)
    # D1 "01/02/2025 10:00" reads as 2 January; D2 "13/02/2025" has no month 13
    assert res.data["request_id"].tolist() == ["D1"]
    assert res.data["opened_at"].tolist() == [ts("2025-01-02 10:00")]
    assert res.quarantine["reason"].tolist() == ["unparseable opened_at"]
    iso = load_requests(
        EXPORTS / "generic.csv", mapping=identity_mapping(datetime_format="%d.%m.%Y")
    )
    # ISO dates are still accepted whatever the format says: nothing is lost
    assert iso.rows_kept == 4
    assert not any("could not be read" in w for w in iso.warnings)


def test_mostly_unparseable_dates_warn(tmp_path):
    src = tmp_path / "words.csv"
    src.write_text("request_id,opened_at,outcome\nA,last monday,open\nB,yesterday,open\n")
    res = load_requests(src, mapping=identity_mapping() | {"optional": ["closed_at"]})
    assert res.rows_kept == 0 and res.rows_quarantined == 2
    assert str(res.data["opened_at"].dtype) == "datetime64[ns, UTC]"  # empty but typed
    assert any("2 of 2 values of 'opened_at'" in w for w in res.warnings)


def test_kept_column_with_a_canonical_name_is_refused():
    with pytest.raises(ConfigError, match="has the name of a canonical column"):
        load_requests(EXPORTS / "jira.csv", preset="jira-sm", keep=["priority"])


def test_ragged_row_names_the_data_row():
    with pytest.raises(InputError, match="as many fields as the header") as exc:
        load_requests(EXPORTS / "ragged.csv")
    assert exc.value.row == 2  # file line 3 = data row 2 (the header is not counted)


def test_misspelt_nested_key_reported_before_the_missing_one(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: x\ncolumns:\n  request_id: id\noutcome:\n  column: status\n"
        "  valuse:\n    fulfilled: [Done]\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_mapping(mapping=path)
    # "valuse" is on line 6; the resulting "values is missing" is not what the user needs
    assert exc.value.row == 6 and exc.value.column == "outcome.valuse"
    assert "did you mean 'values'" in str(exc.value).lower()
