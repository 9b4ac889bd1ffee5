"""write_requests: canonical rows saved as CSV, gzipped CSV or Parquet, atomically.

CSV text is what ``DataFrame.to_csv(index=False, date_format=ISO_UTC)`` writes,
byte for byte, but made by Arrow: each column is turned into its text once,
vectorised (:func:`_arrow_text`), and ``pyarrow.csv.write_csv`` joins the lines.
A frame Arrow cannot write that way (a cell that would need quotes, a column
type it does not know) is written by pandas itself.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ..errors import OutputError
from ..storage import atomic_write

__all__ = ["ISO_UTC", "WRITERS", "write_requests"]

#: ISO 8601 UTC with a "Z", to the second (e.g. 2025-01-02T09:14:05Z).
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
#: zlib level of .csv.gz files: gzip's own default (level 9 took 5x as long for 6 % less).
GZIP_LEVEL = 6


def _timestamp_text(s: pd.Series) -> Any:
    """UTC (or naive) timestamps whole to the second as ISO_UTC text; None otherwise."""
    import pyarrow as pa

    tz = getattr(s.dtype, "tz", None)
    if tz is not None and str(tz) != "UTC":
        return None
    first, last = s.min(), s.max()
    if not pd.isna(first) and not (first.year >= 1000 and last.year <= 9999):
        return None  # pandas writes such years in another width
    try:  # a safe cast refuses to drop fractions of a second
        seconds = pa.array(s, from_pandas=True).cast(pa.timestamp("s"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    import pyarrow.compute as pc

    text = pc.utf8_replace_slice(seconds.cast(pa.string()), 10, 11, "T")  # "2025-01-02 09:.."
    return pc.binary_join_element_wise(text, "Z", "")


def _column_text(s: pd.Series) -> Any:
    """One column as the text pandas' to_csv writes for it (an Arrow string array, null
    where the cell stays empty), or None for a type this does not know."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = s.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _timestamp_text(s)
    if pd.api.types.is_bool_dtype(dtype):
        return pc.if_else(pa.array(s, from_pandas=True), "True", "False")
    if pd.api.types.is_float_dtype(dtype) and not isinstance(
        dtype, pd.api.extensions.ExtensionDtype
    ):
        values = s.to_numpy()
        # the numbers as pandas writes them: numpy's shortest round-trip repr
        return pa.array(values.astype(str), mask=np.isnan(values), type=pa.string())
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(s, from_pandas=True).cast(pa.string())
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        try:
            arr = pa.array(s, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None  # e.g. numbers and text in one object column
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None
    return None


def _arrow_text(df: pd.DataFrame) -> Any:
    """The frame's columns as text in an Arrow table, or None if one cannot be."""
    import pyarrow as pa

    if len(df.columns) < 2 or not df.columns.is_unique:
        return None  # one column: an empty cell is a quoted "" line in pandas' CSV
    columns = [_column_text(df.iloc[:, i]) for i in range(len(df.columns))]
    if any(c is None for c in columns):
        return None
    return pa.table(columns, names=[str(c) for c in df.columns])


def _write_csv_text(df: pd.DataFrame, fh: IO[bytes]) -> None:
    """Write ``df.to_csv(index=False, date_format=ISO_UTC, lineterminator="\\n")`` to ``fh``
    as UTF-8: the lines made by Arrow where it can, else by pandas."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = _arrow_text(df)
    if table is not None:
        body = io.BytesIO()
        # no quoting at all: a cell that would need quotes makes Arrow refuse the table
        options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)
        try:
            pacsv.write_csv(table, body, write_options=options)
        except pa.ArrowInvalid:
            pass
        else:
            fh.write(df.head(0).to_csv(index=False, lineterminator="\n").encode("utf-8"))
            fh.write(body.getbuffer())
            return
    fh.write(df.to_csv(index=False, date_format=ISO_UTC, lineterminator="\n").encode("utf-8"))


def _csv_bytes(df: pd.DataFrame) -> bytes:
    """The CSV text of ``df`` as UTF-8 bytes (see :func:`_write_csv_text`)."""
    out = io.BytesIO()
    _write_csv_text(df, out)
    return out.getvalue()


def _write_csv(df: pd.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(fh: IO[bytes]) -> None:
        _write_csv_text(df, fh)

    return write


def _write_gzip_csv(df: pd.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(fh: IO[bytes]) -> None:
        # mtime=0 and no file name: the same frame always gives the same bytes
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=GZIP_LEVEL
        ) as gz:
            _write_csv_text(df, gz)

    return write


def _write_parquet(df: pd.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(fh: IO[bytes]) -> None:
        df.to_parquet(fh, index=False)

    return write


#: Writers by file-name suffix: each returns what storage.atomic_write writes.
WRITERS: dict[str, Callable[[pd.DataFrame], bytes | Callable[[IO[bytes]], None]]] = {
    ".csv": _write_csv,
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
