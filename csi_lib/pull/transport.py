"""HTTP for the connectors: one authenticated session, retries on 429/503 honouring
``Retry-After``, and a one-paragraph error for every failure (the store is never touched)."""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ConnectorError
from .credentials import Credentials


def _retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


@dataclass
class _Http:
    """One HTTP session: authentication, retries on 429/503, one-paragraph errors."""

    base_url: str
    credentials: Credentials
    tool: str
    max_retries: int = 5
    max_wait: float = 300.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0
    waited: float = 0.0

    def __post_init__(self) -> None:
        import httpx

        headers = {"Accept": "application/json", "User-Agent": "csi-workbook"}
        auth = self.credentials.apply(headers)
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, auth=auth, timeout=self.timeout
        )

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """GET ``url`` (relative to the base URL, or absolute); returns (JSON body, headers)."""
        import httpx

        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.get(url, params=params)
            except httpx.HTTPError as exc:
                raise ConnectorError(
                    f"the {self.tool} server could not be reached ({type(exc).__name__}: {exc})",
                    file=self.base_url,
                    hint="check the address and the network; the store was not changed",
                ) from None
            self.requests += 1
            if response.status_code in (429, 503) and attempt < self.max_retries:
                wait = _retry_after(response.headers.get("Retry-After"), 2.0**attempt)
                if wait > self.max_wait:
                    break
                self.waited += wait
                self.sleep(wait)
                continue
            break
        status = response.status_code
        if status in (401, 403):
            raise ConnectorError(
                f"the {self.tool} server refused the credentials (HTTP {status})",
                file=self.base_url,
                hint="check the user and password or token, and that the user may read the "
                "table; the store was not changed",
            )
        if status == 429 or status >= 400:
            raise ConnectorError(
                f"the {self.tool} server answered HTTP {status} to {response.request.url.path}"
                + (" (still rate-limited after retrying)" if status in (429, 503) else ""),
                file=self.base_url,
                hint="try again later; the store was not changed",
            )
        try:
            body = response.json()
        except ValueError:
            raise ConnectorError(
                f"the {self.tool} server sent a page that is not JSON "
                f"({response.headers.get('Content-Type', 'no content type')}: "
                f"{response.text[:60]!r})",
                file=self.base_url,
                hint="check the address (a login page or a proxy answers this way); "
                "the store was not changed",
            ) from None
        return body, response.headers


def _malformed(tool: str, base_url: str, what: str) -> ConnectorError:
    return ConnectorError(
        f"the {tool} server sent a malformed page ({what})",
        file=base_url,
        hint="check the address and the API version; the store was not changed",
    )
