"""What differs between the SQL engines: parsing text as dates, time zones, checks without errors.

Everything else of a KPI (populations, measures, aggregates) is written once with Ibis
(:mod:`.view`, :mod:`.compute`); the few operations Ibis leaves to each backend are here,
as Ibis *builtin* functions of each backend (DuckDB, PostgreSQL, Spark SQL).
"""

import re
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt

_UTC = dt.Timestamp(timezone="UTC")

#: What Python's ``str.strip()``, and so the pandas engine, removes from the ends of a
#: text: ASCII white space, the information separators and the Unicode spaces (no-break,
#: em, ideographic, ...). SQL's TRIM and Ibis' ``strip()`` remove only ASCII white space.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@ibis.udf.scalar.builtin(name="trim")
def _trim(value: dt.string, characters: dt.string) -> dt.string:
    """TRIM(value, characters): both ends, written as each engine writes it."""


#: the code points of a character no :data:`WHITESPACE` can be (from "!" up to the first
#: one beyond ASCII, U+0085)
_PLAIN = (33, min(ord(c) for c in WHITESPACE if ord(c) > 32) - 1)


def may_be_white(code: Any) -> Any:
    """Whether the character of code point ``code`` (``ascii()`` of a text) may be one of
    :data:`WHITESPACE`: a control character, a space or one beyond ASCII. (Spark's
    ``ascii()`` gives the first byte, signed: beyond ASCII it is negative, so outside too.)"""
    return ~code.between(*_PLAIN)


def may_start_white(text: Any) -> Any:
    """DuckDB: :func:`may_be_white` of the first character of ``text``, decoding none:
    ``text`` compared with the ends of the plain range (DuckDB compares texts byte by
    byte, and UTF-8's bytes sort as its code points; an empty text is outside too)."""
    return ~((text >= chr(_PLAIN[0])) & (text < chr(_PLAIN[1] + 1)))


def _white_ends(text: Any) -> Any:
    """Whether an end of ``text`` may be one of :data:`WHITESPACE` (:func:`may_be_white`)."""
    return may_be_white(text.ascii_str()) | may_be_white(text.right(1).ascii_str())


def strip(text: Any, chars: str = WHITESPACE) -> Any:
    """``text`` without the :data:`WHITESPACE` at its ends, as ``str.strip()`` (every engine;
    ``chars``: those of them a database can hold, :attr:`Dialect.whitespace`)."""
    return _trim(text, chars)


def strip_missing(text: Any, na: list[str], d: "Dialect | None") -> Any:
    """``text`` stripped (:func:`strip`), NULL where it is then one of the spellings ``na``
    (none empty), as the pandas loader strips a cell before comparing it.

    The stripped text is not repeated once per spelling: PostgreSQL shares no common
    expression, but its NULLIF reads its argument once; Spark and DuckDB would rewrite
    nested NULLIFs into CASEs that repeat it, each twice the last. DuckDB strips only where
    an end :func:`may_be_white` and compares the cell as it is elsewhere (a CASE branch runs
    only for its rows), as its TRIM of a set beyond ASCII costs three times its TRIM of ASCII
    white space; Spark compares with an IN list (its generated code outgrew the guarded text
    repeated: Java heap space). ``d``: the engine (None: any), whose :attr:`Dialect.whitespace`
    are the characters stripped."""
    engine, chars = (None, WHITESPACE) if d is None else (d.name, d.whitespace)
    if not na:
        return strip(text, chars)
    if engine == "postgres":
        out = strip(text, chars)
        for v in na:
            out = out.nullif(v)
        return out
    if engine == "duckdb":
        from .view import one_of

        def missing(t: Any) -> Any:
            return ibis.ifelse(one_of(t, na), None, t)

        return ibis.ifelse(_white_ends(text), missing(_trim(text, chars)), missing(text))
    t = strip(text, chars)
    return ibis.ifelse(t.isin(na), None, t)


#: :data:`csi_lib.safe.CONTROL_CHARACTERS` as a regular expression of PostgreSQL and Spark
#: (Java), and as DuckDB's RE2 writes it
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]"
DUCKDB_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\x{fffe}\x{ffff}]"


#: strftime directives and how each engine writes them (PostgreSQL ``to_timestamp``,
#: Spark's Java patterns), with the text each reads (for the guard of PostgreSQL, whose
#: ``to_timestamp`` fails instead of giving NULL).
_DIRECTIVES: dict[str, tuple[str, str, str]] = {
    "%Y": ("YYYY", "yyyy", r"\d{4}"),
    "%y": ("YY", "yy", r"\d{2}"),
    "%m": ("MM", "M", r"\d{1,2}"),
    "%d": ("DD", "d", r"\d{1,2}"),
    "%H": ("HH24", "H", r"\d{1,2}"),
    "%I": ("HH12", "h", r"\d{1,2}"),
    "%M": ("MI", "m", r"\d{1,2}"),
    "%S": ("SS", "s", r"\d{1,2}"),
    "%f": ("US", "SSSSSS", r"\d{1,6}"),
    "%p": ("AM", "a", r"[AaPp][Mm]"),
    "%b": ("Mon", "MMM", r"[A-Za-z]{3}"),
    "%B": ("Month", "MMMM", r"[A-Za-z]+"),
    "%%": ("%", "%", "%"),
}
_DIRECTIVE = re.compile(r"%.")

#: A day of the calendar written YYYY-MM-DD: months 01-12, each with its own days, 29
#: February in leap years only, no year 0000. PostgreSQL's cast fails on an impossible
#: date (2025-02-31) instead of giving NULL, and DuckDB reads 24:00 as the next day where
#: pandas reads nothing: only what this admits is cast, the rest is unreadable everywhere.
_DATE = (
    r"((\d{3}[1-9]|\d{2}[1-9]\d|\d[1-9]\d{2}|[1-9]\d{3})-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])"
    r"|(0[469]|11)-(0[1-9]|[12]\d|30)|02-(0[1-9]|1\d|2[0-8]))"
    r"|(\d{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)-02-29)"
)
#: A time of day: hours 00-23, minutes and seconds 00-59, up to nanoseconds.
_TIME = r"[ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d([.,]\d{1,9})?)?"
#: ISO 8601 text without a zone: the form every engine casts alike.
ISO_NAIVE = rf"^{_DATE}({_TIME})?$"
#: ISO 8601 text with a zone (Z or an offset up to 15:59, the most PostgreSQL reads; the
#: world's offsets run from -12:00 to +14:00).
ISO_AWARE = rf"^{_DATE}{_TIME}\s*(Z|UTC|[+-](0\d|1[0-5])(:?[0-5]\d)?)$"
#: A number as text (after "," is read as ".").
NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"


def translate_format(fmt: str, dialect: str) -> tuple[str, str]:
    """A strftime format as the engine writes it, and a regular expression of the text it reads
    (each directive's text in a group of its own, in the format's order; ``%%`` in none).

    Examples
    --------
    >>> translate_format("%d/%m/%Y %H:%M", "postgres")[0]
    'DD/MM/YYYY HH24:MI'
    >>> translate_format("%d/%m/%Y %H:%M", "pyspark")[0]
    'd/M/yyyy H:m'
    """
    out, pattern, pos = [], ["^"], 0
    for m in _DIRECTIVE.finditer(fmt):
        literal = fmt[pos : m.start()]
        out.append(_literal(literal, dialect))
        pattern.append(re.escape(literal))
        if m.group() not in _DIRECTIVES:
            from ..errors import ConfigError

            raise ConfigError(
                f"the date format directive {m.group()} of '{fmt}' is not read by the "
                f"{dialect} engine",
                column="datetime_format",
                hint="known directives: " + " ".join(_DIRECTIVES) + "; or use --engine pandas",
            )
        pg, java, rx = _DIRECTIVES[m.group()]
        out.append(pg if dialect == "postgres" else java if dialect == "pyspark" else m.group())
        pattern.append(rx if m.group() == "%%" else f"({rx})")
        pos = m.end()
    out.append(_literal(fmt[pos:], dialect))
    pattern.append(re.escape(fmt[pos:]) + "$")
    return "".join(out), "".join(pattern)


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip


def _month_number(name: Any, *, full: bool) -> Any:
    """The month (1-12) a lower-case English name (``full``) or its three letters name,
    else NULL: one lookup in a text of the names. (PostgreSQL repeats an expression
    wherever it is named: a CASE of the twelve names, each reading the field again, grew
    a query to half a megabyte and its planning to a second.) ``name`` is a field of
    :func:`translate_format`'s pattern: three letters for ``%b``."""
    abbr = ibis.literal("|" + "|".join(n[:3] for n in _MONTHS) + "|")
    month = ((abbr.find("|" + name.substr(0, 3) + "|") + 4) // 4).nullif(0)
    if not full:
        return month
    names = ibis.literal("|" + "|".join(_MONTHS) + "|")
    return ibis.ifelse(names.find("|" + name + "|") >= 0, month, None)


def _pg_fields_exist(groups: Any, fmt: str) -> Any:
    """PostgreSQL: whether a text written in ``fmt``, whose ``groups`` (an array: the groups
    of :func:`translate_format`'s pattern, NULL where it does not match) are given, names a
    time that exists. ``to_timestamp`` fails on one that does not (31/02/2025, 25:00, a
    month called "Foo") where pandas, DuckDB and Spark read nothing; NULL counts as no.

    Each field is its group (a number only where the pattern matched: the casts cannot
    fail)."""
    fields = [m.group() for m in _DIRECTIVE.finditer(fmt) if m.group() != "%%"]

    def field(d: str) -> Any:
        return groups[fields.index(d)]

    def number(d: str) -> Any:
        return field(d).cast("int64")

    ok = ibis.literal(True)
    for d, lo, hi in (("%H", 0, 23), ("%I", 1, 12), ("%M", 0, 59), ("%S", 0, 59)):
        if d in fields:
            ok &= number(d).between(lo, hi)
    month = None
    if "%m" in fields:
        month = number("%m")
    for d in ("%b", "%B"):
        if d in fields:
            month = _month_number(field(d).lower(), full=d == "%B")
    if month is not None:
        ok &= month.between(1, 12)
    year = None
    if "%Y" in fields:
        year = number("%Y")
        ok &= year >= 1
    elif "%y" in fields:  # both engines read 00-68 as 20xx, 69-99 as 19xx
        yy = number("%y")
        year = ibis.ifelse(yy < 69, 2000 + yy, 1900 + yy)
    if "%d" in fields:
        day = number("%d")
        if month is None:
            ok &= day.between(1, 31)
        else:
            leap = (
                ibis.literal(True)
                if year is None
                else (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
            )
            last = ibis.cases(
                (month == 2, ibis.ifelse(leap, 29, 28)),
                (month.isin([4, 6, 9, 11]), 30),
                else_=31,
            )
            ok &= day.between(1, last)
    return ok.fill_null(False)


def _literal(text: str, dialect: str) -> str:
    if dialect == "pyspark" and re.search(r"[A-Za-z]", text):
        return "'" + text.replace("'", "''") + "'"
    if dialect == "postgres" and re.search(r"[A-Za-z]", text):
        return '"' + text + '"'
    return text


@dataclass(frozen=True)
class Dialect:
    """The backend-specific functions of one engine (``name`` is Ibis' backend name).

    ``encoding``: the Python codec of the database's text where it cannot hold every
    character (a PostgreSQL database in LATIN1 or EUC_JP; None: UTF-8). A query sent to
    it holds only characters it can hold (:attr:`whitespace`), as its cells do."""

    name: str
    encoding: str | None = None

    @property
    def whitespace(self) -> str:
        """The characters of :data:`WHITESPACE` the database's text can hold."""
        if self.encoding is None:
            return WHITESPACE
        return "".join(c for c in WHITESPACE if _holds(c, self.encoding))

    @property
    def repeats_expressions(self) -> bool:
        """Whether the engine computes an expression again wherever a query names it
        (PostgreSQL shares no common expression; DuckDB and Spark eliminate the repeats)."""
        return self.name == "postgres"

    def fence(self, t: Any) -> Any:
        """``t`` computed once per row before the next stage reads it. PostgreSQL's planner
        pulls subqueries up into the query that reads them and would repeat each stage's
        expressions wherever the next stage names its columns; a LIMIT keeps the subquery
        (:attr:`repeats_expressions`)."""
        return t.limit(2**62) if self.repeats_expressions else t

    # ---------------------------------------------------------------- time zones
    def local_to_utc(self, ts: Any, tz: str) -> Any:
        """Naive local times in ``tz`` -> UTC instants (an engine's own choice in DST gaps)."""
        if self.name == "pyspark":
            return _spark_to_utc(ts, tz).cast(dt.Timestamp(timezone="UTC"))
        return _tz_duckdb(tz, ts) if self.name == "duckdb" else _tz_postgres(tz, ts)

    def utc_to_local(self, ts: Any, tz: str) -> Any:
        """UTC instants -> naive local times in ``tz``."""
        if self.name == "pyspark":
            return _spark_from_utc(ts, tz).cast(dt.Timestamp())
        return _tz_duckdb_back(tz, ts) if self.name == "duckdb" else _tz_postgres_back(tz, ts)

    # ---------------------------------------------------------------- text -> dates
    def date_groups(self, text: Any, fmt: str | None) -> Any | None:
        """PostgreSQL with a ``fmt``: the groups of :func:`translate_format`'s pattern in
        ``text`` (an array, NULL where it does not match), for a stage before
        :meth:`parse_naive`, which reads each field several times; None elsewhere."""
        if self.name != "postgres" or fmt is None:
            return None
        return _pg_regexp_match(text, translate_format(fmt, self.name)[1])

    def parse_naive(self, text: Any, fmt: str | None, *, groups: Any = None) -> Any:
        """Text -> naive timestamp (NULL where it cannot be read): ISO 8601, or ``fmt``;
        ``groups``: :meth:`date_groups` of ``text``, computed before."""
        if fmt is None:
            return ibis.ifelse(text.re_search(ISO_NAIVE), _cast_ts(self, text), None)
        native, pattern = translate_format(fmt, self.name)
        if self.name == "duckdb":
            parsed = _try_strptime(text, native).cast(dt.Timestamp())
        elif self.name == "postgres":
            groups = self.date_groups(text, fmt) if groups is None else groups
            fits = groups.notnull() & _pg_fields_exist(groups, fmt)
            parsed = ibis.ifelse(fits, _pg_to_timestamp(text, native).cast(dt.Timestamp()), None)
        else:
            parsed = _spark_to_timestamp(text, native).cast(dt.Timestamp())
        # like pandas with a format: ISO 8601 text is still read
        return parsed.coalesce(ibis.ifelse(text.re_search(ISO_NAIVE), _cast_ts(self, text), None))

    def parse_aware(self, text: Any) -> Any:
        """Text with a zone (Z, UTC or an offset) -> UTC instant (NULL where unreadable)."""
        clean = text.re_replace(r"\s*(Z|UTC)$", "+00:00").re_replace(",", ".")
        ok = text.re_search(ISO_AWARE)
        if self.name == "postgres":
            value = _pg_cast_tstz(clean)
        elif self.name == "duckdb":
            value = clean.try_cast(dt.Timestamp(timezone="UTC"))
        else:
            value = clean.cast(dt.Timestamp(timezone="UTC"))
        return ibis.ifelse(ok, value, None)

    def number(self, text: Any) -> Any:
        """Text -> float (NULL where it is not a number; "," read as "."). A number beyond a
        float's range is infinite and one nearer 0 than its least is 0, as Python reads
        them (``1e400``, ``1e-400``); PostgreSQL refuses both as float8, so it reads
        them as numeric first."""
        clean = text.replace(",", ".")
        value = strip(clean, self.whitespace).cast("float64")
        if self.name == "postgres":
            # only a number with an exponent or of 300 characters can leave a float's
            # range; the text a view reads is stripped already (:func:`.view._text`)
            n = clean.cast(dt.Decimal())
            huge = n.abs() > ibis.literal("1.7976931348623157e308").cast(dt.Decimal())
            # half the least subnormal float: nearer 0 than that, a float is 0
            tiny = n.abs() < ibis.literal("2.4703282292062328e-324").cast(dt.Decimal())
            inf = ibis.ifelse(n > 0, float("inf"), float("-inf"))
            wide = ibis.ifelse(huge, inf, ibis.ifelse(tiny, 0.0, n.cast("float64")))
            odd = clean.contains("e") | clean.contains("E") | (clean.length() > 300)
            value = ibis.ifelse(odd, wide, value)
        return ibis.ifelse(clean.re_search(NUMBER), value, None)


def _holds(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _cast_ts(d: Dialect, text: Any) -> Any:
    clean = text.re_replace(",", ".")
    if d.name == "duckdb":
        return clean.try_cast(dt.Timestamp())
    return clean.cast(dt.Timestamp())


@ibis.udf.scalar.builtin(name="timezone")
def _tz_duckdb(tz: dt.string, ts: dt.timestamp) -> _UTC:
    """DuckDB: naive local time in tz -> instant."""


@ibis.udf.scalar.builtin(name="timezone")
def _tz_duckdb_back(tz: dt.string, ts: _UTC) -> dt.timestamp:
    """DuckDB: instant -> naive local time in tz."""


@ibis.udf.scalar.builtin(name="timezone")
def _tz_postgres(tz: dt.string, ts: dt.timestamp) -> _UTC:
    """PostgreSQL: ``ts AT TIME ZONE tz`` for a timestamp without time zone."""


@ibis.udf.scalar.builtin(name="timezone")
def _tz_postgres_back(tz: dt.string, ts: _UTC) -> dt.timestamp:
    """PostgreSQL: ``ts AT TIME ZONE tz`` for a timestamp with time zone."""


@ibis.udf.scalar.builtin(name="to_utc_timestamp")
def _spark_to_utc(ts: dt.timestamp, tz: dt.string) -> dt.timestamp:
    """Spark: local time in tz -> UTC."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _spark_from_utc(ts: dt.timestamp, tz: dt.string) -> dt.timestamp:
    """Spark: UTC -> local time in tz."""


@ibis.udf.scalar.builtin(name="hash")
def duckdb_hash(value: dt.string) -> dt.uint64:
    """DuckDB's 64-bit hash of a value (equal values, equal hashes)."""


@ibis.udf.scalar.builtin(name="strlen")
def duckdb_strlen(value: dt.string) -> dt.int64:
    """DuckDB: the length of a text in bytes (read from its header, no count of
    characters)."""


@ibis.udf.scalar.builtin(name="array_extract")
def duckdb_char(value: dt.string, index: dt.int64) -> dt.string:
    """DuckDB: the character of a text at ``index`` (1-based; -1 the last, '' if none)."""


@ibis.udf.scalar.builtin(name="try_strptime")
def _try_strptime(text: dt.string, fmt: dt.string) -> dt.timestamp:
    """DuckDB: strptime, NULL where the text does not fit."""


@ibis.udf.scalar.builtin(name="regexp_match")
def _pg_regexp_match(text: dt.string, pattern: dt.string) -> dt.Array(dt.string):
    """PostgreSQL's regexp_match(text, pattern): the groups of the first match, or NULL."""


@ibis.udf.scalar.builtin(name="to_timestamp")
def _pg_to_timestamp(text: dt.string, fmt: dt.string) -> _UTC:
    """PostgreSQL's to_timestamp(text, format) (guarded by a regular expression)."""


@ibis.udf.scalar.builtin(name="to_timestamp")
def _spark_to_timestamp(text: dt.string, fmt: dt.string) -> dt.timestamp:
    """Spark's to_timestamp(text, pattern): NULL where it does not fit (ANSI mode off)."""


def _pg_cast_tstz(text: Any) -> Any:
    return text.cast(dt.Timestamp(timezone="UTC"))
