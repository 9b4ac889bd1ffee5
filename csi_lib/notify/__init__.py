"""Alerts after a scheduled report run: who hears what changed without opening the report.

``cycle.yaml``'s ``notify:`` section (:mod:`.settings`) names the channels (e-mail over
SMTP, webhooks in the formats of Microsoft Teams, Slack and plain JSON) and the rules.
After ``csi report`` has published a report, :func:`notify_report` compares the run
(:func:`.events.observe`: standings, special-cause signals, due dates, failed stages) with
what each channel was told before (``<out>/<cycle id>/.notify-state.json``) and sends
each channel one message (:mod:`.messages`) with what changed: at most one per rule and
target per change. A channel that is down is said in the log; the run's exit status
stays the report's. ``csi notify test CYCLE`` sends a test message (:func:`send_test`).

Modules: ``settings`` (the ``notify:`` model, the SMTP login), ``events`` (state and
changes), ``messages`` (subject, text and HTML), ``smtp`` and ``webhooks`` (the channels'
transports), ``send`` (the channel registry and the two entry points).
"""

from __future__ import annotations

from .events import STATE_FILE, ChannelState, Event, Observed, changes, observe
from .messages import Message, alert_message, test_message
from .send import CHANNEL_KINDS, Channel, Delivery, channels, notify_report, send_test
from .settings import (
    SMTP_PASSWORD_ENV,
    SMTP_USER_ENV,
    EmailSettings,
    NotifyRules,
    NotifySettings,
    WebhookSettings,
)
from .smtp import ChannelError
from .webhooks import FORMATS

__all__ = [
    "CHANNEL_KINDS",
    "FORMATS",
    "SMTP_PASSWORD_ENV",
    "SMTP_USER_ENV",
    "STATE_FILE",
    "Channel",
    "ChannelError",
    "ChannelState",
    "Delivery",
    "EmailSettings",
    "Event",
    "Message",
    "NotifyRules",
    "NotifySettings",
    "Observed",
    "WebhookSettings",
    "alert_message",
    "changes",
    "channels",
    "notify_report",
    "observe",
    "send_test",
    "test_message",
]
