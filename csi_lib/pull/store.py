"""The pull store: a Parquet file with one row per request (the latest version wins) whose
metadata keeps the source, the high-water mark and an audit of every pull; written
atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..storage import atomic_path

#: Parquet metadata key of the store's state (source, high-water mark, audit).
META_KEY = b"csi_pull"


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
    order = pd.to_datetime(merged[updated], utc=True, errors="coerce")
    merged = merged.iloc[order.argsort(kind="stable")]  # latest version last
    merged = merged.drop_duplicates(key, keep="last").reset_index(drop=True)
    merged = merged.astype("object").where(merged.notna(), None).astype("string")
    high = pd.to_datetime(fresh[updated], utc=True, errors="coerce").max()
    known = [pd.Timestamp(watermark)] if watermark else []
    return merged, n_new, n_updated, max(x for x in (high, *known) if not pd.isna(x))
