"""The ``notify:`` section of ``cycle.yaml``: the channels (e-mail, webhooks) and the rules.

::

    notify:
      email: {smtp: "mail.example.org:587", starttls: true, from: csi@example.org,
              to: [owner@example.org], credentials: /etc/csi/smtp.yaml}
      webhooks:
        - {url: "https://example.webhook.office.com/...", format: teams}   # teams, slack or json
      rules: {signal: true, off_track: true, met: true, due_within_days: 14, failed: true}

``credentials`` is optional: a YAML file with ``user:`` and ``password:``, readable by
its owner only (a path relative to the cycle folder, or absolute); without it the
password may come from the environment (:data:`SMTP_USER_ENV`,
:data:`SMTP_PASSWORD_ENV`). Without ``starttls`` the connection is plain (a relay on the
same host); credentials are then sent only to a relay on this machine. A webhook's
address is a secret: ``url_env: NAME`` reads it from an environment variable instead.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ConfigError

__all__ = [
    "FORMATS",
    "SMTP_PASSWORD_ENV",
    "SMTP_USER_ENV",
    "EmailSettings",
    "NotifyRules",
    "NotifySettings",
    "SmtpLogin",
    "WebhookSettings",
    "notify_problems",
    "smtp_login",
]

#: Environment variables of the SMTP login when ``credentials`` names no file.
SMTP_USER_ENV = "CSI_SMTP_USER"
SMTP_PASSWORD_ENV = "CSI_SMTP_PASSWORD"
#: Webhook formats (:mod:`csi_lib.notify.webhooks`).
FORMATS = ("teams", "slack", "json")

#: A plain e-mail address: no name part, no spaces, commas or angle brackets (nothing that
#: could add a header or a recipient).
_ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$|^[^@\s<>,;:\"()\[\]\\]+@localhost$")  # fmt: skip
_HOST = re.compile(r"^[A-Za-z0-9._-]+$")


def _address(value: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value.strip()):
        raise ValueError(
            f"'{value}' is not an e-mail address (write the address alone, e.g. "
            "csi@example.org, without a name or angle brackets)"
        )
    return value.strip()


def split_host_port(value: str, *, default_port: int) -> tuple[str, int]:
    """``"host:port"`` (or ``"host"``, ``"[::1]:25"``) as ``(host, port)``.

    >>> split_host_port("mail.example.org:587", default_port=25)
    ('mail.example.org', 587)
    >>> split_host_port("[::1]:2525", default_port=25), split_host_port("relay", default_port=25)
    (('::1', 2525), ('relay', 25))
    """
    text = value.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host or not (_HOST.match(host) or _is_ip(host)):
        raise ValueError(f"'{value}' is not host:port, e.g. mail.example.org:587")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"the port of '{value}' is not a number from 1 to 65535")
    return host, int(port_text)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """This machine: ``localhost`` or a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmailSettings(BaseModel):
    """``notify.email``: one SMTP server, a sender and the recipients."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    smtp: str = Field(min_length=1, description="host:port, e.g. mail.example.org:587")
    starttls: bool = Field(default=False, strict=True)
    from_: str = Field(alias="from")
    to: list[Annotated[str, AfterValidator(_address)]] = Field(min_length=1)
    credentials: str | None = None

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("from_")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("smtp")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_host_port(value, default_port=25)
        return value.strip()

    @property
    def host_port(self) -> tuple[str, int]:
        """``(host, port)``; without a port 587 with STARTTLS, else 25."""
        return split_host_port(self.smtp, default_port=587 if self.starttls else 25)


class WebhookSettings(BaseModel):
    """One entry of ``notify.webhooks``: an incoming-webhook address and its format."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    format: Literal["teams", "slack", "json"]

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None:
            _check_url(value)
        return value

    @model_validator(mode="after")
    def _one_address(self) -> WebhookSettings:
        if (self.url is None) == (self.url_env is None):
            raise ValueError(
                "give exactly one of 'url' (the incoming-webhook address) and 'url_env' "
                "(the environment variable that holds it)"
            )
        return self

    def address(self, environ: dict[str, str] | None = None) -> str:
        """The webhook's URL (from ``url_env`` when given); a :class:`ConfigError` when the
        variable is unset or not an http(s) address."""
        if self.url is not None:
            return self.url
        value = (os.environ if environ is None else environ).get(self.url_env or "", "").strip()
        if not value:
            raise ConfigError(
                f"the environment variable {self.url_env} (a webhook's address) is not set",
                column="notify.webhooks",
                hint=f"set {self.url_env} to the incoming-webhook URL",
            )
        try:
            _check_url(value)
        except ValueError as exc:
            raise ConfigError(f"{self.url_env}: {exc}", column="notify.webhooks") from None
        return value

    @property
    def name(self) -> str:
        """How logs and reports name the webhook: its format and host, never the rest of the
        address (its path is the secret)."""
        if self.url is None:
            return f"{self.format} webhook (${self.url_env})"
        return f"{self.format} webhook at {host_of(self.url)}"


def _check_url(value: str) -> None:
    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the webhook address is not an http(s) URL")


def host_of(url: str) -> str:
    """The scheme and host of ``url`` (its path and query may hold the secret).

    >>> host_of("https://example.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123")
    'https://example.webhook.office.com'
    """
    parts = urllib.parse.urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


class NotifyRules(BaseModel):
    """``notify.rules``: what is worth a message (each on by default).

    ``due_within_days``: a target due within this many days and not met yet (``null`` or
    ``false`` switches it off).
    """

    model_config = ConfigDict(extra="forbid")

    signal: bool = Field(default=True, strict=True)
    off_track: bool = Field(default=True, strict=True)
    met: bool = Field(default=True, strict=True)
    due_within_days: int | None = Field(default=14, ge=0, le=366)
    failed: bool = Field(default=True, strict=True)

    @field_validator("due_within_days", mode="before")
    @classmethod
    def _off(cls, value: Any) -> Any:
        if value is False:
            return None
        if value is True:
            raise ValueError("give a number of days (e.g. 14), or false to switch it off")
        return value


class NotifySettings(BaseModel):
    """``notify:`` of ``cycle.yaml``."""

    model_config = ConfigDict(extra="forbid")

    email: EmailSettings | None = None
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    rules: NotifyRules = Field(default_factory=NotifyRules)

    @property
    def has_channels(self) -> bool:
        return self.email is not None or bool(self.webhooks)


# --------------------------------------------------------------------------- SMTP login


@dataclass(frozen=True)
class SmtpLogin:
    """A user name and password for SMTP AUTH (the password never in a repr)."""

    user: str
    password: str = field(repr=False)
    source: str = ""


def credentials_path(email: EmailSettings, cycle_dir: Path | None) -> Path | None:
    """The credentials file, relative paths taken from the cycle folder."""
    if email.credentials is None:
        return None
    path = Path(email.credentials).expanduser()
    return path if path.is_absolute() or cycle_dir is None else cycle_dir / path


def _private_file_problem(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return f"the SMTP credentials file {path} does not exist"
    if not stat.S_ISREG(mode):
        return f"the SMTP credentials file {path} is not a regular file"
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (
            f"the SMTP credentials file {path} can be read by others (mode "
            f"{stat.S_IMODE(mode):o}); make it private with: chmod 600 {path}"
        )
    return None


def smtp_login(
    email: EmailSettings, cycle_dir: Path | None = None, environ: dict[str, str] | None = None
) -> SmtpLogin | None:
    """The SMTP login: from the ``credentials`` file (``user:``, ``password:``; readable by
    its owner only), else from :data:`SMTP_USER_ENV` / :data:`SMTP_PASSWORD_ENV`, else
    None (no AUTH).

    Raises
    ------
    ConfigError
        The file is missing, readable by others, unreadable or lacks ``user``/``password``.
    """
    path = credentials_path(email, cycle_dir)
    if path is None:
        env = os.environ if environ is None else environ
        user, password = env.get(SMTP_USER_ENV), env.get(SMTP_PASSWORD_ENV)
        if user and password:
            return SmtpLogin(user, password, f"${SMTP_USER_ENV}")
        return None
    problem = _private_file_problem(path)
    if problem is not None:
        raise ConfigError(problem, column="notify.email.credentials")
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"the SMTP credentials file cannot be read ({type(exc).__name__})", file=str(path)
        ) from None
    user = data.get("user") if isinstance(data, dict) else None
    password = data.get("password") if isinstance(data, dict) else None
    if not user or not password:
        raise ConfigError(
            "the SMTP credentials file needs both 'user:' and 'password:'", file=str(path)
        )
    return SmtpLogin(str(user), str(password), str(path))


def notify_problems(
    settings: NotifySettings, cycle_dir: Path, line_of: dict[str, int]
) -> list[tuple[int | None, str, str]]:
    """What ``csi cycle check`` says of ``notify:`` beyond its types: the credentials file
    exists and is private. Returns ``(line, field, message)`` triples."""
    out: list[tuple[int | None, str, str]] = []
    email = settings.email
    if email is not None and email.credentials is not None:
        problem = _private_file_problem(credentials_path(email, cycle_dir))
        if problem is not None:
            where = "notify.email.credentials"
            out.append((line_of.get(where, line_of.get("notify.email")), where, problem))
    return out
