"""Compute where the data lives: the KPI catalogue run by DuckDB, PostgreSQL or Spark.

One definition, several engines. Each built-in KPI has its vectorised pandas function
and, next to it in :mod:`csi_lib.kpis.catalogue`, a relational definition (an Ibis
expression). Ibis compiles the populations, measures and aggregates to each engine's
SQL; the mapping file becomes the engine's view (:mod:`.view`); only the aggregates come
back (:mod:`.compute`), as the same tidy frames :mod:`csi_lib.kpis` returns.

Engines (:data:`ENGINES`):

- ``pandas``: today's engine: the export is loaded and validated into a frame.
- ``duckdb``: embedded, no server; reads Parquet in place (other files through the
  project's readers); the default for Parquet files from :data:`DUCKDB_FROM_BYTES`.
- ``postgres``: a ``postgresql://`` URL and a table, view or read-only query: computed in
  the database over a read-only connection; nothing is created there.
- ``spark``: a Spark session (``local[*]`` unless ``CSI_SPARK_MASTER`` or
  ``spark_master`` says otherwise), reading Parquet or a table of its catalogue.

Examples
--------
>>> rel = open_source("data/sample_requests.csv.gz", engine="duckdb")   # doctest: +SKIP
>>> rel.kpi_values(Period.from_dates("2025-01-01", "2025-06-30"))["received"]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError, InputError
from ..kpis.catalogue import KPI
from ..periods import Freq, Period
from ..schema import OUTCOMES

#: Engine names ``--engine`` takes (``auto`` chooses from the source).
ENGINES: tuple[str, ...] = ("auto", "pandas", "duckdb", "postgres", "spark")
#: From this size a Parquet file is computed by DuckDB when no engine is asked for
#: (measured: docs/scale.md, "Which engine").
DUCKDB_FROM_BYTES = 64 * 1024 * 1024
#: Up to this many source rows, the DuckDB engine keeps the validated rows it reads in a
#: temporary table of its own in-memory database (the columns of the built-in KPIs:
#: 649 MB at 10M requests, and the queries' own memory beside it); above, every query
#: reads the source through the view and validates it again (docs/scale.md).
MATERIALIZE_ROWS = 20_000_000
#: Rows of id hashes brought back from DuckDB at a time (8 bytes each).
ID_BATCH = 1 << 20
#: Columns of the view every KPI table reads.
KPI_COLUMNS: tuple[str, ...] = (
    "opened_at",
    "assessed_at",
    "closed_at",
    "outcome",
    "sla_due_at",
    "sla_met",
    "csat",
    "reopen_count",
)
#: Spark settings of the session this package starts (few shuffle partitions: the
#: aggregates are small; UTC session time; a timestamp is an instant, whatever a session's
#: default type (Databricks lets it be TIMESTAMP_NTZ, which no epoch function reads); a cast
#: that fails gives NULL; a text file's table handed to Spark through Arrow, not row by
#: row: four corpus files 8.8 s -> 4.7 s).
SPARK_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_LTZ",
    "spark.sql.ansi.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def is_postgres_url(source: str) -> bool:
    """True for ``postgresql://`` and ``postgres://`` URLs (with or without a driver)."""
    scheme = str(source).split("://", 1)[0].lower() if "://" in str(source) else ""
    return scheme.split("+", 1)[0] in ("postgresql", "postgres")


def choose_engine(source: str | Path, engine: str | None = None) -> str:
    """The engine for ``source``: the one asked for, else ``postgres`` for a PostgreSQL
    URL, ``duckdb`` for a Parquet file of :data:`DUCKDB_FROM_BYTES` or more or a folder of
    Parquet files (a dataset, partitioned or not, which the pandas engine does not read),
    else ``pandas``.

    Examples
    --------
    >>> choose_engine("postgresql://reader@db/itsm"), choose_engine("export.csv")
    ('postgres', 'pandas')
    """
    if engine not in (None, "auto"):
        if engine not in ENGINES:
            raise ConfigError(
                f"unknown engine '{engine}'", column="engine", hint="one of " + ", ".join(ENGINES)
            )
        if engine == "postgres" and not is_postgres_url(str(source)):
            raise ConfigError(
                "the postgres engine reads a postgresql:// URL",
                column="engine",
                hint="give DATA as postgresql://user@host/database and --query TABLE",
            )
        return engine
    text = str(source)
    if is_postgres_url(text):
        return "postgres"
    path = Path(text)
    if (
        path.suffix.lower() == ".parquet"
        and path.is_file()
        and path.stat().st_size >= DUCKDB_FROM_BYTES
    ):
        return "duckdb"
    if path.is_dir():
        from .backends import parquet_files

        if parquet_files(path):
            return "duckdb"
    return "pandas"


@dataclass
class Counts:
    """Rows of the source and what the view made of them."""

    rows_read: int
    requests_formed: int
    rows_kept: int
    #: rows empty in every column the mapping reads, skipped as the pandas loader skips them
    rows_blank: int = 0

    @property
    def rows_quarantined(self) -> int:
        return self.requests_formed - self.rows_kept


@dataclass
class Relational:
    """A source opened by a SQL engine: the canonical view and the backend that runs it.

    Its methods return what :mod:`csi_lib.kpis` returns for a frame (the same columns,
    order, small groups hidden alike); see :func:`open_source`.
    """

    engine: str
    backend: Any
    view: Any  # csi_lib.engines.view.View
    label: str
    mapping: Any
    _facts: dict[str, Any] = field(default_factory=dict)
    #: DuckDB: the temporary table of the formed requests (validated columns and
    #: ``_bad``) and the columns it holds; None while the queries read the view
    _rows: Any = None
    _row_columns: frozenset[str] = frozenset()

    @property
    def table(self) -> Any:
        """The validated requests (an Ibis table of the canonical columns)."""
        return self.view.kept

    @property
    def warnings(self) -> list[str]:
        """What the load says of the source's columns, as the pandas engine says it
        (optional columns absent, a column read for several canonical columns)."""
        return list(self.view.warnings)

    def rows(self, columns: Iterable[str] = ()) -> Any:
        """The validated requests with at least ``columns`` (and those of the built-in
        KPIs): the engine's private table of them where there is one (a column it does not
        hold yet is added by making it again), else :attr:`table`."""
        if self._rows is None:
            return self.view.kept
        wanted = set(columns) & set(self.view.table.columns)
        if not wanted <= self._row_columns:
            self._materialize(wanted | self._row_columns)
        t = self._rows
        return t.filter(~t._bad).select(*[c for c in t.columns if c not in ("_bad", "_h")])

    def _materialize(self, columns: Iterable[str], *, hash_ids: bool = False) -> Any:
        """Compute the view once into a temporary table of DuckDB's in-memory database
        (private to this connection; nothing is written to the source): every formed
        request with ``_bad``, the KPI columns and ``columns``; with ``hash_ids``, also the
        hash of each id (``_h``), returned as a table for the check of repeated ids."""
        from .view import fresh_name

        t = self.view.table
        keep = set(KPI_COLUMNS) | set(columns)
        chosen = [c for c in t.columns if c in keep and c != "_bad"]
        extra = {"_h": _id_hash(t.request_id)} if hash_ids else {}
        sql = self.backend.compile(t.select(*chosen, "_bad", **extra))
        n = self._facts.get("tables", 0) + 1
        self._facts["tables"] = n
        name = fresh_name("rows")
        old = self._rows
        # the outcome as an ENUM of the canonical values (one byte a request instead of
        # sixteen; a rejected row's other value is NULL: it is never read, being _bad)
        values = ", ".join(f"'{o}'" for o in OUTCOMES)
        enum = (f" REPLACE (CASE WHEN outcome IN ({values}) THEN CAST(outcome AS "
                f"ENUM({values})) END AS outcome)") if "outcome" in chosen else ""  # fmt: skip
        self.backend.raw_sql(f"CREATE TEMP TABLE {name} AS SELECT *{enum} FROM ({sql})")
        self._rows = self.backend.table(name)
        self._row_columns = frozenset(chosen)
        if old is not None:
            self.backend.raw_sql(f"DROP TABLE IF EXISTS {old.get_name()}")
        return self._rows.select("_h") if hash_ids else None

    def execute(self, expr: Any) -> pd.DataFrame:
        """Run an Ibis expression on the engine; a small result comes back as pandas.
        Spark: with csi's settings while it runs, the session's own after it
        (:func:`.spark.spark_settings`)."""
        from .backends import stopped_queries
        from .spark import spark_settings

        with spark_settings(self._spark), stopped_queries(self.engine, self.label):
            return self.backend.execute(expr)

    @property
    def _spark(self) -> Any:
        """The Spark session the source is read in (None for the other engines)."""
        return self.backend._session if self.engine == "spark" else None

    def csat_in_data(self, t: Any) -> bool:
        """Whether any request of ``t`` has a survey score (csat_response_rate is missing
        otherwise); one probe per table, kept."""
        key = ("csat", id(t))
        if key not in self._facts:
            # the first scored request ends the scan (a count read every request; a select
            # of t.csat.count() was a window: one row per request came back)
            got = self.execute(t.filter(t.csat.notnull()).select("csat").limit(1))
            self._facts[key] = (len(got) > 0, t)
        return self._facts[key][0]

    def counts(self) -> Counts:
        """Rows read, requests formed and kept (one query; a second counts the blank rows
        where any row is bad)."""
        if "counts" not in self._facts:
            t = self.view.table if self._rows is None else self._rows
            formed = self.execute(t.aggregate(n=t.count(), bad=t._bad.cast("int32").sum()))
            if "rows_read" not in self._facts:
                source = self.view.source
                read = self.execute(source.aggregate(n=source.count()))
                self._facts["rows_read"] = _int(read["n"].iloc[0])
            n = int(formed["n"].iloc[0])
            bad = _int(formed["bad"].iloc[0])
            blank = 0
            if bad and self.view.blank is not None:  # each blank row is a bad one
                source = self.view.source
                got = self.execute(source.aggregate(n=self.view.blank.cast("int32").sum()))
                blank = _int(got["n"].iloc[0])
            self._facts["counts"] = Counts(self._facts["rows_read"], n - blank, n - bad, blank)
        return self._facts["counts"]

    def date_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """(first opened_at, last opened_at or closed_at) of the kept requests (one query,
        kept: a command asks for the default period and for where the data ends)."""
        if "date_range" not in self._facts:
            self._facts["date_range"] = self._date_range()
        return self._facts["date_range"]

    def _date_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        t = self.rows()
        got = self.execute(t.aggregate(a=t.opened_at.min(), b=t.opened_at.max(),
                                       c=t.closed_at.max()))  # fmt: skip
        first, last_opened, last_closed = (got[c].iloc[0] for c in ("a", "b", "c"))
        values = [
            pd.Timestamp(v) for v in (last_opened, last_closed) if v is not None and not pd.isna(v)
        ]
        first = None if first is None or pd.isna(first) else pd.Timestamp(first)
        fix = [v.tz_localize("UTC") if v.tzinfo is None else v for v in values]
        if first is not None and first.tzinfo is None:
            first = first.tz_localize("UTC")
        return first, max(fix) if fix else None

    # the csi_lib.kpis API -----------------------------------------------------------
    def kpi_table(
        self,
        period: Period,
        *,
        by: str | None = None,
        freq: Freq | None = None,
        kpis: str | KPI | Iterable[str | KPI] | None = None,
        min_group_size: int | None = None,
        scope: Mapping[str, object] | None = None,
    ) -> pd.DataFrame:
        """:func:`csi_lib.kpis.kpi_table` computed by the engine."""
        from .compute import kpi_table

        return kpi_table(self, period, by=by, freq=freq, kpis=kpis,
                         min_group_size=min_group_size, scope=scope)  # fmt: skip

    def kpi_values(self, period: Period, *, kpis=None, scope=None) -> pd.Series:
        """:func:`csi_lib.kpis.kpi_values` computed by the engine."""
        table = self.kpi_table(period, kpis=kpis, scope=scope)
        return pd.Series(table["value"].to_numpy(), index=pd.Index(table["kpi"], name="kpi"),
                         name="value")  # fmt: skip

    def kpi_series(self, period: Period, *, freq: Freq = "month", by=None, kpis=None, scope=None):
        """:func:`csi_lib.kpis.kpi_series` computed by the engine."""
        return self.kpi_table(period, by=by, freq=freq, kpis=kpis, scope=scope)

    def breakdown(self, period: Period, *, by: str, kpis=None, min_group_size: int = 5, scope=None):
        """:func:`csi_lib.kpis.breakdown` computed by the engine."""
        if by is None:
            raise ConfigError("a breakdown needs a dimension", column="by")
        return self.kpi_table(period, by=by, kpis=kpis, min_group_size=min_group_size,
                              scope=scope)  # fmt: skip

    def observations(self, period: Period, kpi: str | KPI, *, scope=None) -> pd.Series:
        """:func:`csi_lib.kpis.observations` computed by the engine (values, no index)."""
        from .compute import observations

        return observations(self, period, kpi, scope=scope)

    def close(self) -> None:
        """Close the connection. Spark: the session is kept (it is the process's, or its
        owner's), the temporary views csi made in it are dropped and their cache freed."""
        if self.engine in ("duckdb", "postgres"):
            with contextlib.suppress(Exception):  # closing is best effort
                self.backend.disconnect()
        elif self.engine == "spark":
            from .spark import drop_views

            drop_views(self.backend)

    def __enter__(self) -> Relational:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(
    source: str | Path,
    *,
    engine: str | None = None,
    preset: str | None = None,
    mapping: Any = None,
    query: str | None = None,
    sheet: str | int | None = None,
    keep: Iterable[str] = (),
    spark_master: str | None = None,
    columns: Iterable[str] = (),
    spark: Any = None,
) -> Relational:
    """Open ``source`` with a SQL engine, through its mapping (preset ``generic`` by default).

    Parameters
    ----------
    source:
        A file (Parquet is read in place by DuckDB and Spark; CSV, Excel, zip through
        the project's readers), a ``postgresql://`` URL (with ``query``: a table, a view
        or a read-only SELECT), or for Spark a table name of the session's catalogue.
    engine:
        ``duckdb``, ``postgres`` or ``spark`` (``auto``/None: :func:`choose_engine`).
    spark_master:
        Spark master URL (default ``CSI_SPARK_MASTER`` or ``local[*]``), for a session
        csi starts.
    columns:
        DuckDB: columns to hold in the private table of validated rows beside those the
        built-in KPIs read (e.g. the dimension of a breakdown); others are added when a
        query asks for them.
    spark:
        The Spark session to compute in (a notebook's, a cluster's: its tables and
        temporary views can be the source); default the process's session
        (:func:`spark_session`). Its settings are csi's only while csi's queries run
        (:func:`.spark.spark_settings`); :meth:`Relational.close` drops the temporary
        views csi made in it.

    Raises
    ------
    ConfigError
        ``pandas`` asked for (use :func:`csi_lib.sources.load_requests`), or a mapping the
        view cannot read the same way (dates written otherwise than ISO 8601 without a
        ``datetime_format``).
    """
    from ..sources import load_mapping
    from ..sources.sql import redact_url
    from .backends import stopped_queries
    from .spark import spark_settings

    chosen = choose_engine(source, engine)
    if chosen == "pandas":
        raise ConfigError(
            "the pandas engine loads the data into a frame",
            hint="use csi_lib.sources.load_requests, or choose duckdb, postgres or spark",
        )
    m = load_mapping(preset=preset or (None if mapping else "generic"), mapping=mapping)
    label = redact_url(str(source))
    session = None
    if chosen == "spark":
        session = spark if spark is not None else spark_session(spark_master)
    with spark_settings(session), stopped_queries(chosen, label):
        return _open(chosen, source, m, label, query=query, sheet=sheet, keep=keep,
                     columns=columns, session=session)  # fmt: skip


def _open(chosen: str, source: str | Path, m: Any, label: str, *, query: str | None,
          sheet: str | int | None, keep: Iterable[str], columns: Iterable[str],
          session: Any) -> Relational:  # fmt: skip
    """:func:`open_source` once the engine, the mapping and the Spark session are known."""
    from .backends import connect, postgres_codec
    from .dialects import DUCKDB_CONTROL, Dialect
    from .view import (
        canonical_view,
        check_text_dates,
        clean_id_hashes,
        collapse_duplicates,
        outcome_values,
    )

    needs_order = m.events is not None or m.dedupe is not None
    backend, raw = connect(chosen, str(source), query=query, sheet=sheet, mapping=m,
                           label=label, row_order=needs_order, spark=session)  # fmt: skip
    codec = postgres_codec(backend) if chosen == "postgres" else None
    dialect = Dialect("pyspark" if chosen == "spark" else chosen, encoding=codec)
    ids = None
    if chosen == "duckdb":  # clean, distinct ids (their control characters seen too)?
        rows = _int(backend.execute(raw.aggregate(n=raw.count()))["n"].iloc[0])
        hashes = clean_id_hashes(raw, m, label)
        ids = None if hashes is None else _distinct_hashes(backend, hashes, rows, clean=True)
    raw = _without_control(backend, raw, m, label, dialect, ids_clean=ids is not None)
    outcomes = None
    if chosen == "duckdb":
        lut = outcome_values(raw, m, label, control=DUCKDB_CONTROL)
        if lut is not None:
            got = backend.execute(lut)
            if len(got) <= 200:
                outcomes = {_none(v): _none(o) for v, o in zip(got["v"], got["o"], strict=True)}
    stats = _typed_stats(backend, raw, m, label) if chosen == "duckdb" else None
    # the cheap test of an id reads ascii(), a code point in DuckDB and a UTF-8 database
    guard = chosen == "duckdb" or (chosen == "postgres" and codec is None)
    view = canonical_view(raw, m, dialect=dialect, label=label, keep=keep, guard_ids=guard,
                          ids_clean=ids is not None, outcomes=outcomes, stats=stats)  # fmt: skip
    rel = Relational(chosen, backend, view, label, m)
    check_text_dates(backend, view, label, m)
    view = _sealed(chosen, backend, view)
    rel.view = view
    if chosen == "duckdb":
        rel._facts["rows_read"] = rows
        # the validated rows once, in a private temporary table (the KPI queries then
        # read typed, narrow columns instead of validating the source again each); ids
        # found clean are not read again: their hashes were checked by then
        stored = rows <= MATERIALIZE_ROWS
        hashes = rel._materialize(columns, hash_ids=ids is None) if stored else None
        if ids is None:
            if hashes is None:
                t = view.table
                hashes = t.select(_h=_id_hash(t.request_id))
            ids = _distinct_hashes(backend, hashes, rows)
            if rel._rows is not None:
                backend.raw_sql(f"ALTER TABLE {rel._rows.get_name()} DROP COLUMN _h")
                rel._rows = backend.table(rel._rows.get_name())
        if ids:
            return rel
    t = view.table
    ids = rel.execute(t.aggregate(n=t.request_id.count(), d=t.request_id.nunique()))
    if int(ids["n"].iloc[0]) != int(ids["d"].iloc[0]):
        view = _sealed(chosen, backend, collapse_duplicates(view))
        rel.view = view
        if rel._rows is not None:
            rel._rows = None
            rel._materialize(columns)
    return rel


def _without_control(
    backend: Any, raw: Any, m: Any, label: str, d: Any, *, ids_clean: bool = False
) -> Any:
    """The source with the control characters of the text columns the mapping reads
    removed, as the pandas loader removes them (a query finds whether any row holds one,
    then which columns; only those are cleaned). DuckDB reads a text file through the
    project's readers, which remove them (:func:`.backends._text_table`: nothing is found
    here); in a Parquet file it cleans the outcome's values (:func:`.view.outcome_values`)
    and the groups (:func:`.view.canonical_view`, computed only where a breakdown reads
    them) on their own, so only its other text columns (dates, scores, flags written as
    text) are looked at here, and the ids unless ``ids_clean``: found clean, no control
    character among them (:func:`_distinct_hashes`, :func:`_has_control`)."""
    from ..schema import DIMENSION_COLUMNS
    from ..sources.plan import _plan
    from .dialects import CONTROL, DUCKDB_CONTROL
    from .view import ROW

    plan = _plan(m, [c for c in raw.columns if c != ROW], label, ())
    texts = [c for c in plan.used() if c in raw.columns and raw[c].type().is_string()]
    if d.name == "duckdb":  # the outcome and the groups are cleaned on their own
        own = {plan.columns.get(c) for c in DIMENSION_COLUMNS}
        if m.events is None:  # an event's status is also read by the fold: cleaned here
            own.add(plan.outcome)
        if ids_clean:
            own.add(plan.columns.get("request_id"))
        texts = [c for c in texts if c not in own]
    if not texts:
        return raw
    pattern = DUCKDB_CONTROL if d.name == "duckdb" else CONTROL
    # first one pattern over each row's text cells joined (a control character is one
    # character: joining makes none and hides none); PostgreSQL, 10M rows of six: 5.7 s as
    # six patterns, 3.1 s as one. Only where there is one, which columns hold it.
    joined = raw[texts[0]].fill_null("")
    if len(texts) > 1:  # Ibis' concat needs one other at least
        joined = joined.concat(*[raw[c].fill_null("") for c in texts[1:]])
    if not bool(backend.execute(raw.aggregate(c=joined.re_search(pattern).any()))["c"].iloc[0]):
        return raw
    got = backend.execute(raw.aggregate(**{f"c{i}": raw[c].re_search(pattern).any()
                                           for i, c in enumerate(texts)}))  # fmt: skip
    dirty = [c for i, c in enumerate(texts) if bool(got[f"c{i}"].iloc[0])]
    if not dirty:
        return raw
    # fenced: PostgreSQL would replace again wherever the view names a cleaned column
    return d.fence(raw.mutate(**{c: raw[c].re_replace(pattern, "") for c in dirty}))


def _typed_stats(backend: Any, raw: Any, m: Any, label: str) -> dict[str, Any]:
    """DuckDB: statistics of the typed date, score and reopen columns the mapping reads
    (from a Parquet file's own statistics; {} for other sources)."""
    from ..schema import DATETIME_COLUMNS
    from ..sources.plan import _plan
    from .backends import column_stats

    plan = _plan(m, list(raw.columns), label, ())
    names = []
    for canon in (*DATETIME_COLUMNS, "csat", "reopen_count"):
        source = plan.columns.get(canon)
        if isinstance(source, str) and source in raw.columns:
            typ = raw[source].type()
            if (typ.is_timestamp() or typ.is_numeric()) and source not in names:
                names.append(source)
    opened = plan.columns.get("opened_at")
    return column_stats(backend, names, counted=(opened,) if isinstance(opened, str) else ())


def _id_hash(col: Any) -> Any:
    """DuckDB's 64-bit hash of each id (NULL for a missing id, which is no repeat)."""
    import ibis

    from .dialects import duckdb_hash

    return ibis.ifelse(col.isnull(), ibis.null("uint64"), duckdb_hash(col))


def _distinct_hashes(backend: Any, hashes: Any, most: int, *, clean: bool = False) -> bool | None:
    """Whether the non-missing ``_h`` of ``hashes`` are all distinct (then so are the ids
    they hash; a repeated hash may be a collision: the caller counts the ids themselves).
    The hashes come back in batches into one array of ``most`` (the source's rows, which
    no count of requests exceeds; 8 bytes a row), sorted in place.

    ``clean``: the hashes and ids of :func:`.view.clean_id_hashes`, every one read: None
    (and no batch more read) at the first missing hash, an id that is not clean, or the
    first id holding a control character (:func:`_has_control`)."""
    import numpy as np
    import pyarrow as pa

    f = hashes.select("_h", "_id") if clean else hashes.filter(hashes._h.notnull()).select("_h")
    out = np.empty(max(most, 0), dtype=np.uint64)
    at = 0
    sql = backend.compile(f)
    # closed on the way out: an open result would hold the connection
    with contextlib.closing(backend.con.sql(sql).to_arrow_reader(ID_BATCH)) as reader:
        for batch in reader:
            col = batch.column(0)
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks()
            if clean and (col.null_count or _has_control(batch.column(1))):
                return None
            k = len(col)
            if at + k > len(out):  # more than the bound: let the exact count decide
                return False
            out[at : at + k] = col.to_numpy(zero_copy_only=False)
            at += k
    return _all_distinct(out[:at])


#: UTF-8 bytes that are a control character of :data:`.dialects.CONTROL` by themselves
#: (C0 but tab, line feed and carriage return; DEL)
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def _has_control(texts: Any) -> bool:
    """Whether any text of the Arrow string array ``texts`` holds a control character of
    :data:`.dialects.CONTROL`, read from its UTF-8 bytes at once (no text decoded): none
    where every byte is printable ASCII (two reductions); else a byte of
    :data:`_CONTROL_BYTES`, a C1 control (``C2 80``-``C2 9F``) or U+FFFE/U+FFFF
    (``EF BF BE``/``BF``). Valid UTF-8 starts no character within another, nor ends a text
    inside one, so the texts' bytes are read as one run.

    >>> import pyarrow as pa
    >>> _has_control(pa.array(["A1", None, "é"])), _has_control(pa.array(["A1", "B\x85"]))
    (False, True)
    """
    import numpy as np
    import pyarrow as pa

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not pa.types.is_large_string(texts.type):
        texts = texts.cast(pa.large_string())
    if len(texts) == 0:
        return False
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)
    start, end = offsets[texts.offset], offsets[texts.offset + len(texts)]
    data = texts.buffers()[2]
    b = np.frombuffer(data, dtype=np.uint8)[start:end] if data is not None else np.empty(0, "u1")
    if not len(b) or (int(b.min()) >= 0x20 and int(b.max()) < 0x7F):
        return False
    table = np.zeros(256, dtype=bool)
    table[list(_CONTROL_BYTES)] = True
    if bool(table[b].any()):
        return True
    c1 = (b[:-1] == 0xC2) & (b[1:] >= 0x80) & (b[1:] <= 0x9F)
    ff = (b[:-2] == 0xEF) & (b[1:-1] == 0xBF) & (b[2:] >= 0xBE)
    return bool(c1.any() or ff.any())


def _all_distinct(values: Any, *, chunk: int = 1 << 20) -> bool:
    """Whether the integers of ``values`` are all distinct; sorts ``values`` in place.

    The two halves are sorted at once on two threads (NumPy's sort releases the GIL), each
    checked for a repeat between neighbours, then each value of the second half looked up
    in the first (``chunk`` at a time, so the lookup holds no index as long as the data).

    >>> import numpy as np
    >>> _all_distinct(np.array([5, 3, 9, 1], dtype=np.uint64)), _all_distinct(np.array([5, 3, 5]))
    (True, False)
    """
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    half = len(values) // 2
    parts = [values[:half], values[half:]]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(np.ndarray.sort, parts))
    if any(bool((p[1:] == p[:-1]).any()) for p in parts):
        return False
    first, second = parts
    if not len(first):
        return True
    for at in range(0, len(second), chunk):
        keys = second[at : at + chunk]
        where = np.minimum(np.searchsorted(first, keys), len(first) - 1)
        if bool((first[where] == keys).any()):
            return False
    return True


def _none(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _date_sources(m: Any, raw: Any) -> list[str]:
    """Source columns the mapping reads dates from (present in ``raw``)."""
    names = [v if isinstance(v, str) else v[0] for k, v in m.columns.items()
             if k.endswith("_at")]  # fmt: skip
    if m.events is not None:
        names.append(m.events.time)
    return [c for c in raw.columns if c in names or c.casefold() in {n.casefold() for n in names}]


def _sealed(engine: str, backend: Any, view: Any) -> Any:
    """The view compiled once: its SQL becomes an opaque relation that each KPI query
    reads (DuckDB: a view of the process's own in-memory database; PostgreSQL: a subquery,
    as the connection creates nothing; Spark: a cached temporary view of the session).
    Compiling the mapping's expressions again for every query cost more than running it."""
    from .view import fresh_name

    if engine == "spark":
        return _spark_cached(backend, view)
    sql = backend.compile(view.table)
    if engine == "duckdb":
        name = fresh_name("view")
        backend.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        table = backend.table(name)
    else:
        table = backend.sql(str(sql), schema=view.table.schema())
    kept = table.filter(~table._bad).drop("_bad")
    return replace(view, table=table, kept=kept)


def _spark_cached(backend: Any, view: Any) -> Any:
    """Spark: the validated view of a source whose dates are text, computed once and kept
    in the session's memory (a cached temporary view, private to the session; nothing is
    written to the source; dropped by :meth:`Relational.close`). Catalyst would otherwise
    repeat the text parsing, in one expression too large for its code generation, in every
    query."""
    from .spark import cached_view

    table = cached_view(backend, view.table, "view")
    kept = table.filter(~table._bad).drop("_bad")
    return replace(view, table=table, kept=kept)


#: The Spark driver's logging (:func:`spark_quiet_driver`): errors only
SPARK_LOG4J2 = Path(__file__).with_name("spark-log4j2.properties")


def spark_quiet_driver(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The setting that gives the Spark driver :data:`SPARK_LOG4J2` (errors only), so that
    Spark's start-up notes ("Setting default log level to WARN", "To adjust logging level
    use sc.setLogLevel") and warnings do not fall between the lines ``csi`` writes; empty
    where the user configures the driver's logging or Java options: a ``log4j2.properties``
    or a ``spark-defaults.conf`` naming ``spark.driver.extraJavaOptions`` in
    ``SPARK_CONF_DIR`` (default ``$SPARK_HOME/conf``), or ``PYSPARK_SUBMIT_ARGS``.

    >>> spark_quiet_driver({})["spark.driver.extraJavaOptions"].startswith("-Dlog4j2.configurationFile=file:")
    True
    >>> spark_quiet_driver({"PYSPARK_SUBMIT_ARGS": "--driver-java-options -Dx=1 pyspark-shell"})
    {}
    """
    env = os.environ if environ is None else environ
    if env.get("PYSPARK_SUBMIT_ARGS"):
        return {}
    conf = env.get("SPARK_CONF_DIR") or (
        str(Path(env["SPARK_HOME"]) / "conf") if env.get("SPARK_HOME") else None
    )
    if conf is not None:
        folder = Path(conf)
        defaults = folder / "spark-defaults.conf"
        if (folder / "log4j2.properties").exists() or (
            defaults.exists()
            and "spark.driver.extraJavaOptions" in defaults.read_text(errors="replace")
        ):
            return {}
    return {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={SPARK_LOG4J2.as_uri()}"}


def spark_session(master: str | None = None) -> Any:
    """The process's Spark session: the one it has (a notebook's, a cluster's, or the one
    csi started before), as it is; else one csi starts (``local[*]`` unless ``master`` or
    ``CSI_SPARK_MASTER`` names another) with :data:`SPARK_CONF` and a driver that logs
    errors only (:func:`spark_quiet_driver`). A session csi did not start keeps its
    settings: csi's apply only while its queries run (:func:`.spark.spark_settings`)."""
    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is a dependency of the extra
        raise InputError(
            "the spark engine needs pyspark", hint="pip install 'csi-workbook[engines]'"
        ) from exc
    found = SparkSession.getActiveSession()
    if found is None and SparkContext._active_spark_context is not None:
        found = SparkSession.builder.getOrCreate()  # the default session, configured as it is
    if found is not None:
        return found
    builder = SparkSession.builder.master(
        master or os.environ.get("CSI_SPARK_MASTER") or "local[*]"
    ).appName("csi-workbook")
    for k, v in {**SPARK_CONF, **spark_quiet_driver()}.items():
        builder = builder.config(k, v)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
