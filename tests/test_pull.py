"""``csi pull``: the store, its lock and audit, credentials and the command line, against
the imitations of ServiceNow's Table API and Jira's search in
tests/fixtures/pull/pull_imitation.py (written from the public documentation)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from csi_lib.cli import app, main
from csi_lib.errors import ConfigError
from csi_lib.pull import (
    Credentials,
    ServiceNowSource,
    StoreBusy,
    credentials_for,
    pull,
    pull_history,
    read_store,
)
from csi_lib.pull.store import store_lock

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "pull"))
import pull_imitation as im  # noqa: E402

CREDS = Credentials(user="csi.integration", password="s3cret-pw")


@pytest.fixture
def sn():
    rows = im.truth(40)
    app_ = im.servicenow_app(rows)
    with im.Server(app_):
        yield app_


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


def test_cli_takes_no_password_and_pulls_with_environment(sn, tmp_path, monkeypatch, capsys):
    help_text = CliRunner().invoke(app, ["pull", "servicenow", "--help"]).output
    assert "password" not in help_text.lower().replace("environment", "")
    monkeypatch.setenv("CSI_SERVICENOW_USER", "csi.integration")
    monkeypatch.setenv("CSI_SERVICENOW_PASSWORD", "s3cret-pw")
    store = tmp_path / "requests.parquet"
    status = main(["pull", "servicenow", str(store), "--instance", sn.url, "--page-size", "15"])
    out = capsys.readouterr()
    assert status == 0, out.err
    assert "40 record(s)" in out.out and "40 new, 0 updated" in out.out
    monkeypatch.delenv("CSI_SERVICENOW_PASSWORD")
    assert main(["pull", "servicenow", str(store), "--instance", sn.url]) == 2
    assert "no servicenow credentials" in capsys.readouterr().err


def test_history_says_first_pull_never_since_nan(sn, tmp_path, capsys):
    store = tmp_path / "requests.parquet"
    pull(ServiceNowSource(sn.url), store, CREDS, now=pd.Timestamp("2025-06-01 06:00", tz="UTC"))
    pull(ServiceNowSource(sn.url), store, CREDS, now=pd.Timestamp("2025-06-02 06:00", tz="UTC"))
    assert main(["pull", "history", str(store)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "nan" not in " ".join(lines)
    assert lines[0].startswith("2025-06-01T06:00:00+00:00  first pull: 40 received, 40 new")
    assert "since 2025-" in lines[1] and "0 new, 0 updated, 40 in the store" in lines[1]
    history = pull_history(store)
    assert history[["new", "removed", "quarantined", "total"]].values.tolist() == [
        [40, 0, 0, 40],
        [0, 0, 0, 40],
    ]


def test_one_pull_at_a_time_a_second_exits_3(sn, tmp_path, monkeypatch, capsys):
    store = tmp_path / "requests.parquet"
    pull(ServiceNowSource(sn.url), store, CREDS)
    before = store.read_bytes()
    monkeypatch.setenv("CSI_SERVICENOW_TOKEN", "oauth-access-token")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store_lock(store):
            held.set()
            release.wait(10)

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert held.wait(5)
        with pytest.raises(StoreBusy) as exc:
            pull(ServiceNowSource(sn.url), store, CREDS)
        assert exc.value.exit_code == 3
        assert main(["pull", "servicenow", str(store), "--instance", sn.url]) == 3
        assert "another pull into this store is in progress" in capsys.readouterr().err
    finally:
        release.set()
        other.join()
    assert store.read_bytes() == before
    requests = len(sn.log)
    assert main(["pull", "servicenow", str(store), "--instance", sn.url]) == 0  # free again
    assert len(sn.log) > requests


def test_password_in_the_address_is_refused_and_never_shown(sn, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CSI_SERVICENOW_TOKEN", "oauth-access-token")
    store = tmp_path / "requests.parquet"
    with_password = sn.url.replace("http://", "http://admin:Pa55word-xyz@")
    assert main(["pull", "servicenow", str(store), "--instance", with_password]) == 2
    err = capsys.readouterr().err
    assert "Pa55word-xyz" not in err and "admin" not in err
    assert "http://***@127.0.0.1" in err
    assert not store.exists() and not sn.log
    with pytest.raises(ConfigError) as exc:
        pull(ServiceNowSource(with_password), store, CREDS)
    assert "Pa55word-xyz" not in str(exc.value)
    # a store from a clean address keeps no credentials in its metadata
    assert main(["pull", "servicenow", str(store), "--instance", sn.url]) == 0
    meta = pq.read_schema(store).metadata
    assert b"Pa55word" not in b"".join(meta.values())
    assert b"oauth-access-token" not in b"".join(meta.values())


def test_store_from_another_source_or_not_a_store(sn, tmp_path):
    store = tmp_path / "requests.parquet"
    pull(ServiceNowSource(sn.url), store, Credentials(token="oauth-access-token"))
    assert sn.log[0][2]["Authorization"] == "Bearer oauth-access-token"
    with pytest.raises(ConfigError, match="pulled from"):
        pull(ServiceNowSource(sn.url, table="incident"), store, CREDS)
    export = tmp_path / "export.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(export)
    with pytest.raises(ConfigError, match="not a pull store"):
        pull(ServiceNowSource(sn.url), export, CREDS)


def test_a_store_from_the_earlier_layout_is_read_again_in_full(sn, tmp_path):
    """Stores of the first version kept display text under the field names; the next pull
    reads every record again (not only what changed) so that no row keeps the old layout."""
    store = tmp_path / "requests.parquet"
    pull(ServiceNowSource(sn.url), store, CREDS)
    frame, state = read_store(store)
    frame["state"] = "Closed Complete"
    state.pop("format")
    state["source"]["url"] = sn.url
    from csi_lib.pull.store import _write_store

    _write_store(store, frame.drop(columns=[c for c in frame if c.startswith("dv_")]), state)
    sn.log.clear()
    result = pull(ServiceNowSource(sn.url), store, CREDS)
    assert "ORDERBY" in sn.log[0][1]["sysparm_query"]
    assert "sys_updated_on>=" not in sn.log[0][1]["sysparm_query"]
    assert any("earlier version" in n for n in result.notes)
    frame, _ = read_store(store)
    assert frame["dv_state"].notna().all() and "Closed Complete" not in set(frame["state"])


def test_cron_pull_then_kpis_and_cycle_on_the_store(tmp_path, monkeypatch, capsys):
    """A cycle names the store as its data.source: pull, then kpis and cycle check."""
    rows = im.truth(60)
    jira = im.Jira(im.jira_issues(rows), im.jira_fields())
    monkeypatch.setenv("CSI_JIRA_EMAIL", "me@example.com")
    monkeypatch.setenv("CSI_JIRA_API_TOKEN", "api-token")
    store = tmp_path / "data" / "jira.parquet"
    with im.Server(jira):
        assert (
            main(["pull", "jira", str(store), "--site", jira.url, "--jql", "project = ITSD"]) == 0
        )
    capsys.readouterr()
    status = main(
        ["kpis", str(store), "--preset", "jira-sm", "--from", "2025-01-01", "--to", "2025-12-31"]
        + ["--format", "json"]
    )
    values = json.loads(capsys.readouterr().out)
    assert status == 0
    truth = im.direct_kpis(rows, "2025-01-01", "2026-01-01")
    assert values["received"] == truth["received"] == 60
    assert values["fulfilled"] == truth["fulfilled"]
    assert values["csat_mean"] == pytest.approx(truth["csat_mean"])
    cycle = tmp_path / "cycle"
    new = ["cycle", "new", str(cycle), "--data", str(store), "--preset", "jira-sm"]
    new += ["--baseline-from", "2025-01-01", "--baseline-to", "2025-03-31"]
    assert main(new) == 0, capsys.readouterr().err
    assert "jira.parquet" in (cycle / "cycle.yaml").read_text()
    capsys.readouterr()
    assert main(["cycle", "check", str(cycle)]) == 0, capsys.readouterr()
