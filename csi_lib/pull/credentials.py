"""Credentials of a pull: from environment variables or a private (mode 0600) YAML file,
never from the command line."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError


@dataclass(frozen=True)
class Credentials:
    """Basic (user + password / API token) or bearer (OAuth access token) credentials."""

    user: str | None = field(default=None)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def apply(self, headers: dict[str, str]) -> Any:
        """Set the bearer header, or return the (user, password) pair for basic auth."""
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
            return None
        return (self.user or "", self.password or "")


_ENV = {
    "servicenow": ("CSI_SERVICENOW_USER", "CSI_SERVICENOW_PASSWORD", "CSI_SERVICENOW_TOKEN"),
    "jira": ("CSI_JIRA_EMAIL", "CSI_JIRA_API_TOKEN", "CSI_JIRA_TOKEN"),
}


def credentials_for(
    tool: str, file: str | Path | None = None, environ: dict[str, str] | None = None
) -> Credentials:
    """The credentials of ``tool`` (``servicenow`` or ``jira``).

    From ``file`` if given: a YAML file readable by its owner only (mode 0600) with a
    section per tool, e.g. ``servicenow: {user: ..., password: ...}`` or
    ``jira: {token: ...}``. Otherwise from the environment variables
    (``CSI_SERVICENOW_USER``/``CSI_SERVICENOW_PASSWORD`` or ``CSI_SERVICENOW_TOKEN``;
    ``CSI_JIRA_EMAIL``/``CSI_JIRA_API_TOKEN`` or ``CSI_JIRA_TOKEN``).

    Raises
    ------
    ConfigError
        No credentials, a file that others can read, or a file without the tool's section.
    """
    env = os.environ if environ is None else environ
    user_var, password_var, token_var = _ENV[tool]
    if file is not None:
        found = _from_file(Path(file), tool)
        where = f"the '{tool}:' section of {Path(file)}"
    else:
        found = Credentials(env.get(user_var), env.get(password_var), env.get(token_var))
        where = f"the environment ({user_var} and {password_var}, or {token_var})"
    if not found.token and not (found.user and found.password):
        raise ConfigError(
            f"no {tool} credentials were found in {where}",
            hint=f"set {user_var} and {password_var} (or {token_var}), or give --credentials "
            "with a private (chmod 600) YAML file; never put a password on the command line",
        )
    return found


def _from_file(path: Path, tool: str) -> Credentials:
    """The ``tool:`` section of a private (mode 0600) YAML credentials file."""
    import yaml

    try:
        mode = path.stat().st_mode
    except OSError:
        raise ConfigError(
            "the credentials file does not exist", file=str(path), hint="check the path"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the credentials file can be read by others (mode {stat.S_IMODE(mode):o})",
            file=str(path),
            hint=f"make it private with: chmod 600 {path}",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"the credentials file cannot be read ({type(exc).__name__})", file=str(path)
        ) from None
    section = data.get(tool) if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(
            f"the credentials file has no '{tool}:' section",
            file=str(path),
            hint=f"write {tool}: with user: and password: (or token:) under it",
        )
    return Credentials(
        user=section.get("user") or section.get("email"),
        password=section.get("password") or section.get("api_token"),
        token=section.get("token"),
    )
