"""A load stored on disk: the canonical frame, its quarantine and its counts.

:func:`save` writes what a load gave into a folder, :func:`read` reads it back:

- ``requests.arrow``: the canonical frame as an uncompressed Arrow IPC file (Feather v2),
  which each reader memory-maps;
- ``quarantine.arrow``: the quarantined rows;
- ``load.json``: the load's counts, warnings and fingerprint (never a database URL's
  password: the load only knows the URL with it hidden).

Two users: a report run (:meth:`csi_lib.run.Run.save` keeps the run's frame, cut at
as-of, for every stage kernel, which gets the folder as its ``run_dir`` parameter), and
the opt-in cache of ``csi kpis`` (:func:`cached_load`): with ``--cache DIR`` (or
``CSI_CACHE_DIR``) the validated load of an export is kept in ``DIR/<key>/``, where the
key is a hash of the file's bytes (SHA-256: a copy, a touch or a move still hits; any
edit misses), the mapping's contents, the sheet and kept columns and the library
version, and a second call reads it instead of parsing the export.

The stages of a run also share what they compute once (:func:`shared`): stage 5's
evidence, read again by stage 6, and each target's measurements, one JSON file per
question (the data's fingerprint and mapping, the KPI, scope, periods and method) in a
folder of the run's, so a result is only ever reused for the very same question.

Examples
--------
>>> folder = save(res, tmp / ".run")     # res: a LoadResult, here the sample's 40,000 requests
>>> sorted(p.name for p in folder.iterdir())
['load.json', 'quarantine.arrow', 'requests.arrow']
>>> read(folder).rows_kept
40000
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .storage import atomic_write

if TYPE_CHECKING:
    from .sources import LoadResult, Mapping

__all__ = [
    "CACHE_ENV",
    "save",
    "read",
    "data_key",
    "shared",
    "cached_load",
]

#: Environment variable naming the cache folder of ``csi kpis`` (as ``--cache``).
CACHE_ENV = "CSI_CACHE_DIR"
FRAME_FILE = "requests.arrow"
QUARANTINE_FILE = "quarantine.arrow"
META_FILE = "load.json"
EVIDENCE_DIR = "evidence"
#: Folder of a run's stored measurements of each target (values and series).
MEASURED_DIR = "measured"


def _write_arrow(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # quarantine values of mixed types: kept as their text
        text = {
            c: frame[c].astype("str") if frame[c].dtype == object else frame[c]
            for c in frame.columns
        }
        table = pa.Table.from_pandas(pd.DataFrame(text), preserve_index=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    feather.write_feather(table, tmp, compression="uncompressed")
    os.replace(tmp, path)


def _read_arrow(path: Path) -> pd.DataFrame:
    import pyarrow.feather as feather

    table = feather.read_table(path, memory_map=True)
    frame = table.to_pandas()
    del table
    return frame


def save(result: LoadResult, folder: str | Path, *, key: str | None = None) -> Path:
    """Write ``result`` (frame, quarantine, summary) into ``folder`` (``key``: what the
    cache of :func:`cached_load` knows it by)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_arrow(result.data, folder / FRAME_FILE)
    _write_arrow(result.quarantine, folder / QUARANTINE_FILE)
    fields = {}
    for f in dataclasses.fields(result):
        if f.name in ("data", "quarantine", "mapping"):
            continue
        value = getattr(result, f.name)
        if dataclasses.is_dataclass(value):
            value = dataclasses.asdict(value)
        elif isinstance(value, Path):
            value = str(value)
        fields[f.name] = value
    meta = {"key": key, "result": fields}
    atomic_write(folder / META_FILE, json.dumps(meta, indent=1, default=str))
    return folder


def read(folder: str | Path, mapping: Mapping | None = None) -> LoadResult:
    """The stored load of ``folder`` (``mapping``: the :class:`Mapping` it was loaded with)."""
    from .sources import LoadResult, load_mapping

    folder = Path(folder)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    fields = dict(meta["result"])
    if fields.get("quarantine_path"):
        fields["quarantine_path"] = Path(fields["quarantine_path"])
    if fields.get("events") is not None:
        from .events import EventCounts

        fields["events"] = EventCounts(**fields["events"])
    return LoadResult(
        data=_read_arrow(folder / FRAME_FILE),
        quarantine=_read_arrow(folder / QUARANTINE_FILE),
        mapping=mapping if mapping is not None else load_mapping(),
        **fields,
    )


# --------------------------------------------------------------------------- shared results


def _digest(parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def data_key(load: LoadResult) -> str:
    """A hash of the canonical frame a load gave: the source's fingerprint (a hash of its
    bytes, or of a query's rows), the mapping's contents and the row counts."""
    return _digest(
        {
            "fingerprint": load.fingerprint,
            "mapping": load.mapping.model_dump(mode="json"),
            "rows": [load.rows_read, load.rows_kept, load.rows_quarantined],
        }
    )


def shared(
    folder: str | Path,
    parts: dict[str, Any],
    compute: Callable[[], Any],
    encode: Callable[[Any], Any],
    decode: Callable[[Any], Any],
    *,
    kind: str = EVIDENCE_DIR,
) -> Any:
    """The result stored in the run folder ``folder`` for the question ``parts``, else
    ``compute()`` (then stored, as the JSON ``encode`` makes of it, in ``folder/kind``, for
    the stages after this one).

    ``parts`` names the question completely (``data_key``, KPI, scope, periods, method):
    its hash is the file name, so a result is never reused for other data, periods or
    targets.
    """
    path = Path(folder) / kind / f"{_digest(parts)}.json"
    try:
        return decode(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        pass  # not stored yet (or unreadable): computed below
    result = compute()
    try:
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, json.dumps(encode(result), default=_plain), overwrite=True)
    except OSError:
        pass  # the run folder is gone or read-only: the next stage computes it again
    return result


def _plain(value: Any) -> Any:
    """A numpy number as a Python one; NaN as null."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and value != value else value


# --------------------------------------------------------------------------- csi kpis cache


def _cache_key(content: str, mapping: Mapping, keep: tuple[str, ...], sheet: Any) -> str:
    from . import __version__

    return _digest(
        {
            "bytes": content,
            "mapping": mapping.model_dump(mode="json"),
            "keep": sorted(keep),
            "sheet": sheet,
            "version": __version__,
            "format": 1,
        }
    )


def _time_dependent(result: LoadResult) -> bool:
    """Rows were quarantined for lying in the future: a later call may keep them."""
    from .schema import REASON_FUTURE

    reasons = result.quarantine.get("reason")
    return reasons is not None and bool(reasons.astype("str").str.contains(REASON_FUTURE).any())


def _write_quarantine(result: LoadResult, source: str, quarantine_dir: str | Path | None) -> None:
    """The quarantine file a fresh load would write (a cached load writes it again)."""
    from .safe import neutralise_csv_frame
    from .sources.loading import _quarantine_file, _source_stem

    result.quarantine_path = None
    if quarantine_dir is None or not len(result.quarantine):
        return
    path = _quarantine_file(Path(quarantine_dir), _source_stem(source, None, False))
    text = neutralise_csv_frame(result.quarantine).to_csv(index=False)
    result.quarantine_path = atomic_write(path, text)


def cached_load(
    source: str | Path,
    cache_dir: str | Path,
    *,
    preset: str | None = None,
    mapping: str | Path | Mapping | None = None,
    keep: tuple[str, ...] = (),
    sheet: str | int | None = None,
    quarantine_dir: str | Path | None = None,
) -> LoadResult:
    """:func:`csi_lib.sources.load_requests` of a file through a cache folder.

    The first call loads and validates the export and writes its load (canonical frame,
    quarantine, counts and warnings) into ``cache_dir/<key>/``; a later call with the same
    file contents, mapping and options reads it back instead (the quarantine file, if any,
    is written again as a fresh load would). A load with rows quarantined for lying in the
    future is not cached (a later call may keep them); a database source is never cached.

    Examples
    --------
    >>> res = cached_load("tests/fixtures/exports/servicenow.csv", tmp, preset="servicenow")
    >>> again = cached_load("tests/fixtures/exports/servicenow.csv", tmp, preset="servicenow")
    >>> again.rows_kept == res.rows_kept, len(list(tmp.iterdir()))
    (True, 1)
    """
    from .sources import ENV_SOURCE, load_mapping, load_requests

    text = str(source)
    load = {"preset": preset, "mapping": mapping, "keep": keep, "sheet": sheet}
    if "://" in text or text.startswith(ENV_SOURCE) or not Path(text).is_file():
        return load_requests(source, quarantine_dir=quarantine_dir, **load)
    from .storage import sha256_file

    m = load_mapping(preset=preset, mapping=mapping)
    content = sha256_file(text)
    key = _cache_key(content, m, tuple(keep), sheet)
    folder = Path(cache_dir) / key
    if (folder / META_FILE).exists():
        try:
            result = read(folder, m)
        except (OSError, ValueError, KeyError, TypeError):
            result = None  # a damaged entry: loaded again below
        if result is not None:
            result.source = text
            _write_quarantine(result, text, quarantine_dir)
            return result
    result = load_requests(source, quarantine_dir=quarantine_dir, **load)
    if _time_dependent(result) or result.fingerprint != content:  # or changed meanwhile
        return result
    tmp = Path(cache_dir) / f".{key}.{os.getpid()}.tmp"
    try:
        save(result, tmp, key=key)
        os.rename(tmp, folder)
    except OSError:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)  # written by another call meanwhile
    return result
