"""One pull: from when (the store's high-water mark less :data:`LOOKBACK`, or ``since``),
fetch the pages, merge them into the store (and, with ``prune``, drop what the source no
longer returns), record the pull in its audit; all under the store's lock."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from .credentials import Credentials
from .findings import Findings
from .jira import JiraSource
from .servicenow import ServiceNowSource
from .store import (
    STORE_FORMAT,
    PullResult,
    _merge,
    _write_quarantine,
    _write_store,
    read_store,
    store_lock,
)
from .transport import Limits, _Http, check_address

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
    prune: bool = False,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] | None = None,
    limits: Limits | None = None,
    max_retries: int | None = None,
    transport: Any = None,
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
    prune:
        Also read the ids of every record the source returns now, and remove from the
        store the requests it no longer returns (deleted, or out of the query).
    sleep, progress:
        How to wait before a retry (429, 502, 503, 504; ``Retry-After`` is honoured),
        and where the countdown of a wait is told.
    limits, max_retries:
        Time and size bounds (:class:`Limits`); ``max_retries`` overrides its retries.
    transport:
        An httpx transport instead of the network (tests).

    Returns
    -------
    PullResult

    Raises
    ------
    ConnectorError
        The server could not be reached, refused the credentials or the query, stayed
        busy, was too slow, or sent a malformed page; the store is unchanged.
    ConfigError
        The store was pulled from another source, or is not a store.
    StoreBusy
        Another pull into the same store is running (exit status 3).
    """
    path = Path(store)
    address = check_address(
        source.address, "--instance" if source.tool == "servicenow" else "--site"
    )
    limits = limits or Limits()
    if max_retries is not None:
        limits = replace(limits, max_retries=max_retries)
    with store_lock(path):
        old, state = read_store(path)
        findings = Findings()
        described = {**source.describe(), "url": address}
        _check_source(state, described, source, path, findings)
        mark = _since_mark(since, state.get("watermark"))
        if since is None and len(old) and state.get("format") != STORE_FORMAT:
            mark = None
            findings.note(
                "the store was written by an earlier version of csi pull, which kept other "
                "columns: every record was read again"
            )
        http = _Http(
            address,
            credentials,
            source.tool,
            limits=limits,
            sleep=sleep,
            progress=progress,
            transport=transport,
        )
        try:
            pages = [pd.DataFrame.from_records(p) for p in source.pages(http, mark, findings)]
            keys = source.keys(http, findings) if prune else None
        finally:
            http.close()
        fresh = pd.concat(pages, ignore_index=True) if pages else pd.DataFrame()
        at_time = now or dt.datetime.now(dt.UTC)
        at = at_time.isoformat(timespec="seconds")
        merged, n_new, n_updated, watermark = _merge(
            old, fresh, source.key, source.updated, state.get("watermark")
        )
        removed = 0
        if keys is not None and len(merged):
            if not keys:
                raise http.error(
                    "--prune found no records at all at the source, so nothing was removed",
                    "if the source is really empty, remove the store yourself",
                )
            gone = ~merged[source.key].isin(keys)
            removed = int(gone.sum())
            merged = merged[~gone].reset_index(drop=True)
        entry = {
            "at": at,
            "since": None if mark is None else mark.isoformat(),
            "received": len(fresh),
            "new": n_new,
            "updated": n_updated,
            "removed": removed,
            "quarantined": findings.left_out,
            "total": len(merged),
        }
        new_state = {
            "source": described,
            "query": source.query_text(),
            "format": STORE_FORMAT,
            "watermark": None if watermark is None else pd.Timestamp(watermark).isoformat(),
            "pulls": [*state.get("pulls", []), entry],
        }
        _write_store(path, merged, new_state)
        quarantine = _write_quarantine(path, findings, at_time)
    return PullResult(
        store=path,
        at=at,
        since=entry["since"],
        received=len(fresh),
        new=n_new,
        updated=n_updated,
        total=len(merged),
        requests=http.requests,
        removed=removed,
        quarantined=findings.left_out,
        quarantine_path=quarantine,
        notes=findings.notes,
    )


def _check_source(
    state: dict[str, Any],
    described: dict[str, str],
    source: ServiceNowSource | JiraSource,
    path: Path,
    findings: Findings,
) -> None:
    """The store must come from the same tool, address (and table); a changed query is
    said, not refused."""
    before = state.get("source")
    if not before:
        return
    same = {k: before.get(k) for k in described} == described
    if not same:
        shown = ", ".join(f"{k} {v}" for k, v in before.items() if k in ("tool", "url", "table"))
        raise ConfigError(
            f"the store was pulled from {shown}, not from {described.get('url')}"
            + (f" table {described['table']}" if "table" in described else ""),
            file=str(path),
            hint="give each source its own store",
        )
    old_query = state.get("query", before.get("jql"))
    if old_query is not None and old_query != source.query_text():
        findings.note(
            f"the query changed since the last pull (it was '{old_query}'); requests only the "
            "old query found stay in the store unless you pull with --prune"
        )


def _since_mark(since: str | None, watermark: str | None) -> pd.Timestamp | None:
    """From when to ask: ``since`` (UTC) if given, else the high-water mark less
    :data:`LOOKBACK`, else None (a first pull: everything)."""
    if since is not None:
        try:
            stamp = pd.Timestamp(since)
        except (ValueError, TypeError):
            stamp = pd.NaT
        if pd.isna(stamp):
            raise ConfigError(
                f"'{since}' is not a date", column="--since", hint="write it as YYYY-MM-DD"
            )
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return pd.Timestamp(watermark) - LOOKBACK if watermark else None
