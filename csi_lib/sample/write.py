"""write_requests: canonical rows saved as CSV, gzipped CSV or Parquet, atomically."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pandas as pd

from ..errors import OutputError
from ..storage import atomic_write

__all__ = ["ISO_UTC", "WRITERS", "write_requests"]
#: ISO 8601 UTC with a "Z", to the second (e.g. 2025-01-02T09:14:05Z).
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def _csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, date_format=ISO_UTC, lineterminator="\n").encode("utf-8")


def _write_gzip_csv(df: pd.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(fh: IO[bytes]) -> None:
        # mtime=0 and no file name: the same frame always gives the same bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
            gz.write(_csv_bytes(df))

    return write


def _write_parquet(df: pd.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(fh: IO[bytes]) -> None:
        df.to_parquet(fh, index=False)

    return write


#: Writers by file-name suffix: each returns what storage.atomic_write writes.
WRITERS: dict[str, Callable[[pd.DataFrame], bytes | Callable[[IO[bytes]], None]]] = {
    ".csv": _csv_bytes,
    ".csv.gz": _write_gzip_csv,
    ".parquet": _write_parquet,
}


def write_requests(df: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Save request rows as CSV, gzipped CSV or Parquet, chosen by the file's suffix.

    Timestamps in CSV are ISO 8601 UTC (``2025-01-02T09:14:05Z``). The write
    is atomic (:func:`csi_lib.storage.atomic_write`) and refuses to replace an
    existing file unless ``overwrite=True``. Gzipped output is byte-for-byte
    reproducible (no time stamp in the gzip header).

    Parameters
    ----------
    df:
        Rows to save, usually from :func:`generate_requests`.
    path:
        Target file: ``.csv``, ``.csv.gz`` or ``.parquet``.
    overwrite:
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> from csi_lib.sample import generate_requests
    >>> write_requests(generate_requests(rows=100), tmp / "requests.csv.gz").name
    'requests.csv.gz'
    """
    path = Path(path)
    name = path.name.lower()
    suffix = next((s for s in sorted(WRITERS, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise OutputError(
            "the file type is not supported",
            file=str(path),
            hint="end the file name with " + ", ".join(WRITERS),
        )
    if path.exists() and not overwrite:
        raise OutputError(
            "it exists already and is not overwritten",
            file=str(path),
            hint="choose another output path or remove the old file yourself",
        )
    return atomic_write(path, WRITERS[suffix](df), overwrite=overwrite)
