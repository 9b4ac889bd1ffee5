"""Database sources, read only: query checks, read-only connections, and redaction of credentials in every text."""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError, InputError
from .readers import _frame_as_text

# --------------------------------------------------------------------------------------
# SQL
# --------------------------------------------------------------------------------------


#: Names of parameters that hold a secret (in a URL query, a connection string or an
#: ``odbc_connect=`` value, plain or URL-encoded): password, passwd, pwd, sslpassword,
#: db_password, secret, client_secret, token, access_token, api_key, apikey, credentials ...
_SECRET_KEY = (
    r"[\w.-]*?(?:password|passwd|passphrase|pwd|pass|secret|token|api[_-]?key|credentials?)"
)
#: What stands before a parameter name: the start, ``?``, ``&``, ``;``, a space, or the
#: encoded ``&``/``;``/space of an encoded connection string (``%26``, ``%3B``, ``%20``,
#: also encoded twice, ``%253B``).
_PARAM_START = r"(?:(?<=^)|(?<=[?&;,\s{(+])|(?<=%26)|(?<=%3[Bb])|(?<=%20)|(?<=%2526)|(?<=%253[Bb]))"
#: ``=`` plain or encoded (``%3D``, ``%253D``).
_PARAM_EQUALS = r"(?:=|%(?:25)?3[Dd])"
#: A value: ``{braced; may hold ;}`` or up to the next separator (plain or encoded).
_PARAM_VALUE = r"(?:\{[^}]*\}?|(?:(?!%(?:25)?(?:26|3[Bb]))[^&;\s])+)"
_SECRET_PARAM = re.compile(rf"(?i){_PARAM_START}({_SECRET_KEY}\s*{_PARAM_EQUALS})({_PARAM_VALUE})")
#: ``scheme://user:password@`` (the user may be empty); greedy to the last ``@``, as a
#: password may itself hold one.
_USERINFO = re.compile(r"(://[^:/@\s]*:)\S*@")


def redact_url(source: str) -> str:
    """A source text with its passwords replaced by ``***`` (file paths unchanged).

    Hides the ``user:password@`` part of a URL (also with an empty user) and every
    credential-like parameter (``password=``, ``passwd=``, ``pwd=``, ``sslpassword=``,
    ``secret=``, ``token=``, ``api_key=`` ...) of a URL query or a connection string,
    also inside a URL-encoded ``odbc_connect=`` value.

    Examples
    --------
    >>> redact_url("postgresql://ana:s3cret@db/itsm")
    'postgresql://ana:***@db/itsm'
    >>> redact_url("postgresql://:s3cret@db/itsm")
    'postgresql://:***@db/itsm'
    >>> redact_url("mssql+pyodbc://db/itsm?PWD=s3cret")
    'mssql+pyodbc://db/itsm?PWD=***'
    >>> redact_url("mssql://sa:p@ss@host/db")
    'mssql://sa:***@host/db'
    >>> redact_url("Server=x;Password=hunter2;")
    'Server=x;Password=***;'
    >>> redact_url("mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Dsa%3BPWD%3Ds3cret%3B")
    'mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Dsa%3BPWD%3D***%3B'
    >>> redact_url("postgresql://db/itsm?sslpassword=s3cret&passwd=s3cret")
    'postgresql://db/itsm?sslpassword=***&passwd=***'
    """
    text = _USERINFO.sub(r"\1***@", str(source))
    return _SECRET_PARAM.sub(r"\1***", text)


def _secrets(source: str) -> list[str]:
    """The secret values in ``source`` as written and decoded (longest first)."""
    from urllib.parse import unquote

    found: set[str] = set()
    for text in (source, unquote(source), unquote(unquote(source))):
        user = re.search(r"://[^:/@\s]*:(\S*)@", text)
        if user and user.group(1):
            found.add(user.group(1))
        for match in _SECRET_PARAM.finditer(text):
            value = match.group(2).strip("{}")
            if value:
                found.add(value)
    found |= {unquote(v) for v in found}
    return sorted((v for v in found if len(v) >= 2), key=len, reverse=True)


def _scrub(text: str, source: str) -> str:
    """Remove the raw URL and its secrets (as written or decoded) from a message."""
    text = redact_url(text.replace(source, redact_url(source)))
    for secret in _secrets(source):
        text = text.replace(secret, "***")
    return text


_TABLE_NAME = re.compile(r"[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?")
#: a table's name as SQL writes one: ``name`` or ``schema.name``, each part plain or
#: double-quoted (``""`` inside quotes being one ``"``)
_PART = r'[A-Za-z_][\w$]*|"(?:[^"]|"")+"'
_SQL_NAME = re.compile(rf"({_PART})(?:\.({_PART}))?")


def name_parts(text: str) -> list[tuple[str, bool]] | None:
    """The parts of a table's name written as SQL writes it (``name``, ``schema.name``, a
    part plain or double-quoted): each part's text and whether it was quoted; None if
    ``text`` is no such name (a query).

    >>> name_parts('itsm."Service Requests"')
    [('itsm', False), ('Service Requests', True)]
    >>> name_parts("SELECT * FROM requests") is None
    True
    """
    m = _SQL_NAME.fullmatch(text.strip())
    if m is None:
        return None
    return [(p[1:-1].replace('""', '"'), True) if p.startswith('"') else (p, False)
            for p in m.groups() if p is not None]  # fmt: skip


def sql_spellings(parts: list[tuple[str, bool]]) -> list[list[str]]:
    """The names to look a table up by: as written (a name made with quotes, ``Requests``,
    is found as it is written), then as SQL reads an unquoted name, folded to lower case
    (``CREATE TABLE CaseCheck`` makes ``casecheck``)."""
    written = [p for p, _ in parts]
    folded = [p if quoted else p.lower() for p, quoted in parts]
    return [written] if folded == written else [written, folded]


#: Words refused anywhere in a query besides the data-changing (DML) and definition (DDL)
#: keywords. Other statements (SET, COPY, CALL, EXEC ...) are refused by their first word:
#: a query starts with SELECT, WITH or VALUES. Words such as "comment" or "load" stay
#: usable as column names.
_WRITE_WORDS = frozenset({"INTO", "ATTACH", "DETACH", "PRAGMA", "VACUUM"})
#: Per dialect: the statement that makes the open transaction read-only, sent first.
READ_ONLY_TRANSACTION: dict[str, str] = {
    "postgresql": "SET TRANSACTION READ ONLY",
    "mysql": "SET TRANSACTION READ ONLY",
    "mariadb": "SET TRANSACTION READ ONLY",
    "oracle": "SET TRANSACTION READ ONLY",
    "redshift": "SET TRANSACTION READ ONLY",
    "cockroachdb": "SET TRANSACTION READ ONLY",
}


#: Settings of the read, local to its transaction, whatever the database's or the role's
#: defaults: floats sent exactly (a database defaulting to extra_float_digits -15 sent a
#: score of 3.75 as 4.0) and text in UTF-8 (one defaulting to WIN1252 could not send a
#: Japanese group's name). The PostgreSQL engine's session has the same
#: (:data:`csi_lib.engines.backends.POSTGRES_SETTINGS`).
READ_SETTINGS: dict[str, tuple[str, ...]] = {
    "postgresql": ("SET LOCAL extra_float_digits = 3", "SET LOCAL client_encoding = 'UTF8'"),
}


def check_read_only_query(query: str, label: str) -> None:
    """Refuse, before anything is sent, a query that is not one read-only statement.

    A database source is only ever read: one ``SELECT`` (``WITH ... SELECT`` or
    ``VALUES``); no second statement, no ``INSERT``/``UPDATE``/``DELETE``/``DROP``/
    ``CREATE``, ``SELECT ... INTO``, ``PRAGMA``, ``ATTACH`` or other statement that
    changes the database, its session or its files.

    Raises
    ------
    ConfigError
        Naming the word that was refused (exit 2).

    Examples
    --------
    >>> check_read_only_query("SELECT * FROM requests WHERE state <> 'drop'", "db")
    >>> check_read_only_query("DROP TABLE requests", "db")
    Traceback (most recent call last):
    ...
    csi_lib.errors.ConfigError: file 'db', column 'query': the query 'DROP TABLE requests' is not a query that only reads: it holds DROP, which would change the database. The workbook only ever reads a database. Give one SELECT statement (or a table name).
    """
    import sqlparse
    from sqlparse import tokens as T

    shown = " ".join(query.split())
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    hint = "give one SELECT statement (or a table name)"
    statements = [
        s
        for s in sqlparse.parse(query)
        if sqlparse.format(str(s), strip_comments=True).strip(" \n\t;")
    ]
    if len(statements) != 1:
        raise ConfigError(
            f"the query '{shown}' holds {len(statements)} statements; a database source is "
            "read with exactly one",
            file=label,
            column="query",
            hint=hint,
        )
    words = [
        tok
        for tok in statements[0].flatten()
        if tok.ttype not in T.Whitespace
        and tok.ttype not in T.Comment
        and tok.ttype not in T.Punctuation
    ]
    first = words[0].normalized.upper() if words else ""
    refused = next(
        (
            tok.normalized.upper()
            for tok in words
            if tok.ttype in T.Keyword
            and (
                tok.ttype in T.Keyword.DDL
                or (tok.ttype in T.Keyword.DML and tok.normalized.upper() != "SELECT")
                or tok.normalized.upper() in _WRITE_WORDS
            )
        ),
        None,
    )
    if refused is None and first not in ("SELECT", "WITH", "VALUES"):
        refused = first or "no statement"
    if refused is not None:
        raise ConfigError(
            f"the query '{shown}' is not a query that only reads: it holds {refused}, which "
            "would change the database. The workbook only ever reads a database",
            file=label,
            column="query",
            hint=hint,
        )


def _read_only_url(source: str, label: str) -> Any:
    """The URL to connect with: a SQLite file opened read-only (URI ``mode=ro``), which
    must exist (SQLite would create an empty one); any other URL as given. SQLite has no
    users: a user or password in its URL is ignored."""
    from urllib.parse import quote

    from sqlalchemy.engine import make_url

    url = make_url(source)
    if not url.drivername.startswith("sqlite"):
        return url
    url = url._replace(username=None, password=None)
    database = url.database or ""
    if database in ("", ":memory:"):
        return url
    query = dict(url.query)
    if database.startswith("file:") and str(query.get("uri", "")).lower() == "true":
        return url.set(query={**query, "mode": "ro"})
    path = Path(database)
    if not path.is_file():
        siblings = [p.name for p in path.parent.glob("*")] if path.parent.is_dir() else []
        close = difflib.get_close_matches(path.name, siblings, n=3)
        raise InputError(
            f"there is no such database: the file '{database}' does not exist"
            + (" (it is a folder)" if path.is_dir() else ""),
            file=label,
            hint=(f"did you mean {', '.join(close)}? " if close else "")
            + "Check the path after sqlite:/// (three slashes, then a path relative to the "
            "current folder; four for an absolute path)",
        )
    return url.set(
        database="file:" + quote(str(path.resolve())),
        query={**query, "mode": "ro", "uri": "true"},
    )


#: URL schemes of web and file addresses: never a database.
_WEB_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "sftp", "s3", "gs", "gcs", "az", "abfs", "smb", "webdav"})  # fmt: skip


def url_problem(source: str) -> str | None:
    """Why ``source`` (a ``scheme://...`` text) is not a database URL the workbook can read,
    or None: a web address, a ``file://`` address, or a scheme no installed SQLAlchemy
    dialect knows. Nothing is connected to; the dialect is only looked up.

    Examples
    --------
    >>> url_problem("sqlite:///itsm.db") is None
    True
    >>> print(url_problem("https://example.org/export.csv"))
    'https://example.org/export.csv' is a web address: the workbook reads files and databases, not web pages; download the export and give the path of the file (or fetch it with csi pull)
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    label = redact_url(source)
    scheme = source.split("://", 1)[0].strip().lower()
    if scheme in _WEB_SCHEMES:
        return (
            f"'{label}' is a web address: the workbook reads files and databases, not web "
            "pages; download the export and give the path of the file (or fetch it with csi pull)"
        )
    if scheme == "file":
        path = source.split("://", 1)[1]
        return (
            f"'{label}' is a file address: give the path of the file itself ({path or '/...'}), "
            "without file://"
        )
    try:
        make_url(source).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        return (
            f"no database is known by the name '{scheme}' in '{label}': a database URL is "
            "written dialect+driver://user@host/database (postgresql, mysql, mssql+pyodbc, "
            "oracle, sqlite:///file.db), with its driver installed"
        )
    except ImportError as exc:
        return f"the driver of '{scheme}' is not installed ({exc}); install it, or export CSV"
    return None


def _engine(source: str, label: str) -> Any:
    """A SQLAlchemy engine on the read-only form of the URL; a URL it cannot use is an
    :class:`InputError` (its password scrubbed)."""
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError

    problem = url_problem(source)
    if problem is not None:
        raise InputError(problem, file=label, hint=None)
    try:
        return sa.create_engine(_read_only_url(source, label))
    except (ArgumentError, ImportError, ValueError) as exc:
        detail = " ".join(str(exc).splitlines()[0].split())
        raise InputError(
            f"the database URL cannot be used ({_scrub(detail, source)})",
            file=label,
            hint="write it as dialect+driver://user@host/database (a password after the user and a colon) and install the driver",
        ) from None


def _statement(conn: Any, query: str, label: str) -> Any:
    """``SELECT *`` of a table named by ``query`` (a missing one names the close matches
    and the tables there are), or the query's own text."""
    import sqlalchemy as sa
    from sqlalchemy.exc import NoSuchTableError

    parts = name_parts(query)
    if parts is None:
        return sa.text(query)
    for names in sql_spellings(parts):
        schema, name = (None, names[0]) if len(names) == 1 else names
        try:
            table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
        except NoSuchTableError:
            continue
        return sa.select(table)
    tables = sa.inspect(conn).get_table_names(schema=schema)
    raise no_such_table(query, tables, name, label)


def no_such_table(query: str, tables: list[str], name: str, label: str) -> InputError:
    """The error of a table name that names none: the close matches and the tables."""
    by_case = {t.casefold(): t for t in tables}  # 'Reqz' is close to 'reqs'
    close = [by_case[c] for c in difflib.get_close_matches(name.casefold(), list(by_case), n=3)]
    return InputError(
        f"there is no table '{query.strip()}'",
        file=label,
        hint=(f"did you mean {', '.join(close)}? " if close else "")
        + f"Tables: {', '.join(tables[:20]) or '(none)'}",
    )


def _lenient_sqlite_text(engine: Any) -> list[bytes]:
    """SQLite text that is not UTF-8 read with replacement characters instead of failing
    the whole query (Python's sqlite3 refuses it); returns the list the values that were
    not UTF-8 are added to. Other databases decode text in their drivers."""
    found: list[bytes] = []
    if engine.dialect.name != "sqlite":
        return found
    from sqlalchemy import event

    def decode(raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            found.append(raw)
            return raw.decode("utf-8", errors="replace")

    @event.listens_for(engine, "connect")
    def _text_factory(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.text_factory = decode

    return found


def _read_sql(
    source: str, query: str | None, na_values: list[str]
) -> tuple[pd.DataFrame, str, list[str]]:
    """Run a query (or read a table) through SQLAlchemy; returns (text frame, fingerprint,
    warnings: byte values that are not UTF-8 text)."""
    from sqlalchemy.exc import SQLAlchemyError

    label = redact_url(source)
    if not query or not query.strip():
        raise ConfigError(
            "a database source needs a query",
            file=label,
            column="query",
            hint="give query= a SELECT statement or a table name",
        )
    if name_parts(query) is None:
        check_read_only_query(query, label)
    engine = _engine(source, label)
    not_utf8 = _lenient_sqlite_text(engine)
    try:
        with engine.connect() as conn:
            # a read-only transaction, always rolled back (never committed)
            read_only = READ_ONLY_TRANSACTION.get(engine.dialect.name)
            if read_only:
                conn.exec_driver_sql(read_only)
            for setting in READ_SETTINGS.get(engine.dialect.name, ()):
                conn.exec_driver_sql(setting)
            statement = _statement(conn, query, label)
            try:
                raw = pd.read_sql_query(statement, conn)
            finally:
                conn.rollback()
    except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) else exc
        detail = str(getattr(cause, "orig", None) or cause or exc).splitlines()[0]
        raise InputError(
            f"the query failed ({_scrub(detail, source)})",
            file=label,
            hint="check the query, the table name and the credentials",
        ) from None
    finally:
        engine.dispose()
    fingerprint = hashlib.sha256(raw.to_csv(index=False).encode("utf-8")).hexdigest()
    if len(raw) == 0:
        raise InputError(
            "the query returned no rows",
            file=label,
            hint="check the query's WHERE clause and the table",
        )
    warnings: list[str] = []
    if not_utf8:
        warnings.append(
            f"{len(not_utf8):,} text value(s) of the database are not UTF-8 (e.g. "
            f"{not_utf8[0][:40]!r}); they were read with \ufffd in place of each byte that is "
            "not. Store the text in UTF-8, or convert it in the query"
        )
    return _frame_as_text(raw, na_values, warnings), fingerprint, warnings
