"""Alerts across the sample cycle's life (issue 26, "Done when"): weekly runs from the
baseline to after the review, with a real SMTP server (STARTTLS, AUTH) and Teams, Slack
and JSON webhook imitations; which messages arrive, when, and that none repeats. And
end to end through ``csi report``: sent after publishing, a channel that is down fails
nothing, a failed stage and a failed run are told."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from csi_lib import review
from csi_lib.cycle import open_cycle
from csi_lib.notify import NotifySettings, notify_report
from csi_lib.notify.events import STATE_FILE
from tests.notify_support import (
    SMTP_PASSWORD,
    SMTP_USER,
    closed_port,
    smtp_server,
    webhook_receiver,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"
SAMPLE_DATA = ROOT / "data" / "sample_requests.csv.gz"

#: Mondays from the baseline (June 2025) through the action period and the review to
#: after the review (the cycle closes on 2026-03-31; its review workshop is 2026-04-15).
WEEKS = [dt.date(2025, 6, 2) + dt.timedelta(weeks=i) for i in range(47)]  # .. 2026-04-20

#: What each channel is told, and when: (as-of date, rule, target, key). Worked out from
#: the sample's story (docs: the sample cycle) and checked against stage 4 and 5's pages:
#: the SLA target goes off track when the action period's first full month (July) misses
#: it; September's fulfilment time for laptops falls below the baseline's lower limit
#: (told in October, once September is complete); satisfaction stays off track and is
#: not met; four targets are met when the review period closes.
EXPECTED = [
    ("2025-09-01", "off_track", "T2", "off track"),
    ("2025-10-06", "off_track", "T3", "off track"),
    ("2025-10-06", "off_track", "T4", "off track"),
    ("2025-10-06", "signal", "T1", "beyond_limits|improvement|2025-09-01"),
    ("2025-11-03", "signal", "T1", "two_of_three|improvement|2025-09-01"),
    ("2025-11-03", "signal", "T2", "beyond_limits|improvement|2025-10-01"),
    ("2025-11-03", "signal", "T3", "beyond_limits|improvement|2025-10-01"),
    ("2025-12-01", "signal", "T2", "two_of_three|improvement|2025-10-01"),
    ("2025-12-01", "signal", "T3", "run_7|improvement|2025-07-01"),
    ("2025-12-01", "signal", "T3", "two_of_three|improvement|2025-10-01"),
    ("2025-12-22", "due", "T1", "2025-12-31"),
    ("2026-01-05", "off_track", "T1", "off track"),
    ("2026-02-02", "signal", "T2", "beyond_limits|improvement|2026-01-01"),
    ("2026-02-02", "signal", "T2", "two_of_three|improvement|2026-01-01"),
    ("2026-03-02", "signal", "T1", "run_7|improvement|2025-08-01"),
    ("2026-03-23", "due", "T4", "2026-03-31"),
    ("2026-04-06", "off_track", "T4", "not met"),
    ("2026-04-06", "met", "T1", "met"),
    ("2026-04-06", "met", "T2", "met"),
    ("2026-04-06", "met", "T3", "met"),
    ("2026-04-06", "met", "T5", "met"),
    ("2026-04-06", "signal", "T2", "run_7|improvement|2025-09-01"),
    ("2026-04-06", "signal", "T2", "beyond_limits|improvement|2026-03-01"),
]
#: The weeks the Slack channel is down: it hears in the week after what it missed then.
SLACK_DOWN = {dt.date(2025, 10, 6), dt.date(2025, 10, 13)}


@pytest.fixture(scope="module")
def weekly_summaries() -> dict[dt.date, dict]:
    """summary.json of the sample cycle as a weekly report run writes it, every Monday."""
    return {d: review.summary(open_cycle(SAMPLE_CYCLE, as_of=d.isoformat())) for d in WEEKS}


@pytest.fixture
def servers(tmp_path, monkeypatch):
    ca = tmp_path / "ca.pem"
    with smtp_server(ca) as smtp, webhook_receiver() as hooks:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        monkeypatch.setenv("CSI_SMTP_USER", SMTP_USER)
        monkeypatch.setenv("CSI_SMTP_PASSWORD", SMTP_PASSWORD)
        yield smtp, hooks


def _told(payload: dict) -> list[tuple[str, str, str, str]]:
    return [(payload["as_of"], e["rule"], e["target_id"], e["key"]) for e in payload["events"]]


def test_weekly_runs_across_the_cycle_tell_each_change_once_and_when_it_happens(
    weekly_summaries, servers, tmp_path
):
    smtp, hooks = servers
    down = f"http://127.0.0.1:{closed_port()}/slack/services/T0/B0/s3cret"
    said: list[str] = []
    for when, summary in weekly_summaries.items():
        slack = down if when in SLACK_DOWN else hooks["slack"]
        settings = NotifySettings.model_validate(
            {
                "email": {
                    "smtp": f"127.0.0.1:{smtp['port']}",
                    "starttls": True,
                    "from": "csi@example.org",
                    "to": ["owner@example.org"],
                },
                "webhooks": [
                    {"url": hooks["teams"], "format": "teams"},
                    {"url": slack, "format": "slack"},
                    {"url": hooks["json"], "format": "json"},
                ],
            }  # fmt: skip
        )
        if when == dt.date(2025, 10, 20):  # Slack is back: same address, same channel
            assert "slack" in slack
        deliveries = notify_report(
            settings, folder=tmp_path, cycle_dir=SAMPLE_CYCLE, cycle_id="2025-h2",
            title="Faster, more predictable requests", as_of=when, summary=summary,
            link=f"2025-h2/{when}/index.html", say=said.append,
        )  # fmt: skip
        assert all(d.ok for d in deliveries) or when in SLACK_DOWN
    # the JSON channel: every change once, in the week it happens, nothing else
    told = [e for r in hooks["received"] if r["service"] == "json" for e in _told(r["body"])]
    assert told == EXPECTED
    # no message during the baseline and the first two months of action (nothing to tell)
    sent = sorted({r["body"]["as_of"] for r in hooks["received"] if r["service"] == "json"})
    assert sent == sorted({e[0] for e in EXPECTED})
    # e-mail and Teams: one message in each of those weeks, telling the same
    mails = smtp["messages"]
    assert len(mails) == len(sent)
    assert [m["Subject"].rsplit("(as of ", 1)[1].rstrip(")") for m in mails] == sent
    teams = [r for r in hooks["received"] if r["service"] == "teams"]
    assert len(teams) == len(sent) and all(r["status"] == 200 for r in teams)
    # Slack was down on 2025-10-06 and 2025-10-13: the week after it hears what it missed
    slack = [r for r in hooks["received"] if r["service"] == "slack"]
    assert all(r["status"] == 200 for r in slack)
    slack_weeks = [s for s in sent if dt.date.fromisoformat(s) not in SLACK_DOWN] + ["2025-10-20"]
    assert len(slack) == len(slack_weeks)
    caught_up = slack[sent.index("2025-10-06")]["body"]["blocks"]
    text = json.dumps(caught_up)
    labels = {t["id"]: t["label"] for t in weekly_summaries[WEEKS[-1]]["targets"]}
    missed = {e[2] for e in EXPECTED if e[0] == "2025-10-06"}  # T1's signal, T3 and T4
    assert missed == {"T1", "T3", "T4"}
    assert all(labels[t] in text for t in missed) and "beyond the baseline" in text
    assert caught_up[0]["text"]["text"].endswith("(as of 2025-10-20)")
    assert sum("NOT sent" in line for line in said) == 2
    # none repeats: per channel, each (rule, target, key) at most once
    assert not [k for k, n in Counter((e[1], e[2], e[3]) for e in told).items() if n > 1]
    # the messages a person reads: subject with the cycle and what changed
    first = mails[0]
    assert (
        first["Subject"]
        == "Faster, more predictable requests (2025-h2): Closed within SLA off track (as of 2025-09-01)"
    )
    body = first.get_body(("plain",)).get_content()
    assert body.startswith("Faster, more predictable requests (cycle 2025-h2): report as of")
    assert "* Closed within SLA: is off track (now " in body
    assert "Full report: 2025-h2/2025-09-01/index.html" in body
    last = mails[-1]
    assert last["Subject"] == (
        "Faster, more predictable requests (2025-h2): Mean satisfaction not met; 4 targets met; 2 new signals on Closed "
        "within SLA (as of 2026-04-06)"
    )
    # what the changes were worth: the benefits' one line, when the cycle closes
    closing = last.get_body(("plain",)).get_content()
    assert weekly_summaries[dt.date(2026, 4, 6)]["benefits"]["text"] in closing
    assert closing.count("Benefits realised over the review period") == 1
    # nothing personal, no secret: no owner, no note, no password, no webhook path
    everything = "".join(m.as_string() for m in mails)
    everything += json.dumps([r["body"] for r in hooks["received"]])
    for owner in ("End-user computing lead", "Service Level Manager", "Service desk team leads"):
        assert owner not in everything
    assert SMTP_PASSWORD not in everything and "s3cret" not in everything + " ".join(said)
    assert "new joiners wait" not in everything  # a target's note
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert len(state["channels"]) == 4


# --------------------------------------------------------------------------- csi report


def _cycle(tmp_path: Path, notify: str) -> Path:
    cycle = shutil.copytree(SAMPLE_CYCLE, tmp_path / "cycle")
    text = (cycle / "cycle.yaml").read_text().replace("../sample_requests.csv.gz", str(SAMPLE_DATA))
    (cycle / "cycle.yaml").write_text(text + notify)
    return cycle


def csi(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "csi_lib", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_csi_report_sends_after_publishing_and_a_channel_down_fails_nothing(servers, tmp_path):
    smtp, hooks = servers
    creds = tmp_path / "smtp.yaml"
    creds.write_text(f"user: {SMTP_USER}\npassword: {SMTP_PASSWORD}\n")
    creds.chmod(0o600)
    down = f"http://127.0.0.1:{closed_port()}/teams/webhookb2/s3cret"
    cycle = _cycle(
        tmp_path,
        "notify:\n"
        f"  email: {{smtp: '127.0.0.1:{smtp['port']}', starttls: true, from: csi@example.org,\n"
        f"          to: [owner@example.org], credentials: {creds}}}\n"
        "  webhooks:\n"
        f"    - {{url: '{hooks['teams']}', format: teams}}\n"
        f"    - {{url: '{hooks['slack']}', format: slack}}\n"
        f"    - {{url: '{down}', format: teams}}\n",
    )
    out = tmp_path / "reports"
    env = {"SSL_CERT_FILE": os.environ["SSL_CERT_FILE"], "CSI_SMTP_USER": "", "CSI_SMTP_PASSWORD": "",
           "CSI_REPORT_URL": "https://intranet.example.org/csi"}  # fmt: skip
    args = ("report", str(cycle), "--stage", "5", "--out", str(out))
    first = csi(*args, "--as-of", "2025-10-06", env=env)
    assert first.returncode == 0, first.stderr  # the report's status, though a channel is down
    folder = out / "2025-h2" / "2025-10-06"
    assert (folder / "index.html").is_file()
    log = first.stderr
    assert "notify: e-mail to 1 recipient via 127.0.0.1" in log and "sent to 1 recipient(s)" in log
    assert (
        f"notify: teams webhook at http://127.0.0.1:{down.split(':')[2].split('/')[0]}: NOT sent"
        in log
    )
    assert "the exit status is the report's" in log and "s3cret" not in log
    summary = json.loads((folder / "summary.json").read_text())
    t1 = next(t for t in summary["targets"] if t["id"] == "T1")
    assert t1["signals"][0]["rule"] == "beyond_limits" and t1["due"] == "2025-12-31"
    (mail,) = smtp["messages"]
    assert mail.tls and mail.user == SMTP_USER
    assert mail["Subject"] == (
        "Faster, more predictable requests (2025-h2): 3 targets off track; new signal on Median time to fulfil (Laptop) "
        "(as of 2025-10-06)"
    )
    assert (
        "https://intranet.example.org/csi/2025-h2/2025-10-06/index.html"
        in mail.get_body(("plain",)).get_content()
    )
    assert [r["service"] for r in hooks["received"]] == ["teams", "slack"]
    # published before sending: the message names the folder that exists
    card = hooks["received"][0]["body"]["attachments"][0]["content"]
    assert card["actions"][0]["url"].endswith("/2025-h2/2025-10-06/index.html")
    # a week later, mid-month: nothing new for those told; the one that was down still is
    second = csi(*args, "--as-of", "2025-10-13", env=env)
    assert second.returncode == 0, second.stderr
    assert len(smtp["messages"]) == 1 and len(hooks["received"]) == 2
    assert "NOT sent" in second.stderr


def test_a_failed_stage_and_a_failed_run_are_told_once(servers, tmp_path, broken_stage):
    smtp, hooks = servers
    cycle = _cycle(
        tmp_path,
        f"notify:\n  webhooks:\n    - {{url: '{hooks['json']}', format: json}}\n"
        "  rules: {signal: false, off_track: false, met: false, due_within_days: false}\n",
    )
    broken_stage(tmp_path / "nbs", "raise ValueError('the stage broke')")
    out = tmp_path / "reports"
    env = {"CSI_NOTEBOOKS": str(tmp_path / "nbs")}
    args = ("report", str(cycle), "--stage", "1", "--out", str(out), "--as-of", "2025-10-06")
    result = csi(*args, env=env)
    assert result.returncode == 1
    (post,) = hooks["received"]
    assert (
        post["body"]["subject"]
        == "Faster, more predictable requests (2025-h2): stage 1 failed (as of 2025-10-06)"
    )
    assert [e["rule"] for e in post["body"]["events"]] == ["failed"]
    assert "ValueError" not in json.dumps(post["body"])  # what broke is in the log, not sent
    assert csi(*args, env=env).returncode == 1  # the same failure again: not told again
    assert len(hooks["received"]) == 1
    # a run that fails before publishing (its data file gone): exit 2, told
    moved = tmp_path / "gone.csv.gz"
    text = (cycle / "cycle.yaml").read_text().replace(str(SAMPLE_DATA), str(moved))
    (cycle / "cycle.yaml").write_text(text)
    result = csi("report", str(cycle), "--stage", "5", "--out", str(out), "--as-of", "2025-10-13")
    assert result.returncode == 2
    assert len(hooks["received"]) == 2
    body = hooks["received"][1]["body"]
    assert (
        body["subject"]
        == "Faster, more predictable requests (2025-h2): the run failed (as of 2025-10-13)"
    )
    assert str(moved) not in json.dumps(body)
