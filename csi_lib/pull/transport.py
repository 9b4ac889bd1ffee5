"""HTTP for the connectors: one authenticated session kept to the instance's origin,
bounded in time and size, retried on 429/502/503/504 (``Retry-After`` honoured, with a
countdown), and a one-paragraph error for every failure (the store is never touched).

Bounds: every request must be answered in full within ``Limits.request_timeout``
seconds (a server that sends one byte every 20 seconds is cut off), the whole pull
within ``Limits.deadline`` seconds, and one answer may not exceed ``Limits.max_bytes``
once decompressed. The requests run on httpx's async client in a private event loop
thread, so that a deadline cancels a request wherever it is, even in the middle of its
headers.

Credentials go only to the origin (scheme, host and port) of the instance: the
authentication is added request by request, and only when the request's origin is the
instance's; a redirect is never followed (it is reported as one); an address that
carries a user name or password is refused, shown as ``***``. A server's own message is
quoted in errors, but only after :func:`scrub` removed anything that looks like a
credential.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.utils
import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError, ConnectorError
from .credentials import Credentials

#: HTTP answers retried after a wait: rate limited, and the gateway or server busy.
RETRIED = (429, 502, 503, 504)
_UNCHANGED = "the store was not changed"


@dataclass(frozen=True)
class Limits:
    """How long and how much a pull may take.

    Parameters
    ----------
    request_timeout:
        Seconds one request may take from sending it to the last byte of its answer.
    deadline:
        Seconds the whole pull may take, waits included.
    max_retries:
        Retries of a request answered 429, 502, 503 or 504 (or cut off mid-answer).
    max_wait:
        The longest ``Retry-After`` honoured, in seconds; a server asking for more
        stops the pull with a message.
    max_bytes:
        The largest answer accepted, in bytes once decompressed.

    Examples
    --------
    >>> Limits().request_timeout, Limits().deadline
    (120.0, 7200.0)
    """

    request_timeout: float = 120.0
    deadline: float = 7200.0
    max_retries: int = 5
    max_wait: float = 900.0
    max_bytes: int = 256 * 2**20


# --------------------------------------------------------------------------------------
# Addresses and secrets
# --------------------------------------------------------------------------------------


def hide_userinfo(url: str) -> str:
    """``url`` with any user name and password shown as ``***``.

    Examples
    --------
    >>> hide_userinfo("http://admin:pw@host:8080/x")
    'http://***@host:8080/x'
    >>> hide_userinfo("https://acme.service-now.com")
    'https://acme.service-now.com'
    """
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@", r"\1***@", url.strip())


def check_address(url: str, option: str) -> str:
    """The instance (or site) address to use: ``http(s)://host[:port][/path]`` without a
    trailing slash.

    Raises
    ------
    ConfigError
        Not an http(s) address, no host, or an address carrying a user name or password
        (shown as ``***``), a query or a fragment.

    Examples
    --------
    >>> check_address("https://acme.service-now.com/", "--instance")
    'https://acme.service-now.com'
    >>> check_address("http://admin:s3cret@host", "--instance")
    Traceback (most recent call last):
    ...
    csi_lib.errors.ConfigError: column '--instance': the address http://***@host carries a user name or password, which are never sent from an address. Give the credentials through the environment (CSI_..._USER and CSI_..._PASSWORD, or a token) or --credentials FILE, and the address without them.
    """
    shown = hide_userinfo(url)
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(
            f"'{shown}' is not a web address",
            column=option,
            hint="write it as https://host (e.g. https://acme.service-now.com)",
        ) from None
    if "@" in parts.netloc:
        raise ConfigError(
            f"the address {shown} carries a user name or password, which are never sent "
            "from an address",
            column=option,
            hint="give the credentials through the environment (CSI_..._USER and "
            "CSI_..._PASSWORD, or a token) or --credentials FILE, and the address without them",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"'{shown}' is not an http or https address",
            column=option,
            hint="write it as https://host (e.g. https://acme.service-now.com)",
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"the address {parts.scheme}://{parts.netloc}{parts.path}?... carries a query or "
            "a fragment",
            column=option,
            hint="give the address of the instance only, e.g. https://acme.service-now.com",
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def origin(url: Any) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the default port filled in.

    Examples
    --------
    >>> origin("https://Acme.service-now.com/api") == origin("https://acme.service-now.com:443")
    True
    """
    parts = urlsplit(str(url))
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme, 0)
    return scheme, (parts.hostname or "").lower(), port


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")
_AUTH_SCHEME = re.compile(r"(?i)\b(basic|bearer)(\s+)[A-Za-z0-9+/=._~-]{6,}")
_AUTH_FIELD = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|authorization)(\"?\s*[:=]\s*\"?)"
    r"(?!(?:basic|bearer)\b)[^\s\",;&]+"
)


def scrub(text: str, secrets: tuple[str, ...] = (), limit: int = 200) -> str:
    """``text`` fit to quote in an error: credentials, base64 runs and what follows
    ``Basic``, ``Bearer``, ``password``... replaced by ``***``; control characters
    and runs of spaces collapsed; at most ``limit`` characters.

    Examples
    --------
    >>> scrub("Authorization: Basic dXNlcjpzM2NyZXQtcGFzc3dvcmQ= was sent")
    'Authorization: Basic *** was sent'
    >>> scrub("hello pw123 world", secrets=("pw123",))
    'hello *** world'
    """
    out = _without(str(text), secrets)
    out = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}***", out)
    out = _AUTH_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}***", out)
    out = _BASE64_RUN.sub(lambda m: "***" if _looks_encoded(m.group(0)) else m.group(0), out)
    out = re.sub(r"[\x00-\x1f\x7f]+", " ", out)
    out = re.sub(r"\s+", " ", out).strip()
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


def _without(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with the credentials (as given and encoded) replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _looks_encoded(run: str) -> bool:
    """A run of base64 characters that mixes capitals, small letters and digits (an
    encoded credential or token), unlike a path such as ``/rest/api/3/search/jql``."""
    return (
        any(c.isupper() for c in run)
        and any(c.islower() for c in run)
        and any(c.isdigit() for c in run)
    )


def _secrets_of(credentials: Credentials) -> tuple[str, ...]:
    """The credentials as they could appear in a server's echo: as given, and encoded."""
    found = [credentials.password or "", credentials.token or ""]
    if credentials.user and credentials.password:
        pair = f"{credentials.user}:{credentials.password}".encode()
        found += [base64.b64encode(pair).decode(), base64.urlsafe_b64encode(pair).decode()]
    return tuple(s for s in found if s)


#: A JSON escape of half a UTF-16 pair (``"\\ud800"``); a pair makes one character.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    r"""``value`` (decoded JSON) with each half of a UTF-16 pair that stands alone as U+FFFD.

    JSON may escape one (``"Lap\ud800top"``); Python decodes it, but no file, Parquet
    store or workbook can hold it (before: a ``UnicodeEncodeError`` traceback when the
    store was written). A whole pair is one character and is kept.

    Examples
    --------
    >>> page = json.loads('{"c": ["Lap\\ud800top", "\\ud83d\\ude00"]}')
    >>> _without_lone_surrogates(page) == {"c": ["Lap\ufffdtop", "\U0001f600"]}
    True
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def server_message(body: bytes, content_type: str) -> str:
    """The server's own words in an error answer: ServiceNow's ``error.message`` and
    ``error.detail``, Jira's ``errorMessages`` and ``errors``, a ``message``; else the
    title or text of an HTML page; else the start of the text.

    Examples
    --------
    >>> server_message(b'{"errorMessages":["Field \\'projct\\' does not exist."],"errors":{}}', "")
    "Field 'projct' does not exist."
    >>> server_message(b'{"error":{"message":"Invalid table x","detail":null},"status":"failure"}', "")
    'Invalid table x'
    """
    text = body[:65536].decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    parts: list[str] = []
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            parts += [str(err.get(k)) for k in ("message", "detail") if err.get(k)]
        elif isinstance(err, str):
            parts.append(err)
        msgs = data.get("errorMessages")
        if isinstance(msgs, list):
            parts += [str(m) for m in msgs if m]
        errs = data.get("errors")
        if isinstance(errs, dict):
            parts += [f"{k}: {v}" for k, v in errs.items() if v]
        if not parts and data.get("message"):
            parts.append(str(data["message"]))
        return "; ".join(parts)
    if data is not None:
        return ""
    title = re.search(r"(?is)<title[^>]*>(.*?)</title>", text)
    if title:
        return title.group(1)
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        text = re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>", " ", text)
        text = re.sub(r"<[^>]+>", " ", text)
    return text[:120]


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None if
    absent or unreadable.

    Examples
    --------
    >>> retry_after("120"), retry_after(None), retry_after("soon")
    (120.0, None, None)
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


# --------------------------------------------------------------------------------------
# The session
# --------------------------------------------------------------------------------------


@dataclass
class Answer:
    """A JSON answer: its body, headers, ``Link`` relations (``Response.links``) and URL."""

    body: Any
    headers: Any
    links: dict[str, Any]
    url: str


class _Retryable(Exception):
    """An answer worth asking again (429/502/503/504, or a connection cut mid-answer)."""

    def __init__(self, what: str, wait: float | None, path: str) -> None:
        super().__init__(what)
        self.what, self.wait, self.path = what, wait, path


class _Cut(Exception):
    """The answer was larger than :attr:`Limits.max_bytes`."""


def _auth_class():
    import httpx

    class OriginAuth(httpx.Auth):
        """Adds the credentials to a request only when it goes to the instance's origin."""

        def __init__(self, header: str, home: tuple[str, str, int]) -> None:
            self.header, self.home = header, home

        def auth_flow(self, request):  # noqa: ANN001, ANN202 - httpx's generator protocol
            if origin(request.url) == self.home:
                request.headers["Authorization"] = self.header
            yield request

    return OriginAuth


@dataclass
class _Http:
    """One HTTP session of a pull (see the module's docstring).

    ``sleep`` waits (tests pass a recorder), ``progress`` receives the countdown lines
    of a wait, ``clock`` measures the deadline, ``transport`` replaces the network
    (an ``httpx.MockTransport`` in tests).
    """

    base_url: str
    credentials: Credentials
    tool: str
    limits: Limits = field(default_factory=Limits)
    sleep: Callable[[float], None] = time.sleep
    progress: Callable[[str], None] | None = None
    clock: Callable[[], float] = time.monotonic
    transport: Any = None
    requests: int = 0
    waited: float = 0.0

    def __post_init__(self) -> None:
        self.base_url = check_address(self.base_url, "address")
        self._home = origin(self.base_url)
        self._secrets = _secrets_of(self.credentials)
        self._ends = self.clock() + self.limits.deadline
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="csi-pull-http", daemon=True
        )
        self._thread.start()
        self._client = self._run(self._open())

    # the private event loop ---------------------------------------------------------

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _open(self) -> Any:
        import httpx

        if self.credentials.token:
            header = f"Bearer {self.credentials.token}"
        else:
            pair = f"{self.credentials.user or ''}:{self.credentials.password or ''}"
            header = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
                "User-Agent": "csi-workbook",
            },
            auth=_auth_class()(header, self._home),
            timeout=httpx.Timeout(self.limits.request_timeout),
            follow_redirects=False,
            transport=self.transport,
        )

    def close(self) -> None:
        """Close the connections and stop the loop thread."""
        if self._loop.is_closed():
            return
        try:
            self._run(self._client.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self._loop.close()

    # errors ---------------------------------------------------------------------------

    def error(self, message: str, hint: str) -> ConnectorError:
        """A :class:`ConnectorError` naming the server, with ``hint`` and the store's fate."""
        return ConnectorError(
            _without(message, self._secrets),
            file=self.base_url,
            hint=f"{hint}; {_UNCHANGED}" if hint else _UNCHANGED,
        )

    def quote(self, text: str) -> str:
        """A server's text, scrubbed, for an error message."""
        return scrub(text, self._secrets)

    # requests -------------------------------------------------------------------------

    def remaining(self) -> float:
        """Seconds left before the pull's deadline."""
        return self._ends - self.clock()

    def _check_deadline(self) -> float:
        left = self.remaining()
        if left <= 0:
            raise self.error(
                f"the pull did not finish within its deadline of {self.limits.deadline:,.0f} s",
                "give a longer --deadline, or a smaller --page-size if the server is slow",
            )
        return left

    def get(self, url: str, params: dict[str, Any] | None = None) -> Answer:
        """GET ``url`` (a path under the instance, or an absolute URL of the same origin)
        and return its JSON :class:`Answer`; waits and retries as the module says."""
        import tenacity

        target = url if "://" in url else self.base_url + "/" + url.lstrip("/")
        if origin(target) != self._home:
            raise self.error(
                f"the pull was led to another address ({hide_userinfo(target)}); credentials "
                f"are sent only to {self.base_url}, so it stopped there",
                "check the instance's address",
            )
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(self.limits.max_retries + 1),
            wait=self._wait_for,
            sleep=self._countdown,
            before_sleep=self._note_why,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(target, params)
        except _Retryable as last:
            raise self.error(
                f"the {self.tool} server answered {last.what} to {last.path} "
                f"{self.limits.max_retries + 1} times in a row",
                "try again later (the pull retried with growing waits)",
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    _backoff = None

    def _wait_for(self, state: Any) -> float:
        """The server's ``Retry-After`` if it gave one, else exponential backoff with jitter."""
        import tenacity

        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.wait is not None:
            return exc.wait
        if self._backoff is None:
            self._backoff = tenacity.wait_exponential_jitter(initial=1, max=60, jitter=1)
        return float(self._backoff(state))

    _why = ""

    def _note_why(self, state: Any) -> None:
        """Remember what the server answered, for the countdown's first line."""
        exc = state.outcome.exception() if state.outcome else None
        self._why = f"{exc.what} to {exc.path}" if isinstance(exc, _Retryable) else ""

    def _countdown(self, seconds: float) -> None:
        """Wait ``seconds``, telling ``progress`` how long is left every 10 s (30 s on
        waits over a minute)."""
        left = self._check_deadline()
        if seconds >= left:
            raise self.error(
                f"the {self.tool} server asks to wait {seconds:,.0f} s before asking again, "
                f"longer than the {left:,.0f} s left before the pull's deadline",
                "try again later, or give a longer --deadline",
            )
        step = 10.0 if seconds <= 60 else 30.0
        remaining = float(seconds)
        if self.progress and remaining >= 1:
            why = f"the {self.tool} server answered {self._why}; " if self._why else ""
            self.progress(f"{why}waiting {remaining:,.0f} s before asking again")
        while remaining > 0:
            chunk = min(step, remaining)
            self.sleep(chunk)
            self.waited += chunk
            remaining -= chunk
            if self.progress and remaining >= 1:
                self.progress(f"  {remaining:,.0f} s left")

    def _once(self, target: str, params: dict[str, Any] | None) -> Answer:
        import httpx

        budget = min(self.limits.request_timeout, self._check_deadline())
        path = urlsplit(target).path or "/"
        try:
            status, headers, body, links, final = self._run(self._fetch(target, params, budget))
        except (TimeoutError, httpx.TimeoutException):
            within = (
                "the pull's deadline"
                if budget < self.limits.request_timeout
                else (f"{budget:,.0f} s (--timeout)")
            )
            raise self.error(
                f"the {self.tool} server did not send a whole answer to {path} within {within}",
                "the server is too slow or stalled; try again later, or give a longer --timeout",
            ) from None
        except _Cut:
            raise self.error(
                f"the {self.tool} server's answer to {path} is larger than "
                f"{self.limits.max_bytes / 2**20:,.0f} MB",
                "ask for smaller pages with --page-size",
            ) from None
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
            raise _Retryable(
                f"a connection cut mid-answer ({type(exc).__name__})", None, path
            ) from None
        except (httpx.HTTPError, zlib.error, OSError) as exc:
            raise self.error(
                f"the {self.tool} server could not be reached ({type(exc).__name__}: {exc})",
                "check the address and the network",
            ) from None
        self.requests += 1
        return self._judge(status, headers, body, links, final, path)

    async def _fetch(
        self, target: str, params: dict[str, Any] | None, budget: float
    ) -> tuple[int, Any, bytes, dict[str, Any], str]:
        """One GET within ``budget`` seconds, its body decompressed within the size limit."""
        async with asyncio.timeout(budget):
            async with self._client.stream("GET", target, params=params) as response:
                body = await _read_bounded(response, self.limits.max_bytes)
                return (
                    response.status_code,
                    response.headers,
                    body,
                    dict(response.links),
                    str(response.url),
                )

    def _judge(
        self, status: int, headers: Any, body: bytes, links: dict, final: str, path: str
    ) -> Answer:
        """The JSON answer of a 2xx; else the error (or the retry) the status calls for."""
        said = self.quote(server_message(body, headers.get("Content-Type", "")))
        says = f": '{said}'" if said else ""
        if status in RETRIED:
            wait = retry_after(headers.get("Retry-After"))
            if wait is not None and wait > self.limits.max_wait:
                raise self.error(
                    f"the {self.tool} server answered HTTP {status} to {path} and asks to wait "
                    f"{wait:,.0f} s (Retry-After){says}",
                    f"try again later; a pull waits at most {self.limits.max_wait:,.0f} s",
                )
            raise _Retryable(f"HTTP {status}{says}", wait, path)
        if 300 <= status < 400:
            where = headers.get("Location")
            to = f" to {self.quote(hide_userinfo(where))}" if where else ""
            raise self.error(
                f"the {self.tool} server redirected {path}{to} (HTTP {status}); a pull does not "
                "follow redirects, as they could take the credentials elsewhere",
                "give the final address of the instance (a login page or single sign-on "
                "redirects this way)",
            )
        if status in (401, 403):
            raise self.error(
                f"the {self.tool} server refused the credentials (HTTP {status}){says}",
                "check the user and password or token, and that the user may read the table "
                "or project",
            )
        if status == 400:
            raise self.error(
                f"the {self.tool} server refused the request to {path} (HTTP 400){says}",
                "check the query (--query or --jql) and the field names",
            )
        if status == 404:
            raise self.error(
                f"the {self.tool} server has no {path} (HTTP 404){says}",
                "check the address, the table or the search path",
            )
        if status == 410:
            raise self.error(
                f"the {self.tool} server says {path} is gone (HTTP 410){says}",
                "use the API the server names (for Jira Cloud, the default search path "
                "/rest/api/3/search/jql)",
            )
        if status >= 400 or status < 200:
            raise self.error(
                f"the {self.tool} server answered HTTP {status} to {path}{says}",
                "try again later; if it persists, ask the server's administrators",
            )
        try:
            data = json.loads(body.decode("utf-8-sig"))
            if _ESCAPED_SURROGATE.search(body):
                data = _without_lone_surrogates(data)
        except (ValueError, UnicodeDecodeError, RecursionError):
            kind = headers.get("Content-Type", "no content type")
            shown = self.quote(server_message(body, kind)[:60])
            raise self.error(
                f"the {self.tool} server sent a page that is not JSON ({self.quote(kind)}"
                + (f": '{shown}'" if shown else "")
                + ")",
                "check the address (a login page, a hibernating instance or a proxy answers "
                "this way)",
            ) from None
        return Answer(data, headers, links, final)


async def _read_bounded(response: Any, limit: int) -> bytes:
    """The body of ``response``, gunzipped if it is, never more than ``limit`` bytes."""
    if response.is_stream_consumed:  # read already (an in-memory transport)
        if len(response.content) > limit:
            raise _Cut
        return response.content
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    inflate = zlib.decompressobj(wbits=47) if encoding in ("gzip", "x-gzip", "deflate") else None
    size = 0
    parts: list[bytes] = []
    async for raw in response.aiter_raw():
        chunks = _inflate(inflate, raw, limit - size + 1) if inflate else iter([raw])
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise _Cut
            parts.append(chunk)
    if inflate is not None:
        tail = inflate.flush()
        size += len(tail)
        if size > limit:
            raise _Cut
        parts.append(tail)
    return b"".join(parts)


def _inflate(inflate: Any, data: bytes, room: int) -> Iterator[bytes]:
    """Decompress ``data`` in pieces of at most ``room`` bytes (a bomb never expands whole)."""
    while data:
        piece = inflate.decompress(data, max(1, room))
        yield piece
        data = inflate.unconsumed_tail
        if not piece and not data:
            break
