"""``csi pull``: ServiceNow and Jira Service Management against a local HTTP server.

The server (127.0.0.1, a thread) answers like the two APIs, from recorded pages in
tests/fixtures/pull/ written after the public API documentation: ServiceNow's Table
API (``sysparm_display_value=all`` records, ``Link`` and ``X-Total-Count`` headers,
``sysparm_offset`` / ``sysparm_limit``) and Jira Cloud's JQL search (``nextPageToken``,
``isLast``) with the service-management fields. Scripted answers go first: a 429
with Retry-After, a 401, a page that is not JSON, an empty result.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from csi_lib.cli import app, main
from csi_lib.errors import ConfigError, ConnectorError
from csi_lib.pull import (
    Credentials,
    JiraSource,
    ServiceNowSource,
    credentials_for,
    pull,
    pull_history,
    read_store,
)
from csi_lib.sources import load_requests

FIXTURES = Path(__file__).parent / "fixtures" / "pull"
CREDS = Credentials(user="csi.integration", password="s3cret-pw")


class FakeApi:
    """A ServiceNow instance and a Jira site in one local server."""

    def __init__(self) -> None:
        self.sn = json.loads((FIXTURES / "servicenow_sc_req_item.json").read_text())["result"]
        self.issues = json.loads((FIXTURES / "jira_issues.json").read_text())["issues"]
        self.fields = json.loads((FIXTURES / "jira_fields.json").read_text())
        self.links = True  # ServiceNow sends Link headers (else the client pages by offset)
        self.script: list[tuple[int, dict, str]] = []  # answers served first, in order
        self.log: list[tuple[str, dict, dict]] = []
        self.url = ""

    # ServiceNow Table API -------------------------------------------------------------
    def servicenow(self, path: str, q: dict) -> tuple[int, dict, str]:
        query = q.get("sysparm_query", "")
        since = re.search(r"sys_updated_on>=(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", query)
        rows = [r for r in self.sn if not since or r["sys_updated_on"]["value"] >= since.group(1)]
        if "ORDERBYsys_updated_on" in query:
            rows.sort(key=lambda r: r["sys_updated_on"]["value"])
        fields = q.get("sysparm_fields", "").split(",")
        offset, limit = int(q.get("sysparm_offset", 0)), int(q.get("sysparm_limit", 10000))
        page = [{k: v for k, v in r.items() if k in fields} for r in rows[offset : offset + limit]]
        headers = {
            "X-Total-Count": str(len(rows)),
            "Content-Type": "application/json;charset=UTF-8",
        }
        if self.links:

            def link(off: int, rel: str) -> str:
                return f'<{self.url}{path}?{urlencode({**q, "sysparm_offset": off})}>;rel="{rel}"'

            parts = [link(0, "first")]
            if offset + limit < len(rows):
                parts.append(link(offset + limit, "next"))
            parts.append(link(max(0, len(rows) - limit), "last"))
            headers["Link"] = ",".join(parts)
        return 200, headers, json.dumps({"result": page})

    # Jira Cloud search ------------------------------------------------------------------
    def jira(self, path: str, q: dict) -> tuple[int, dict, str]:
        if path.endswith("/field"):
            return 200, {"Content-Type": "application/json"}, json.dumps(self.fields)
        since = re.search(r'updated >= "(\d{4}-\d\d-\d\d \d\d:\d\d)"', q.get("jql", ""))
        stamp = pd.Timestamp(since.group(1), tz="UTC") if since else None
        rows = [
            i for i in self.issues if stamp is None or pd.Timestamp(i["fields"]["updated"]) >= stamp
        ]
        rows.sort(key=lambda i: pd.Timestamp(i["fields"]["updated"]))
        start = int(q.get("nextPageToken", 0))
        size = int(q.get("maxResults", 50))
        wanted = set(q.get("fields", "").split(","))
        page = [
            {**i, "fields": {k: v for k, v in i["fields"].items() if k in wanted}}
            for i in rows[start : start + size]
        ]
        body: dict = {"issues": page, "isLast": start + size >= len(rows)}
        if not body["isLast"]:
            body["nextPageToken"] = str(start + size)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def answer(self, path: str, q: dict) -> tuple[int, dict, str]:
        if self.script:
            return self.script.pop(0)
        if path.startswith("/api/now/table/"):
            return self.servicenow(path, q)
        if path.startswith("/rest/api/"):
            return self.jira(path, q)
        return 404, {}, "{}"


@pytest.fixture
def api():
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            fake.log.append((parts.path, q, dict(self.headers)))
            status, headers, body = fake.answer(parts.path, q)
            data = body.encode("utf-8")
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def sn_source(api: FakeApi, **kw) -> ServiceNowSource:
    return ServiceNowSource(instance=api.url, page_size=2, **kw)


def test_servicenow_first_pull_pages_and_maps(api, tmp_path):
    store = tmp_path / "requests.parquet"
    slept: list[float] = []
    result = pull(sn_source(api), store, CREDS, sleep=slept.append)
    assert (result.received, result.new, result.updated, result.total) == (5, 5, 0, 5)
    assert result.requests == 3  # pages of 2, 2 and 1, following the Link header
    first = api.log[0][1]
    assert first["sysparm_display_value"] == "all" and first["sysparm_limit"] == "2"
    assert first["sysparm_query"] == "^ORDERBYsys_updated_on"
    assert first["sysparm_fields"].split(",")[:3] == ["sys_id", "sys_updated_on", "number"]
    assert "short_description" not in first["sysparm_fields"]
    assert api.log[0][2]["Authorization"].startswith("Basic ")
    frame, state = read_store(store)
    assert frame["number"].tolist() == [f"RITM001000{i}" for i in range(1, 6)]
    row = frame.set_index("number").loc["RITM0010001"]
    assert row["opened_at"] == "2025-03-03 09:12:44"  # the UTC value, not the display
    assert row["state"] == "Closed Complete" and row["cat_item"] == "Standard Laptop"
    assert "opened_by" not in frame.columns and "short_description" not in frame.columns
    assert state["watermark"].startswith("2025-03-06T15:00:00")
    # the servicenow preset reads the store as it is
    res = load_requests(store, preset="servicenow")
    d = res.data.set_index("request_id")
    assert res.rows_kept == 5
    assert d.loc["RITM0010001", "opened_at"] == pd.Timestamp("2025-03-03 09:12:44", tz="UTC")
    assert d["outcome"].astype(str).tolist() == [
        "fulfilled",
        "open",
        "declined",
        "cancelled",
        "open",
    ]
    assert d.loc["RITM0010003", "sla_met"] == False  # noqa: E712 - a nullable boolean
    assert not slept


def test_servicenow_pages_by_offset_without_link_header(api, tmp_path):
    api.links = False
    result = pull(sn_source(api), tmp_path / "s.parquet", CREDS)
    assert result.total == 5
    assert [q.get("sysparm_offset") for _, q, _ in api.log] == ["0", "2", "4"]


def test_rate_limit_is_honoured(api, tmp_path):
    api.script = [
        (429, {"Retry-After": "3", "Content-Type": "application/json"}, '{"error":{}}'),
        (429, {"Retry-After": "1"}, ""),
    ]
    slept: list[float] = []
    result = pull(sn_source(api), tmp_path / "s.parquet", CREDS, sleep=slept.append)
    assert slept == [3.0, 1.0] and result.total == 5
    # still limited after the retries: an error, and no store written
    api.script = [(429, {"Retry-After": "0"}, "")] * 3
    with pytest.raises(ConnectorError) as exc:
        pull(sn_source(api), tmp_path / "t.parquet", CREDS, sleep=slept.append, max_retries=2)
    assert "HTTP 429" in str(exc.value) and "rate-limited" in str(exc.value)
    assert not (tmp_path / "t.parquet").exists()


def test_incremental_second_pull_counts_new_and_updated(api, tmp_path):
    store = tmp_path / "requests.parquet"
    pull(sn_source(api), store, CREDS, now=pd.Timestamp("2025-03-07 06:00", tz="UTC"))
    # in the meantime: RITM0010002 is fulfilled, RITM0010006 arrives
    rec = api.sn[1]
    rec["state"] = {"display_value": "Closed Complete", "value": "3"}
    rec["closed_at"] = {"display_value": "2025-03-07 09:00:00", "value": "2025-03-07 09:00:00"}
    rec["sys_updated_on"] = {"display_value": "2025-03-07 09:00:01", "value": "2025-03-07 09:00:01"}
    new = copy.deepcopy(api.sn[4])
    new["sys_id"] = {"display_value": "ffff", "value": "ffff"}
    new["number"] = {"display_value": "RITM0010006", "value": "RITM0010006"}
    new["sys_updated_on"] = {"display_value": "2025-03-07 10:00:00", "value": "2025-03-07 10:00:00"}
    api.sn.append(new)
    api.log.clear()
    result = pull(sn_source(api), store, CREDS, now=pd.Timestamp("2025-03-08 06:00", tz="UTC"))
    # asked only for what changed since the last pull's newest update, less a day (the
    # server reads the date in its user's timezone)
    assert api.log[0][1]["sysparm_query"] == (
        "sys_updated_on>=2025-03-05 15:00:00^ORDERBYsys_updated_on"
    )
    # RITM0010004 and RITM0010005 (updated in that day) come again, unchanged
    assert (result.received, result.new, result.updated, result.total) == (4, 1, 1, 6)
    frame, _ = read_store(store)
    assert frame["number"].is_unique
    assert frame.set_index("number").loc["RITM0010002", "state"] == "Closed Complete"
    history = pull_history(store)
    assert history[["new", "updated", "total"]].values.tolist() == [[5, 0, 5], [1, 1, 6]]
    assert history["at"].tolist() == ["2025-03-07T06:00:00+00:00", "2025-03-08T06:00:00+00:00"]


@pytest.mark.parametrize(
    "answer, words",
    [
        (
            (
                401,
                {"WWW-Authenticate": 'Basic realm="Service-now"'},
                '{"error":{"message":"User Not Authenticated"}}',
            ),
            "refused the credentials (HTTP 401)",
        ),
        ((200, {"Content-Type": "text/html"}, "<html><body>Log in</body></html>"), "not JSON"),
        ((200, {"Content-Type": "application/json"}, '{"results": []}'), "malformed page"),
        ((500, {}, "{}"), "HTTP 500"),
    ],
)
def test_failures_mid_pull_leave_the_store_as_it_was(api, tmp_path, answer, words):
    store = tmp_path / "requests.parquet"
    pull(sn_source(api), store, CREDS)
    before = store.read_bytes()
    api.sn[0]["sys_updated_on"]["value"] = "2025-03-09 00:00:00"  # more pages to come
    api.sn[1]["sys_updated_on"]["value"] = "2025-03-09 00:00:01"
    api.sn[2]["sys_updated_on"]["value"] = "2025-03-09 00:00:02"
    # the first page is fine, the second fails
    page = api.servicenow(
        "/api/now/table/sc_req_item",
        {
            "sysparm_query": "sys_updated_on>=2025-03-06 15:00:00^ORDERBYsys_updated_on",
            "sysparm_fields": ",".join(api.sn[0]),
            "sysparm_limit": "2",
            "sysparm_offset": "0",
        },
    )
    api.script = [page, answer]
    with pytest.raises(ConnectorError) as exc:
        pull(sn_source(api), store, CREDS)
    assert words in str(exc.value) and "store was not changed" in str(exc.value)
    assert "s3cret" not in str(exc.value)
    assert store.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name != store.name]  # no temporary left


def test_empty_result_is_audited(api, tmp_path):
    store = tmp_path / "requests.parquet"
    pull(sn_source(api), store, CREDS)
    api.script = [
        (200, {"Content-Type": "application/json", "X-Total-Count": "0"}, '{"result":[]}')
    ]
    result = pull(sn_source(api), store, CREDS)
    assert (result.received, result.new, result.updated, result.total) == (0, 0, 0, 5)
    assert len(pull_history(store)) == 2
    assert len(read_store(store)[0]) == 5


def test_bearer_token_and_store_from_another_source(api, tmp_path):
    store = tmp_path / "requests.parquet"
    pull(sn_source(api), store, Credentials(token="oauth-access-token"))
    assert api.log[0][2]["Authorization"] == "Bearer oauth-access-token"
    with pytest.raises(ConfigError, match="pulled from"):
        pull(sn_source(api, table="incident"), store, CREDS)
    export = tmp_path / "export.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(export)
    with pytest.raises(ConfigError, match="not a pull store"):
        pull(sn_source(api), export, CREDS)


def test_credentials_from_environment_or_a_private_file(tmp_path):
    env = {"CSI_SERVICENOW_USER": "u", "CSI_SERVICENOW_PASSWORD": "p"}
    assert credentials_for("servicenow", environ=env) == Credentials("u", "p")
    assert credentials_for("jira", environ={"CSI_JIRA_TOKEN": "t"}).token == "t"
    with pytest.raises(ConfigError, match="no servicenow credentials"):
        credentials_for("servicenow", environ={"CSI_SERVICENOW_USER": "u"})
    file = tmp_path / "credentials.yaml"
    file.write_text(yaml.safe_dump({"jira": {"email": "me@example.com", "api_token": "tok"}}))
    file.chmod(0o644)
    with pytest.raises(ConfigError) as exc:
        credentials_for("jira", file)
    assert "read by others" in str(exc.value) and "chmod 600" in str(exc.value)
    file.chmod(0o600)
    assert credentials_for("jira", file) == Credentials("me@example.com", "tok")
    with pytest.raises(ConfigError, match="no 'servicenow:' section"):
        credentials_for("servicenow", file)
    assert "s3cret" not in repr(Credentials("u", "s3cret"))


def test_cli_takes_no_password_and_pulls_with_environment(api, tmp_path, monkeypatch, capsys):
    help_text = CliRunner().invoke(app, ["pull", "servicenow", "--help"]).output
    assert "password" not in help_text.lower().replace("environment", "")
    monkeypatch.setenv("CSI_SERVICENOW_USER", "csi.integration")
    monkeypatch.setenv("CSI_SERVICENOW_PASSWORD", "s3cret-pw")
    store = tmp_path / "requests.parquet"
    status = main(["pull", "servicenow", str(store), "--instance", api.url, "--page-size", "2"])
    out = capsys.readouterr()
    assert status == 0, out.err
    assert "5 record(s)" in out.out and "5 new, 0 updated" in out.out
    monkeypatch.delenv("CSI_SERVICENOW_PASSWORD")
    assert main(["pull", "servicenow", str(store), "--instance", api.url]) == 2
    assert "no servicenow credentials" in capsys.readouterr().err
    assert main(["pull", "history", str(store)]) == 0
    assert "5 new, 0 updated, 5 in the store" in capsys.readouterr().out


def test_jira_pull_maps_service_management_fields(api, tmp_path):
    store = tmp_path / "jira.parquet"
    source = JiraSource(site=api.url, jql="project = ITSD", page_size=2)
    creds = Credentials(user="me@example.com", password="api-token")
    result = pull(source, store, creds)
    assert (result.received, result.new, result.total) == (5, 5, 5)
    searches = [q for path, q, _ in api.log if path.endswith("/search/jql")]
    assert len(searches) == 3 and searches[1]["nextPageToken"] == "2"
    assert searches[0]["jql"] == "(project = ITSD) ORDER BY updated ASC"
    assert "customfield_10031" in searches[0]["fields"]  # Time to resolution, not first response
    assert "customfield_10030" not in searches[0]["fields"]
    frame = read_store(store)[0].set_index("Issue key")
    first = frame.loc["ITSD-101"]
    assert first["Created"] == "2025-03-03 08:12:44"  # +0100 to UTC
    assert first["Request Type"] == "Request a new laptop" and first["Status Category"] == "Done"
    assert first["Resolution"] == "Done" and first["SLA met"] == "true"
    assert first["Satisfaction rating"] == "5"
    assert frame.loc["ITSD-103", "SLA met"] == "false" and pd.isna(frame.loc["ITSD-102", "SLA met"])
    assert "summary" not in frame.columns and "Summary" not in frame.columns
    # incremental: only what changed since the newest update, to the minute
    api.issues[1]["fields"]["updated"] = "2025-03-07T11:00:00.000+0000"
    api.issues[1]["fields"]["resolution"] = {"name": "Done", "id": "10000"}
    api.issues[1]["fields"]["resolutiondate"] = "2025-03-07T11:00:00.000+0000"
    api.log.clear()
    again = pull(source, store, creds)
    jql = [q for path, q, _ in api.log if path.endswith("/search/jql")][0]["jql"]
    assert jql == '(project = ITSD) AND updated >= "2025-03-05 15:00" ORDER BY updated ASC'
    assert (again.received, again.new, again.updated, again.total) == (3, 0, 1, 5)
    res = load_requests(store, preset="jira-sm")
    d = res.data.set_index("request_id")
    assert res.rows_kept == 5
    outcomes = d["outcome"].astype(str).sort_index().tolist()
    assert outcomes == ["fulfilled", "fulfilled", "declined", "cancelled", "open"]
    assert d.loc["ITSD-101", "csat"] == 5.0 and d.loc["ITSD-103", "category"] == "Install software"
    assert d.loc["ITSD-103", "sla_met"] == False  # noqa: E712 - a nullable boolean


def test_cron_pull_then_report_on_the_store(api, tmp_path, monkeypatch, capsys):
    """A cycle names the store as its data.source: pull, then kpis and cycle check."""
    monkeypatch.setenv("CSI_JIRA_EMAIL", "me@example.com")
    monkeypatch.setenv("CSI_JIRA_API_TOKEN", "api-token")
    store = tmp_path / "data" / "jira.parquet"
    assert main(["pull", "jira", str(store), "--site", api.url, "--jql", "project = ITSD"]) == 0
    capsys.readouterr()
    status = main(
        [
            "kpis",
            str(store),
            "--preset",
            "jira-sm",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-31",
            "--format",
            "json",
        ]
    )
    values = json.loads(capsys.readouterr().out)
    assert status == 0
    assert values["received"] == 5 and values["fulfilled"] == 1 and values["declined"] == 1
    assert values["csat_mean"] == pytest.approx(3.5)
    cycle = tmp_path / "cycle"
    new = ["cycle", "new", str(cycle), "--data", str(store), "--preset", "jira-sm"]
    new += ["--baseline-from", "2025-03-01", "--baseline-to", "2025-03-31"]
    assert main(new) == 0, capsys.readouterr().err
    text = (cycle / "cycle.yaml").read_text()
    assert "jira.parquet" in text
    capsys.readouterr()
    assert main(["cycle", "check", str(cycle)]) == 0, capsys.readouterr()
    assert os.path.exists(store)
