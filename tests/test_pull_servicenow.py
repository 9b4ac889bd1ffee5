"""``csi pull servicenow`` against the Table API imitation (tests/fixtures/pull/
pull_imitation.py, written from ServiceNow's public documentation): paging that cannot
lose or corrupt rows, language-neutral values, prune, malformed records, and the KPIs of
the pulled store against a direct count of the imitation's records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from csi_lib.cli import main
from csi_lib.errors import ConnectorError
from csi_lib.pull import Credentials, ServiceNowSource, pull, read_store
from csi_lib.sources import load_requests

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "pull"))
import pull_imitation as im  # noqa: E402

CREDS = Credentials(user="csi.integration", password="s3cret-pw")
KPIS = ["received", "fulfilled", "declined", "cancelled", "backlog", "pct_fulfilled"]
KPIS += ["pct_within_sla", "fulfil_median_h"]


def serve(app):
    return im.Server(app)


def stored_like_source(store: Path, sn: im.ServiceNow) -> None:
    """Every record of the imitation is in the store, value for value, and nothing else."""
    frame = read_store(store)[0].set_index("sys_id")
    assert frame.index.is_unique
    source = {r["sys_id"]: r for r in sn.records}
    assert set(frame.index) == set(source)
    for field in ("number", "state", "cat_item", "assignment_group", "opened_at", "closed_at"):
        want = pd.Series({k: r[field] or None for k, r in source.items()})
        got = frame[field].reindex(want.index)
        assert (got.fillna("") == want.fillna("")).all(), field
    assert "short_description" not in frame.columns and "opened_by" not in frame.columns
    assert frame["dv_cat_item"].notna().all()


@pytest.mark.parametrize("n", [300, 299, 301])
def test_exact_multiples_of_the_page_size_keep_every_row_as_it_is(tmp_path, n):
    """A first pull of 300 rows in pages of 100 (and one either side): every request
    carries the same query, fields and display settings; the store is the table."""
    sn = im.servicenow_app(im.truth(n))
    with serve(sn):
        result = pull(ServiceNowSource(sn.url, page_size=100), tmp_path / "s.parquet", CREDS)
    assert (result.received, result.new, result.total, result.quarantined) == (n, n, n, 0)
    asked = [q for _, q, _ in sn.log]
    for q in asked:
        assert q["sysparm_query"] == "ORDERBYsys_updated_on^ORDERBYsys_id"
        assert q["sysparm_fields"] == asked[0]["sysparm_fields"]
        assert q["sysparm_display_value"] == "all" and q["sysparm_limit"] == "100"
    stored_like_source(tmp_path / "s.parquet", sn)
    res = load_requests(tmp_path / "s.parquet", preset="servicenow")
    assert res.rows_kept == n and res.rows_quarantined == 0
    assert res.data["category"].notna().all()


def test_records_updated_or_deleted_during_the_pull_are_not_lost(tmp_path):
    """While the pages are read, records already read are updated (they move to the end)
    and one is deleted (the rest move forward): no record is skipped, and the pull reads
    the new versions."""
    rows = im.truth(120)
    sn = im.servicenow_app(rows)
    ordered = sorted(sn.records, key=lambda r: (r["sys_updated_on"], r["sys_id"]))
    early = [r["sys_id"] for r in ordered[:30]]
    deleted = ordered[5]["sys_id"]

    def meanwhile(n: int) -> None:
        if n == 2:  # after the first page: 25 of its records change, one goes
            for i, record in enumerate(r for r in sn.records if r["sys_id"] in early[6:31]):
                record["sys_updated_on"] = f"2025-09-01 10:00:{i:02d}"
                record["state"] = "3"
            sn.records[:] = [r for r in sn.records if r["sys_id"] != deleted]

    sn.before_request = meanwhile
    store = tmp_path / "s.parquet"
    with serve(sn):
        pull(ServiceNowSource(sn.url, page_size=40), store, CREDS)
    frame = read_store(store)[0].set_index("sys_id")
    assert set(frame.index) == {r["sys_id"] for r in sn.records} | {deleted}
    for record in sn.records:  # the latest version of every record
        assert frame.loc[record["sys_id"], "sys_updated_on"] == record["sys_updated_on"]


def test_german_user_gives_the_same_outcomes_and_kpis(tmp_path, capsys):
    """A German-language integration user: display values in German (and a German date
    format, Berlin time), values language-neutral; the preset maps outcomes on the values."""
    rows = im.truth(200)
    results = {}
    for lang, tz in (("en", "UTC"), ("de", "Europe/Berlin")):
        sn = im.servicenow_app(rows, lang=lang, user_tz=tz)
        store = tmp_path / f"{lang}.parquet"
        with serve(sn):
            pull(ServiceNowSource(sn.url, page_size=70), store, CREDS)
        res = load_requests(store, preset="servicenow")
        assert res.rows_quarantined == 0 and res.rows_kept == 200
        frame = read_store(store)[0]
        assert frame["opened_at"].str.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$").all()
        capsys.readouterr()
        assert main(["kpis", str(store), "--preset", "servicenow", "--format", "json"]) == 0
        results[lang] = json.loads(capsys.readouterr().out)
        if lang == "de":
            assert "Geschlossen, abgeschlossen" in set(frame["dv_state"])
            assert "Zugriffsantrag" in set(res.data["category"].astype(str))
    assert results["de"] == results["en"]


@pytest.mark.parametrize(("lang", "tz"), [("en", "UTC"), ("de", "Europe/Berlin")])
def test_kpis_of_the_pulled_store_equal_a_direct_count(tmp_path, capsys, monkeypatch, lang, tz):
    rows = im.truth(400, seed=11)
    sn = im.servicenow_app(rows, lang=lang, user_tz=tz)
    store = tmp_path / "requests.parquet"
    monkeypatch.setenv("CSI_SERVICENOW_USER", "csi.integration")
    monkeypatch.setenv("CSI_SERVICENOW_PASSWORD", "s3cret-pw")
    with serve(sn):
        cmd = ["pull", "servicenow", str(store), "--instance", sn.url, "--page-size", "50"]
        assert main(cmd) == 0, capsys.readouterr().err
    for start, end, last in (
        ("2025-02-01", "2025-03-01", "2025-02-28"),
        ("2025-01-01", "2025-07-01", "2025-06-30"),
    ):
        capsys.readouterr()
        cmd = ["kpis", str(store), "--preset", "servicenow", "--from", start, "--to", last]
        assert main([*cmd, "--format", "json"]) == 0
        got = json.loads(capsys.readouterr().out)
        want = im.direct_kpis(rows, start, end)
        for kpi in KPIS:
            assert got[kpi] == pytest.approx(want[kpi]), kpi


def test_incremental_pull_asks_from_a_day_before_and_counts_changes(tmp_path):
    rows = im.truth(50)
    sn = im.servicenow_app(rows)
    store = tmp_path / "s.parquet"
    with serve(sn):
        pull(ServiceNowSource(sn.url, page_size=20), store, CREDS)
        newest = max(r["sys_updated_on"] for r in sn.records)
        target = next(r for r in sn.records if r["state"] == "2")
        target.update(
            state="3", closed_at="2025-09-02 09:00:00", sys_updated_on="2025-09-02 09:00:01"
        )
        extra = dict(
            sn.records[0],
            sys_id=im.sys_id(999),
            number="RITM1999999",
            sys_updated_on="2025-09-02 10:00:00",
        )
        sn.records.append(extra)
        sn.log.clear()
        result = pull(ServiceNowSource(sn.url, page_size=20), store, CREDS)
    since = (pd.Timestamp(newest) - pd.Timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S")
    assert (
        sn.log[0][1]["sysparm_query"]
        == f"sys_updated_on>={since}^ORDERBYsys_updated_on^ORDERBYsys_id"
    )
    assert (result.new, result.updated, result.total) == (1, 1, 51)
    assert read_store(store)[0].set_index("sys_id").loc[target["sys_id"], "state"] == "3"


def test_a_query_with_orderby_has_it_removed_with_a_note(tmp_path):
    sn = im.servicenow_app(im.truth(30))
    with serve(sn):
        result = pull(
            ServiceNowSource(sn.url, query="ORDERBYDESCnumber^priority=1", page_size=10),
            tmp_path / "s.parquet",
            CREDS,
        )
    assert all(
        q["sysparm_query"] == "priority=1^ORDERBYsys_updated_on^ORDERBYsys_id" for _, q, _ in sn.log
    )
    assert any("ORDERBYDESCnumber was removed" in n for n in result.notes)
    assert result.total == sum(1 for r in sn.records if r["priority"] == "1")


def test_prune_removes_what_the_source_no_longer_returns(tmp_path, monkeypatch, capsys):
    sn = im.servicenow_app(im.truth(60))
    store = tmp_path / "s.parquet"
    monkeypatch.setenv("CSI_SERVICENOW_TOKEN", "oauth-access-token")
    with serve(sn):
        assert (
            main(["pull", "servicenow", str(store), "--instance", sn.url, "--page-size", "25"]) == 0
        )
        gone = {r["sys_id"] for r in sn.records[:7]}
        sn.records[:] = sn.records[7:]
        assert main(["pull", "servicenow", str(store), "--instance", sn.url]) == 0
        assert len(read_store(store)[0]) == 60  # without --prune, deleted records stay
        capsys.readouterr()
        cmd = ["pull", "servicenow", str(store), "--instance", sn.url, "--prune"]
        assert main(cmd) == 0
        assert "7 removed (no longer at the source)" in capsys.readouterr().out
        frame = read_store(store)[0]
        assert len(frame) == 53 and not gone & set(frame["sys_id"])
        sn.records.clear()  # a source that returns nothing at all: refused, store kept
        before = store.read_bytes()
        assert main(cmd) == 2
        assert "found no records at all" in capsys.readouterr().err
        assert store.read_bytes() == before
    assert main(["pull", "history", str(store)]) == 0
    assert ", 7 removed," in capsys.readouterr().out


def test_malformed_records_are_quarantined_and_the_pull_goes_on(tmp_path):
    sn = im.servicenow_app(im.truth(20))
    good = sn.records
    bad_page = {
        "result": [
            {
                "number": {"value": "RITM9000001", "display_value": "RITM9000001"},
                "sys_updated_on": {"value": "2025-03-01 10:00:00", "display_value": "x"},
            },
            {"sys_id": {"value": "b1", "display_value": "b1"}, "number": {"value": "RITM9000002"}},
            {
                "sys_id": {"value": "b2"},
                "sys_updated_on": {"value": "yesterday", "display_value": "yesterday"},
            },
            {"sys_id": "b3", "sys_updated_on": None},
            "not a record",
            {
                "sys_id": {"value": "b4"},
                "number": None,
                "state": {"value": None, "display_value": None},
                "sys_updated_on": {
                    "value": "2025-03-01 11:00:00",
                    "display_value": "2025-03-01 11:00:00",
                },
                "opened_at": {"value": "2025-03-01 09:00:00"},
            },
        ]
    }
    sn.edit(lambda q, body: body.update(result=bad_page["result"] + body["result"]))
    store = tmp_path / "s.parquet"
    with serve(sn):
        result = pull(ServiceNowSource(sn.url, page_size=100), store, CREDS)
    assert result.quarantined == 5 and result.total == 1 + len(good)
    assert result.quarantine_path is not None and result.quarantine_path.parent == tmp_path
    q = pd.read_csv(result.quarantine_path)
    assert sorted(q["reason"]) == sorted(
        [
            "no sys_id",
            "no sys_updated_on",
            "sys_updated_on 'yesterday' is not a date (YYYY-MM-DD hh:mm:ss)",
            "no sys_updated_on",
            "a record that is not an object",
        ]
    )
    assert str(result.quarantine_path) in result.sentence()
    frame = read_store(store)[0].set_index("sys_id")
    assert pd.isna(frame.loc["b4", "state"]) and pd.isna(frame.loc["b4", "number"])


def test_a_server_that_ignores_the_offset_stops_the_pull(tmp_path):
    """A server answering every sysparm_offset with the first page: a message, not a loop."""
    sn = im.servicenow_app(im.truth(30))
    original = sn.route

    def first_page_only(path, q):
        if len(sn.log) > 40:  # the old client looped for ever; stop it for the test
            return im.Reply(500, {}, "{}")
        return original(path, {**q, "sysparm_offset": "0"})

    sn.route = first_page_only
    store = tmp_path / "s.parquet"
    with serve(sn), pytest.raises(ConnectorError) as exc:
        pull(ServiceNowSource(sn.url, page_size=10), store, CREDS)
    assert "does not page" in str(exc.value) and "store was not changed" in str(exc.value)
    assert len(sn.log) <= 3 and not store.exists()


def test_a_link_to_another_host_is_never_followed(tmp_path):
    """The Link header's next page points elsewhere: the client never asks there (nor
    sends the credentials), and the pull is complete."""
    rows = im.truth(50)
    sn = im.servicenow_app(rows)
    thief = im.servicenow_app(rows)
    original = sn.route

    def hostile(path, q):
        reply = original(path, q)
        reply.headers["Link"] = (
            f'<{thief.url}/api/now/table/sc_req_item?sysparm_offset=10>;rel="next"'
        )
        return reply

    sn.route = hostile
    with serve(sn), im.Server(thief):
        result = pull(ServiceNowSource(sn.url, page_size=20), tmp_path / "s.parquet", CREDS)
    assert not thief.log
    assert result.total == 50
