"""The pull store: a Parquet file with one row per request (the latest version wins) whose
metadata keeps the source, the high-water mark and an audit of every pull; written
atomically, by one pull at a time (a lock beside it)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError, CsiError, OutputError
from ..storage import atomic_path
from .findings import QUARANTINE_COLUMNS, Findings

#: Parquet metadata key of the store's state (source, high-water mark, audit).
META_KEY = b"csi_pull"
#: The store's layout: 2 keeps ServiceNow values with their display text in ``dv_``
#: columns, and Jira's status category key and closing date.
STORE_FORMAT = 2
#: The audit's columns, one row per pull.
HISTORY_COLUMNS = ["at", "since", "received", "new", "updated", "removed", "quarantined", "total"]


class StoreBusy(CsiError):
    """Another pull holds the lock of this store."""


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
    removed: int = 0
    quarantined: int = 0
    quarantine_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        """What the pull did, in one sentence.

        Examples
        --------
        >>> PullResult(Path("s.parquet"), "2025-03-01T06:00:00+00:00", None, 5, 5, 0, 5).sentence()
        '5 record(s), all records (first pull): 5 new, 0 updated; the store s.parquet holds 5 requests'
        """
        since = f"updated since {self.since}" if self.since else "all records (first pull)"
        text = f"{self.received:,} record(s), {since}: {self.new:,} new, {self.updated:,} updated"
        if self.removed:
            text += f", {self.removed:,} removed (no longer at the source)"
        text += f"; the store {self.store} holds {self.total:,} requests"
        if self.quarantined:
            text += (
                f". {self.quarantined:,} malformed record(s) were left out, with their reasons "
                f"in {self.quarantine_path}"
            )
        return text


def read_store(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The store's requests and its state (``source``, ``watermark``, ``pulls``).

    A store that does not exist yet is empty.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        return pd.DataFrame(), {"pulls": []}
    if not path.is_file():
        raise ConfigError(
            "the store is not a regular file",
            file=str(path),
            hint="give the path of a Parquet file (created by the first pull)",
        )
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
    try:
        state = json.loads(raw)
    except ValueError:
        state = None
    if not isinstance(state, dict):
        raise ConfigError(
            "the store's pull history cannot be read",
            file=str(path),
            hint="give another --store, or move the damaged file away",
        )
    return table.to_pandas(), state


def pull_history(path: str | Path) -> pd.DataFrame:
    """The audit of every pull into the store: one row per pull, oldest first."""
    _, state = read_store(path)
    pulls = [p for p in state.get("pulls", []) if isinstance(p, dict)]
    return pd.DataFrame(pulls, columns=HISTORY_COLUMNS)


@contextlib.contextmanager
def store_lock(path: Path) -> Iterator[None]:
    """Hold the store's lock (``.<name>.lock`` beside it) for one pull; exit 3 if another
    pull holds it."""
    from filelock import FileLock, Timeout

    lock_path = path.parent / f".{path.name}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_path), timeout=0)
        lock.acquire()
    except Timeout:
        raise StoreBusy(
            "another pull into this store is in progress",
            file=str(path),
            hint=f"wait for it to finish; remove {lock_path.name} only if no pull is alive",
            exit_code=3,
        ) from None
    except OSError as exc:
        raise OutputError(
            f"the store's folder is not writable ({exc.strerror})",
            file=str(path.parent),
            hint="choose a writable folder for the store",
        ) from None
    try:
        yield
    finally:
        lock.release()


def _write_store(path: Path, frame: pd.DataFrame, state: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[META_KEY] = json.dumps(state).encode("utf-8")
    table = table.replace_schema_metadata(meta)
    with atomic_path(path, overwrite=True) as tmp:
        pq.write_table(table, tmp)


def _write_quarantine(path: Path, findings: Findings, at: dt.datetime) -> Path | None:
    """The malformed records beside the store (``quarantine-<store>-pull-<time>.csv``)."""
    if not findings.rows:
        return None
    stamp = at.strftime("%Y%m%dT%H%M%SZ")
    target = path.parent / f"quarantine-{path.stem}-pull-{stamp}.csv"
    n = 1
    while target.exists():
        n += 1
        target = path.parent / f"quarantine-{path.stem}-pull-{stamp}-{n}.csv"
    with atomic_path(target) as tmp:
        pd.DataFrame(findings.rows, columns=QUARANTINE_COLUMNS).to_csv(tmp, index=False)
    return target


def _count_changes(old: pd.DataFrame, fresh: pd.DataFrame, key: str) -> tuple[int, int]:
    """(new requests, requests already in the store whose record changed)."""
    latest = fresh.drop_duplicates(key, keep="last").set_index(key)
    if old.empty or key not in old.columns:
        return len(latest), 0
    stored = old.drop_duplicates(key, keep="last").set_index(key)
    known = latest.index.isin(stored.index)
    keys = latest.index[known]
    columns = latest.columns.intersection(stored.columns)
    a = latest.loc[keys, columns].astype("string")
    b = stored.loc[keys, columns].astype("string")
    same = ((a == b) | (a.isna() & b.isna())).all(axis=1)
    extra = latest.columns.difference(stored.columns)
    if len(extra):  # a column the store did not have yet, filled now: changed
        same &= latest.loc[keys, extra].isna().all(axis=1)
    return int((~known).sum()), int((~same).sum())


def _merge(
    old: pd.DataFrame, fresh: pd.DataFrame, key: str, updated: str, watermark: str | None
) -> tuple[pd.DataFrame, int, int, Any]:
    """The store with the fresh records merged in (latest version of each request wins),
    the counts of new and updated requests, and the new high-water mark."""
    if not len(fresh):
        return old, 0, 0, watermark
    fresh = fresh.astype("object").where(fresh.notna(), None)
    n_new, n_updated = _count_changes(old, fresh, key)
    merged = pd.concat([old, fresh], ignore_index=True) if len(old) else fresh
    order = pd.to_datetime(merged[updated], utc=True, errors="coerce", format="mixed")
    merged = merged.iloc[order.argsort(kind="stable")]  # latest version last
    merged = merged.drop_duplicates(key, keep="last").reset_index(drop=True)
    merged = merged.astype("object").where(merged.notna(), None).astype("string")
    high = pd.to_datetime(fresh[updated], utc=True, errors="coerce", format="mixed").max()
    known = [pd.Timestamp(watermark)] if watermark else []
    marks = [x for x in (high, *known) if not pd.isna(x)]
    return merged, n_new, n_updated, max(marks) if marks else watermark
