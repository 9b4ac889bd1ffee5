"""``csi pull jira`` against the Jira imitation (tests/fixtures/pull/pull_imitation.py,
written from Atlassian's public REST documentation): Cloud (``/rest/api/3/search/jql``,
``nextPageToken``) and Data Center (``/rest/api/2/search``, ``startAt``/``total``) field
dumps with ``sd-sla-field``, the SLA by name or id in any language, every resolution
closed, Done without resolution, ``ORDER BY`` removed, the team field, malformed issues,
and the KPIs of the store against a direct count."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from csi_lib.cli import main
from csi_lib.errors import ConfigError, ConnectorError
from csi_lib.pull import Credentials, JiraSource, pull, read_store
from csi_lib.sources import load_requests

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "pull"))
import pull_imitation as im  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "pull"
CREDS = Credentials(user="me@example.com", password="api-token")
CLOUD = "/rest/api/3/search/jql"
DC = "/rest/api/2/search"
KPIS = ["received", "fulfilled", "declined", "cancelled", "backlog", "pct_fulfilled"]
KPIS += ["pct_within_sla", "fulfil_median_h", "csat_mean"]


def site(rows, cloud=True, **kw):
    return im.Jira(im.jira_issues(rows, cloud=cloud), im.jira_fields(cloud), cloud=cloud, **kw)


def searches(jira):
    return [q for path, q, _ in jira.log if "/search" in path]


@pytest.mark.parametrize("cloud", [True, False], ids=["cloud", "data-center"])
def test_kpis_of_the_pulled_store_equal_a_direct_count(tmp_path, capsys, monkeypatch, cloud):
    rows = im.truth(330, seed=5)
    jira = site(rows, cloud=cloud, max_results=100 if cloud else 60)
    store = tmp_path / "jira.parquet"
    monkeypatch.setenv("CSI_JIRA_EMAIL", "me@example.com")
    monkeypatch.setenv("CSI_JIRA_API_TOKEN", "api-token")
    cmd = ["pull", "jira", str(store), "--site", jira.url or "", "--jql", "project = ITSD"]
    with im.Server(jira):
        cmd[4] = jira.url
        assert main([*cmd, "--search-path", CLOUD if cloud else DC, "--page-size", "100"]) == 0
    pages = searches(jira)
    if cloud:
        assert [("nextPageToken" in q) for q in pages] == [False, True, True, True]
    else:
        assert pages[1]["startAt"] != "0"  # Data Center pages by startAt, capped at 60
    for start, end, last in (
        ("2025-02-01", "2025-03-01", "2025-02-28"),
        ("2025-01-01", "2025-07-01", "2025-06-30"),
    ):
        capsys.readouterr()
        assert (
            main(
                [
                    "kpis",
                    str(store),
                    "--preset",
                    "jira-sm",
                    "--from",
                    start,
                    "--to",
                    last,
                    "--format",
                    "json",
                ]
            )
            == 0
        )
        got = json.loads(capsys.readouterr().out)
        want = im.direct_kpis(rows, start, end)
        for kpi in KPIS:
            assert got[kpi] == pytest.approx(want[kpi]), kpi


@pytest.mark.parametrize("cloud", [True, False], ids=["cloud", "data-center"])
def test_recorded_field_dumps_find_the_sd_sla_field(tmp_path, cloud):
    """The field lists as Jira Cloud and Data Center send them: the SLA is the
    ``sd-sla-field`` named "Time to resolution", not the first response one."""
    dump = json.loads((FIXTURES / f"jira_{'cloud' if cloud else 'dc'}_fields.json").read_text())
    rows = im.truth(20)
    jira = im.Jira(im.jira_issues(rows, cloud=cloud), dump, cloud=cloud)
    with im.Server(jira):
        pull(
            JiraSource(jira.url, "project = ITSD", search_path=CLOUD if cloud else DC),
            tmp_path / "j.parquet",
            CREDS,
        )
    wanted = searches(jira)[0]["fields"].split(",")
    base = 10000 if cloud else 10200
    assert f"customfield_{base + 31}" in wanted and f"customfield_{base + 30}" not in wanted
    assert f"customfield_{base + 35}" not in wanted  # the feedback date is not the rating
    frame = read_store(tmp_path / "j.parquet")[0].set_index("Issue key")
    for r in rows:
        got = frame.loc[f"ITSD-{1 + r['n']}", "SLA met"]
        want = None if r["sla_met"] is None else ("true" if r["sla_met"] else "false")
        assert (None if pd.isna(got) else got) == want


def test_sla_by_name_in_another_language_or_by_field_id(tmp_path):
    rows = im.truth(30)
    jira = site(rows)
    jira.fields = im.jira_fields(sla_names=("Zeit bis zur ersten Antwort", "Zeit bis zur Lösung"))
    with im.Server(jira):
        result = pull(JiraSource(jira.url, "project = ITSD"), tmp_path / "a.parquet", CREDS)
        assert any("several SLA fields" in n and "--sla" in n for n in result.notes)
        assert read_store(tmp_path / "a.parquet")[0]["SLA met"].isna().all()
        for sla in ("Zeit bis zur Lösung", "customfield_10031"):
            store = tmp_path / f"{sla[:4]}.parquet"
            pull(JiraSource(jira.url, "project = ITSD", sla=sla), store, CREDS)
            assert read_store(store)[0]["SLA met"].notna().sum() == sum(
                r["sla_met"] is not None for r in rows
            )
        store = tmp_path / "field.parquet"
        pull(
            JiraSource(jira.url, "project = ITSD", fields={"sla": "customfield_10031"}),
            store,
            CREDS,
        )
        assert read_store(store)[0]["SLA met"].notna().any()
        with pytest.raises(ConfigError, match="no SLA field named 'Time to fix'"):
            pull(
                JiraSource(jira.url, "project = ITSD", sla="Time to fix"),
                tmp_path / "x.parquet",
                CREDS,
            )
        jira.fields = [f for f in jira.fields if f["name"] != "Zeit bis zur ersten Antwort"]
        result = pull(JiraSource(jira.url, "project = ITSD"), tmp_path / "one.parquet", CREDS)
        assert any("only SLA field, 'Zeit bis zur Lösung'" in n for n in result.notes)
        assert read_store(tmp_path / "one.parquet")[0]["SLA met"].notna().any()


def test_field_options_name_the_ids_on_the_command_line(tmp_path, monkeypatch, capsys):
    rows = im.truth(10)
    jira = site(rows)
    monkeypatch.setenv("CSI_JIRA_TOKEN", "oauth-access-token")
    store = tmp_path / "j.parquet"
    with im.Server(jira):
        cmd = ["pull", "jira", str(store), "--site", jira.url, "--jql", "project = ITSD"]
        ids = [
            "request_type=customfield_10010",
            "sla=customfield_10031",
            "satisfaction=customfield_10034",
            "team=customfield_10001",
        ]
        assert main([*cmd, *[x for i in ids for x in ("--field", i)]]) == 0
        assert not [p for p, _, _ in jira.log if p.endswith("/field")]  # nothing to discover
        assert main([*cmd, "--field", "colour=customfield_1"]) == 2
        assert "unknown field name 'colour'" in capsys.readouterr().err
    frame = read_store(store)[0]
    assert frame["Team"].notna().all() and frame["Request Type"].notna().all()


def test_every_resolution_is_closed_and_done_without_resolution_too(tmp_path, capsys):
    """ "Cannot Reproduce" is declined, an unknown resolution counts as fulfilled (named in
    a warning, not quarantined), an issue in the Done category without a resolution is
    fulfilled when it entered Done; all stay in "received"."""
    rows = im.truth(12)
    issues = im.jira_issues(rows)
    closed = [i for i in issues if i["fields"]["resolution"]]
    closed[0]["fields"]["resolution"] = {"id": "10004", "name": "Cannot Reproduce"}
    closed[1]["fields"]["resolution"] = {"id": "10009", "name": "Known Error"}
    done = closed[2]["fields"]
    done["resolution"] = None
    done["resolutiondate"] = None
    done["statuscategorychangedate"] = "2025-06-03T12:00:00.000+0200"
    jira = im.Jira(issues, im.jira_fields())
    store = tmp_path / "j.parquet"
    with im.Server(jira):
        pull(JiraSource(jira.url, "project = ITSD"), store, CREDS)
    res = load_requests(store, preset="jira-sm")
    assert res.rows_quarantined == 0 and res.rows_kept == 12
    d = res.data.set_index("request_id")
    assert d.loc[closed[0]["key"], "outcome"] == "declined"
    assert d.loc[closed[1]["key"], "outcome"] == "fulfilled"
    assert d.loc[closed[2]["key"], "outcome"] == "fulfilled"
    assert d.loc[closed[2]["key"], "closed_at"] == pd.Timestamp("2025-06-03 10:00", tz="UTC")
    assert any("'Known Error' (1)" in w and "count as fulfilled" in w for w in res.warnings)
    capsys.readouterr()
    assert (
        main(["kpis", str(store), "--preset", "jira-sm", "--format", "json", "--to", "2025-12-31"])
        == 0
    )
    values = json.loads(capsys.readouterr().out)
    assert values["received"] == 12
    assert values["backlog"] == sum(1 for r in rows if r["outcome"] == "open")


def test_a_jql_with_order_by_has_it_removed_with_a_note(tmp_path, monkeypatch, capsys):
    jira = site(im.truth(15))
    monkeypatch.setenv("CSI_JIRA_TOKEN", "oauth-access-token")
    with im.Server(jira):
        cmd = ["pull", "jira", str(tmp_path / "j.parquet"), "--site", jira.url]
        assert main([*cmd, "--jql", "project = ITSD ORDER BY created DESC"]) == 0
    out = capsys.readouterr().out
    assert "15 new" in out and "note: the JQL's 'ORDER BY created DESC' was removed" in out
    assert searches(jira)[0]["jql"] == "(project = ITSD) ORDER BY updated ASC"


@pytest.mark.parametrize(
    ("jql", "path", "words"),
    [
        (
            "projct = ITSD",
            CLOUD,
            "(HTTP 400): 'Field 'projct' does not exist or you do not have permission to view it.'",
        ),
        (
            "project = ITSD",
            "/rest/api/3/search",
            "(HTTP 410): 'The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.",
        ),
    ],
)
def test_400_and_410_show_the_servers_own_message(tmp_path, monkeypatch, capsys, jql, path, words):
    jira = site(im.truth(5))
    monkeypatch.setenv("CSI_JIRA_TOKEN", "oauth-access-token")
    with im.Server(jira):
        cmd = ["pull", "jira", str(tmp_path / "j.parquet"), "--site", jira.url, "--jql", jql]
        assert main([*cmd, "--search-path", path]) == 2
    err = capsys.readouterr().err
    assert words in err and "try again later" not in err
    assert "the store was not changed" in err and not (tmp_path / "j.parquet").exists()


def test_team_field_from_cloud_and_data_center(tmp_path):
    rows = im.truth(8)
    for cloud in (True, False):
        jira = site(rows, cloud=cloud)
        store = tmp_path / f"{cloud}.parquet"
        with im.Server(jira):
            pull(
                JiraSource(jira.url, "project = ITSD", search_path=CLOUD if cloud else DC),
                store,
                CREDS,
            )
        res = load_requests(store, preset="jira-sm")
        groups = res.data.set_index("request_id")["group"].astype(str)
        for r in rows:
            want = r["group"] if cloud else str(im.GROUPS.index(r["group"]) + 1)
            assert groups[f"ITSD-{1 + r['n']}"] == want


def test_malformed_issues_are_quarantined_and_the_pull_goes_on(tmp_path):
    rows = im.truth(6)
    issues = im.jira_issues(rows)
    sla = "customfield_10031"
    issues[0]["fields"][sla]["completedCycles"] = ["breached", 3]  # cycles that are not objects
    issues[1]["fields"].update(
        status=None, priority=None, resolution=None, created=None
    )  # null fields
    issues[1]["fields"][sla] = None
    jira = im.Jira(issues, im.jira_fields())
    jira.edit(
        lambda q, body: body["issues"].extend(
            [
                {"key": "ITSD-900", "fields": {"updated": "2025-03-01T10:00:00.000+0000"}},
                {"id": "901", "key": "ITSD-901", "fields": None},
                {"id": "902", "key": "ITSD-902", "fields": {"updated": "last week"}},
                {"id": "903", "key": "ITSD-903", "fields": {}},
                7,
            ]
        ),
        path_end="/search/jql",
    )
    store = tmp_path / "j.parquet"
    with im.Server(jira):
        result = pull(JiraSource(jira.url, "project = ITSD"), store, CREDS)
    assert result.total == 6 and result.quarantined == 5
    q = pd.read_csv(result.quarantine_path)
    reasons = dict(zip(q["record"].fillna("").astype(str), q["reason"], strict=True))
    assert reasons["ITSD-900"] == "an issue without an id"
    assert reasons["901"] == "an issue without fields"
    assert reasons["902"] == "update time 'last week' is not a date"
    assert reasons["903"] == "no update time"
    kept = q[q["action"] != "left out of the store"]
    assert kept["reason"].tolist() == ["an SLA cycle that is not an object"]
    frame = read_store(store)[0].set_index("Issue id")
    assert pd.isna(frame.loc[issues[0]["id"], "SLA met"])
    assert pd.isna(frame.loc[issues[1]["id"], "Status"]) and pd.isna(
        frame.loc[issues[1]["id"], "Created"]
    )


def test_data_center_total_many_is_read_until_a_short_page(tmp_path):
    rows = im.truth(25)
    jira = site(rows, cloud=False)
    jira.edit(lambda q, body: body.update(total="many"), path_end="/search")
    with im.Server(jira):
        result = pull(
            JiraSource(jira.url, "project = ITSD", page_size=10, search_path=DC),
            tmp_path / "j.parquet",
            CREDS,
        )
    assert result.total == 25
    assert any("total of issues ('many') is not a number" in n for n in result.notes)


def test_a_repeated_next_page_token_stops_the_pull(tmp_path):
    jira = site(im.truth(30))
    route = jira.route

    def first_page(path, q):  # the constant token gives the first page again
        return route(path, {k: v for k, v in q.items() if k != "nextPageToken"})

    jira.route = first_page
    jira.edit(lambda q, body: body.update(nextPageToken="same", isLast=False), path_end="/jql")
    with im.Server(jira), pytest.raises(ConnectorError) as exc:
        pull(JiraSource(jira.url, "project = ITSD", page_size=10), tmp_path / "j.parquet", CREDS)
    assert "stopped instead of looping" in str(exc.value)
    assert len(searches(jira)) <= 3
    # pages that differ, under a token that does not change
    jira.log.clear()

    def next_page(path, q):
        n = len(searches(jira)) - 1
        token = base64.urlsafe_b64encode(json.dumps({"at": 10 * n}).encode()).decode()
        return route(path, {**q, "nextPageToken": token} if n else q)

    jira.route = next_page
    jira.edit(lambda q, body: body.update(nextPageToken="same", isLast=False), path_end="/jql")
    with im.Server(jira), pytest.raises(ConnectorError) as exc:
        pull(JiraSource(jira.url, "project = ITSD", page_size=10), tmp_path / "j.parquet", CREDS)
    assert "nextPageToken it had sent before" in str(exc.value)


def test_prune_removes_issues_that_leave_the_jql(tmp_path):
    rows = im.truth(20)
    jira = site(rows)
    store = tmp_path / "j.parquet"
    with im.Server(jira):
        pull(JiraSource(jira.url, "project = ITSD"), store, CREDS)
        moved = jira.issues[:3]
        for issue in moved:
            issue["key"] = issue["key"].replace("ITSD", "HR")
        result = pull(JiraSource(jira.url, "project = ITSD"), store, CREDS, prune=True)
    assert result.removed == 3 and result.total == 17
    assert not {i["id"] for i in moved} & set(read_store(store)[0]["Issue id"])


def test_the_preset_reads_a_csv_export_the_same_way(tmp_path):
    """The jira-sm preset on Jira's own CSV export: any resolution closes (an unlisted one
    counts as fulfilled, named in a warning); "Unresolved" and an empty resolution outside
    the Done category stay open; Done without a resolution date is quarantined with its
    reason (an export has no date of entering Done), never left open."""
    csv = tmp_path / "export.csv"
    csv.write_text(
        "Issue key,Created,Resolved,Resolution,Status Category\n"
        "ITSD-1,03/Mar/25 9:12 AM,04/Mar/25 4:05 PM,Cannot Reproduce,Done\n"
        "ITSD-2,03/Mar/25 9:12 AM,04/Mar/25 4:05 PM,Known Error,Done\n"
        "ITSD-3,03/Mar/25 9:12 AM,,Unresolved,In Progress\n"
        "ITSD-4,03/Mar/25 9:12 AM,,,To Do\n"
        "ITSD-5,03/Mar/25 9:12 AM,,,Done\n"
    )
    res = load_requests(csv, preset="jira-sm", quarantine_dir=tmp_path)
    d = res.data.set_index("request_id")["outcome"].astype(str).to_dict()
    assert d == {"ITSD-1": "declined", "ITSD-2": "fulfilled", "ITSD-3": "open", "ITSD-4": "open"}
    assert res.rows_quarantined == 1
    assert any("'Known Error' (1)" in w for w in res.warnings)


def test_data_center_done_without_resolution_closes_at_its_last_update(tmp_path):
    rows = im.truth(6)
    issues = im.jira_issues(rows, cloud=False)
    done = next(i for i in issues if i["fields"]["resolution"])
    done["fields"].update(resolution=None, resolutiondate=None)
    jira = im.Jira(issues, im.jira_fields(cloud=False), cloud=False)
    store = tmp_path / "j.parquet"
    with im.Server(jira):
        result = pull(JiraSource(jira.url, "project = ITSD", search_path=DC), store, CREDS)
    assert any("count as closed at their last update" in n for n in result.notes)
    d = load_requests(store, preset="jira-sm").data.set_index("request_id")
    assert d.loc[done["key"], "outcome"] == "fulfilled"
    updated = pd.Timestamp(done["fields"]["updated"]).tz_convert("UTC")
    assert d.loc[done["key"], "closed_at"] == updated.floor("s")
