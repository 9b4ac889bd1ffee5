"""Big files read in blocks, so a load needs about the final frame plus one block.

Two kinds of file are read so: plain delimited text (:class:`_CsvBlocks`, pyarrow's
streaming CSV reader) and Parquet (:class:`_ParquetBlocks`, a batch of rows at a time,
typed as the whole-file reader types them). Both give the same load as reading the
whole file at once (tests compare both ways on the same data).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._startup import return_freed_memory
from ..errors import CsiError, InputError
from ..schema import (
    QUARANTINE_COLUMNS,
    validate,
    value_columns,
)
from .convert import _blank_rows, _clean_text, _convert, _NotStreamable
from .mapping import Mapping
from .plan import _check_repeated_columns, _DateStats, _Plan, _plan
from .readers import (
    _SAMPLE_BYTES,
    TextBudget,
    _frame_typed,
    _nullable_types,
    _sniff_delimiter,
)

#: Plain UTF-8 delimited files at least this big are read in blocks, so the memory a load
#: needs is about the final frame plus one block, whatever the size of the file.
STREAM_MIN_BYTES = 64 * 2**20
#: Bytes of text parsed per block when reading in blocks.
STREAM_BLOCK_BYTES = 32 * 2**20
#: Parquet files of at least this many rows are read in blocks ...
STREAM_MIN_ROWS = 2_000_000
#: ... of this many rows.
STREAM_BLOCK_ROWS = 500_000


@dataclass
class _Piece:
    """One validated piece: kept rows (with their source rows) and quarantined rows."""

    data: pd.DataFrame
    rows: np.ndarray  # source row of each kept row
    quarantine: pd.DataFrame
    collapsed: int


def _validate_piece(
    work: pd.DataFrame,
    kept: pd.DataFrame,
    source_rows: pd.Series,
    work_rows: np.ndarray,
    plan: _Plan,
    m: Mapping,
    label: str,
    stats: dict[str, _DateStats],
    now: pd.Timestamp,
    derived: dict[str, pd.Series] | None = None,
) -> _Piece:
    """Convert and validate ``kept`` (rows ``source_rows``); quarantine values come from
    ``work`` (the mapped text as read, rows ``work_rows``, ascending). ``derived``
    columns (already typed, one value per row of ``kept``) are taken as they are."""
    frame, unparseable, outside = _convert(kept, source_rows, plan, m, label, stats)
    for canon, values in (derived or {}).items():
        frame[canon] = values.array
    validated = validate(
        frame, source=label, unparseable=unparseable, now=now, out_of_range=outside
    )
    q = validated.quarantine[list(QUARANTINE_COLUMNS)]
    positions = np.searchsorted(work_rows, q["source_row"].to_numpy())
    values = work.iloc[positions].reset_index(drop=True)
    quarantine = pd.concat([q, value_columns(values)], axis=1)
    # the source row of each kept request (a collapsed id sits at its first row)
    return _Piece(validated.data, validated.rows, quarantine, validated.collapsed)


def _concat_canonical(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """Canonical frames of several pieces as one; category columns get the union of
    categories, sorted as a one-piece load sorts them."""
    if len(pieces) == 1:
        return pieces[0]
    out = {}
    for col in list(pieces[0].columns):
        parts = [p.pop(col) for p in pieces]  # each piece's column is freed once joined
        if isinstance(parts[0].dtype, pd.CategoricalDtype) and col != "outcome":
            cats = sorted(set().union(*(set(s.cat.categories) for s in parts)))
            if cats:
                dtype = next(s.cat.categories.dtype for s in parts if len(s.cat.categories))
                parts = [s.cat.set_categories(pd.Index(cats, dtype=dtype)) for s in parts]
        out[col] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(out)


def _stream_delimiter(path: Path, m: Mapping) -> str | None:
    """The delimiter if ``path`` is read in blocks: a big plain UTF-8 delimited file
    (not an event log to de-duplicate); else None."""
    name = path.name.lower()
    if m.dedupe is not None or m.events is not None or not name.endswith((".csv", ".txt", ".tsv")):
        return None
    try:
        if not path.is_file() or path.stat().st_size < STREAM_MIN_BYTES:
            return None
        with open(path, "rb") as fh:
            sample = fh.read(_SAMPLE_BYTES)
    except OSError:
        return None
    if not sample.strip() or sample.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in sample:
        return None
    try:
        sample[: len(sample) - 4].decode("utf-8")
    except UnicodeDecodeError:
        return None
    default = "\t" if ".tsv" in name else ","
    return _sniff_delimiter(sample.decode("utf-8", errors="ignore"), default)


def _duplicated_ids(source: str, read: Any, parse: Any, column: str, na: set[str]):
    """(rows, ids given more than once) of a big file, counted in Arrow block by block."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(
        include_columns=[column], column_types={column: pa.string()}, strings_can_be_null=False
    )
    missing = pa.array(sorted(na | {""}), type=pa.string())
    chunks = []
    rows = 0
    try:
        with pacsv.open_csv(
            source, read_options=read, parse_options=parse, convert_options=convert
        ) as reader:
            for batch in reader:
                ids = pc.utf8_trim_whitespace(batch.column(0))
                rows += len(ids)
                chunks.append(ids.filter(pc.invert(pc.is_in(ids, value_set=missing))))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _NotStreamable from exc
    if not chunks:
        return rows, pd.Index([], dtype="str")
    counts = pc.value_counts(pa.chunked_array(chunks, type=pa.string()))
    dup = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    return rows, pd.Index(dup.to_pylist(), dtype="str")


def _header_names(source: str, parse: Any) -> tuple[list[str], list[str]]:
    """(the header's cells as written, the same stripped of spaces and a BOM): read from a
    small block, the reader freed at once."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        head = pacsv.open_csv(
            source, read_options=pacsv.ReadOptions(block_size=1 << 20), parse_options=parse
        )
        raw_names = list(head.schema.names)
        head.close()
        del head
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise _NotStreamable from exc
    return _header(raw_names)


def _header(raw_names: list[str]) -> tuple[list[str], list[str]]:
    """(the header's cells as written, the same stripped of spaces and a BOM); a quarantine
    file loaded again is not read in blocks (the whole-file reader restores it)."""
    names = [n.strip().lstrip("\ufeff") for n in raw_names]
    if names[: len(QUARANTINE_COLUMNS)] == list(QUARANTINE_COLUMNS):
        raise _NotStreamable
    return raw_names, names


def _text_blocks(
    source: str,
    read: Any,
    parse: Any,
    raw_of: dict[str, str],
    columns: list[str],
    na: set[str],
    stats: dict[str, _DateStats],
):
    """(text as read, cleaned text) of ``columns``, one block of the file at a time."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(
        include_columns=[raw_of[c] for c in columns],
        column_types={raw_of[c]: pa.string() for c in columns},
        null_values=[""],  # else text as written: the quarantine keeps it so
        strings_can_be_null=True,
    )
    try:
        with pacsv.open_csv(
            source, read_options=read, parse_options=parse, convert_options=convert
        ) as reader:
            for batch in reader:
                piece = batch.to_pandas()  # columns in include_columns order
                piece.columns = columns
                del batch
                yield piece, _clean_text(piece, na, stats)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _NotStreamable from exc


_Rows = tuple[pd.DataFrame, pd.DataFrame, np.ndarray]  # (text as read, cleaned text, source rows)


def _without(rows: _Rows, drop: np.ndarray) -> _Rows:
    values, work, numbers = rows
    return (
        values[~drop].reset_index(drop=True),
        work[~drop].reset_index(drop=True),
        numbers[~drop],
    )


def _only(rows: _Rows, take: np.ndarray) -> _Rows:
    values, work, numbers = rows
    return values[take].reset_index(drop=True), work[take].reset_index(drop=True), numbers[take]


class _CsvBlocks:
    """A big plain delimited file, read with pyarrow's streaming CSV reader."""

    def __init__(self, source: str, sep: str) -> None:
        import pyarrow.csv as pacsv

        self.source = source
        self.read = pacsv.ReadOptions(block_size=STREAM_BLOCK_BYTES, encoding="utf8")
        self.parse = pacsv.ParseOptions(delimiter=sep)

    def header(self) -> tuple[list[str], list[str]]:
        """(the header's cells as written, the same stripped of spaces and a BOM)."""
        return _header_names(self.source, self.parse)

    def ids(self, column: str, na: set[str]) -> tuple[int, pd.Index]:
        """(rows, ids given more than once) of the id ``column`` (raw name)."""
        return _duplicated_ids(self.source, self.read, self.parse, column, na)

    def blocks(
        self,
        raw_of: dict[str, str],
        columns: list[str],
        na: set[str],
        stats: dict[str, _DateStats],
    ):
        """(values as read, cleaned) of ``columns``, one block at a time."""
        return _text_blocks(self.source, self.read, self.parse, raw_of, columns, na, stats)


class _ParquetBlocks:
    """A big Parquet file, read a batch of rows at a time: only the mapped columns, each
    typed as the whole-file reader types it (:func:`.readers._frame_typed`)."""

    def __init__(self, source: str, file: Any) -> None:
        self.source, self.file = source, file

    @classmethod
    def open(cls, path: Path) -> _ParquetBlocks | None:
        """The block reader of ``path`` if it has :data:`STREAM_MIN_ROWS` rows or more."""
        import pyarrow.parquet as pq

        try:
            file = pq.ParquetFile(path)
        except Exception:  # damaged or not Parquet: the whole-file reader words the error
            return None
        if file.metadata.num_rows < STREAM_MIN_ROWS:
            return None
        return cls(str(path), file)

    def header(self) -> tuple[list[str], list[str]]:
        return _header(list(self.file.schema_arrow.names))

    def _batches(self, columns: list[str]):
        """The batches of ``columns``, their text counted (:class:`.readers.TextBudget`)."""
        budget = TextBudget(Path(self.source))
        try:
            for batch in self.file.iter_batches(batch_size=STREAM_BLOCK_ROWS, columns=columns):
                yield budget.add(batch)
        except CsiError:
            raise
        except Exception as exc:  # a damaged file: the whole-file reader words the error
            raise _NotStreamable from exc

    def ids(self, column: str, na: set[str]) -> tuple[int, pd.Index]:
        """(rows, ids given more than once), as the blocks give them (text stripped)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        missing = pa.array(sorted(na | {""}), type=pa.string())
        chunks = []
        rows = 0
        for batch in self._batches([column]):
            rows += batch.num_rows
            ids = batch.column(0)
            if pa.types.is_dictionary(ids.type):
                ids = ids.cast(ids.type.value_type)
            if pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type):
                ids = pc.utf8_trim_whitespace(ids.cast(pa.string()))
                ids = ids.filter(pc.invert(pc.is_in(ids, value_set=missing)))
            elif not (pa.types.is_integer(ids.type) or pa.types.is_floating(ids.type)):
                raise _NotStreamable  # ids of another type: the whole-file reader reads them
            chunks.append(ids.drop_null())
        ids = pa.chunked_array(chunks).combine_chunks() if chunks else pa.array([])
        if len(ids) < 2:
            return rows, pd.Index([])
        # sorted, equal neighbours: several times faster than counting with a hash table
        ordered = ids.take(pc.array_sort_indices(ids))
        same = pc.equal(ordered[1:], ordered[:-1])
        return rows, pd.Index(pc.unique(ordered[1:].filter(same)).to_pylist())

    def blocks(
        self,
        raw_of: dict[str, str],
        columns: list[str],
        na: set[str],
        stats: dict[str, _DateStats],
    ):
        """(values as read, cleaned) of ``columns``, one batch of rows at a time."""
        import pyarrow as pa

        raw = [raw_of[c] for c in columns]
        for batch in self._batches(raw):
            frame = pa.Table.from_batches([batch]).to_pandas(
                types_mapper=_nullable_types().get, split_blocks=True, self_destruct=True
            )
            del batch
            piece = _frame_typed(frame[raw], [""])
            piece.columns = columns
            yield piece, _clean_text(piece, na, stats)


_BlockSource = _CsvBlocks | _ParquetBlocks


def _block_source(path: Path, m: Mapping) -> _BlockSource | None:
    """How ``path`` is read in blocks: a big plain delimited or Parquet file (not an event
    log, nor a file to de-duplicate); None: it is read whole."""
    if m.dedupe is not None or m.events is not None:
        return None
    if path.name.lower().endswith((".parquet", ".pq")):
        return _ParquetBlocks.open(path) if path.is_file() else None
    sep = _stream_delimiter(path, m)
    return _CsvBlocks(str(path), sep) if sep is not None else None


def _load_in_blocks(
    blocks: _BlockSource, m: Mapping, label: str, keep: Iterable[str], now: pd.Timestamp
) -> tuple[list[_Piece], _Plan, int, dict[str, _DateStats], int]:
    """Read a big file block by block (see :func:`_block_source`).

    Returns the validated pieces, the plan, the rows read, the column statistics and
    the number of empty rows skipped.

    Two passes: the first reads only the request ids and finds the duplicated ones;
    the second converts and validates each block, setting aside the rows of duplicated
    ids, which are validated together at the end (exactly as a one-piece load would).
    """
    import pyarrow as pa

    return_freed_memory()  # the blocks' freed columns go back to the system (see _startup)
    raw_names, names = blocks.header()
    plan = _plan(m, names, label, keep)
    _check_repeated_columns(names, plan, label)
    if len(set(names)) != len(names):
        raise _NotStreamable
    raw_of = dict(zip(names, raw_names, strict=True))
    na = set(m.na_values)
    id_col = plan.columns["request_id"]
    rows_read, dup_ids = blocks.ids(raw_of[id_col], na)
    pool = pa.default_memory_pool()
    pool.release_unused()
    if rows_read == 0:
        raise InputError(
            "the file has a header row but no data rows",
            file=blocks.source,
            hint="check the export filter (it may have matched no requests)",
        )

    def validated(rows: _Rows) -> _Piece:
        values, work, numbers = rows
        return _validate_piece(
            values, work, pd.Series(numbers), numbers, plan, m, label, stats, now
        )

    stats: dict[str, _DateStats] = {}
    pieces: list[_Piece] = []
    aside: list[_Rows] = []
    offset = blank_rows = 0
    for values, work in blocks.blocks(raw_of, plan.used(), na, stats):
        rows = (values, work, np.arange(offset + 1, offset + len(work) + 1, dtype="int64"))
        offset += len(work)
        blank = _blank_rows(work)
        if blank.any():
            blank_rows += int(blank.sum())
            rows = _without(rows, blank)
        dup = rows[1][id_col].isin(dup_ids).to_numpy(dtype=bool) if len(dup_ids) else None
        if dup is not None and dup.any():
            aside.append(_only(rows, dup))
            rows = _without(rows, dup)
        if len(rows[1]):
            pieces.append(validated(rows))
        pool.release_unused()  # Arrow's allocator keeps the block's freed memory otherwise
    if aside:
        pieces.append(
            validated(
                (
                    pd.concat([v for v, _, _ in aside], ignore_index=True),
                    pd.concat([w for _, w, _ in aside], ignore_index=True),
                    np.concatenate([r for _, _, r in aside]),
                )
            )
        )
    return pieces, plan, offset, stats, blank_rows
