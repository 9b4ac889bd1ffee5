"""Pull requests incrementally from a tool's REST API into a local Parquet store.

Two connectors:

- **ServiceNow** (REST Table API, ``GET /api/now/table/<table>``): records updated
  since the last pull (``sysparm_query=sys_updated_on>=...^ORDERBYsys_updated_on``),
  the fields asked for (``sysparm_fields``), each field as its display value except
  dates, which keep their UTC value (``sysparm_display_value=all``), page after page
  (the ``Link: rel="next"`` header, else ``sysparm_offset`` / ``sysparm_limit``).
- **Jira Service Management** (``GET /rest/api/3/search/jql``): issues matching a JQL
  query and ``updated >= ...``, page after page (``nextPageToken``, or ``startAt`` /
  ``total`` on servers that page that way), with the request type, status category,
  resolution, priority, the "Time to resolution" SLA and the satisfaction rating
  (custom fields found by their type through ``/rest/api/3/field``).

A pull merges the records into the *store*, a Parquet file with one row per
request (the latest version wins) whose columns are named as the ``servicenow``
and ``jira-sm`` presets expect, so a cycle names the store as its ``data.source``.
The store's Parquet metadata keeps where it was pulled from, the high-water mark
of the update time, and an audit of every pull (when, since, records received,
new, updated, total). The new store is written beside the old one and renamed
onto it: a pull that fails at any point leaves the store as it was.

Credentials never come from the command line: from environment variables
(``CSI_SERVICENOW_USER`` + ``CSI_SERVICENOW_PASSWORD`` or ``CSI_SERVICENOW_TOKEN``;
``CSI_JIRA_EMAIL`` + ``CSI_JIRA_API_TOKEN`` or ``CSI_JIRA_TOKEN``), or from a
credentials file readable by its owner only (mode 0600).

Examples
--------
>>> src = ServiceNowSource("https://example.service-now.com")      # doctest: +SKIP
>>> result = pull(src, "data/requests.parquet", credentials_for("servicenow"))  # doctest: +SKIP
>>> result.new, result.updated                                      # doctest: +SKIP
(120, 35)
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pandas as pd

from .errors import ConfigError, ConnectorError
from .storage import atomic_path

__all__ = [
    "Credentials",
    "credentials_for",
    "ServiceNowSource",
    "JiraSource",
    "PullResult",
    "pull",
    "read_store",
    "pull_history",
]

#: Parquet metadata key of the store's state (source, high-water mark, audit).
META_KEY = b"csi_pull"
#: How far before the store's high-water mark an incremental pull asks from. ServiceNow
#: and Jira read the date of a query in the API user's timezone, which may be up to
#: 14 hours from UTC; records seen again unchanged count as neither new nor updated.
LOOKBACK = pd.Timedelta(hours=24)
#: Default ServiceNow fields: what the servicenow preset maps, plus the key and update time.
SERVICENOW_FIELDS: tuple[str, ...] = (
    "sys_id",
    "number",
    "opened_at",
    "approval_set",
    "closed_at",
    "state",
    "cat_item",
    "contact_type",
    "priority",
    "assignment_group",
    "made_sla",
    "sys_updated_on",
)
_SN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


# --------------------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------------------


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
        import yaml

        path = Path(file)
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
        found = Credentials(
            user=section.get("user") or section.get("email"),
            password=section.get("password") or section.get("api_token"),
            token=section.get("token"),
        )
        where = f"the '{tool}:' section of {path}"
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


# --------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


@dataclass
class ServiceNowSource:
    """A ServiceNow table read through the REST Table API.

    Parameters
    ----------
    instance:
        The instance URL, e.g. ``https://acme.service-now.com``.
    table:
        The table (``sc_req_item``: requested items; any other table works).
    fields:
        The fields to fetch (``sysparm_fields``); ``sys_id`` and ``sys_updated_on``
        are always added.
    query:
        An extra encoded query ANDed to the update filter (e.g. ``active=true``).
    page_size:
        Records per page (``sysparm_limit``).
    """

    instance: str
    table: str = "sc_req_item"
    fields: tuple[str, ...] = SERVICENOW_FIELDS
    query: str | None = None
    page_size: int = 1000

    tool = "servicenow"
    key = "sys_id"
    updated = "sys_updated_on"

    def describe(self) -> dict[str, str]:
        return {"tool": self.tool, "url": self.instance.rstrip("/"), "table": self.table}

    def pages(self, http: _Http, since: pd.Timestamp | None) -> Iterator[list[dict[str, Any]]]:
        """Pages of flat records (field -> text) updated at or after ``since`` (UTC)."""
        fields = list(dict.fromkeys([self.key, self.updated, *self.fields]))
        parts = []
        if since is not None:
            parts.append(f"{self.updated}>={since.strftime('%Y-%m-%d %H:%M:%S')}")
        if self.query:
            parts.append(self.query)
        params: dict[str, Any] | None = {
            "sysparm_query": "^".join(parts) + f"^ORDERBY{self.updated}",
            "sysparm_fields": ",".join(fields),
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_limit": self.page_size,
            "sysparm_offset": 0,
        }
        url = f"/api/now/table/{self.table}"
        offset = 0
        while True:
            body, headers = http.get(url, params)
            result = body.get("result") if isinstance(body, dict) else None
            if not isinstance(result, list):
                raise _malformed(self.tool, http.base_url, "no 'result' list")
            records = [_flat_servicenow(r, http.base_url) for r in result]
            if records:
                yield records
            nxt = _link_next(headers.get("Link", ""))
            if nxt:
                url, params = urljoin(http.base_url, nxt), None
            elif len(result) < self.page_size or not result:
                return
            else:
                offset += len(result)
                params = dict(params or {}, sysparm_offset=offset)


def _link_next(link: str) -> str | None:
    """The ``rel="next"`` URL of a Link header, if any."""
    for part in link.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


def _flat_servicenow(record: Any, base_url: str) -> dict[str, str | None]:
    """One record of ``sysparm_display_value=all`` as field -> text: dates keep their
    UTC value, every other field its display value."""
    if not isinstance(record, dict):
        raise _malformed("servicenow", base_url, "a record that is not an object")
    out: dict[str, str | None] = {}
    for name, cell in record.items():
        if isinstance(cell, dict):
            value, shown = cell.get("value"), cell.get("display_value")
            text = value if isinstance(value, str) and _SN_DATE.match(value) else shown
        else:
            text = cell
        out[name] = None if text in (None, "") else str(text)
    return out


#: Jira field types (``schema.custom``) of the service-management fields pulled.
_JSM_TYPES = {
    "request_type": "com.atlassian.servicedesk:vp-origin",
    "sla": "com.atlassian.servicedesk:sla-field",
    "satisfaction": "com.atlassian.servicedesk:sd-request-feedback",
}


@dataclass
class JiraSource:
    """Jira Service Management issues found by a JQL query.

    Parameters
    ----------
    site:
        The site URL, e.g. ``https://acme.atlassian.net``.
    jql:
        The issues to pull (e.g. ``project = ITSD``); ``updated >= ...`` is added.
    page_size:
        Issues per page (``maxResults``).
    search_path:
        The search endpoint (``/rest/api/2/search`` on Data Center).
    sla_name:
        The SLA field whose breach gives ``SLA met`` (by name, as sites may have several).
    fields:
        Custom field ids to use instead of discovering them: keys ``request_type``,
        ``sla``, ``satisfaction``.
    """

    site: str
    jql: str
    page_size: int = 100
    search_path: str = "/rest/api/3/search/jql"
    sla_name: str = "Time to resolution"
    fields: dict[str, str] = field(default_factory=dict)

    tool = "jira"
    key = "Issue id"
    updated = "Updated"

    def describe(self) -> dict[str, str]:
        return {"tool": self.tool, "url": self.site.rstrip("/"), "jql": self.jql}

    def _custom_fields(self, http: _Http) -> dict[str, str]:
        found = dict(self.fields)
        missing = [k for k in _JSM_TYPES if k not in found]
        if not missing:
            return found
        body, _ = http.get(self.search_path.rsplit("/search", 1)[0] + "/field")
        if not isinstance(body, list):
            raise _malformed(self.tool, http.base_url, "the field list is not a list")
        for item in body:
            if not isinstance(item, dict):
                continue
            custom = (item.get("schema") or {}).get("custom")
            for key in missing:
                if custom == _JSM_TYPES[key] and key not in found:
                    if key == "sla" and item.get("name") != self.sla_name:
                        continue
                    found[key] = str(item.get("id"))
        return found

    def pages(self, http: _Http, since: pd.Timestamp | None) -> Iterator[list[dict[str, Any]]]:
        """Pages of flat issues updated at or after ``since`` (UTC, to the minute)."""
        custom = self._custom_fields(http)
        jql = f"({self.jql})" if self.jql.strip() else ""
        if since is not None:
            stamp = since.strftime("%Y-%m-%d %H:%M")
            jql = (jql + " AND " if jql else "") + f'updated >= "{stamp}"'
        jql += " ORDER BY updated ASC"
        names = ["created", "updated", "resolutiondate", "status", "resolution", "priority"]
        params: dict[str, Any] = {
            "jql": jql,
            "fields": ",".join([*names, *custom.values()]),
            "maxResults": self.page_size,
        }
        start = 0
        while True:
            body, _ = http.get(self.search_path, params)
            issues = body.get("issues") if isinstance(body, dict) else None
            if not isinstance(issues, list):
                raise _malformed(self.tool, http.base_url, "no 'issues' list")
            if issues:
                yield [_flat_jira(i, custom, http.base_url) for i in issues]
            token = body.get("nextPageToken")
            if token and not body.get("isLast", False):
                params = dict(params, nextPageToken=token)
            elif "total" in body and not token:
                start += len(issues)
                if not issues or start >= int(body["total"]):
                    return
                params = dict(params, startAt=start)
            else:
                return


def _name(value: Any, *keys: str) -> str | None:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return None if value in (None, "") else str(value)


def _jira_time(value: Any) -> str | None:
    """Jira's ``2025-03-12T10:15:30.000+0000`` as UTC ``2025-03-12 10:15:30``."""
    if not value:
        return None
    stamp = pd.to_datetime(str(value), utc=True, format="ISO8601")
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _sla_met(value: Any) -> str | None:
    """``true`` / ``false`` from the completed cycles of an SLA field; None while open."""
    cycles = value.get("completedCycles") if isinstance(value, dict) else None
    if not cycles:
        return None
    return "false" if any(bool(c.get("breached")) for c in cycles) else "true"


def _flat_jira(issue: Any, custom: dict[str, str], base_url: str) -> dict[str, str | None]:
    if not isinstance(issue, dict) or not isinstance(issue.get("fields"), dict):
        raise _malformed("jira", base_url, "an issue without fields")
    f = issue["fields"]
    try:
        return {
            "Issue id": str(issue["id"]),
            "Issue key": str(issue["key"]),
            "Created": _jira_time(f.get("created")),
            "Updated": _jira_time(f.get("updated")),
            "Resolved": _jira_time(f.get("resolutiondate")),
            "Status": _name(f.get("status"), "name"),
            "Status Category": _name(f.get("status"), "statusCategory", "name"),
            "Resolution": _name(f.get("resolution"), "name"),
            "Priority": _name(f.get("priority"), "name"),
            "Request Type": _name(f.get(custom.get("request_type", "")), "requestType", "name"),
            "SLA met": _sla_met(f.get(custom.get("sla", ""))),
            "Satisfaction rating": _name(f.get(custom.get("satisfaction", "")), "rating"),
        }
    except (KeyError, ValueError) as exc:
        raise _malformed("jira", base_url, f"an issue without a readable {exc}") from None


# --------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------


@dataclass
class PullResult:
    """What one pull did (counts are requests)."""

    store: Path
    at: str
    since: str | None
    received: int
    new: int
    updated: int
    total: int
    requests: int = 0

    def sentence(self) -> str:
        since = f"updated since {self.since}" if self.since else "all records (first pull)"
        return (
            f"{self.received:,} record(s) {since}: {self.new:,} new, {self.updated:,} updated; "
            f"the store {self.store} holds {self.total:,} requests"
        )


def read_store(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The store's requests and its state (``source``, ``watermark``, ``pulls``).

    A store that does not exist yet is empty.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        return pd.DataFrame(), {"pulls": []}
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ConfigError(
            f"the store is not a readable Parquet file ({type(exc).__name__})",
            file=str(path),
            hint="give another --store, or move the damaged file away",
        ) from None
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise ConfigError(
            "this Parquet file is not a pull store (it has no pull history)",
            file=str(path),
            hint="give a new file name for the store; an export is never overwritten by a pull",
        )
    state = json.loads(raw)
    frame = table.to_pandas()
    return frame, state


def pull_history(path: str | Path) -> pd.DataFrame:
    """The audit of every pull into the store: one row per pull, oldest first."""
    _, state = read_store(path)
    columns = ["at", "since", "received", "new", "updated", "total"]
    return pd.DataFrame(state.get("pulls", []), columns=columns)


def _write_store(path: Path, frame: pd.DataFrame, state: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[META_KEY] = json.dumps(state).encode("utf-8")
    table = table.replace_schema_metadata(meta)
    with atomic_path(path, overwrite=True) as tmp:
        pq.write_table(table, tmp)


def _count_changes(old: pd.DataFrame, fresh: pd.DataFrame, key: str) -> tuple[int, int]:
    """(new requests, requests already in the store whose record changed)."""
    latest = fresh.drop_duplicates(key, keep="last").set_index(key)
    if old.empty:
        return len(latest), 0
    stored = old.drop_duplicates(key, keep="last").set_index(key)
    known = latest.index.isin(stored.index)
    keys = latest.index[known]
    columns = latest.columns.intersection(stored.columns)
    a = latest.loc[keys, columns].astype("string")
    b = stored.loc[keys, columns].astype("string")
    same = ((a == b) | (a.isna() & b.isna())).all(axis=1)
    return int((~known).sum()), int((~same).sum())


def pull(
    source: ServiceNowSource | JiraSource,
    store: str | Path,
    credentials: Credentials,
    *,
    since: str | None = None,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_retries: int = 5,
) -> PullResult:
    """Fetch what changed since the last pull and merge it into ``store`` atomically.

    Parameters
    ----------
    source:
        What to pull (:class:`ServiceNowSource` or :class:`JiraSource`).
    store:
        The Parquet store (created by the first pull).
    credentials:
        From :func:`credentials_for`.
    since:
        Pull records updated at or after this UTC time (``YYYY-MM-DD[ HH:MM]``)
        instead of from the store's high-water mark less :data:`LOOKBACK`.
    sleep, max_retries:
        How to wait on HTTP 429 / 503 (``Retry-After`` is honoured) and how often.

    Returns
    -------
    PullResult

    Raises
    ------
    ConnectorError
        The server could not be reached, refused the credentials, stayed
        rate-limited, or sent a malformed page; the store is unchanged.
    ConfigError
        The store was pulled from another source, or is not a store.
    """
    path = Path(store)
    old, state = read_store(path)
    described = source.describe()
    if state.get("source") and state["source"] != described:
        raise ConfigError(
            f"the store was pulled from {state['source']}, not from {described}",
            file=str(path),
            hint="give each source its own --store",
        )
    if since is not None:
        try:
            mark = pd.Timestamp(since, tz="UTC")
        except ValueError:
            raise ConfigError(
                f"'{since}' is not a date", column="--since", hint="write it as YYYY-MM-DD"
            ) from None
    else:
        mark = pd.Timestamp(state["watermark"]) - LOOKBACK if state.get("watermark") else None
    http = _Http(
        source.instance if isinstance(source, ServiceNowSource) else source.site,
        credentials,
        source.tool,
        sleep=sleep,
        max_retries=max_retries,
    )
    try:
        pages = [pd.DataFrame.from_records(page) for page in source.pages(http, mark)]
    finally:
        http.close()
    fresh = pd.concat(pages, ignore_index=True) if pages else pd.DataFrame()
    at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    key, updated = source.key, source.updated
    if len(fresh):
        fresh = fresh.astype("object").where(fresh.notna(), None)
        n_new, n_updated = _count_changes(old, fresh, key)
        merged = pd.concat([old, fresh], ignore_index=True) if len(old) else fresh
        order = pd.to_datetime(merged[updated], utc=True, errors="coerce")
        merged = merged.iloc[order.argsort(kind="stable")]  # latest version last
        merged = merged.drop_duplicates(key, keep="last").reset_index(drop=True)
        merged = merged.astype("object").where(merged.notna(), None).astype("string")
        high = pd.to_datetime(fresh[updated], utc=True, errors="coerce").max()
        known = [pd.Timestamp(state["watermark"])] if state.get("watermark") else []
        watermark = max(x for x in (high, *known) if not pd.isna(x))
    else:
        n_new = n_updated = 0
        merged = old
        watermark = state.get("watermark")
    entry = {
        "at": at,
        "since": None if mark is None else mark.isoformat(),
        "received": len(fresh),
        "new": n_new,
        "updated": n_updated,
        "total": len(merged),
    }
    state = {
        "source": described,
        "watermark": None if watermark is None else pd.Timestamp(watermark).isoformat(),
        "pulls": [*state.get("pulls", []), entry],
    }
    _write_store(path, merged, state)
    return PullResult(
        store=path,
        at=at,
        since=entry["since"],
        received=len(fresh),
        new=n_new,
        updated=n_updated,
        total=len(merged),
        requests=http.requests,
    )
