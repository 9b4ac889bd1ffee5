"""Imitations of the systems the alerts talk to, for tests/test_notify*.py.

* :func:`smtp_server`: a real SMTP server (aiosmtpd) on 127.0.0.1 that offers STARTTLS
  with a certificate of a throw-away authority (trustme) and requires AUTH after it,
  as a submission server on port 587 does (RFC 6409, RFC 3207, RFC 4954).
* :func:`webhook_receiver`: one HTTP server on 127.0.0.1 answering as the public docs
  say each service answers:

  - ``/teams/...``: Microsoft Teams incoming webhook ("Create an Incoming Webhook",
    "Send Adaptive Cards using an Incoming Webhook"): a JSON ``message`` whose
    ``attachments`` hold cards; an Adaptive Card attachment has ``contentType``
    ``application/vnd.microsoft.card.adaptive`` and its ``content`` is an
    ``AdaptiveCard`` with a ``version`` and a ``body``. Taken: HTTP 200, body ``1``.
    Otherwise HTTP 400 with an error text.
  - ``/slack/...``: Slack incoming webhook ("Sending messages using incoming
    webhooks"): JSON with ``text`` and/or ``blocks``; a ``header`` block's text is
    ``plain_text`` of at most 150 characters, a ``section``'s at most 3,000, at most 50
    blocks. Taken: HTTP 200, body ``ok``. Otherwise HTTP 400 ``invalid_payload`` (or
    ``no_text`` without text and blocks).
  - ``/json/...``: any JSON object: HTTP 200.

* :func:`closed_port`: a port nothing listens on (a channel that is down).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SMTP_USER = "csi-alerts"
SMTP_PASSWORD = "s3cret-Passw0rd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections."""
    return free_port()


@contextlib.contextmanager
def smtp_server(ca_file: Path, *, starttls: bool = True, auth: bool = True) -> Iterator[dict]:
    """An SMTP server on 127.0.0.1; yields ``{"host", "port", "messages"}``.

    With ``starttls`` it offers STARTTLS (and refuses mail before it); with ``auth`` it
    requires AUTH (LOGIN or PLAIN with :data:`SMTP_USER` / :data:`SMTP_PASSWORD`, only over
    TLS). Each message is recorded as the parsed :class:`email.message.EmailMessage` with
    ``envelope_from``, ``envelope_to``, ``tls`` and ``user``. The server's certificate is
    issued by a throw-away authority written to ``ca_file``.
    """
    import trustme
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    messages: list[Any] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
            msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            msg.envelope_from = envelope.mail_from
            msg.envelope_to = list(envelope.rcpt_tos)
            msg.tls = session.ssl is not None
            login = session.auth_data
            msg.user = login.login.decode() if isinstance(login, LoginPassword) else None
            messages.append(msg)
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == SMTP_USER.encode()
            and auth_data.password == SMTP_PASSWORD.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(ca_file))
    context = None
    if starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    port = free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=starttls,
        authenticator=authenticator if auth else None,
        auth_required=auth,
        auth_require_tls=True,
        ready_timeout=10,
    )
    controller.start()
    try:
        yield {"host": "127.0.0.1", "port": port, "messages": messages}
    finally:
        controller.stop()


def _teams_problem(body: Any) -> str | None:
    """Why the Teams imitation refuses ``body`` (None: it takes it)."""
    if not isinstance(body, dict):
        return "Invalid JSON"
    if body.get("@type") == "MessageCard":  # the legacy connector card: summary or text
        return None if (body.get("summary") or body.get("text")) else "Summary or Text is required."
    if body.get("type") != "message" or not isinstance(body.get("attachments"), list):
        return "Bad payload: expected a message with attachments"
    for att in body["attachments"]:
        if att.get("contentType") != "application/vnd.microsoft.card.adaptive":
            return "Bad payload: unknown attachment contentType"
        card = att.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            return "Bad payload: the content must be an AdaptiveCard"
        if not isinstance(card.get("body"), list) or not card.get("version"):
            return "Bad payload: an AdaptiveCard needs a version and a body"
        for element in card["body"]:
            if element.get("type") not in ("TextBlock", "FactSet", "ColumnSet", "Container"):
                return f"Bad payload: unknown element {element.get('type')}"
        for action in card.get("actions") or []:
            if action.get("type") == "Action.OpenUrl" and "://" not in str(action.get("url")):
                return "Bad payload: Action.OpenUrl needs an absolute url"
    return None


def _slack_problem(body: Any) -> str | None:
    """Why the Slack imitation refuses ``body`` (None: it takes it)."""
    if not isinstance(body, dict):
        return "invalid_payload"
    if not body.get("text") and not body.get("blocks"):
        return "no_text"
    blocks = body.get("blocks") or []
    if len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        text = block.get("text") or {}
        if block.get("type") == "header":
            if text.get("type") != "plain_text" or len(text.get("text", "")) > 150:
                return "invalid_blocks"
        elif block.get("type") == "section":
            if text.get("type") not in ("mrkdwn", "plain_text") or len(text.get("text", "")) > 3000:
                return "invalid_blocks"
        else:
            return "invalid_blocks"
    return None


@contextlib.contextmanager
def webhook_receiver() -> Iterator[dict]:
    """Teams, Slack and JSON webhook imitations on one server; yields ``{"base",
    "teams", "slack", "json", "received"}``: the URLs (with secret-looking paths) and
    every POST as ``{"service", "path", "type", "body", "status"}``."""
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            service = self.path.strip("/").split("/")[0]
            if service == "teams":
                problem = _teams_problem(body)
                status, answer = (200, "1") if problem is None else (400, problem)
            elif service == "slack":
                problem = _slack_problem(body)
                status, answer = (200, "ok") if problem is None else (400, problem)
            elif service == "json":
                status, answer = (200, "") if isinstance(body, dict) else (400, "not json")
            else:
                status, answer = 404, "no_service"
            received.append(
                {
                    "service": service,
                    "path": self.path,
                    "type": self.headers["Content-Type"],
                    "body": body,
                    "status": status,
                }  # fmt: skip
            )
            data = answer.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield {
            "base": base,
            "teams": f"{base}/teams/webhookb2/0000-tenant@1111/IncomingWebhook/aaaa/s3cret-teams",
            "slack": f"{base}/slack/services/T000/B000/s3cretSlackToken",
            "json": f"{base}/json/hooks/s3cret-json",
            "received": received,
        }
    finally:
        server.shutdown()
        server.server_close()
