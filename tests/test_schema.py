"""Tests for csi_lib.schema: parsing helpers and validate() (quarantine reasons, dtypes)."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_lib.errors import InputError
from csi_lib.schema import (
    CANONICAL_COLUMNS,
    OUTCOMES,
    parse_booleans,
    parse_datetimes,
    validate,
)

UTC = "UTC"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def frame(**columns: list) -> pd.DataFrame:
    return pd.DataFrame(columns)


# ---- parse_datetimes ---------------------------------------------------------------


def test_parse_datetimes_explicit_dayfirst_format():
    parsed = parse_datetimes(
        pd.Series(["29/2/2016 01:16", "5/3/2016 12:00", None]), fmt="%d/%m/%Y %H:%M"
    )
    assert parsed.values.tolist()[:2] == [ts("2016-02-29 01:16"), ts("2016-03-05 12:00")]
    assert pd.isna(parsed.values.iloc[2])
    assert parsed.unparseable.tolist() == [False, False, False]  # missing is not unparseable


def test_parse_datetimes_inferred_dayfirst():
    parsed = parse_datetimes(pd.Series(["01/02/2025 10:00", "13/02/2025 08:30"]), dayfirst=True)
    # 01/02 read day-first is 1 February
    assert parsed.values.tolist() == [ts("2025-02-01 10:00"), ts("2025-02-13 08:30")]


def test_parse_datetimes_london_dst_and_offsets():
    raw = pd.Series(
        [
            "2025-01-15 10:00",  # GMT: 10:00 UTC
            "2025-07-01 10:00",  # BST = UTC+1: 09:00 UTC
            "2025-03-30 01:30",  # does not exist (clocks go 01:00 -> 02:00): shifted to 02:00 BST = 01:00 UTC
            "2025-10-26 01:30",  # happens twice: ambiguous -> NaT, flagged
            "2025-07-01T10:00:00+02:00",  # has an offset: 08:00 UTC whatever the zone
            "2025-07-01T10:30:00Z",
        ]
    )
    parsed = parse_datetimes(raw, tz="Europe/London")
    values = parsed.values.tolist()
    assert values[0] == ts("2025-01-15 10:00")
    assert values[1] == ts("2025-07-01 09:00")
    assert values[2] == ts("2025-03-30 01:00")
    assert pd.isna(values[3])
    assert values[4] == ts("2025-07-01 08:00")
    assert values[5] == ts("2025-07-01 10:30")
    assert parsed.ambiguous.tolist() == [False, False, False, True, False, False]
    assert not parsed.unparseable.any()
    assert str(parsed.values.dtype) == "datetime64[ns, UTC]"


def test_parse_datetimes_unparseable_flagged():
    parsed = parse_datetimes(pd.Series(["2025-01-01 10:00", "not a date", "2025-02-31 11:00", ""]))
    assert parsed.unparseable.tolist() == [False, True, True, False]


def test_parse_datetimes_now_and_today_are_no_dates():
    """pandas alone reads "now" and "today" as the time of the call: a cell of an export
    saying so is unreadable, like any other word, and the same in every run."""
    got = parse_datetimes(pd.Series(["2025-01-03 10:00", "now", "today", "Now"]))
    assert got.values.iloc[0] == pd.Timestamp("2025-01-03 10:00", tz="UTC")
    assert got.values.iloc[1:].isna().all()
    assert got.unparseable.tolist() == [False, True, True, True]


def test_parse_datetimes_format_falls_back_to_iso():
    # an Excel cell holding a real date arrives as ISO text even if the export format differs
    parsed = parse_datetimes(
        pd.Series(["03/Mar/25 9:00 AM", "2025-03-04 10:00:00"]), fmt="%d/%b/%y %I:%M %p"
    )
    assert parsed.values.tolist() == [ts("2025-03-03 09:00"), ts("2025-03-04 10:00")]


#: date texts pandas reads with a zone the zone test may miss, out of range, or not at all
_HOSTILE_DATES = [
    "2024-08-03t07:20:51z", "2025-01-01T10Z", "2025-01-01+02:00", "2024-08-03T07:20:51 utc",
    "2024-08-03T07:20:51 EST", "2300-01-01", "1600-01-01", "2024-07-01T16:54:26Z",
    "2024-07-01 16:54:26", "2024-07-01", "2024-07-01T16:54:26+02:00", "01/02/2025 10:00",
    "June 2025", "2025-02-30", "24:00", "TBD", "", None, "2024-07-01T16:54:26 GMT+2",
    "2024-03-31T02:30:00", "20240701T165426Z", "9999-12-31T23:59:59Z", "1720000000",
]  # fmt: skip


def test_parse_datetimes_never_fails_on_mixed_zones():
    """A column mixing local times with zones the zone test does not know (a lowercase
    ``z``, an hour with ``Z``, ``GMT+2``) and dates out of range raised TypeError ("Invalid
    comparison between dtype=datetime64[us, UTC] and Timestamp") or pandas' "Mixed
    timezones detected" through the loader: 1,200 mixes of such texts, in two zones, with
    a format and without, now parse, each value to a date or flagged."""
    import random

    rng = random.Random(11)
    for _ in range(300):
        values = pd.Series([rng.choice(_HOSTILE_DATES) for _ in range(rng.randint(1, 6))])
        for tz in ("UTC", "Europe/Berlin"):
            for fmt in (None, "%d/%m/%Y %H:%M"):
                got = parse_datetimes(values, tz=tz, fmt=fmt)
                given = values.notna() & (values != "")
                flagged = got.values.notna() | got.unparseable | got.out_of_range | got.ambiguous
                assert (flagged | ~given).all(), (values.tolist(), tz, fmt)


def test_parse_datetimes_reads_a_lowercase_z_as_utc():
    """``...t07:20:51z`` is UTC (pandas alone dropped the ``z`` and read a local time), a
    local time beside it stays local, and a date out of range beside both is flagged."""
    got = parse_datetimes(
        pd.Series(["2024-07-01 10:00", "2024-08-03t07:20:51z", "2300-01-01"]),
        tz="Europe/Berlin",
    )
    assert [str(v) for v in got.values[:2]] == ["2024-07-01 08:00:00+00:00",
                                                 "2024-08-03 07:20:51+00:00"]  # fmt: skip
    assert got.out_of_range.tolist() == [False, False, True]
    assert not got.unparseable.any()


def test_parse_datetimes_a_signed_number_is_no_date():
    """pandas reads ``-5`` as the year -5: outside the range, so an optional date of
    ``-5`` was missing and its request kept, where the SQL engines, which cannot read it,
    refused the request. A signed number is now unparseable; ``20240701`` is still a date."""
    got = parse_datetimes(pd.Series(["-5", "+3", " -12 ", "-5.0", "20240701", "1600-01-01"]))
    assert got.unparseable.tolist() == [True, True, True, True, False, False]
    assert got.out_of_range.tolist() == [False] * 5 + [True]


def test_parse_booleans_true_only_and_both_lists():
    raw = pd.Series(["true", "false", "maybe", None])
    only_true = parse_booleans(raw, true_values=["true"])
    assert only_true.tolist() == [True, False, False, pd.NA]
    both = parse_booleans(raw, true_values=["TRUE"], false_values=["false"])
    assert both.tolist() == [True, False, pd.NA, pd.NA]
    assert str(both.dtype) == "boolean"


# ---- validate -------------------------------------------------------------------------


def test_validate_dtypes_and_missing_optional_columns():
    df = frame(
        request_id=["A", "B"],
        opened_at=["2025-01-01 10:00", "2025-01-02 10:00"],
        closed_at=["2025-01-01 12:30", None],
        outcome=["Fulfilled", "open"],
        category=["Laptop", "Access"],
        site=["Leeds", "York"],
    )
    v = validate(df, source="x.csv")
    data = v.data
    expected = {
        "request_id": "string",
        "opened_at": "datetime64[ns, UTC]",
        "closed_at": "datetime64[ns, UTC]",
        "assessed_at": "datetime64[ns, UTC]",
        "sla_due_at": "datetime64[ns, UTC]",
        "outcome": "category",
        "category": "category",
        "channel": "category",
        "sla_met": "boolean",
        "csat": "float64",
        "reopen_count": "Int64",
        "site": "category",
    }
    for col, dtype in expected.items():
        assert str(data[col].dtype) == dtype, col
    assert list(data.columns) == [c.name for c in CANONICAL_COLUMNS] + ["site"]
    assert list(data["outcome"].cat.categories) == list(OUTCOMES)
    assert data["outcome"].tolist() == ["fulfilled", "open"]  # case-insensitive outcome
    assert data["assessed_at"].isna().all() and data["csat"].isna().all()
    assert v.quarantine.empty


def test_validate_requires_columns():
    with pytest.raises(InputError) as exc:
        validate(frame(request_id=["A"], opened_at=["2025-01-01"]), source="x.csv")
    assert "outcome" in str(exc.value) and "x.csv" in str(exc.value)


def test_validate_each_reason_and_source_row():
    rows = [
        # id, opened, closed, outcome, csat, reopen -> expected reason
        ("OK", "2025-01-01 10:00", "2025-01-01 11:00", "fulfilled", "4", "0"),
        (None, "2025-01-01 10:00", "2025-01-01 11:00", "fulfilled", None, None),
        ("U", "soon", None, "open", None, None),
        ("M", None, None, "open", None, None),
        ("C", "2025-01-02 10:00", "2025-01-01 10:00", "declined", None, None),
        ("X", "2025-01-01 10:00", None, "finished", None, None),
        ("N", "2025-01-01 10:00", None, "cancelled", None, None),
        ("O", "2025-01-01 10:00", "2025-01-01 11:00", "open", None, None),
        ("R", "2025-01-01 10:00", "2025-01-01 11:00", "fulfilled", "6", "2.5"),
        ("V", "2025-01-01 10:00", "2025-01-01 11:00", "fulfilled", "Very satisfied", None),
    ]
    df = pd.DataFrame(
        rows, columns=["request_id", "opened_at", "closed_at", "outcome", "csat", "reopen_count"]
    )
    df["source_row"] = range(11, 21)  # rows as numbered in some source file
    v = validate(df, source="x.csv")
    q = v.quarantine.set_index("source_row")
    assert v.data["request_id"].tolist() == ["OK"]
    assert q.loc[12, "reason"] == "missing request_id"
    assert q.loc[13, "reason"] == "unparseable opened_at"
    assert q.loc[14, "reason"] == "missing opened_at"
    assert q.loc[15, "reason"] == "closed before opened"
    assert q.loc[16, "reason"] == "unknown outcome"
    assert q.loc[17, "reason"] == "closed outcome without closed_at"
    assert q.loc[18, "reason"] == "open request with closed_at"
    assert q.loc[19, "reason"] == "csat out of range 1..5; reopen_count not a whole number"
    assert q.loc[19, "column"] == "csat; reopen_count"
    assert q.loc[20, "reason"] == "csat not a number"
    assert list(v.quarantine.columns[:4]) == ["source_row", "request_id", "column", "reason"]
    assert len(v.quarantine) == 9


def test_validate_duplicates_identical_collapse_different_quarantined():
    df = frame(
        request_id=["A", "A", "B", "B", "C"],
        opened_at=["2025-01-01 10:00"] * 5,
        closed_at=[
            "2025-01-01 11:00",
            "2025-01-01 11:00",
            "2025-01-01 11:00",
            "2025-01-01 12:00",
            None,
        ],
        outcome=["fulfilled", "fulfilled", "fulfilled", "fulfilled", "open"],
    )
    v = validate(df, source="x.csv")
    # A: two identical rows -> one kept silently; B: rows differ -> both quarantined
    assert v.data["request_id"].tolist() == ["A", "C"]
    assert v.collapsed == 1
    assert v.quarantine["source_row"].tolist() == [3, 4]
    assert set(v.quarantine["reason"]) == {"duplicate request_id"}


def test_validate_unparseable_masks_from_caller():
    df = pd.DataFrame(
        {
            "request_id": ["A", "B"],
            "opened_at": pd.to_datetime(["2025-01-01 10:00", None]).tz_localize(UTC),
            "outcome": ["open", "open"],
        }
    )
    v = validate(df, source="x.csv", unparseable={"opened_at": pd.Series([False, True])})
    assert v.quarantine["reason"].tolist() == ["unparseable opened_at"]


def test_validate_derives_sla_met_from_due_time():
    df = frame(
        request_id=["A", "B", "C", "D"],
        opened_at=["2025-01-01 10:00"] * 4,
        closed_at=["2025-01-02 10:00", "2025-01-03 10:01", "2025-01-03 10:00", None],
        sla_due_at=["2025-01-03 10:00", "2025-01-03 10:00", None, "2025-01-03 10:00"],
        outcome=["fulfilled", "declined", "fulfilled", "open"],
    )
    v = validate(df, source="x.csv")
    # A closed before due: met; B one minute late: not met; C no due time: unknown; D open: unknown
    assert v.data["sla_met"].tolist() == [True, False, pd.NA, pd.NA]


def test_validate_given_sla_met_wins():
    df = frame(
        request_id=["A"],
        opened_at=["2025-01-01 10:00"],
        closed_at=["2025-01-09 10:00"],
        sla_due_at=["2025-01-03 10:00"],
        sla_met=["yes"],
        outcome=["fulfilled"],
    )
    assert validate(df, source="x.csv").data["sla_met"].tolist() == [True]


def test_validate_same_from_categorical_columns():
    """Parquet's dictionary-encoded text arrives as categoricals, which are cleaned on
    their categories (schema._as_text): same kept rows and quarantine as plain text."""
    df = pd.DataFrame(
        {
            "request_id": ["R1", " R2 ", "3.0", "3", None, "R6", "R7", ""],
            "opened_at": ["2025-01-01 10:00"] * 8,
            "closed_at": [
                "2025-01-01 11:00",
                None,
                "2025-01-01 12:00",
                None,
                None,
                "2025-01-01 12:00",
                None,
                None,
            ],
            "outcome": [
                "Fulfilled",
                "OPEN",
                " fulfilled",
                "open",
                "open",
                "finished",
                None,
                "open",
            ],
            "csat": ["4", None, "5 ", "x", None, None, None, None],
            "category": ["Laptop", " Laptop", None, "", "Phone", "Phone", "Laptop", "Phone"],
        }
    )
    text = validate(df, source="t.csv")
    cats = validate(df.astype("category"), source="t.parquet")
    pd.testing.assert_frame_equal(cats.data, text.data)
    # the quarantine shows the values as given: compare them as text
    pd.testing.assert_frame_equal(cats.quarantine.astype("str"), text.quarantine.astype("str"))
    assert text.data["outcome"].tolist() == ["fulfilled", "open"]  # R1 and R2
    assert set(text.quarantine["reason"]) >= {"unknown outcome", "missing outcome"}
