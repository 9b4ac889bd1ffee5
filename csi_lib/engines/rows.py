"""A cycle's requests loaded through an engine: the load of :func:`csi_lib.sources.load_requests`
(the same canonical frame, quarantine, counts and warnings) with the mapping and the
validation run where the data lives.

A report's stages need each request's values (stage 5 compares them), so the kept rows
come back to the report; what the engine does is everything before: the mapping file as
its view (:func:`~csi_lib.engines.view.canonical_view`), every check of validation, the
repeated ids (exact copies collapse into the first; an id given with different values is
refused in every row), and the order of the source's rows. Only the rows it refuses are
read again, as the source holds them, and given their reasons by the pandas loader's own
validation (:func:`csi_lib.sources.blocks._validate_piece`), so the quarantine file holds
the same reasons, columns and cells as a load of the same file by the pandas engine. A row
the engine refuses and that validation would keep is an error that says so, never a row
lost silently. An event log (``events:``) is read by the engine and folded by the pandas
loader (:func:`_event_log`).

Examples
--------
>>> res = load_rows("requests.parquet", engine="spark")        # doctest: +SKIP
>>> res.rows_read, res.rows_kept, res.quarantined_by_reason()  # doctest: +SKIP
(40000, 39990, {'csat out of range 1..5': 10})
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, CsiError
from ..schema import DATETIME_COLUMNS, validate
from ..sources.result import LoadResult
from .dialects import CONTROL


def load_rows(
    source: str | Path,
    *,
    engine: str = "spark",
    master: str | None = None,
    preset: str | None = None,
    mapping: Any = None,
    query: str | None = None,
    quarantine_dir: str | Path | None = None,
    spark: Any = None,
) -> LoadResult:
    """Load ``source`` through ``engine`` into what :func:`csi_lib.sources.load_requests`
    returns for it.

    Parameters
    ----------
    source:
        Spark: a Parquet file or folder (its files one after the other in the order of
        their names), or a table of the session's catalogue (or give the table as
        ``query``).
    engine:
        ``spark`` (``pandas`` is :func:`csi_lib.sources.load_requests` itself).
    master:
        Spark's master URL (default ``CSI_SPARK_MASTER`` or ``local[*]``), for a session
        csi starts.
    spark:
        The Spark session to read in (default the process's:
        :func:`csi_lib.engines.spark_session`); it has csi's settings only while the
        load runs, and keeps no view of csi's after it.
    preset, mapping:
        The mapping, as for :func:`~csi_lib.sources.load_requests` (neither: ``generic``).
    quarantine_dir:
        Where the quarantine file is written, if rows are refused.

    Raises
    ------
    ConfigError
        An engine this function does not load through.
    InputError
        The source cannot be read, or a column the mapping needs is not in it.
    """
    from ..sources import load_mapping
    from ..sources.mapping import FUTURE_TOLERANCE
    from ..sources.sql import redact_url
    from . import spark_session
    from .backends import connect
    from .spark import drop_views, spark_settings

    if engine != "spark":
        raise ConfigError(
            f"a cycle's data is not loaded through the {engine} engine",
            column="engine",
            hint="use engine: spark, or leave engine out (pandas)",
        )
    m = load_mapping(preset=preset or (None if mapping else "generic"), mapping=mapping)
    label = redact_url(str(source)) if Path(str(source)).exists() or not query else query
    now = pd.Timestamp.now(tz="UTC") + FUTURE_TOLERANCE
    session = spark if spark is not None else spark_session(master)
    with spark_settings(session):
        backend, raw = connect(engine, str(source), query=query, sheet=None, mapping=m,
                               label=label, row_order=True, spark=session)  # fmt: skip
        try:
            return _load(backend, raw, m, label, now, source, query, quarantine_dir)
        finally:
            drop_views(backend)  # the rows are the report's now: the session's memory is freed


def _load(backend: Any, raw: Any, m: Any, label: str, now: pd.Timestamp, source: str | Path,
          query: str | None, quarantine_dir: str | Path | None) -> LoadResult:  # fmt: skip
    """:func:`load_rows` once the source is open in Spark (``raw``, with its row order)."""
    from ..sources.convert import _columns_used
    from ..sources.loading import _source_stem, _write_quarantine, load_warnings
    from ..sources.plan import _adjusted_values, _plan
    from .dialects import Dialect
    from .spark import cached_view
    from .view import ROW, canonical_view, check_text_dates

    plan = _plan(m, [c for c in raw.columns if c != ROW], label, ())
    stem = _source_stem(str(source) if Path(str(source)).exists() else (query or str(source)),
                        None, False)  # fmt: skip
    if m.events is not None:
        return _event_log(backend, raw, plan, m, label, now, source, stem, quarantine_dir)
    texts = [c for c in plan.used() if raw[c].type().is_string()]
    control = _control(backend, raw, texts)
    # text without control characters, as the pandas loader reads it (counted above)
    clean = raw.mutate(**{c: raw[c].re_replace(CONTROL, "") for c in control})
    view = canonical_view(clean, m, dialect=Dialect("pyspark"), label=label, row=True)
    check_text_dates(backend, view, label, m)
    # computed once and kept in the session's memory while the load reads it (dropped at
    # the load's end by load_rows)
    table = cached_view(backend, view.table, "rows")
    split = _split(backend, raw, table)
    data = _kept_frame(backend, table, split["kept"], label)
    quarantine, collapsed, blank, stats = _quarantine(
        backend, raw, split["refused"], plan, m, label, now, source
    )
    data = _with_categories(data, split["categories"])
    stats = _whole_stats(backend, view, table, raw, plan, m, control, stats)
    warnings = load_warnings(plan, m, None, stats)  # the pandas loader's, in its order
    return LoadResult(
        data=data,
        quarantine=quarantine,
        source=label,
        mapping=m,
        fingerprint=_fingerprint(source, data),
        rows_read=split["rows_read"],
        rows_kept=len(data),
        rows_quarantined=len(quarantine),
        quarantine_path=_write_quarantine(quarantine, quarantine_dir, stem),
        warnings=warnings,
        rows_deduplicated=split["rows_read"] - split["formed"],
        rows_collapsed=split["collapsed"] + collapsed,
        rows_blank=blank,
        columns_used=_columns_used(plan, m),
        adjusted_values=_adjusted_values(stats.values()),
    )


def _event_log(
    backend: Any,
    raw: Any,
    plan: Any,
    m: Any,
    label: str,
    now: Any,
    source: Any,
    stem: str,
    quarantine_dir: str | Path | None,
) -> LoadResult:
    """An event log (``events:``): the engine reads the columns the mapping uses, in the
    source's order, and the pandas loader folds the events of each request and validates
    them (:func:`csi_lib.sources.loading.read_frame`), so the requests, the quarantine, the
    counts and the warnings are those of a load of the same file. The fold of ``csi kpis``
    runs in the engine (:func:`csi_lib.engines.view.canonical_view`); a report needs each
    request's history here, which its events are."""
    from ..sources.loading import load_result, read_frame
    from .view import ROW

    used = plan.used()
    values, rows = _as_read(backend, raw.select(*used, ROW), raw, used, source)
    order = np.argsort(rows, kind="stable")  # the source's order (Spark's sort is a shuffle)
    values = values.iloc[order].reset_index(drop=True)
    read = read_frame(values, m, label, (), now, warnings=[], fingerprint="")
    res = load_result(read, m, label, stem, quarantine_dir)
    res.fingerprint = _fingerprint(source, res.data)
    return res


#: The columns of a formed request that are not its values.
_NOT_VALUES = ("_bad", *(f"_out_{c}" for c in DATETIME_COLUMNS))


def _split(backend: Any, raw: Any, t: Any) -> dict[str, Any]:
    """The formed requests of ``t`` (the view with ``_bad`` and each request's source row)
    as :func:`csi_lib.schema.validate` splits them: ``kept`` and ``refused`` (Ibis tables),
    ``collapsed`` (exact copies of an earlier row of the same id, neither kept nor
    refused), ``formed`` and ``rows_read`` (counts), ``categories`` (each text column's
    values over every formed request, as a load's categories are)."""
    import ibis

    from .view import ROW

    values = [c for c in t.columns if c not in (ROW, *_NOT_VALUES)]
    texts = [c for c in values if t[c].type().is_string() and c not in ("request_id", "outcome")]
    aggs = {"n": t.count(), "ids": t.request_id.count(), "d": t.request_id.nunique()}
    # each text column's values over every formed request, in the same query
    aggs.update({f"c{i}": t[c].collect(distinct=True) for i, c in enumerate(texts)})
    got = backend.execute(t.aggregate(**aggs))
    formed, ids, distinct = (int(got[c].iloc[0]) for c in ("n", "ids", "d"))
    categories = {c: sorted(got[f"c{i}"].iloc[0]) for i, c in enumerate(texts)}
    if ids == distinct:
        kept, refused, collapsed = t.filter(~t._bad), t.filter(t._bad), 0
    else:
        # an exact copy of an earlier row of its id collapses into it (a missing id never)
        first = ibis.row_number().over(ibis.window(group_by=[t[c] for c in values],
                                                   order_by=t[ROW]))  # fmt: skip
        marked = t.mutate(_csi_copy=(first > 0) & t.request_id.notnull())
        rest = marked.filter(~marked._csi_copy)
        counts = rest.filter(rest.request_id.notnull()).group_by(_csi_id=rest.request_id)
        repeated = counts.aggregate(_csi_n=ibis._.count()).filter(ibis._._csi_n > 1)
        joined = rest.left_join(repeated, rest.request_id == repeated._csi_id)
        flagged = joined.mutate(_csi_refused=joined._bad | joined._csi_n.notnull())
        kept = flagged.filter(~flagged._csi_refused)
        refused = flagged.filter(flagged._csi_refused)
        n = backend.execute(marked.aggregate(c=marked._csi_copy.cast("int64").sum()))
        collapsed = int(n["c"].iloc[0] or 0)
    rows_read = int(backend.execute(raw.aggregate(n=raw.count()))["n"].iloc[0])
    return {"kept": kept, "refused": refused.select(ROW), "collapsed": collapsed,
            "formed": formed, "rows_read": rows_read, "categories": categories}  # fmt: skip


def _kept_frame(backend: Any, t: Any, kept: Any, label: str) -> pd.DataFrame:
    """The kept requests as the canonical frame, in the source's order (typed by
    :func:`csi_lib.schema.validate`, as a load types them; every row passes it)."""
    import pyarrow.compute as pc

    from ..sources.readers import _nullable_types
    from .view import ROW

    columns = [c for c in t.columns if c not in (ROW, *_NOT_VALUES)]
    # in the source's order: sorted here (Spark's sort of every row is a shuffle)
    table = _arrow(backend, kept.select(*columns, ROW))
    table = table.take(pc.sort_indices(table.column(ROW)))
    frame = table.to_pandas(types_mapper=_nullable_types().get)
    rows = frame.pop(ROW).to_numpy(dtype="int64") + 1
    checked = validate(frame.assign(source_row=rows), source=label)
    if len(checked.quarantine):
        first = checked.quarantine.iloc[0]
        raise CsiError(
            f"the engine kept row {int(first['source_row']):,}, which validation refuses "
            f"({first['reason']}): the engine and the pandas loader disagree",
            file=label,
            row=int(first["source_row"]),
            hint="load this data without engine: in cycle.yaml (the pandas engine), and "
            "report the difference",
        )
    return checked.data


def _with_categories(data: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    """The text columns of ``data`` as categoricals of their values over every formed
    request (a load's categories include the values of refused rows)."""
    for c, values in categories.items():
        if c in data.columns and isinstance(data[c].dtype, pd.CategoricalDtype):
            have = data[c].cat.categories
            if list(have) != values:
                data[c] = data[c].cat.set_categories(pd.Index(values, dtype=have.dtype))
    return data


def _quarantine(
    backend: Any, raw: Any, refused: Any, plan: Any, m: Any, label: str, now: Any, source: Any
) -> tuple[pd.DataFrame, int, int, dict[str, Any]]:
    """(quarantine, rows collapsed, blank rows, the cleaning's statistics) of the refused
    rows: read again as the source holds them (only the columns the mapping reads) and
    validated by the pandas loader's own functions, which give each row its reasons."""
    from ..sources.blocks import _validate_piece
    from ..sources.convert import _blank_rows, _clean_text
    from .view import ROW

    used = plan.used()
    cells = raw.semi_join(refused, raw[ROW] == refused[ROW]).select(*used, ROW).order_by(ROW)
    values, rows = _as_read(backend, cells, raw, used, source)
    stats: dict[str, Any] = {}
    work = _clean_text(values, set(m.na_values), stats)
    blank = _blank_rows(work)
    values, work, rows = values[~blank], work[~blank], rows[~blank]
    values, work = values.reset_index(drop=True), work.reset_index(drop=True)
    piece = _validate_piece(values, work, pd.Series(rows, dtype="int64"), rows, plan, m, label,
                            stats, now)  # fmt: skip
    if len(piece.data):
        row = int(piece.rows[0])
        raise CsiError(
            f"the engine refused row {row:,}, which validation keeps: the engine and the "
            "pandas loader disagree",
            file=label,
            row=row,
            hint="load this data without engine: in cycle.yaml (the pandas engine), and "
            "report the difference",
        )
    return piece.quarantine, piece.collapsed, int(blank.sum()), stats


def _as_read(
    backend: Any, cells: Any, raw: Any, used: list[str], source: Any
) -> tuple[pd.DataFrame, np.ndarray]:
    """The refused rows' cells as the pandas reader gives them for the source (typed as a
    Parquet file's columns are: :func:`csi_lib.sources.readers._frame_typed`, numbers
    written whole where the whole column is), and their 1-based source rows."""
    import pyarrow as pa

    from ..sources.readers import _frame_typed, _nullable_types
    from .view import ROW

    table = _arrow(backend, cells)
    rows = table.column(ROW).to_numpy().astype("int64") + 1
    table = table.drop_columns([ROW])
    stored = _stored_schema(source)
    if stored is not None:  # the file's own types (Spark reads nanoseconds as micro-)
        columns = []
        for c in used:
            typ = stored.field(c).type if c in stored.names else table.schema.field(c).type
            columns.append(pa.nulls(table.num_rows, typ) if pa.types.is_null(typ)
                           else table.column(c).cast(typ))  # fmt: skip
        table = pa.table(columns, names=used)
    frame = table.to_pandas(types_mapper=_nullable_types().get)
    typed = _frame_typed(frame, [""])
    # a float column is written whole where every value of the source's column is whole
    floats = [c for c in used if raw[c].type().is_floating()]
    whole = _whole_columns(backend, raw, floats) if floats else {}
    for c in floats:
        typed[c] = frame[c].astype("Int64" if whole[c] else "float64")
    return typed.reset_index(drop=True), rows


def _arrow(backend: Any, expr: Any) -> Any:
    """Spark: the rows of an Ibis expression as an Arrow table (Spark's own Arrow transfer),
    compiled by the session's own compiler (:func:`.backends._spark_compiler`)."""
    return backend._session.sql(backend.compile(expr)).toArrow()


def _stored_schema(source: Any) -> Any:
    """The Arrow schema of a Parquet source (its first file), or None."""
    import pyarrow.parquet as pq

    path = Path(str(source))
    if path.is_file():
        return pq.read_schema(path)
    if path.is_dir():
        from .backends import parquet_files

        files = parquet_files(path)
        return pq.read_schema(files[0]) if files else None
    return None


def _whole_columns(backend: Any, raw: Any, columns: list[str]) -> dict[str, bool]:
    """Whether every value of each float column of the source is a whole number."""
    aggs = {f"w{i}": (raw[c].notnull() & (raw[c] != raw[c].floor())).cast("int64").sum()
            for i, c in enumerate(columns)}  # fmt: skip
    got = backend.execute(raw.aggregate(**aggs))
    return {c: not int(got[f"w{i}"].iloc[0] or 0) for i, c in enumerate(columns)}


def _fingerprint(source: Any, data: pd.DataFrame) -> str:
    """SHA-256 of the source's bytes: a file's (as a load's), a folder's files' in the order
    of their names; a table's canonical rows."""
    from ..storage import sha256_file

    path = Path(str(source))
    if path.is_file():
        return sha256_file(path)
    h = hashlib.sha256()
    if path.is_dir():
        from .backends import parquet_files

        for f in parquet_files(path):
            h.update(str(f.relative_to(path)).encode() + b"\0" + sha256_file(f).encode())
        return h.hexdigest()
    h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _control(backend: Any, raw: Any, texts: list[str]) -> dict[str, tuple[int, str]]:
    """Text columns of the source holding control characters: column -> (values holding
    them, the first of them in the source's order), as the pandas loader counts them."""
    from .view import ROW

    if not texts:
        return {}
    aggs = {}
    for i, c in enumerate(texts):
        has = raw[c].re_search(CONTROL).fill_null(False)
        aggs[f"n{i}"] = has.cast("int64").sum()
        aggs[f"e{i}"] = raw[c].argmin(raw[ROW], where=has)
    got = backend.execute(raw.aggregate(**aggs))
    return {c: (int(got[f"n{i}"].iloc[0]), str(got[f"e{i}"].iloc[0]))
            for i, c in enumerate(texts) if int(got[f"n{i}"].iloc[0] or 0)}  # fmt: skip


def _whole_stats(
    backend: Any,
    view: Any,
    table: Any,
    raw: Any,
    plan: Any,
    m: Any,
    control: dict[str, tuple[int, str]],
    refused: dict[str, Any],
) -> dict[str, Any]:
    """The load's statistics of every formed request (what its warnings and adjusted values
    say), in the order the pandas loader gathers them: from the engine, the values that
    held control characters, the dates given per column, the optional dates outside
    DATE_RANGE read as missing, the outcomes ``outcome.other`` decided and the yes/no values
    read as unknown; from the refused rows (``refused``: their statistics), the dates that
    could not be read, which refuse their row."""
    import ibis

    from ..schema import CLOSED_OUTCOMES
    from ..sources.plan import _DateStats, _lookup
    from .view import ROW, _booleans, _text

    out: dict[str, Any] = {}
    for c, (n, example) in control.items():
        out[f"text:{c}"] = _DateStats(column=c, canon=c, control=n, control_example=example)
    read = view.read
    dates = [(canon, col) for canon, col in plan.columns.items() if canon in DATETIME_COLUMNS]
    aggs: dict[str, Any] = {}
    for i, (_, col) in enumerate(dates):
        aggs[f"g{i}"] = _text(read[col], m.na_values).count()
    closed = table.outcome.isin(list(CLOSED_OUTCOMES)).fill_null(False)
    optional = [(i, canon) for i, (canon, _) in enumerate(dates) if canon != "opened_at"]
    for i, canon in optional:
        outside = table[f"_out_{canon}"] & (~closed if canon == "closed_at" else ibis.literal(True))
        aggs[f"o{i}"] = outside.cast("int64").sum()
        aggs[f"x{i}"] = table[ROW].argmin(table[ROW], where=outside)
    got = backend.execute(read.aggregate(**{k: v for k, v in aggs.items() if k[0] == "g"}))
    far = backend.execute(table.aggregate(**{k: v for k, v in aggs.items() if k[0] != "g"}))
    for i, (canon, col) in enumerate(dates):
        st = refused.get(canon) or _DateStats(column=col, canon=canon)
        st.given = int(got[f"g{i}"].iloc[0])
        if canon != "opened_at":
            st.out_of_range = int(far[f"o{i}"].iloc[0] or 0)
            if st.out_of_range:
                at = int(far[f"x{i}"].iloc[0])
                cell = backend.execute(raw.filter(raw[ROW] == at).select(v=_text(raw[col], [])))
                st.out_of_range_example = str(cell["v"].iloc[0])
            else:
                st.out_of_range_example = None
        out[canon] = st
    spec = m.outcome
    if plan.outcome and spec is not None and spec.other is not None:
        text = _text(read[plan.outcome], m.na_values)
        listed = sorted(_lookup(spec.values))
        unlisted = read.filter(text.notnull() & ~text.lower().isin(listed))
        counts = _value_counts(backend, unlisted, _text(unlisted[plan.outcome], m.na_values))
        if counts:
            out["outcome"] = _DateStats(column=plan.outcome, canon="outcome", unrecognised=counts)
    if plan.sla_met and not read[plan.sla_met].type().is_boolean():
        text = _text(read[plan.sla_met], m.na_values)
        unknown = read.filter(text.notnull() & _booleans(read[plan.sla_met], m).isnull())
        counts = _value_counts(backend, unknown, _text(unknown[plan.sla_met], m.na_values))
        if counts:
            out["sla_met"] = _DateStats(column=plan.sla_met, canon="sla_met", unrecognised=counts)
    return out


def _value_counts(backend: Any, t: Any, value: Any) -> dict[str, int]:
    """{value: rows} of ``value`` over ``t``."""
    import ibis

    got = backend.execute(t.select(v=value).group_by("v").aggregate(n=ibis._.count()))
    return {str(v): int(n) for v, n in zip(got["v"], got["n"], strict=True)}
