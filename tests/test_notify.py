"""Alerts (issue 26 items 4 and 5): the notify: contract, the rules, the messages and the
channels against a real SMTP server and webhook imitations (tests/notify_support.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from csi_lib.cycle import check_cycle
from csi_lib.cycle.config import load_config
from csi_lib.notify import (
    ChannelState,
    NotifyRules,
    NotifySettings,
    alert_message,
    changes,
    notify_report,
    observe,
    send_test,
)
from csi_lib.notify.events import STATE_FILE, read_state
from csi_lib.notify.webhooks import slack_payload, teams_payload
from tests.notify_support import (
    SMTP_PASSWORD,
    SMTP_USER,
    closed_port,
    smtp_server,
    webhook_receiver,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"

#: The notify: section of issue 26, as written there.
ISSUE_EXAMPLE = """\
notify:
  email: {smtp: "mail.example.org:587", starttls: true, from: csi@example.org, to: [owner@example.org], credentials: /etc/csi/smtp.yaml}
  webhooks:
    - {url: "https://example.webhook.office.com/...", format: teams}   # teams, slack or json
  rules: {signal: true, off_track: true, met: true, due_within_days: 14, failed: true}
"""


def _cycle(tmp_path: Path, notify: str) -> Path:
    """A copy of the sample cycle (its data by absolute path) with ``notify`` appended."""
    cycle = shutil.copytree(SAMPLE_CYCLE, tmp_path / "cycle")
    text = (cycle / "cycle.yaml").read_text()
    text = text.replace("../sample_requests.csv.gz", str(ROOT / "data" / "sample_requests.csv.gz"))
    (cycle / "cycle.yaml").write_text(text + notify)
    return cycle


def _line_of(cycle: Path, needle: str) -> int:
    lines = (cycle / "cycle.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


# --------------------------------------------------------------------------- the contract


def test_the_issue_example_is_valid_and_read_as_written(tmp_path):
    cycle = _cycle(tmp_path, ISSUE_EXAMPLE)
    settings = load_config(cycle).notify
    assert settings.email.host_port == ("mail.example.org", 587)
    assert settings.email.starttls is True and settings.email.to == ["owner@example.org"]
    assert settings.email.from_ == "csi@example.org"
    assert settings.email.credentials == "/etc/csi/smtp.yaml"
    assert [(w.format, w.url) for w in settings.webhooks] == [
        ("teams", "https://example.webhook.office.com/...")
    ]
    assert settings.rules == NotifyRules(
        signal=True, off_track=True, met=True, due_within_days=14, failed=True
    )
    # csi cycle check: the only problem is the credentials file this machine lacks, at its line
    problems = check_cycle(cycle)
    assert [(p.line, p.field) for p in problems] == [
        (_line_of(cycle, "  email: {"), "notify.email.credentials")
    ]
    assert "/etc/csi/smtp.yaml does not exist" in problems[0].message


def test_defaults_no_starttls_plain_and_rules_all_on():
    s = NotifySettings.model_validate(
        {"email": {"smtp": "localhost", "from": "csi@example.org", "to": "a@example.org"}}
    )
    assert s.email.starttls is False and s.email.host_port == ("localhost", 25)
    assert s.email.to == ["a@example.org"]
    assert s.rules == NotifyRules()
    assert NotifyRules().due_within_days == 14
    assert NotifyRules.model_validate({"due_within_days": False}).due_within_days is None


def test_cycle_check_names_file_line_and_field_of_every_notify_problem(tmp_path):
    cycle = _cycle(
        tmp_path,
        "notify:\n"
        "  email:\n"
        '    smtp: "mail.example.org:99999"\n'
        "    starttls: yes please\n"
        '    from: "CSI <csi@example.org>"\n'
        "    to: [owner@example.org, not-an-address]\n"
        "  webhooks:\n"
        '    - {url: "ftp://hooks.example.org/s3cret", format: teams}\n'
        '    - {url: "https://hooks.slack.com/x", format: discord}\n'
        "  rules: {signal: 1, due_within_days: -1, sms: true}\n",
    )
    found = {(p.line, p.field): p.message for p in check_cycle(cycle)}
    expected = {
        (_line_of(cycle, "    smtp:"), "notify.email.smtp"): "port",
        (_line_of(cycle, "    starttls:"), "notify.email.starttls"): "boolean",
        (_line_of(cycle, '    from: "CSI'), "notify.email.from"): "not an e-mail address",
        (_line_of(cycle, "    to: [owner"), "notify.email.to[1]"): "not an e-mail address",
        (_line_of(cycle, "ftp://"), "notify.webhooks[0].url"): "not an http(s) URL",
        (_line_of(cycle, "discord"), "notify.webhooks[1].format"): "'teams', 'slack' or 'json'",
        (_line_of(cycle, "  rules: {"), "notify.rules.signal"): "boolean",
        (
            _line_of(cycle, "  rules: {"),
            "notify.rules.due_within_days",
        ): "greater than or equal to 0",
        (_line_of(cycle, "  rules: {"), "notify.rules.sms"): "unknown key",
    }
    assert set(found) == set(expected), found
    for where, words in expected.items():
        assert words in found[where], (where, found[where])
    assert not any("s3cret" in m for m in found.values())  # a webhook's address is its secret


def test_a_credentials_file_others_can_read_is_refused_by_check_and_at_sending(tmp_path):
    cycle = _cycle(
        tmp_path,
        "notify:\n  email: {smtp: 'localhost:2525', starttls: true, from: csi@example.org,\n"
        "          to: [owner@example.org], credentials: smtp.yaml}\n",
    )
    creds = cycle / "smtp.yaml"
    creds.write_text(f"user: {SMTP_USER}\npassword: {SMTP_PASSWORD}\n")
    creds.chmod(0o640)
    problems = check_cycle(cycle)
    assert [(p.line, p.field) for p in problems] == [
        (_line_of(cycle, "credentials: smtp.yaml"), "notify.email.credentials")
    ]
    assert "can be read by others (mode 640)" in problems[0].message
    assert "chmod 600" in problems[0].message
    settings = load_config(cycle).notify
    (delivery,) = send_test(settings, cycle_dir=cycle, cycle_id="c", title="t")
    assert not delivery.ok and "can be read by others" in delivery.detail
    creds.chmod(0o600)
    assert check_cycle(cycle) == []


# --------------------------------------------------------------------------- the rules


def _target(status="on track", signals=(), meets_now=False, due="2026-03-31", **kw):
    return {"id": "T4", "label": "Mean satisfaction score", "status": status, "now": "4.0",
            "target": "4.3", "due": due, "meets_now": meets_now, "signals": list(signals),
            "owner": "Jane Doe", **kw}  # fmt: skip


def _run(state, when, *targets, stages=(), rules=None, run_failed=False):
    summary = None if targets == (None,) else {"headline": "h", "targets": list(targets)}
    obs = observe(summary, stages, as_of=dt.date.fromisoformat(when), run_failed=run_failed)
    return changes(state, obs, rules or NotifyRules())


SIGNAL = {"rule": "run_7", "rule_label": "run of 7 on one side of the centre line",
          "variation": "concern", "start": "2025-09-01", "end": "2025-10-01", "points": 7,
          "text": "a sustained shift since September 2025"}  # fmt: skip


def test_each_change_is_told_once_and_a_new_change_again():
    state = ChannelState()
    events, state = _run(state, "2025-10-06", _target("off track"))
    assert [(e.rule, e.key) for e in events] == [("off_track", "off track")]
    assert _run(state, "2025-10-13", _target("off track"))[0] == []  # weekly: not again
    events, state = _run(state, "2025-10-13", _target("on track"))
    assert events == []  # back on track is not a rule
    events, state = _run(state, "2025-11-03", _target("off track"))
    assert [e.rule for e in events] == ["off_track"]  # off track again: a new change


def test_a_signal_is_told_once_even_when_it_grows_or_flickers():
    state = ChannelState()
    events, state = _run(state, "2025-10-06", _target(signals=[SIGNAL]))
    (event,) = events
    assert event.rule == "signal" and event.variation == "concern"
    assert "a concern: a sustained shift since September 2025" in event.text
    grown = {**SIGNAL, "end": "2025-11-01", "points": 8}
    assert _run(state, "2025-11-03", _target(signals=[grown]))[0] == []
    _, state = _run(state, "2025-11-10", _target(signals=[]))  # gone a week (data caught up)
    assert _run(state, "2025-11-17", _target(signals=[grown]))[0] == []
    second = {**SIGNAL, "rule": "beyond_limits", "start": "2026-01-01", "variation": "improvement"}
    events, _ = _run(state, "2026-02-02", _target(signals=[grown, second]))
    assert [(e.rule, e.variation) for e in events] == [("signal", "improvement")]


def test_due_within_n_days_once_per_due_date_and_not_when_met():
    state = ChannelState()
    assert _run(state, "2026-03-16", _target())[0] == []  # 15 days before: not yet
    events, state = _run(state, "2026-03-17", _target())
    assert [(e.rule, e.key) for e in events] == [("due", "2026-03-31")]
    assert "is due in 14 days (2026-03-31) and does not meet its target yet" in events[0].text
    assert _run(state, "2026-03-24", _target())[0] == []
    # a target meeting its value so far is not chased; N comes from the rules
    assert _run(ChannelState(), "2026-03-24", _target(meets_now=True))[0] == []
    assert (
        _run(ChannelState(), "2026-03-24", _target(), rules=NotifyRules(due_within_days=3))[0] == []
    )
    events, _ = _run(ChannelState(), "2026-03-28", _target(), rules=NotifyRules(due_within_days=3))
    assert [e.rule for e in events] == ["due"]
    # a new due date is a new change
    events, _ = _run(state, "2026-04-10", _target(due="2026-04-20"))
    assert [(e.rule, e.key) for e in events] == [("due", "2026-04-20")]


def test_met_and_not_met_at_the_end_of_the_cycle():
    state = ChannelState()
    _, state = _run(state, "2026-03-30", _target("off track"))
    events, state = _run(state, "2026-04-06", _target("not met"))
    assert [(e.rule, e.key) for e in events] == [("off_track", "not met")]
    assert events[0].text.startswith("is not met, the final verdict (now 4.0, target 4.3)")
    events, _ = _run(ChannelState(), "2026-04-06", _target("met"))
    assert [e.rule for e in events] == ["met"]
    assert _run(ChannelState(), "2026-04-06", _target("met"), rules=NotifyRules(met=False))[0] == []


def test_failed_stage_or_run_once_per_failure_and_targets_kept_meanwhile():
    state = ChannelState()
    _, state = _run(state, "2025-10-06", _target("off track"))
    stage5 = [{"number": 5, "title": "Did we get there?", "ok": False}]
    events, state = _run(state, "2025-10-13", None, stages=stage5)
    assert [(e.rule, e.key) for e in events] == [("failed", "stage 5")]
    assert _run(state, "2025-10-20", None, stages=stage5)[0] == []  # the same failure
    events, state = _run(state, "2025-10-27", None, run_failed=True)
    assert [(e.rule, e.key) for e in events] == [("failed", "run")]
    assert "before its report was published" in events[0].text
    # the report works again: the target is still known off track, nothing to tell
    events, state = _run(state, "2025-11-03", _target("off track"))
    assert events == [] and state.failed == []


# --------------------------------------------------------------------------- messages


def test_the_message_a_person_reads():
    events, _ = _run(ChannelState(), "2026-03-23", _target("off track", signals=[SIGNAL]))
    summary = {"headline": "Provisional: 3 of 5 targets on track.",
               "standing": {"text": "Review period, day 82 of 90."},
               "targets": [_target("off track", baseline="3.9")]}  # fmt: skip
    m = alert_message(events, summary, title="Faster <requests>", cycle_id="2025-h2",
                      as_of="2026-03-23", link="https://intra.example.org/csi/2025-h2/2026-03-23/index.html")  # fmt: skip
    assert m.subject == (
        "Faster <requests> (2025-h2): Mean satisfaction score off track; Mean satisfaction score due soon; "
        "new signal on Mean satisfaction score (as of 2026-03-23)"
    )
    assert m.text.splitlines()[:6] == [
        "Faster <requests> (cycle 2025-h2): report as of 2026-03-23",
        "",
        "Provisional: 3 of 5 targets on track.",
        "",
        "Review period, day 82 of 90.",
        "",
    ]
    assert "Targets that moved:" in m.text and "Mean satisfaction score  3.9" in m.text
    assert m.text.rstrip().endswith(
        "Full report: https://intra.example.org/csi/2025-h2/2026-03-23/index.html"
    )
    assert "Faster &lt;requests&gt;" in m.html and "<requests>" not in m.html
    assert '<a href="https://intra.example.org/csi/2025-h2/2026-03-23/index.html">' in m.html
    assert "Jane Doe" not in m.text + m.html + json.dumps(m.to_dict())  # no owner's name


def test_webhook_payloads_follow_the_documented_formats():
    events, _ = _run(ChannelState(), "2025-10-06", _target("off track", signals=[SIGNAL]))
    m = alert_message(events, {"targets": [_target("off track")]}, title="T <!channel>",
                      cycle_id="c", as_of="2025-10-06", link="https://x.example.org/r")  # fmt: skip
    card = teams_payload(m)["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert [b["type"] for b in card["body"]] == ["TextBlock", "FactSet"]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open the report", "url": "https://x.example.org/r"}
    ]
    slack = slack_payload(m)
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "section"]
    assert slack["blocks"][-1]["text"]["text"] == "<https://x.example.org/r|Open the report>"
    assert "<!channel>" not in json.dumps(slack)  # a title cannot ping a channel


# --------------------------------------------------------------------------- channels


@pytest.fixture
def servers(tmp_path, monkeypatch):
    """A STARTTLS + AUTH SMTP server and the webhook imitations; the client trusts the
    server's throw-away authority through SSL_CERT_FILE."""
    ca = tmp_path / "ca.pem"
    with smtp_server(ca) as smtp, webhook_receiver() as hooks:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        yield smtp, hooks


def _settings(smtp, hooks, *, down: bool = False, **email):
    webhooks = [{"url": hooks[f], "format": f} for f in ("teams", "slack", "json")]
    if down:
        webhooks.append({"url": f"http://127.0.0.1:{closed_port()}/hook/s3cret", "format": "slack"})
    return NotifySettings.model_validate(
        {
            "email": {
                "smtp": f"127.0.0.1:{smtp['port']}",
                "starttls": True,
                "from": "csi@example.org",
                "to": ["owner@example.org", "lead@example.org"],
                **email,
            },
            "webhooks": webhooks,
        }  # fmt: skip
    )


def test_csi_notify_test_reaches_every_channel_and_names_the_one_that_is_down(
    servers, tmp_path, monkeypatch, capsys
):
    from csi_lib.cli import main

    smtp, hooks = servers
    monkeypatch.setenv("CSI_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("CSI_SMTP_PASSWORD", SMTP_PASSWORD)
    port = closed_port()
    notify = (
        f"notify:\n  email: {{smtp: '127.0.0.1:{smtp['port']}', starttls: true, "
        "from: csi@example.org, to: [owner@example.org]}\n  webhooks:\n"
        + "".join(f"    - {{url: '{hooks[f]}', format: {f}}}\n" for f in ("teams", "slack", "json"))
        + f"    - {{url: 'http://127.0.0.1:{port}/hook/s3cret', format: slack}}\n"
    )
    cycle = _cycle(tmp_path, notify)
    assert check_cycle(cycle) == []
    status = main(["notify", "test", str(cycle)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "4 of 5 channels took the test message" in out
    assert f"FAILED: slack webhook at http://127.0.0.1:{port}: " in err
    assert "could not be reached" in err and "s3cret" not in out + err
    (mail,) = smtp["messages"]
    assert mail.tls and mail.user == SMTP_USER
    assert mail["Subject"] == "Faster, more predictable requests (2025-h2): test message"
    assert mail.get_content_type() == "multipart/alternative"
    assert [r["service"] for r in hooks["received"]] == ["teams", "slack", "json"]
    assert all(r["status"] == 200 for r in hooks["received"])


def test_smtp_login_refused_and_plain_connection_never_carries_a_password(servers, monkeypatch):
    smtp, hooks = servers
    monkeypatch.setenv("CSI_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("CSI_SMTP_PASSWORD", "wrong")
    (email, *_) = send_test(_settings(smtp, hooks), cycle_dir=None, cycle_id="c", title="t")
    assert not email.ok and "refused the login (535)" in email.detail
    assert "wrong" not in email.detail
    plain = NotifySettings.model_validate(
        {"email": {"smtp": "mail.example.org:25", "from": "a@example.org", "to": "b@example.org"}}
    )
    (email,) = send_test(plain, cycle_dir=None, cycle_id="c", title="t")
    assert not email.ok and "the password would travel in clear" in email.detail
    assert smtp["messages"] == []


def test_alerts_go_once_a_channel_that_is_down_hears_later_and_nothing_repeats(
    servers, tmp_path, monkeypatch
):
    smtp, hooks = servers
    monkeypatch.setenv("CSI_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("CSI_SMTP_PASSWORD", SMTP_PASSWORD)
    said: list[str] = []
    summary = {"headline": "h", "targets": [_target("off track", signals=[SIGNAL])]}

    def run(settings, when, summary=summary):
        return notify_report(settings, folder=tmp_path, cycle_dir=None, cycle_id="2025-h2",
                             title="Faster requests", as_of=dt.date.fromisoformat(when),
                             summary=summary, link="2025-h2/x/index.html", say=said.append)  # fmt: skip

    deliveries = run(_settings(smtp, hooks, down=True), "2025-10-06")
    assert [d.ok for d in deliveries] == [True, True, True, True, False]
    assert "NOT sent (1 target off track, 1 new signal)" in said[-1]
    assert "it will be told at the next run" in said[-1] and "s3cret" not in " ".join(said)
    assert (tmp_path / STATE_FILE).stat().st_mode & 0o077 == 0
    assert len(smtp["messages"]) == 1 and len(hooks["received"]) == 3
    # the next week: the same state; those told hear nothing, the one that was down is still down
    deliveries = run(_settings(smtp, hooks, down=True), "2025-10-13")
    assert [d.ok for d in deliveries] == [False]
    assert len(smtp["messages"]) == 1 and len(hooks["received"]) == 3
    # a run for an earlier date (a report made again) tells nobody anything
    assert run(_settings(smtp, hooks), "2025-09-29") == []
    assert "was told of a later report" in said[-1]
    states = read_state(tmp_path)
    assert all(s.as_of == "2025-10-13" for s in states.values() if s.as_of)


def test_the_email_carries_text_html_and_no_secret(servers, monkeypatch, tmp_path):
    smtp, hooks = servers
    creds = tmp_path / "smtp.yaml"
    creds.write_text(yaml.safe_dump({"user": SMTP_USER, "password": SMTP_PASSWORD}))
    creds.chmod(0o600)
    settings = _settings(smtp, hooks, credentials=str(creds))
    summary = {"headline": "Provisional: 4 of 5 on track.",
               "targets": [_target("off track", signals=[SIGNAL])]}  # fmt: skip
    notify_report(settings, folder=tmp_path, cycle_dir=None, cycle_id="2025-h2", title="Laptops",
                  as_of=dt.date(2025, 10, 6), summary=summary, link="2025-h2/2025-10-06/index.html")  # fmt: skip
    (mail,) = smtp["messages"]
    assert mail.envelope_to == ["owner@example.org", "lead@example.org"] and mail.tls
    assert mail["Subject"] == (
        "Laptops (2025-h2): Mean satisfaction score off track; new signal on Mean satisfaction score "
        "(as of 2025-10-06)"
    )
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Provisional: 4 of 5 on track." in text and "<h3>What changed</h3>" in html
    assert "Full report: 2025-h2/2025-10-06/index.html" in text
    everything = mail.as_string() + json.dumps([r["body"] for r in hooks["received"]])
    for secret in (SMTP_PASSWORD, "s3cret", str(tmp_path), "Jane Doe"):
        assert secret not in everything
    assert os.environ.get("CSI_SMTP_PASSWORD") is None  # the file gave the login


@pytest.mark.parametrize("doc", ["README.md", "docs/scheduling.md"])
def test_the_documented_notify_example_is_valid(doc):
    text = (ROOT / doc).read_text()
    block = text.split("```yaml\nnotify:\n", 1)[1].split("```", 1)[0]
    settings = NotifySettings.model_validate(yaml.safe_load("notify:\n" + block)["notify"])
    assert settings.email.starttls and [w.format for w in settings.webhooks] == ["teams", "slack"]
    assert settings.webhooks[1].url_env == "CSI_SLACK_WEBHOOK"
    for name in ("CSI_SMTP_USER", "CSI_SMTP_PASSWORD", "csi notify test", "CSI_REPORT_URL"):
        assert name in text


def test_the_server_certificate_is_checked_except_on_this_machine():
    import ssl

    from csi_lib.notify.smtp import _tls_context

    remote = _tls_context("mail.example.org")
    assert remote.verify_mode == ssl.CERT_REQUIRED and remote.check_hostname
    for here in ("127.0.0.1", "localhost", "::1"):
        assert _tls_context(here).verify_mode == ssl.CERT_NONE


def test_csi_notify_test_of_one_channel_says_whether_it_took_the_message(servers, tmp_path, capsys):
    from csi_lib.cli import main

    _smtp, hooks = servers
    for url, status, words in (
        (hooks["json"], 0, "the channel took the test message"),
        (f"http://127.0.0.1:{closed_port()}/hook", 1, "the channel did not take the test message"),
    ):
        folder = tmp_path / str(status)
        folder.mkdir()
        cycle = _cycle(folder, f"notify:\n  webhooks:\n    - {{url: '{url}', format: json}}\n")
        assert main(["notify", "test", str(cycle)]) == status
        out, _err = capsys.readouterr()
        assert words in out and "channel(s)" not in out
