"""Event logs in the mapping (``events:`` / ``derive:``, DESIGN.md "Event logs").

The fold is checked on hand-made logs (every rule, the tie rule, the quarantine of a
request with no readable time, the warnings) and against a plain per-request Python
reference on random logs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from csi_lib.cli import app
from csi_lib.errors import ConfigError
from csi_lib.sources import load_mapping, load_requests


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def event_mapping(**extra) -> dict:
    m = {
        "name": "events-test",
        "datetime_format": "%Y-%m-%d %H:%M",
        "events": {"case": "SR Number", "time": "Change Date+Time", "status": "Status"},
        "derive": {
            "opened_at": "first_time",
            "assessed_at": {"first_time_in": ["Accepted"]},
            "closed_at": {"last_time_if_final_in": ["Completed", "Cancelled"]},
            "reopen_count": {"transitions_from": ["Completed"]},
        },
        "columns": {"category": "Product", "priority": "Impact"},
        "outcome": {
            "column": "Status",
            "values": {"fulfilled": ["Completed"], "cancelled": ["Cancelled"]},
            "default": "open",
        },
    }
    m.update(extra)
    return m


LOG = """SR Number,Change Date+Time,Status,Product,Impact,Owner
S1,2025-01-06 09:00,Queued,Laptop,Low,Ann
S1,2025-01-06 10:00,Accepted,Laptop,Low,Ann
S2,2025-01-07 08:00,Queued,Phone,High,Bob
S1,2025-01-07 12:00,Completed,Laptop,Medium,Ann
S1,2025-01-08 09:00,Accepted,Laptop,Medium,Ann
S1,2025-01-09 15:30,Completed,Laptop,High,Ann
S2,2025-01-08 08:00,Accepted,Phone,High,Bob
S3,2025-01-09 10:00,Queued,Monitor,Low,Cy
"""


def write(tmp_path, text: str, name: str = "events.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_each_rule_and_the_last_event_columns(tmp_path):
    res = load_requests(write(tmp_path, LOG), mapping=event_mapping())
    d = res.data.set_index("request_id")
    assert list(d.index) == ["S1", "S2", "S3"]
    assert d.loc["S1", "opened_at"] == ts("2025-01-06 09:00")
    assert d.loc["S1", "assessed_at"] == ts("2025-01-06 10:00")  # the first Accepted
    assert d.loc["S1", "closed_at"] == ts("2025-01-09 15:30")  # final status Completed
    assert d.loc["S1", "reopen_count"] == 1  # Completed -> Accepted once
    assert d.loc["S1", "outcome"] == "fulfilled"
    assert d.loc["S1", "priority"] == "High"  # from the last event, not the last line of S1
    assert pd.isna(d.loc["S2", "closed_at"]) and d.loc["S2", "outcome"] == "open"
    assert d.loc["S2", "assessed_at"] == ts("2025-01-08 08:00")
    assert pd.isna(d.loc["S3", "assessed_at"]) and d.loc["S3", "reopen_count"] == 0
    assert "Owner" not in res.data.columns  # personal column never loaded
    assert res.events is not None
    assert (res.events.events_read, res.events.requests_formed) == (8, 3)
    assert res.events.requests_quarantined == 0
    assert res.rows_read == res.rows_kept + res.rows_quarantined + res.rows_deduplicated
    s = res.summary()
    assert s["events"]["events_read"] == 8 and s["events"]["requests_formed"] == 3
    assert s["columns"]["opened_at"].startswith("derived from the events")


def test_file_order_does_not_matter_but_breaks_ties(tmp_path):
    lines = LOG.splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    a = load_requests(write(tmp_path, LOG, "a.csv"), mapping=event_mapping()).data
    b = load_requests(write(tmp_path, shuffled, "b.csv"), mapping=event_mapping()).data
    cols = ["opened_at", "assessed_at", "closed_at", "reopen_count", "outcome", "priority"]
    pd.testing.assert_frame_equal(
        a.set_index("request_id")[cols].sort_index(), b.set_index("request_id")[cols].sort_index()
    )
    # equal times: the later line of the file is the later event
    tie = (
        "SR Number,Change Date+Time,Status,Product,Impact\n"
        "T1,2025-02-01 09:00,Queued,X,Low\n"
        "T1,2025-02-01 10:00,Completed,X,Low\n"
        "T1,2025-02-01 10:00,Accepted,X,Low\n"
        "T2,2025-02-01 10:00,Accepted,X,Low\n"
        "T2,2025-02-01 10:00,Completed,X,Low\n"
    )
    d = load_requests(write(tmp_path, tie, "tie.csv"), mapping=event_mapping()).data
    d = d.set_index("request_id")
    assert d.loc["T1", "outcome"] == "open" and pd.isna(d.loc["T1", "closed_at"])
    assert d.loc["T1", "reopen_count"] == 1
    assert d.loc["T2", "outcome"] == "fulfilled" and d.loc["T2", "closed_at"] == ts(
        "2025-02-01 10:00"
    )
    assert d.loc["T2", "reopen_count"] == 0


def test_request_without_readable_time_is_quarantined(tmp_path):
    text = (
        LOG
        + "S4,soon,Queued,Laptop,Low,Di\nS4,,Accepted,Laptop,Low,Di\nS2,later,Completed,Phone,High,Bob\n"
    )
    res = load_requests(write(tmp_path, text), mapping=event_mapping(), quarantine_dir=tmp_path)
    q = res.quarantine
    assert q["request_id"].tolist() == ["S4"]
    assert q["reason"].tolist() == ["no event of the request has a readable time"]
    assert q["source_row"].tolist() == [10]  # the request's last line
    assert q["Change Date+Time"].isna().all() and "Owner" not in q.columns
    assert res.events.requests_formed == 4 and res.events.requests_quarantined == 1
    assert res.events.events_without_time == 3
    # S2's unreadable "Completed" takes no part: S2 stays open
    assert res.data.set_index("request_id").loc["S2", "outcome"] == "open"
    assert any("no readable time" in w and "row 9" in w and "'soon'" in w for w in res.warnings)
    assert res.rows_read == res.rows_kept + res.rows_quarantined + res.rows_deduplicated
    assert res.quarantine_path is not None and res.quarantine_path.exists()


def test_validation_still_applies_and_counts_as_quarantined_requests(tmp_path):
    text = "SR Number,Change Date+Time,Status,Product,Impact\n,2025-01-01 10:00,Queued,X,Low\n"
    text += "F1,2099-01-01 10:00,Queued,X,Low\nOK,2025-01-01 10:00,Queued,X,Low\n"
    res = load_requests(write(tmp_path, text), mapping=event_mapping())
    assert res.data["request_id"].tolist() == ["OK"]
    reasons = dict(zip(res.quarantine["source_row"], res.quarantine["reason"], strict=True))
    assert reasons[1] == "missing request_id"
    assert "opened_at in the future" in reasons[2]
    assert res.events.requests_formed == 2 and res.events.requests_quarantined == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dedupe": {"order_by": "Change Date+Time"}}, "exclude each other"),
        ({"events": None}, "derive: needs an events: section"),
        ({"columns": {"opened_at": "Change Date+Time"}}, "either under columns: or under derive:"),
        ({"derive": {"csat": "first_time"}}, "not a date column"),
        ({"derive": {"closed_at": {"transitions_from": ["X"]}}}, "transitions_from counts"),
        ({"derive": {"closed_at": {"last_time_in": ["X"]}}}, "a derive rule is one of"),
        ({"derive": {"closed_at": {"first_time_in": []}}}, "at least one status"),
        ({"columns": {"request_id": "Ticket"}}, "differs from events: case"),
    ],
)
def test_mapping_errors_are_clear(change, message):
    with pytest.raises(ConfigError) as exc:
        load_mapping(mapping=event_mapping(**change))
    assert message in str(exc.value)


def test_mapping_file_errors_name_the_line(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: x\nevents:\n  case: SR\n  tim: When\n  status: Status\ncolumns:\n  category: P\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_mapping(mapping=path)
    text = str(exc.value)
    assert "unknown key 'tim' under 'events'" in text and "row 4" in text and "'time'" in text


def test_mapping_round_trips_through_json():
    m = load_mapping(mapping=event_mapping())
    again = load_mapping(mapping=m.model_dump(mode="json"))
    assert again.derive == m.derive
    assert m.model_dump(mode="json")["derive"]["assessed_at"] == {"first_time_in": ["Accepted"]}


def test_same_source_column_for_opened_and_closed_warns(tmp_path):
    src = write(tmp_path, "id,t,state\nA,2025-01-01 10:00,done\n")
    res = load_requests(
        src,
        mapping={
            "name": "same",
            "columns": {"request_id": "id", "opened_at": "t", "closed_at": "t"},
            "outcome": {"column": "state", "values": {"fulfilled": ["done"]}},
        },
    )
    assert any("opened_at and closed_at both come from 't'" in w for w in res.warnings)
    ev = load_requests(
        write(tmp_path, LOG, "log.csv"),
        mapping=event_mapping(
            derive={"opened_at": "first_time"}, columns={"closed_at": "Change Date+Time"}
        ),
    )
    assert any(
        "closed_at is read from the time of each request's last event" in w for w in ev.warnings
    )


def reference_fold(events: pd.DataFrame) -> pd.DataFrame:
    """One request at a time, in plain Python: the rules as DESIGN.md words them."""
    rows = []
    events = events.assign(line=range(len(events)))
    for rid, g in events.groupby("SR Number", sort=False):
        g = g.sort_values(["t", "line"])
        st = g["Status"].tolist()
        times = g["t"].tolist()
        accepted = [t for t, s in zip(times, st, strict=True) if s == "Accepted"]
        rows.append(
            {
                "request_id": rid,
                "opened_at": times[0],
                "assessed_at": accepted[0] if accepted else pd.NaT,
                "closed_at": times[-1] if st[-1] in ("Completed", "Cancelled") else pd.NaT,
                "reopen_count": sum(
                    1
                    for a, b in zip(st, st[1:], strict=False)
                    if a == "Completed" and b != "Completed"
                ),
                "priority": g["Impact"].iloc[-1],
            }
        )
    return pd.DataFrame(rows).set_index("request_id")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_fold_matches_a_per_request_reference(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = 3000
    ids = rng.integers(0, 400, n)
    minutes = rng.integers(0, 60 * 24 * 20, n) // 30 * 30  # many equal times
    t = pd.Timestamp("2025-03-01", tz="UTC") + pd.to_timedelta(minutes, unit="min")
    events = pd.DataFrame(
        {
            "SR Number": [f"R{i}" for i in ids],
            "t": t,
            "Status": rng.choice(["Queued", "Accepted", "Completed", "Cancelled", "Wait"], n),
            "Impact": rng.choice(["Low", "High"], n),
        }
    )
    text = events.assign(
        **{"Change Date+Time": events["t"].dt.strftime("%Y-%m-%d %H:%M"), "Product": "P"}
    ).drop(columns="t")
    src = tmp_path / "random.csv"
    text.to_csv(src, index=False)
    got = load_requests(src, mapping=event_mapping()).data.set_index("request_id")
    want = reference_fold(events)
    assert len(got) == len(want)
    got = got.loc[want.index]
    for col in ("opened_at", "assessed_at", "closed_at"):
        assert got[col].tolist() == want[col].astype(got[col].dtype).tolist(), col
    assert got["reopen_count"].astype(int).tolist() == want["reopen_count"].tolist()
    assert got["priority"].astype(str).tolist() == want["priority"].tolist()


def test_csi_validate_prints_event_counts(tmp_path):
    src = write(tmp_path, LOG)
    mapping = tmp_path / "events.yaml"
    import yaml

    mapping.write_text(yaml.safe_dump(event_mapping()))
    out = CliRunner().invoke(
        app, ["validate", str(src), "--mapping", str(mapping), "--quarantine-dir", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "Events: 8 read, 3 requests formed, 0 quarantined" in text
