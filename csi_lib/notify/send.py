"""Sending: the channels of ``notify:`` (a registry of channel kinds), the alerts after a
report run, and the test message of ``csi notify test``.

Each channel keeps its own state (:mod:`.events`) in ``<out>/<cycle id>/.notify-state.json``:
a channel that was down is told next time what it missed, and one that took a message
is not told it again. Nothing here raises into the report run: a channel that is down,
refuses or is misconfigured is a line in the log, and the run's exit status stays the
report's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..safe import plain_text
from .events import ChannelState, changes, observe, read_state, write_state
from .messages import Message, alert_message, rule_counts, test_message
from .settings import NotifySettings
from .smtp import send_email
from .webhooks import post

__all__ = [
    "CHANNEL_KINDS",
    "Channel",
    "Delivery",
    "channels",
    "notify_report",
    "send_test",
]

Say = Callable[[str], None]


@dataclass(frozen=True)
class Channel:
    """One place a message goes: ``id`` (its key in the state file; no secret in it),
    ``name`` (how the log names it) and ``deliver`` (sends a :class:`Message`, returns what
    happened in words, raises :class:`~csi_lib.notify.smtp.ChannelError`)."""

    id: str
    name: str
    deliver: Callable[[Message], str]


@dataclass(frozen=True)
class Delivery:
    """What happened on one channel: ``ok`` False when the message did not go."""

    channel: str
    ok: bool
    detail: str
    events: int = 0


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:12]


def _email_channels(settings: NotifySettings, cycle_dir: Path | None) -> list[Channel]:
    email = settings.email
    if email is None:
        return []
    host, port = email.host_port
    n = len(email.to)
    return [
        Channel(
            id=f"email:{_digest(host, port, email.from_, *sorted(email.to))}",
            name=f"e-mail to {n} recipient{'s' if n > 1 else ''} via {host}:{port}",
            deliver=lambda msg: send_email(msg, email, cycle_dir),
        )
    ]


def _webhook_channels(settings: NotifySettings, cycle_dir: Path | None) -> list[Channel]:
    out = []
    for hook in settings.webhooks:
        try:
            secret = hook.address()
        except Exception:  # noqa: BLE001 - an unset variable fails at delivery, in the log
            secret = f"${hook.url_env}"

        def deliver(msg: Message, hook=hook) -> str:
            return post(hook.address(), hook.format, msg)

        out.append(
            Channel(id=f"webhook:{hook.format}:{_digest(secret)}", name=hook.name, deliver=deliver)
        )
    return out


#: Channel kinds of ``notify:``, in the order they are sent to.
CHANNEL_KINDS: dict[str, Callable[[NotifySettings, Path | None], list[Channel]]] = {
    "email": _email_channels,
    "webhooks": _webhook_channels,
}


def channels(settings: NotifySettings, cycle_dir: Path | None = None) -> list[Channel]:
    """Every channel of ``settings``, e-mail first."""
    return [ch for build in CHANNEL_KINDS.values() for ch in build(settings, cycle_dir)]


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or type(exc).__name__
    return plain_text(message)


def notify_report(
    settings: NotifySettings | None,
    *,
    folder: Path,
    cycle_dir: Path | None,
    cycle_id: str,
    title: str,
    as_of: dt.date,
    summary: dict[str, Any] | None,
    stages: Sequence[Mapping[str, Any]] = (),
    link: str = "",
    run_failed: bool = False,
    say: Say | None = None,
) -> list[Delivery]:
    """Tell each channel what changed since it was last told, after a report run.

    Parameters
    ----------
    settings:
        ``notify:`` of the cycle (nothing happens without it).
    folder:
        ``<out>/<cycle id>/``, where the state is kept (the run holds its lock).
    summary, stages:
        The published report's ``summary.json`` and how each stage ran.
    link:
        Where the report is, for a reader (:func:`csi_lib.report.digest.report_link`).
    run_failed:
        The run failed before publishing (the ``failed`` rule).

    Returns
    -------
    list[Delivery]
        One per channel that had something to send. Never raises.
    """
    report = say or (lambda _msg: None)
    if settings is None or not settings.has_channels:
        return []
    out: list[Delivery] = []
    try:
        obs = observe(summary, stages, as_of=as_of, run_failed=run_failed)
        states = read_state(folder)
        kept: dict[str, ChannelState] = {}
        quiet = 0
        for ch in channels(settings, cycle_dir):
            told = states.get(ch.id, ChannelState())
            if told.later_than(as_of):
                report(
                    f"notify: {ch.name}: was told of a later report (as of {told.as_of}); "
                    "nothing sent"
                )
                kept[ch.id] = told
                continue
            events, after = changes(told, obs, settings.rules)
            if not events:
                kept[ch.id], quiet = after, quiet + 1
                continue
            msg = alert_message(
                events, summary, title=title, cycle_id=cycle_id, as_of=as_of.isoformat(), link=link
            )
            try:
                detail = ch.deliver(msg)
            except Exception as exc:  # noqa: BLE001 - a channel never fails the run
                kept[ch.id] = told  # told next time what it missed
                reason = _reason(exc)
                report(
                    f"notify: {ch.name}: NOT sent ({rule_counts(events)}): {reason}; it will "
                    "be told at the next run; "
                    + ("the exit status is the run's" if run_failed else
                       "the report is published and the exit status is the report's")
                )  # fmt: skip
                out.append(Delivery(ch.name, False, reason, len(events)))
                continue
            kept[ch.id] = after
            report(f"notify: {ch.name}: {rule_counts(events)}: {detail}")
            out.append(Delivery(ch.name, True, detail, len(events)))
        if quiet and not out:
            report("notify: nothing new since the last report: no message")
        write_state(folder, kept, cycle_id)
    except Exception as exc:  # noqa: BLE001 - the report is published whatever happens here
        report(
            f"notify: the alerts could not be worked out ({_reason(exc)}); the report is published"
        )
    return out


def send_test(
    settings: NotifySettings, *, cycle_dir: Path | None, cycle_id: str, title: str
) -> list[Delivery]:
    """Send the test message to every channel; one :class:`Delivery` per channel."""
    base = os.environ.get("CSI_REPORT_URL", "").strip().rstrip("/")
    link = f"{base}/{cycle_id}/" if base else ""
    msg = test_message(title=title, cycle_id=cycle_id, link=link)
    out = []
    for ch in channels(settings, cycle_dir):
        try:
            out.append(Delivery(ch.name, True, ch.deliver(msg)))
        except Exception as exc:  # noqa: BLE001 - every channel is tried and reported
            out.append(Delivery(ch.name, False, _reason(exc)))
    return out
