"""E-mail over SMTP (``smtplib``): STARTTLS when asked, AUTH when credentials are given,
one message with a plain-text and an HTML part to every recipient.

The server's certificate is checked against the system's authorities (``ssl``'s
default context; ``SSL_CERT_FILE`` names another bundle, e.g. a company's own
authority), except for a relay on this machine (``localhost``, a loopback address),
whose traffic never leaves it. Credentials are never sent over a plain connection,
except to a relay on this machine.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from ..errors import CsiError
from .messages import Message
from .settings import EmailSettings, is_loopback, smtp_login

#: Seconds to wait for the SMTP server at each step.
SMTP_TIMEOUT_S = 30


class ChannelError(CsiError):
    """A channel could not take the message (down, refused, misconfigured)."""


def email_message(msg: Message, settings: EmailSettings) -> EmailMessage:
    """The MIME message: text and HTML alternatives, UTF-8, a Message-ID and a Date.

    Examples
    --------
    >>> from csi_lib.notify.messages import test_message
    >>> e = EmailSettings.model_validate({"smtp": "localhost:25", "from": "csi@example.org",
    ...                                   "to": ["a@example.org", "b@example.org"]})
    >>> m = email_message(test_message(title="Laptops", cycle_id="2025-h2"), e)
    >>> m["Subject"], m["To"], m.get_content_type()
    ('Laptops (2025-h2): test message', 'a@example.org, b@example.org', 'multipart/alternative')
    """
    mail = EmailMessage()
    mail["Subject"] = msg.subject
    mail["From"] = settings.from_
    mail["To"] = ", ".join(settings.to)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=settings.from_.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    mail.set_content(msg.text)
    mail.add_alternative(msg.html, subtype="html")
    return mail


def _tls_context(host: str) -> ssl.SSLContext:
    """The system's authorities and the host name checked; a relay on this machine (whose
    traffic never leaves it) often has a self-signed certificate, and is not checked."""
    context = ssl.create_default_context()
    if is_loopback(host):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def send_email(msg: Message, settings: EmailSettings, cycle_dir: Path | None = None) -> str:
    """Send ``msg`` to ``settings.to``; returns what happened in words.

    Raises
    ------
    ChannelError
        The server cannot be reached, refuses STARTTLS, the login or a recipient; the
        credentials file is not private; credentials would go over a plain connection.
    """
    host, port = settings.host_port
    where = f"the SMTP server {host}:{port}"
    try:
        login = smtp_login(settings, cycle_dir)
    except CsiError as exc:
        raise ChannelError(exc.message, hint=exc.hint) from None
    if login is not None and not settings.starttls and not is_loopback(host):
        raise ChannelError(
            f"credentials are set for {where} but the connection is plain: the password "
            "would travel in clear",
            hint="set starttls: true (or leave the credentials out for a relay that needs none)",
        )
    mail = email_message(msg, settings)
    try:
        with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=_tls_context(host))
                smtp.ehlo()
            if login is not None:
                smtp.login(login.user, login.password)
            refused = smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise ChannelError(f"{where} refused the login ({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError:
        raise ChannelError(f"{where} does not offer STARTTLS (or AUTH)") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise ChannelError(f"{where} refused every recipient ({len(exc.recipients)})") from None
    except smtplib.SMTPResponseException as exc:
        raise ChannelError(f"{where} answered {exc.smtp_code}") from None
    except ssl.SSLError as exc:
        raise ChannelError(
            f"the TLS connection to {where} failed ({exc.reason or type(exc).__name__})",
            hint="check the server's certificate (SSL_CERT_FILE names another authority bundle)",
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ChannelError(f"{where} could not be reached ({reason})") from None
    sent = len(settings.to) - len(refused)
    note = f"; {len(refused)} refused" if refused else ""
    return f"sent to {sent} recipient(s){note}"
