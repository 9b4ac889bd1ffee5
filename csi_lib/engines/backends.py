"""Connections: an embedded DuckDB, a read-only PostgreSQL session, a Spark session; and the
source as an Ibis table of its own columns (plus its row order where a mapping needs it)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis

from ..errors import ConfigError, InputError
from .view import ROW

#: DuckDB: the view of a Parquet source's columns as stored (for :func:`column_stats`)
STATS_VIEW = "csi_source_stored"


def connect(
    engine: str,
    source: str,
    *,
    query: str | None,
    sheet: Any,
    mapping: Any,
    label: str,
    row_order: bool,
    spark: Any = None,
) -> tuple[Any, Any]:
    """(Ibis backend, the source table) for ``engine`` (``spark``: the session to read in,
    with csi's settings: :func:`.spark.spark_settings`)."""
    if engine == "duckdb":
        return _duckdb(source, sheet=sheet, mapping=mapping, label=label, row_order=row_order)
    if engine == "postgres":
        return _postgres(source, query=query, label=label, row_order=row_order)
    return _spark(source, query=query, sheet=sheet, mapping=mapping, label=label,
                  row_order=row_order, session=spark)  # fmt: skip


def _text_table(source: str, sheet: Any, mapping: Any, label: str) -> Any:
    """A text file (CSV, Excel, zip) read by the project's readers: every column as text
    (the same cells the pandas engine reads), with its row order, as Arrow."""
    import pyarrow as pa

    from ..sources.readers import ReadOptions, read_table

    # the cells as written, as the pandas loader reads them: the view strips a cell before
    # it compares it with the mapping's missing-value spellings
    raw = read_table(Path(source), ReadOptions(na_values=[""], sheet=sheet))
    frame = raw.frame.reset_index(drop=True)
    if frame.columns.duplicated().any():  # a repeated header the mapping does not read
        seen: dict[str, int] = {}
        names = []
        for c in frame.columns:
            seen[c] = seen.get(c, 0) + 1
            names.append(c if seen[c] == 1 else f"{c} ({seen[c]})")
        frame.columns = names
    # text without control characters, by the pandas loader's own cleaning
    from ..sources.convert import _without_control
    from ..sources.readers import _is_typed

    for c in [c for c in frame.columns if not _is_typed(frame[c].dtype)]:
        frame[c] = _without_control(frame[c], str(c), None)
    table = pa.Table.from_pandas(frame.astype("object").where(frame.notna(), None),
                                 preserve_index=False)  # fmt: skip
    table = table.cast(pa.schema([pa.field(c, pa.string()) for c in table.column_names]))
    return table.append_column(ROW, pa.array(range(len(frame)), type=pa.int64()))


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files of ``path``: the file itself, or a folder's ``*.parquet`` files at
    any depth (a dataset partitioned into ``column=value`` folders, as Spark and Arrow
    write one), in the order of their paths, leaving out what writers keep beside them
    (``_temporary``, ``.hidden``); [] for anything else."""
    if path.is_file():
        return [path] if path.suffix.lower() == ".parquet" else []
    if not path.is_dir():
        return []
    return sorted(
        f for f in path.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in f.relative_to(path).parts)
    )  # fmt: skip


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet" or bool(parquet_files(path))


def _parquet_scan(path: Path) -> str:
    """The DuckDB ``read_parquet`` arguments of a Parquet file or folder: a folder's files
    at any depth, its ``column=value`` folders read as columns (a partitioned dataset)."""
    if not path.is_dir():
        return "'" + str(path).replace("'", "''") + "'"
    nested = any(f.parent != path for f in parquet_files(path))
    target = str(path / ("**/*.parquet" if nested else "*.parquet")).replace("'", "''")
    return f"'{target}'" + (", hive_partitioning = true" if nested else "")


def _duckdb_compiler() -> Any:
    """Ibis' DuckDB compiler, but the epoch of an instant (a time-zone-aware timestamp) is
    read directly (``epoch(ts)``) instead of after a cast to a local timestamp: the cast
    goes through the ICU calendar for every value (1.3 s of the 2 s a KPI query took on
    10M requests) and the two agree in a UTC session, which every connection here is."""
    from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

    class _Compiler(DuckDBCompiler):
        def visit_ExtractEpochSeconds(self, op, *, arg):  # noqa: N802 - Ibis' visitor name
            if op.arg.dtype.is_timestamp() and op.arg.dtype.timezone is not None:
                return self.f.epoch(arg)
            return super().visit_ExtractEpochSeconds(op, arg=arg)

    return _Compiler()


def _postgres_compiler() -> Any:
    """Ibis' PostgreSQL compiler, but the epoch of a time is ``date_part('epoch', ts)``, a
    double, not ``EXTRACT``, which gives a numeric since PostgreSQL 14: the same value
    (both exact to the microsecond, rounded once to a double), in 0.11 s instead of 0.29 s
    per million times, and an hour measure reads two."""
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.postgres import PostgresCompiler

    class _Compiler(PostgresCompiler):
        def visit_ExtractEpochSeconds(self, op, *, arg):  # noqa: N802 - Ibis' visitor name
            # qualified: SQLGlot, which reads a statement again (Backend.sql), would write a
            # plain date_part as EXTRACT
            call = sge.Anonymous(this="date_part", expressions=[sge.convert("epoch"), arg])
            return sge.Dot(this=sge.to_identifier("pg_catalog"), expression=call)

    return _Compiler()


def _spark_compiler() -> Any:
    """Ibis' Spark compiler, but the epoch of a time is read to the microsecond
    (``unix_micros(ts) / 1e6``): Ibis' ``unix_timestamp`` gives whole seconds, so the hours
    of a request opened and closed within a second of another differed from pandas'."""
    import ibis.expr.datatypes as dt
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    class _Compiler(PySparkCompiler):
        def visit_ExtractEpochSeconds(self, op, *, arg):  # noqa: N802 - Ibis' visitor name
            return self.f.unix_micros(self.cast(arg, dt.timestamp)) / 1_000_000

    return _Compiler()


def _duckdb(source: str, *, sheet: Any, mapping: Any, label: str, row_order: bool):
    con = ibis.duckdb.connect()  # in memory: private to this process
    con.raw_sql("SET TimeZone = 'UTC'")
    con.raw_sql("SET enable_progress_bar = false")  # stdout is the command's output
    con.compiler = _duckdb_compiler()
    path = Path(source)
    if not path.exists():
        raise InputError("no such file", file=label, hint="check the path")
    if _is_parquet(path):
        files = _parquet_scan(path)
        try:
            scan = f"read_parquet({files}, file_row_number = true)"
            described = con.con.sql(f"DESCRIBE SELECT * FROM {scan}").fetchall()
            # nanosecond timestamps (pandas' own) as microseconds, the unit SQL engines share
            cols = []
            for name, typ, *_ in described:
                q = '"' + name.replace('"', '""') + '"'
                if name == "file_row_number":
                    cols.append(f"{q} AS {ROW}")
                elif typ.upper().startswith("TIMESTAMP") and "NS" in typ.upper():
                    tz = "WITH TIME ZONE" in typ.upper() or "TZ" in typ.upper()
                    cols.append(f"CAST({q} AS {'TIMESTAMPTZ' if tz else 'TIMESTAMP'}) AS {q}")
                else:
                    cols.append(q)
            # a view of this process's own in-memory database
            con.raw_sql(f"CREATE TEMP VIEW csi_source AS SELECT {', '.join(cols)} FROM {scan}")
            # the file's columns as stored: DuckDB answers their least and greatest values
            # and counts from the file's statistics, without reading them
            con.raw_sql(f"CREATE TEMP VIEW {STATS_VIEW} AS SELECT * FROM read_parquet({files})")
            t = con.table("csi_source")
        except Exception as exc:  # noqa: BLE001 - any reader failure is the file's
            raise InputError(
                f"DuckDB cannot read this Parquet file: {str(exc).splitlines()[0]}",
                file=label,
                hint="check that the file is complete, or use --engine pandas",
            ) from exc
        return con, t
    table = _text_table(source, sheet, mapping, label)
    con.con.register("csi_source", table)  # an Arrow table seen as a view, in memory
    return con, con.table("csi_source")


def column_stats(con: Any, columns: list[str], *, counted: tuple[str, ...] = ()) -> dict[str, Any]:
    """DuckDB, a Parquet source: :class:`~csi_lib.engines.view.ColumnStats` of ``columns``
    (one query, answered from the file's statistics where it has them: least and greatest
    values; the values present only of ``counted``, as DuckDB reads a column holding
    missing values to count them); {} for a source that is not a Parquet file."""
    from .view import ColumnStats

    if not columns:
        return {}
    found = con.con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [STATS_VIEW]
    ).fetchall()[0]
    if not found or not found[0]:
        return {}

    def q(c: str) -> str:
        return '"' + c.replace('"', '""') + '"'

    parts = ["count(*)"]
    for c in columns:
        parts += [f"min({q(c)})", f"max({q(c)})", f"count({q(c)})" if c in counted else "NULL"]
    got = con.con.execute(f"SELECT {', '.join(parts)} FROM {STATS_VIEW}").fetchall()[0]
    rows = int(got[0])
    return {c: ColumnStats(got[1 + 3 * i], got[2 + 3 * i], got[3 + 3 * i], rows)
            for i, c in enumerate(columns)}  # fmt: skip


def _postgres_conninfo(source: str) -> str:
    scheme, rest = source.split("://", 1)
    return "postgresql://" + rest


#: Settings of csi's PostgreSQL session, whatever the database's or the role's defaults:
#: read-only; UTC; backslashes in a literal are themselves (the patterns csi sends are
#: written so: with ``standard_conforming_strings`` off, which a database may default to,
#: every query failed); dates written and read as ISO 8601; floats sent back exactly.
POSTGRES_SETTINGS = {
    "default_transaction_read_only": "on",
    "TimeZone": "UTC",
    "standard_conforming_strings": "on",
    "DateStyle": "ISO",
    "extra_float_digits": "3",
}


def _postgres_options(conninfo: str, environ: Any = None) -> str:
    """The session's ``options``: the user's (the URL's ``options``, else ``PGOPTIONS``, as
    libpq reads them: a search path, say) followed by :data:`POSTGRES_SETTINGS`, which win
    where both set one (the last ``-c`` of a name wins). Giving ``options`` alone dropped
    the user's.

    >>> _postgres_options("postgresql://u@h/db?options=-csearch_path%3Ditsm", {}).split(" -c ")[:2]
    ['-csearch_path=itsm', 'default_transaction_read_only=on']
    """
    import os

    from psycopg.conninfo import conninfo_to_dict

    env = os.environ if environ is None else environ
    own = conninfo_to_dict(conninfo).get("options") or env.get("PGOPTIONS", "")
    ours = " ".join(f"-c {k}={v}" for k, v in POSTGRES_SETTINGS.items())
    return f"{own} {ours}".strip()


def _text_in_the_databases_encoding(conn: Any) -> None:
    """Text travels in the database's own encoding (UTF-8 for SQL_ASCII, which has none),
    whatever client encoding the database or the role defaults to: in another one the SQL
    csi sends could not be written (a database defaulting to LATIN1 or WIN1252: Python's
    "'latin-1' codec can't encode characters"), nor could the data. :func:`postgres_codec`
    reads the database's encoding from it."""
    from psycopg import sql

    info = conn.info
    server = info.parameter_status("server_encoding")
    wanted = "UTF8" if server in ("UTF8", "SQL_ASCII") else server
    if info.parameter_status("client_encoding") != wanted:
        conn.execute(sql.SQL("SET client_encoding TO {}").format(sql.Literal(wanted)))


def _postgres(source: str, *, query: str | None, label: str, row_order: bool):
    import psycopg
    from psycopg import sql

    from ..sources.sql import check_read_only_query, name_parts

    if not query:
        raise ConfigError(
            "a database source needs --query: a table, a view or a SELECT",
            file=label,
            column="query",
            hint="e.g. --query requests",
        )
    try:
        conninfo = _postgres_conninfo(source)
        conn = psycopg.connect(conninfo, autocommit=True, options=_postgres_options(conninfo))
        _text_in_the_databases_encoding(conn)
    except psycopg.Error as exc:
        from ..sources.sql import _scrub

        raise InputError(
            "cannot connect to the database: " + _scrub(str(exc).strip().splitlines()[0], source),
            file=label,
            hint="check the URL, that the server runs and that the user may log in",
        ) from exc
    con = ibis.postgres.from_connection(conn)
    con.compiler = _postgres_compiler()
    q = query.strip()
    parts = name_parts(q)
    try:
        if parts is None:
            check_read_only_query(q, label)
            q = q.rstrip().rstrip(";").rstrip()
            t = _postgres_rows(conn, con, f"({q})")
        else:
            schema, name = _postgres_relation(conn, q, parts, label)
            table = con.table(name, database=schema)
            t = _postgres_rows(conn, con, sql.Identifier(schema, name).as_string(conn), table)
    except (ConfigError, InputError):
        raise
    except Exception as exc:  # noqa: BLE001 - the database's own words
        stopped = _stopped(exc, label, known=True)
        if stopped is not None:  # a timeout, a limit: the table is not what is wrong
            raise stopped from exc
        raise InputError(
            f"the database cannot read '{q}': {str(exc).strip().splitlines()[0]}",
            file=label,
            column="query",
            hint="name an existing table or view, or give a SELECT",
        ) from exc
    if row_order:
        t = t.mutate(**{ROW: ibis.row_number()})
    return con, t


def _postgres_rows(conn: Any, con: Any, relation: str, table: Any = None) -> Any:
    """The rows of ``relation`` (a query in parentheses, or a table's quoted name and its
    Ibis ``table``) as an Ibis table, a query's typed from the columns PostgreSQL describes
    for it (no row read): Ibis would create a view to learn them, which a read-only
    connection refuses ("cannot execute CREATE VIEW in a read-only transaction"). A column
    of an ENUM type is read as its text: Ibis takes it for text, and comparing it with text
    the enum does not hold (``''``, a pattern) failed the query."""
    from ibis.backends.sql.datatypes import PostgresType
    from psycopg import sql

    with conn.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {relation} AS csi_rows LIMIT 0")
        columns = cursor.description or []
    kinds = {oid: (enum, name) for oid, enum, name in conn.execute(
        "SELECT oid, typtype = 'e', pg_catalog.format_type(oid, NULL) FROM pg_catalog.pg_type"
        " WHERE oid = ANY(%s)", ([c.type_code for c in columns],)).fetchall()}  # fmt: skip
    enums = {c.name for c in columns if kinds[c.type_code][0]}
    if table is not None and not enums:
        return table
    known = table.schema() if table is not None else {}
    cells, types = [], {}
    for c in columns:
        name = sql.Identifier(c.name).as_string(conn)
        if c.name in enums:
            cells.append(f"{name}::text AS {name}")
            types[c.name] = "string"
        else:
            cells.append(name)
            types[c.name] = known.get(c.name) or PostgresType.from_string(kinds[c.type_code][1])
    body = f"SELECT {', '.join(cells)} FROM {relation} AS csi_rows"
    return con.sql(body, schema=ibis.schema(types))


def _postgres_relation(conn: Any, query: str, parts: list, label: str) -> tuple[str, str]:
    """(schema, name) of the table or view ``query`` names, found by PostgreSQL's own
    reading of a name (the search path for an unqualified one): as written, then as SQL
    reads an unquoted name (:func:`..sources.sql.sql_spellings`: ``--query CaseCheck`` for
    ``CREATE TABLE CaseCheck``, ``--query '"Service Requests"'``). Else an error naming
    the close matches and the tables there are."""
    from psycopg import sql

    from ..sources.sql import no_such_table, sql_spellings

    find = ("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace"
            " n ON n.oid = c.relnamespace WHERE c.oid = pg_catalog.to_regclass(%s)")  # fmt: skip
    for names in sql_spellings(parts):
        written = sql.SQL(".").join(sql.Identifier(n) for n in names).as_string(conn)
        row = conn.execute(find, (written,)).fetchone()
        if row is not None:
            return row[0], row[1]
    # the tables of the schema named (as written, then folded), or of the current one
    schemas = dict.fromkeys(names[0] if len(names) == 2 else None
                            for names in sql_spellings(parts))  # fmt: skip
    tables: list[str] = []
    for schema in schemas:
        tables = _postgres_tables(conn, schema)
        if tables:
            break
    raise no_such_table(query, tables, parts[-1][0], label)


def _postgres_tables(conn: Any, schema: str | None) -> list[str]:
    """The tables and views of ``schema`` (None: the current schema), by name."""
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "coalesce(%s, current_schema()) ORDER BY table_name", (schema,)).fetchall()]  # fmt: skip


def postgres_codec(backend: Any) -> str | None:
    """PostgreSQL: the Python codec of a database whose text cannot hold every character
    (LATIN1, EUC_JP, ...: the SQL sent to it must hold only characters it can, see
    :attr:`.dialects.Dialect.encoding`); None for a UTF-8 database. Only in UTF-8 does
    ``ascii()`` give any character's code point (the cheap test of an id,
    :func:`.view.guarded_ids`, reads it): in another multibyte encoding it fails on a
    character beyond ASCII ("requested character too large"), in a single-byte one it
    gives a byte."""
    info = backend.con.info
    return None if info.parameter_status("server_encoding") == "UTF8" else info.encoding


def _spark_parquet(session: Any, path: Path, *, row_order: bool = False) -> Any:
    """A Parquet file or folder in Spark. Timestamps in nanoseconds (what pandas writes)
    are read as numbers (Spark reads microseconds) and turned into timestamps here.
    ``row_order``: with :data:`ROW`, each row's place in the file (its files in the order of
    their names, one after the other), 0-based, as the pandas reader numbers a file's rows."""
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    first = parquet_files(path)[0]
    df = session.read.parquet(str(path))
    # a column Arrow reads as nanoseconds and Spark as a number: INT64 nanoseconds (Spark's
    # own INT96 timestamps, which Arrow also reads as nanoseconds, Spark reads as times)
    longs = {f.name for f in df.schema.fields if f.dataType.typeName() == "long"}
    nanos = [f.name for f in pq.read_schema(first)
             if str(f.type).startswith("timestamp[ns") and f.name in longs]  # fmt: skip
    if row_order:
        index = F.col("_metadata.row_index")
        if path.is_dir():  # each file's rows after those of the files named before it
            counts = df.groupBy(F.col("_metadata.file_path").alias("f")).count().collect()
            offsets, at = [], 0
            for r in sorted(counts, key=lambda r: r["f"]):
                offsets += [F.lit(r["f"]), F.lit(at)]
                at += r["count"]
            index = index + F.create_map(*offsets)[F.col("_metadata.file_path")]
        df = df.withColumn(ROW, index.cast("long"))
    for c in nanos:
        df = df.withColumn(c, F.timestamp_micros(F.floor(F.col(c) / 1000).cast("long")))
    return df


def _spark(source: str, *, query: str | None, sheet: Any, mapping: Any, label: str,
           row_order: bool, session: Any):  # fmt: skip
    from .spark import temp_view

    con = ibis.pyspark.connect(session)  # sets the session's time zone: inside spark_settings
    con.compiler = _spark_compiler()
    path = Path(source)
    if path.exists() and _is_parquet(path):
        df = _spark_parquet(session, path, row_order=row_order)
    elif path.exists():
        df = session.createDataFrame(_text_table(source, sheet, mapping, label).to_pandas())
    else:
        name = query or source
        try:
            df = session.table(name)
        except Exception as exc:  # noqa: BLE001 - the catalogue's own words
            raise InputError(
                f"Spark has no such file or table: {name}",
                file=label,
                hint="give a Parquet file or folder, or a table of the session's catalogue",
            ) from exc
    if row_order and ROW not in df.columns:
        df = _spark_numbered(df)
    return con, con.table(temp_view(con, df, "source"))  # private to this session


def _spark_numbered(df: Any) -> Any:
    """``df`` with :data:`ROW`: its rows numbered 0, 1, ... in the order Spark reads them
    (a partition's rows after those of the partitions before it; one count per partition)."""
    from pyspark.sql import functions as F

    df = df.withColumn(ROW, F.monotonically_increasing_id())  # partition << 33 | row in it
    part = F.shiftright(F.col(ROW), 33)
    counts = sorted(df.groupBy(part.alias("p")).count().collect(), key=lambda r: r["p"])
    offsets, at = [], 0
    for r in counts:
        offsets += [F.lit(r["p"]), F.lit(at)]
        at += r["count"]
    if not offsets:
        return df
    return df.withColumn(ROW, (F.col(ROW).bitwiseAND((1 << 33) - 1) + F.create_map(*offsets)[part]))


#: What to do when PostgreSQL stops a query, by the class (or the code) of its SQLSTATE
_STOPPED_HINTS = {
    "57014": "the database's statement_timeout cancelled it (or an administrator did): ask "
    "for a longer timeout for this user, or give a shorter period",
    "53": "the server lacked the memory or the disk space for it (temp_file_limit, work_mem, a "
    "full disk): ask the database's administrator, or give a shorter period",
    "54": "it passed a limit of the server (max_stack_depth, ...): ask the database's "
    "administrator",
    "08": "the connection to the database was lost: run the command again",
    "57": "the server was shut down or restarted, or the session ended: run the command again",
}


@contextlib.contextmanager
def stopped_queries(engine: str, label: str) -> Iterator[None]:
    """A query the engine stops on its own grounds as one paragraph, never a traceback:
    PostgreSQL's error (a statement timeout, a limit of temporary files or memory, a lost
    connection) as an :class:`~csi_lib.errors.InputError` naming the source and what to do;
    DuckDB's running out of memory as a :class:`MemoryError`, which the command line
    explains."""
    try:
        yield
    except Exception as exc:
        stopped = _stopped(exc, label) if engine == "postgres" else None
        if stopped is not None:
            raise stopped from exc
        if engine == "duckdb":
            import duckdb

            if isinstance(exc, duckdb.OutOfMemoryException):
                raise MemoryError(str(exc)) from exc
        raise


def _stopped(exc: BaseException, label: str, *, known: bool = False) -> InputError | None:
    """PostgreSQL's error ``exc`` as the paragraph of :func:`stopped_queries` (None for
    another error, or with ``known`` for one :data:`_STOPPED_HINTS` does not name)."""
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return None
    code = getattr(exc, "sqlstate", None) or ""
    hint = _STOPPED_HINTS.get(code) or _STOPPED_HINTS.get(code[:2])
    if hint is None and known:
        return None
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return InputError(
        f"the database stopped a query of csi's: {first}",
        file=label,
        hint=hint or "the server's log says more",
    )
