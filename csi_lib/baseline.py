"""Baseline snapshots: "where are we now?" frozen into an immutable folder.

A snapshot is a folder holding

- ``manifest.json``: the period, the KPI values (``null`` = missing), the source
  (password redacted) and its fingerprint, the mapping, the row counts, the library
  version, when it was taken, and the SHA-256 of every other file;
- ``kpis.parquet`` (kpi, value, n, label, unit, better, kind, decimals);
- ``series_month.parquet`` and ``series_week.parquet`` (period_start, period_end,
  kpi, value, n);
- ``breakdowns.parquet`` (dimension, group, kpi, value, n; small groups hidden).

:meth:`Snapshot.save` writes everything into a temporary folder beside the target
and renames it into place, so a crash leaves nothing half-written; it refuses a
folder that exists and is not empty. :func:`load_snapshot` re-hashes every file
and refuses one whose content changed.

Examples
--------
>>> result = csi.load(csi.SAMPLE_DATA)     # a LoadResult (here: the sample, 2025-01 to 2026-03)
>>> snap = create_snapshot(result.data, period, source=result.source,
...                        fingerprint=result.fingerprint, mapping=result.mapping,
...                        rows={"read": result.rows_read, "kept": result.rows_kept},
...                        kpis=["received", "fulfil_median_h"])
>>> folder = snap.save(tmp / "baseline")
>>> sorted(p.name for p in folder.iterdir())
['breakdowns.parquet', 'kpis.parquet', 'manifest.json', 'series_month.parquet', 'series_week.parquet']
>>> print(load_snapshot(folder).kpi_values["fulfil_median_h"].round(1))   # hours
27.6
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .errors import OutputError, SnapshotError
from .kpis import KPI, _resolve_kpis, breakdown, kpi_series, kpi_table
from .periods import Period
from .schema import DIMENSION_COLUMNS
from .sources import redact_url as redact  # one redaction for every source text
from .storage import atomic_path, atomic_write, sha256_file

__all__ = [
    "Snapshot",
    "create_snapshot",
    "load_snapshot",
    "row_counts",
    "redact",
    "MANIFEST",
    "TABLES",
]

#: Name of the manifest file.
MANIFEST = "manifest.json"
#: Manifest key holding the SHA-256 of the manifest's own other keys (hand edits of the
#: period or KPI values in manifest.json are detected on load, like those of the tables).
MANIFEST_HASH = "manifest_sha256"
#: The tables of a snapshot: attribute name -> file name.
TABLES: dict[str, str] = {
    "kpis": "kpis.parquet",
    "series_month": "series_month.parquet",
    "series_week": "series_week.parquet",
    "breakdowns": "breakdowns.parquet",
}
_IMMUTABLE = "snapshots are immutable: choose another --out"


def _json_safe(value: Any) -> Any:
    """Plain JSON types: NaN -> None, pydantic models dumped, paths and timestamps as text."""
    if hasattr(value, "model_dump"):
        return _json_safe(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, str | int | bool) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    return str(value)


@dataclass
class Snapshot:
    """An immutable baseline: a manifest plus four tidy tables.

    Attributes
    ----------
    manifest:
        period, kpis (key -> value or None), source, fingerprint, mapping, rows,
        by, min_group_size, hidden_groups, library_version, created_at and, once
        saved or loaded, files (file name -> sha256).
    kpis:
        One row per KPI: kpi, value, n, label, unit, better, kind, decimals.
    series_month, series_week:
        :func:`csi_lib.kpis.kpi_series` over the period.
    breakdowns:
        Long table: dimension, group, kpi, value, n.
    """

    manifest: dict[str, Any]
    kpis: pd.DataFrame
    series_month: pd.DataFrame
    series_week: pd.DataFrame
    breakdowns: pd.DataFrame
    path: Path | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        from .displays import snapshot_repr

        return snapshot_repr(self)

    def _repr_html_(self) -> str:
        """In a notebook: the period and source in a sentence, the KPI values in a table."""
        from .displays import snapshot_html

        return snapshot_html(self)

    @property
    def period(self) -> Period:
        """The baseline period."""
        return Period.from_dict(self.manifest["period"])

    @property
    def kpi_values(self) -> pd.Series:
        """KPI values (index: KPI key, name ``value``; NaN = missing)."""
        return pd.Series(
            self.kpis["value"].to_numpy(dtype="float64"),
            index=pd.Index(self.kpis["kpi"].astype(str), name="kpi"),
            name="value",
        )

    def save(self, directory: str | Path) -> Path:
        """Write the snapshot into ``directory`` (which must not exist, or be empty).

        The files are written into a temporary folder beside ``directory`` and the
        folder is renamed into place at the end: a crash leaves nothing half-written.

        Raises
        ------
        SnapshotError
            ``directory`` exists and is not empty (snapshots are immutable).
        OutputError
            The folder cannot be written (read-only, disk full).
        """
        directory = Path(directory)
        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise SnapshotError(
                "a snapshot (or other files) exists there already; " + _IMMUTABLE,
                file=str(directory),
                hint="pick a new folder for the new baseline; the old one stays as it was",
            )
        try:
            directory.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp",
                                        dir=directory.parent))  # fmt: skip
        except OSError as exc:
            raise OutputError(
                f"the snapshot folder cannot be created ({exc.strerror})",
                file=str(directory),
                hint="choose a writable --out folder",
            ) from exc
        try:
            files: dict[str, str] = {}
            for attr, name in TABLES.items():
                with atomic_path(tmp / name) as part:
                    getattr(self, attr).to_parquet(part, index=False)
                files[name] = sha256_file(tmp / name)
            manifest = _json_safe({**self.manifest, "files": files})
            manifest.pop(MANIFEST_HASH, None)
            manifest[MANIFEST_HASH] = _manifest_digest(manifest)
            text = json.dumps(manifest, indent=2, allow_nan=False)
            atomic_write(tmp / MANIFEST, text + "\n")
            os.chmod(tmp, 0o755)
            os.rename(tmp, directory)  # replaces an empty folder, never a full one
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise SnapshotError(
                    "files appeared in the folder while the snapshot was written; " + _IMMUTABLE,
                    file=str(directory),
                ) from exc
            raise OutputError(
                f"the snapshot cannot be written ({exc.strerror})",
                file=str(directory),
                hint="check free space and permissions, or choose another --out folder",
            ) from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        self.manifest = manifest
        self.path = directory
        return directory


def row_counts(load: Any) -> dict[str, int]:
    """The row counts a snapshot records, from a :class:`csi_lib.sources.LoadResult`."""
    return {"read": load.rows_read, "kept": load.rows_kept, "quarantined": load.rows_quarantined}


def create_snapshot(
    df: pd.DataFrame,
    period: Period,
    *,
    source: str,
    fingerprint: str,
    mapping: Mapping[str, Any] | Any,
    rows: Mapping[str, int],
    by: str | Iterable[str] | None = None,
    kpis: str | KPI | Iterable[str | KPI] | None = None,
    min_group_size: int = 5,
) -> Snapshot:
    """Compute a baseline snapshot of ``df`` over ``period`` (not yet saved).

    Parameters
    ----------
    df:
        Canonical request frame (``LoadResult.data``).
    period:
        The baseline period.
    source:
        Where the data came from (a password in it is redacted).
    fingerprint:
        SHA-256 of the source bytes (``LoadResult.fingerprint``).
    mapping:
        The mapping used (a dict or the pydantic ``Mapping``).
    rows:
        Row counts, e.g. ``{"read": 1200, "kept": 1190, "quarantined": 10}``.
    by:
        Breakdown dimensions; default: the canonical dimensions that have data.
    kpis:
        KPI keys; default: the whole catalogue.
    min_group_size:
        Groups with fewer requests received in the period are hidden in breakdowns.

    Returns
    -------
    Snapshot
        Values, monthly and weekly series (hours, %, counts per KPI unit), breakdowns.
    """
    chosen = _resolve_kpis(kpis)
    keys = [k.key for k in chosen]
    if by is None:
        dims = [d for d in DIMENSION_COLUMNS if d in df.columns and df[d].notna().any()]
    else:
        dims = [by] if isinstance(by, str) else list(by)

    table = kpi_table(df, period, kpis=chosen)
    meta = pd.DataFrame(
        {
            "kpi": keys,
            "label": [k.label for k in chosen],
            "unit": [k.unit for k in chosen],
            "better": [k.better for k in chosen],
            "kind": [k.kind for k in chosen],
            "decimals": [k.decimals for k in chosen],
        }
    )
    values = table.merge(meta, on="kpi", how="left")
    series_month = kpi_series(df, period, freq="month", kpis=chosen)
    series_week = kpi_series(df, period, freq="week", kpis=chosen)

    parts, hidden = [], {}
    for dim in dims:
        b = breakdown(df, period, by=dim, kpis=chosen, min_group_size=min_group_size)
        hidden[dim] = int(b.attrs.get("hidden_groups", 0))
        parts.append(
            pd.DataFrame(
                {
                    "dimension": dim,
                    "group": b[dim].astype(str).to_numpy(),
                    "kpi": b["kpi"].to_numpy(),
                    "value": b["value"].to_numpy(),
                    "n": b["n"].to_numpy(),
                }
            )
        )
    columns = {"dimension": "str", "group": "str", "kpi": "str", "value": "float64", "n": "int64"}
    breakdowns = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(columns))
    ).astype(columns)

    manifest: dict[str, Any] = {
        "format": 1,
        "period": period.to_dict(),
        "kpis": {k: (None if pd.isna(v) else float(v)) for k, v in zip(table["kpi"], table["value"], strict=True)},
        "source": redact(source),
        "fingerprint": fingerprint,
        "mapping": _json_safe(mapping),
        "rows": _json_safe(dict(rows)),
        "by": dims,
        "min_group_size": min_group_size,
        "hidden_groups": hidden,
        "library_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    return Snapshot(manifest, values, series_month, series_week, breakdowns)


def _manifest_digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest without :data:`MANIFEST_HASH` (canonical JSON, sorted keys)."""
    body = {k: v for k, v in manifest.items() if k != MANIFEST_HASH}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_manifest(manifest: dict[str, Any], kpis: pd.DataFrame, path: Path) -> None:
    """The manifest's own digest (its seal) and its KPI values against kpis.parquet:
    a hand edit of manifest.json is a SnapshotError, and so is a manifest without its
    seal (removing it would otherwise switch the check off)."""
    if MANIFEST_HASH not in manifest:
        raise SnapshotError(
            f"the manifest has no seal ('{MANIFEST_HASH}'), so a change to it cannot be "
            "detected and the snapshot cannot be verified",
            file=str(path),
            hint="re-create the snapshot: csi baseline DATA --from ... --to ... --out NEW_FOLDER "
            "(the same data and period give the same values), or restore it from a backup",
        )
    edited = manifest[MANIFEST_HASH] != _manifest_digest(manifest)
    listed = manifest.get("kpis")
    if not edited and isinstance(listed, dict):
        table = dict(zip(kpis["kpi"].astype(str), kpis["value"].astype("float64"), strict=True))
        for key, value in listed.items():
            stored = table.get(key, math.nan)
            given = math.nan if value is None else float(value)
            if not (given == stored or (math.isnan(given) and math.isnan(stored))):
                edited = True
                break
    if edited:
        raise SnapshotError(
            "its content changed since the snapshot was taken (edited by hand? "
            "snapshots are immutable)",
            file=str(path),
            hint="restore the folder from a backup or take a new baseline into another folder",
        )


def load_snapshot(directory: str | Path) -> Snapshot:
    """Read a saved snapshot, checking every file against its SHA-256 in the manifest.

    Raises
    ------
    SnapshotError
        No snapshot there, a file missing, or a file whose content changed
        (edited by hand? snapshots are immutable).

    Examples
    --------
    >>> load_snapshot(sample_cycle / "baseline").period.label   # data/sample-cycle/baseline
    '2025-01-01 to 2025-06-30'
    """
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise SnapshotError(
            "this is not a baseline snapshot (no manifest.json)",
            file=str(directory),
            hint="give the folder that `csi baseline` wrote",
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(
            f"the manifest is not valid JSON ({exc}); edited by hand? snapshots are immutable",
            file=str(manifest_path),
            hint="restore the folder from a backup or take a new baseline into another folder",
        ) from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not set(TABLES.values()) <= set(files):
        raise SnapshotError(
            "the manifest does not list the snapshot's files; edited by hand? snapshots are immutable",
            file=str(manifest_path),
            hint="restore the folder from a backup or take a new baseline into another folder",
        )
    for name, digest in files.items():
        path = directory / name
        if not path.is_file():
            raise SnapshotError(
                "this file of the snapshot is missing",
                file=str(path),
                hint="restore the folder from a backup or take a new baseline into another folder",
            )
        if sha256_file(path) != digest:
            raise SnapshotError(
                "its content changed since the snapshot was taken (edited by hand? "
                "snapshots are immutable)",
                file=str(path),
                hint="restore the folder from a backup or take a new baseline into another folder",
            )
    tables = {attr: pd.read_parquet(directory / name) for attr, name in TABLES.items()}
    _check_manifest(manifest, tables["kpis"], manifest_path)
    return Snapshot(manifest=manifest, path=directory, **tables)


# csi.baseline(...) calls csi_lib.api.baseline (see csi_lib._callable)
from ._callable import make_callable  # noqa: E402

make_callable(__name__)
