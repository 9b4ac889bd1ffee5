"""Chat and machine webhooks: one payload builder per format (a registry) and one POST.

``teams``
    Microsoft Teams incoming webhook (and a Workflows "post to a channel when a webhook
    request is received" flow): a ``message`` whose one attachment is an Adaptive Card
    (``application/vnd.microsoft.card.adaptive``, schema version 1.4): a bold title, the
    headline, one ``FactSet`` row per change, and an ``Action.OpenUrl`` button to the
    report when its address is a web address. Teams answers ``200`` with the body ``1``
    (a connector) or ``202`` (a workflow); a ``200`` with any other body is a refusal
    (connectors report some errors that way).
``slack``
    Slack incoming webhook: ``text`` (the fallback shown in notifications) and
    ``blocks``: a ``header`` (plain text, at most 150 characters), ``section`` blocks in
    ``mrkdwn`` (``&``, ``<`` and ``>`` as entities, so no text of the cycle can mention
    ``<!channel>`` or make a link; at most 3,000 characters each) and a link
    ``<url|Open the report>``. Slack answers ``200 ok``; errors are HTTP statuses with a
    short code in the body (``400 invalid_payload``, ``404 no_service``, ``410
    channel_is_archived``).
``json``
    The message as plain JSON (:meth:`Message.to_dict`): for a machine.

The address of a webhook is its secret: errors and logs name its host only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from ..safe import chat_text, markdown_text, plain_text
from .messages import Message
from .settings import host_of
from .smtp import ChannelError

#: Seconds to wait for a webhook to answer.
WEBHOOK_TIMEOUT_S = 15

_RULE_TITLES = {
    "failed": "Run failed",
    "off_track": "Off track",
    "met": "Met",
    "due": "Due soon",
    "signal": "New signal",
}


def teams_payload(msg: Message) -> dict[str, Any]:
    """An Adaptive Card in a Teams ``message``.

    Examples
    --------
    >>> from csi_lib.notify.messages import test_message
    >>> p = teams_payload(test_message(title="Laptops", cycle_id="2025-h2"))
    >>> p["type"], p["attachments"][0]["contentType"], p["attachments"][0]["content"]["type"]
    ('message', 'application/vnd.microsoft.card.adaptive', 'AdaptiveCard')
    """
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": _card_text(msg.subject),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },  # fmt: skip
    ]
    if msg.headline:
        body.append({"type": "TextBlock", "text": _card_text(msg.headline), "wrap": True})
    if msg.events:
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {
                        "title": _card_text(f"{_RULE_TITLES[e.rule]}: {e.label}"),
                        "value": _card_text(e.text),
                    }
                    for e in msg.events
                ],
            }
        )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if "://" in msg.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the report", "url": msg.link}]
    elif msg.link:
        body.append({"type": "TextBlock", "text": _card_text(f"Report: {msg.link}"), "wrap": True})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _card_text(text: str) -> str:
    """A TextBlock's text: one line, every Markdown character Adaptive Cards read (bold,
    italics, lists, links) escaped, so a title or a scope shows as written
    (:func:`csi_lib.safe.markdown_text`)."""
    return markdown_text(text)


def slack_payload(msg: Message) -> dict[str, Any]:
    """Slack's ``text`` and ``blocks``.

    Examples
    --------
    >>> from csi_lib.notify.messages import test_message
    >>> p = slack_payload(test_message(title="Laptops <!channel>", cycle_id="2025-h2"))
    >>> p["blocks"][0]["type"], "<!channel>" in json.dumps(p)
    ('header', False)
    """
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(chat_text(msg.subject), 150)},
        }
    ]
    if msg.headline:
        blocks.append(_section(chat_text(msg.headline)))
    if msg.events:
        lines = [f"• *{chat_text(e.label)}*: {chat_text(e.text)}" for e in msg.events]
        chunk: list[str] = []
        for line in lines:  # sections of at most 3,000 characters, at most 45 of them
            if chunk and len("\n".join([*chunk, line])) > 2900:
                blocks.append(_section("\n".join(chunk)))
                chunk = []
            chunk.append(_cut(line, 2900))
        if chunk:
            blocks.append(_section("\n".join(chunk)))
        blocks = blocks[:48]
    if "://" in msg.link:
        blocks.append(_section(f"<{_slack_url(msg.link)}|Open the report>"))
    elif msg.link:
        blocks.append(_section(f"Report: {chat_text(msg.link)}"))
    return {"text": chat_text(msg.subject), "blocks": blocks}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}}


def _slack_url(url: str) -> str:
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def json_payload(msg: Message) -> dict[str, Any]:
    """The message as plain JSON (:meth:`Message.to_dict`)."""
    return msg.to_dict()


def _teams_ok(status: int, body: str) -> bool:
    return status == 202 or (200 <= status < 300 and body.strip() in ("", "1"))


def _slack_ok(status: int, body: str) -> bool:
    return 200 <= status < 300 and body.strip() in ("", "ok")


def _any_2xx(status: int, body: str) -> bool:
    return 200 <= status < 300


#: format -> (payload builder, does the answer mean it was taken)
FORMATS: dict[str, tuple[Callable[[Message], dict[str, Any]], Callable[[int, str], bool]]] = {
    "teams": (teams_payload, _teams_ok),
    "slack": (slack_payload, _slack_ok),
    "json": (json_payload, _any_2xx),
}


def post(url: str, fmt: str, msg: Message, *, timeout_s: float = WEBHOOK_TIMEOUT_S) -> str:
    """POST ``msg`` to ``url`` in format ``fmt``; returns what happened in words.

    Raises
    ------
    ChannelError
        The webhook cannot be reached or refused the message (named by its host only).
    """
    build, accepted = FORMATS[fmt]
    where = f"the {fmt} webhook at {host_of(url)}"
    status, body = send_json(url, build(msg), where=where, timeout_s=timeout_s)
    if not accepted(status, body):
        raise ChannelError(
            f"{where} did not take the message (HTTP {status}: {_one_line(body)[:80]})"
        )
    return f"posted (HTTP {status})"


def send_json(
    url: str, payload: dict[str, Any], *, where: str, timeout_s: float = WEBHOOK_TIMEOUT_S
) -> tuple[int, str]:
    """POST ``payload`` as UTF-8 JSON to ``url``: (HTTP status, the answer's first 2 KiB).
    The one POST of every webhook (:func:`post`, the report's ``$CSI_WEBHOOK_URL``).

    Raises
    ------
    ChannelError
        ``where`` (the webhook, named by its host only) cannot be reached or refused it.
    """
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "csi-workbook"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 (callers check http(s))
            return int(response.status), response.read(2048).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        code = _short_body(exc)
        raise ChannelError(f"{where} refused the message (HTTP {exc.code}{code})") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        reason = getattr(reason, "strerror", None) or type(reason).__name__
        raise ChannelError(f"{where} could not be reached ({reason})") from None


def _short_body(exc: urllib.error.HTTPError) -> str:
    try:
        text = _one_line(exc.read(200).decode("utf-8", "replace"))
    except OSError:
        return ""
    return f": {text[:80]}" if text else ""


def _one_line(text: str) -> str:
    return " ".join(plain_text(text).split())
