"""One pull: from when (the store's high-water mark less :data:`LOOKBACK`, or ``since``),
fetch the pages, merge them into the store, record the pull in its audit."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from .credentials import Credentials
from .jira import JiraSource
from .servicenow import ServiceNowSource
from .store import PullResult, _merge, _write_store, read_store
from .transport import _Http

#: How far before the store's high-water mark an incremental pull asks from. ServiceNow
#: and Jira read the date of a query in the API user's timezone, which may be up to
#: 14 hours from UTC; records seen again unchanged count as neither new nor updated.
LOOKBACK = pd.Timedelta(hours=24)


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
    mark = _since_mark(since, state.get("watermark"))
    fresh, requests = _fetch(source, credentials, mark, sleep=sleep, max_retries=max_retries)
    at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    merged, n_new, n_updated, watermark = _merge(
        old, fresh, source.key, source.updated, state.get("watermark")
    )
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
        requests=requests,
    )


def _since_mark(since: str | None, watermark: str | None) -> pd.Timestamp | None:
    """From when to ask: ``since`` (UTC) if given, else the high-water mark less
    :data:`LOOKBACK`, else None (a first pull: everything)."""
    if since is not None:
        try:
            return pd.Timestamp(since, tz="UTC")
        except ValueError:
            raise ConfigError(
                f"'{since}' is not a date", column="--since", hint="write it as YYYY-MM-DD"
            ) from None
    return pd.Timestamp(watermark) - LOOKBACK if watermark else None


def _fetch(
    source: ServiceNowSource | JiraSource,
    credentials: Credentials,
    mark: pd.Timestamp | None,
    *,
    sleep: Callable[[float], None],
    max_retries: int,
) -> tuple[pd.DataFrame, int]:
    """Every page the source has since ``mark``, as one frame; and the HTTP requests made."""
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
    return fresh, http.requests
