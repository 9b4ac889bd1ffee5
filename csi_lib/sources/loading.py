"""load_requests: any source to the canonical frame, with the quarantine written beside it."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, CsiError, InputError
from ..events import EventCounts
from ..events import Folded as _Folded
from ..safe import neutralise_csv_frame
from ..storage import atomic_write, sha256_file
from .blocks import _block_source, _concat_canonical, _load_in_blocks, _Piece, _validate_piece
from .convert import (
    _blank_rows,
    _clean_text,
    _columns_used,
    _event_warnings,
    _fold_events,
    _NotStreamable,
)
from .mapping import FUTURE_TOLERANCE, Mapping, load_mapping
from .plan import (
    _adjusted_values,
    _check_repeated_columns,
    _date_warnings,
    _DateStats,
    _dedupe,
    _Plan,
    _plan,
    plan_warnings,
)
from .readers import READERS, ReadOptions, read_table
from .result import LoadResult
from .sql import _TABLE_NAME, _read_sql, _scrub, redact_url


def _quarantine_file(folder: Path, stem: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("_") or "source"
    path = folder / f"quarantine-{stem}-{stamp}.csv"
    n = 2
    while path.exists():
        path = folder / f"quarantine-{stem}-{stamp}-{n}.csv"
        n += 1
    return path


def _source_stem(source: str, query: str | None, is_sql: bool) -> str:
    if is_sql:
        q = (query or "").strip()
        return q if _TABLE_NAME.fullmatch(q) else "sql-query"
    name = Path(source).name
    for s in sorted(READERS, key=len, reverse=True):
        if name.lower().endswith(s):
            return name[: -len(s)]
    return Path(source).stem


#: A source written ``env:NAME`` is the value of the environment variable ``NAME``: a
#: database URL with its password then appears in no file, command line or notebook.
ENV_SOURCE = "env:"


def source_from_environment(source: str) -> str:
    """The data source held by the environment variable named in ``env:NAME``.

    Raises
    ------
    ConfigError
        The variable is not set or empty.

    Examples
    --------
    >>> import os; os.environ["CSI_DOCTEST_SOURCE"] = "sqlite:///itsm.db"
    >>> source_from_environment("env:CSI_DOCTEST_SOURCE")
    'sqlite:///itsm.db'
    """
    name = source.removeprefix(ENV_SOURCE)
    value = os.environ.get(name, "")
    if not value:
        raise ConfigError(
            f"the environment variable {name} that should hold the data source is not set",
            file=source,
            hint=f"set {name} to the file or database URL to read, or give the source itself",
        )
    return value


def load_requests(
    source: str | Path,
    *,
    preset: str | None = None,
    mapping: str | Path | Mapping | dict[str, Any] | None = None,
    query: str | None = None,
    keep: Iterable[str] = (),
    quarantine_dir: str | Path | None = None,
    sheet: str | int | None = None,
) -> LoadResult:
    """Load an export (file or SQL) into the canonical frame, quarantining bad rows.

    Parameters
    ----------
    source:
        A file (.csv, .csv.gz, .zip of one CSV, .txt/.tsv, .xlsx, .parquet) or a
        SQLAlchemy URL (``sqlite:///itsm.db``, ``postgresql://user:pw@host/db``).
    preset, mapping:
        A built-in preset name (:func:`list_presets`) or a mapping YAML file; neither
        means ``generic``.
    query:
        For a URL: a SELECT statement or a table name.
    keep:
        Further source columns to keep as extra breakdown dimensions (besides the
        mapping's ``keep``). Every other unmapped column is dropped.
    quarantine_dir:
        If given and rows were rejected, they are written to
        ``quarantine-<source>-<UTC time>.csv`` in this folder (never overwriting).
    sheet:
        Workbook sheet name or 0-based number (default: the first).

    Returns
    -------
    LoadResult

    Raises
    ------
    InputError, ConfigError
        Unreadable, empty or header-only source, a mapped column absent from it,
        a bad mapping file.

    Examples
    --------
    >>> res = load_requests("tests/fixtures/exports/servicenow.csv", preset="servicenow")
    >>> res.rows_read, res.rows_kept
    (6, 5)
    """
    if isinstance(source, str) and source.startswith(ENV_SOURCE):
        source = source_from_environment(source)
    source_str = str(source)
    is_sql = isinstance(source, str) and "://" in source
    keep = tuple(keep)
    try:
        return _load(source_str, is_sql, preset, mapping, query, keep, quarantine_dir, sheet)
    except CsiError as exc:
        if not is_sql:
            raise
        # never let a password reach a message
        raise type(exc)(
            _scrub(exc.message, source_str),
            file=_scrub(str(exc.file), source_str) if exc.file is not None else None,
            column=exc.column,
            row=exc.row,
            hint=_scrub(exc.hint, source_str) if exc.hint else None,
        ) from None


@dataclass
class _Read:
    """A source read, planned and validated: the pieces of kept and quarantined rows,
    and what the load says about them."""

    pieces: list[_Piece]
    plan: _Plan
    rows_read: int
    stats: dict[str, _DateStats]
    fingerprint: str
    warnings: list[str] = field(default_factory=list)
    rows_blank: int = 0
    rows_deduplicated: int = 0
    folded: _Folded | None = None


def _read_in_blocks(
    source: str, is_sql: bool, m: Mapping, label: str, keep: tuple[str, ...], now: pd.Timestamp
) -> _Read | None:
    """A big plain delimited or Parquet file read and validated block by block
    (:mod:`.blocks`); None for any other source, or one the block reader cannot take."""
    blocks = None if is_sql else _block_source(Path(source), m)
    if blocks is None:
        return None
    try:
        pieces, plan, rows_read, stats, rows_blank = _load_in_blocks(blocks, m, label, keep, now)
        fingerprint = sha256_file(source)
    except _NotStreamable:
        return None  # the whole-file reader gives the exact error or reads it
    return _Read(pieces, plan, rows_read, stats, fingerprint, rows_blank=rows_blank)


def _read_raw(
    source: str,
    is_sql: bool,
    m: Mapping,
    label: str,
    keep: tuple[str, ...],
    query: str | None,
    sheet: str | int | None,
) -> tuple[pd.DataFrame, list[str], str]:
    """(the source's rows as text, the reader's warnings, the fingerprint)."""
    if is_sql:
        raw, fingerprint, warnings = _read_sql(source, query, [""])
        return raw, warnings, fingerprint
    # text as written (NULL stays NULL): the quarantine keeps it so; it is cleaned later
    options = ReadOptions(
        na_values=[""],
        sheet=sheet,
        # columnar files: only the mapped columns are read at all
        select=lambda names: _plan(m, names, label, keep).used(),
    )
    table = read_table(source, options)
    return table.frame, list(table.warnings), sha256_file(source)


def _plan_columns(
    columns: list[str], m: Mapping, label: str, keep: tuple[str, ...], warnings: list[str]
) -> _Plan:
    """The plan of the source's columns; a mapped column missing from the first sheet of a
    workbook of several says which sheets there are."""
    try:
        plan = _plan(m, columns, label, keep)
    except InputError as exc:
        # e.g. the first sheet of a workbook is a cover sheet: say which sheets there are
        sheets = [w for w in warnings if " sheets (" in w]
        if sheets:
            exc.hint = (f"{exc.hint}. " if exc.hint else "") + f"{sheets[0]} with --sheet"
            exc.args = (exc.render(),)
        raise
    _check_repeated_columns(columns, plan, label)
    return plan


def _drop_blank(
    values: pd.DataFrame, work: pd.DataFrame, plan: _Plan
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, int]:
    """(values, work, their 1-based source rows, rows dropped) without the empty rows (an
    event log keeps them: its fold quarantines them)."""
    work_rows = np.arange(1, len(work) + 1)
    blank = _blank_rows(work) if plan.event_time is None else None
    if blank is None or not blank.any():
        return values, work, work_rows, 0
    return (
        values[~blank].reset_index(drop=True),
        work[~blank].reset_index(drop=True),
        work_rows[~blank],
        int(blank.sum()),
    )


def _read_whole(
    source: str,
    is_sql: bool,
    m: Mapping,
    label: str,
    keep: tuple[str, ...],
    now: pd.Timestamp,
    query: str | None,
    sheet: str | int | None,
) -> _Read:
    """Any source read at once: planned, cleaned, de-duplicated or folded (event logs),
    then converted and validated as one piece."""
    raw, warnings, fingerprint = _read_raw(source, is_sql, m, label, keep, query, sheet)
    return read_frame(raw, m, label, keep, now, warnings=warnings, fingerprint=fingerprint)


def read_frame(
    raw: pd.DataFrame,
    m: Mapping,
    label: str,
    keep: tuple[str, ...],
    now: pd.Timestamp,
    *,
    warnings: list[str],
    fingerprint: str,
) -> _Read:
    """A source's rows as its reader gives them (``raw``, in the source's order), planned,
    cleaned, de-duplicated or folded, converted and validated: what a load does after
    reading (also for the rows another engine read: :mod:`csi_lib.engines.rows`)."""
    rows_read = len(raw)
    plan = _plan_columns([str(c) for c in raw.columns], m, label, keep, warnings)
    # only the mapped columns go any further (personal and free-text columns stop here);
    # ``values`` is the text as read, for the quarantine, ``work`` the cleaned text
    values = raw[plan.used()]
    del raw
    stats: dict[str, _DateStats] = {}
    values, work, work_rows, rows_blank = _drop_blank(
        values, _clean_text(values, set(m.na_values), stats), plan
    )
    source_rows = pd.Series(work_rows, dtype="int64")
    kept, derived, folded, rows_deduplicated = work, None, None, 0
    if plan.order_by is not None:
        last = _dedupe(work, plan, m)
        rows_deduplicated = int((~last).sum())
        kept = work[last].reset_index(drop=True)
        source_rows = source_rows[last].reset_index(drop=True)
    elif plan.event_time is not None:
        folded = _fold_events(work, plan, m, label, stats)
        rows_deduplicated = rows_read - len(folded.positions) - len(folded.quarantine)
        kept = work.iloc[folded.positions].reset_index(drop=True)
        source_rows, derived = folded.source_rows, folded.derived
    piece = _validate_piece(
        values, kept, source_rows, work_rows, plan, m, label, stats, now, derived
    )
    if folded is not None and len(folded.quarantine):
        piece.quarantine = (
            pd.concat([piece.quarantine, folded.quarantine], ignore_index=True)
            .sort_values("source_row", kind="stable")
            .reset_index(drop=True)
        )
    return _Read(
        [piece],
        plan,
        rows_read,
        stats,
        fingerprint,
        warnings,
        rows_blank,
        rows_deduplicated,
        folded,
    )


def _join_pieces(pieces: list[_Piece]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(canonical frame, quarantine) of all pieces, each in source-row order."""
    rows = np.concatenate([p.rows for p in pieces]) if len(pieces) > 1 else None
    frames = [p.data for p in pieces]
    for p in pieces:
        p.data = None  # type: ignore[assignment]  # the joined frame is the only copy left
    data = _concat_canonical(frames)
    del frames
    if rows is None:
        return data, pieces[0].quarantine
    if not (np.diff(rows) > 0).all():  # rows of duplicated ids were validated last
        data = data.iloc[np.argsort(rows, kind="stable")].reset_index(drop=True)
    quarantine = pd.concat([p.quarantine for p in pieces], ignore_index=True)
    return data, quarantine.sort_values("source_row", kind="stable").reset_index(drop=True)


def _write_quarantine(
    quarantine: pd.DataFrame, folder: str | Path | None, stem: str
) -> Path | None:
    """The rejected rows as ``quarantine-<stem>-<UTC time>.csv`` in ``folder`` (never
    overwriting), if there are any and a folder is given."""
    if folder is None or not len(quarantine):
        return None
    path = _quarantine_file(Path(folder), stem)
    # users open it in a spreadsheet: cells that would run as formulas are neutralised
    return atomic_write(path, neutralise_csv_frame(quarantine).to_csv(index=False))


def _load(
    source: str,
    is_sql: bool,
    preset: str | None,
    mapping: str | Path | Mapping | dict[str, Any] | None,
    query: str | None,
    keep: Iterable[str],
    quarantine_dir: str | Path | None,
    sheet: str | int | None,
) -> LoadResult:
    m = load_mapping(preset=preset, mapping=mapping)
    keep = tuple(keep)
    label = redact_url(source)
    now = pd.Timestamp.now(tz="UTC") + FUTURE_TOLERANCE
    read = _read_in_blocks(source, is_sql, m, label, keep, now) or _read_whole(
        source, is_sql, m, label, keep, now, query, sheet
    )
    return load_result(read, m, label, _source_stem(source, query, is_sql), quarantine_dir)


def load_warnings(
    plan: _Plan, m: Mapping, folded: _Folded | None, stats: dict[str, _DateStats]
) -> list[str]:
    """What a load says of how it read the columns, in the loader's order: optional
    columns absent, the event log's notes, columns read twice, the dates' statistics."""
    absent, shared = plan_warnings(plan, m)
    return [*absent, *_event_warnings(plan, m, folded), *shared,
            *_date_warnings(stats.values(), m)]  # fmt: skip


def load_result(
    read: _Read, m: Mapping, label: str, stem: str, quarantine_dir: str | Path | None
) -> LoadResult:
    """The :class:`LoadResult` of a source read (:func:`read_frame`): its warnings in the
    loader's order, the canonical frame, the quarantine (written to ``quarantine_dir`` as
    ``quarantine-<stem>-<UTC time>.csv``) and the counts."""
    plan, folded = read.plan, read.folded
    warnings = read.warnings + load_warnings(plan, m, folded, read.stats)
    data, quarantine = _join_pieces(read.pieces)
    return LoadResult(
        data=data,
        quarantine=quarantine,
        source=label,
        mapping=m,
        fingerprint=read.fingerprint,
        rows_read=read.rows_read,
        rows_kept=len(data),
        rows_quarantined=len(quarantine),
        quarantine_path=_write_quarantine(quarantine, quarantine_dir, stem),
        warnings=warnings,
        rows_deduplicated=read.rows_deduplicated,
        rows_collapsed=sum(p.collapsed for p in read.pieces),
        rows_blank=read.rows_blank,
        columns_used=_columns_used(plan, m),
        events=None
        if folded is None
        else EventCounts(
            events_read=read.rows_read,
            requests_formed=folded.counts.requests_formed,
            requests_quarantined=folded.counts.requests_formed - len(data),
            events_without_time=folded.counts.events_without_time,
        ),
        adjusted_values=_adjusted_values(read.stats.values()),
    )
