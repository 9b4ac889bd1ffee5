"""The mapping file as the engine's view: one row per request, canonical columns, rows that
pass validation.

:func:`canonical_view` turns the source table (a Parquet file, a database table or view,
a Spark table) into an Ibis expression with the canonical columns of DESIGN.md, built
from the same :class:`~csi_lib.sources.mapping.Mapping` the pandas loader reads:
renamed columns, outcome values, the yes/no SLA column (or sla_met derived from
sla_due_at), the time zone of naive times, ``dedupe:`` (the last row of each request)
and the ``events:`` / ``derive:`` fold (window functions over each request's events).
The checks of :func:`csi_lib.schema.validate` are flags on each row, and the view keeps
the rows that pass every one, as the pandas loader keeps the rows it does not quarantine.
Nothing is written anywhere: the view is a query.
"""

from __future__ import annotations

import datetime as dt_
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from ..errors import ConfigError
from ..schema import (
    _AWARE_RE,
    _INTEGRAL_FLOAT,
    _WHOLE_MAX,
    CLOSED_OUTCOMES,
    DATE_RANGE,
    DATETIME_COLUMNS,
    DIMENSION_COLUMNS,
    FALSE_STRINGS,
    OUTCOMES,
    PAST_COLUMNS,
    TRUE_STRINGS,
)
from ..sources.mapping import FUTURE_TOLERANCE, Mapping
from ..sources.plan import _plan, plan_warnings
from .dialects import (
    DUCKDB_CONTROL,
    ISO_AWARE,
    ISO_NAIVE,
    WHITESPACE,
    Dialect,
    strip_missing,
)

#: Column the backends add for a source's row order (file order), where they can.
ROW = "_csi_row"
UTC = dt.Timestamp(timezone="UTC")
#: Columns of the view, in the canonical frame's order (extra dimensions follow).
CANONICAL_ORDER: tuple[str, ...] = (
    "request_id",
    "opened_at",
    "assessed_at",
    "closed_at",
    "outcome",
    "category",
    "channel",
    "priority",
    "group",
    "sla_due_at",
    "sla_met",
    "csat",
    "reopen_count",
)


@dataclass
class View:
    """A source seen through its mapping.

    Attributes
    ----------
    table:
        Every formed request with its canonical columns and ``_bad`` (fails a check).
    kept:
        The requests that pass every check (what the KPIs are computed over).
    read:
        The rows the canonical columns are read from (the last event of each request, for
        an event log; the last row of each, with ``dedupe:``).
    extras:
        Kept extra dimensions (``keep:``).
    text_dates:
        (canonical column, source column) of dates given as text, with no format.
    """

    table: Any
    kept: Any
    read: Any
    extras: list[str] = field(default_factory=list)
    text_dates: list[tuple[str, str, Any]] = field(default_factory=list)
    #: the source table itself (its rows are the rows read)
    source: Any = None
    #: what the load says of the source's columns (:func:`.sources.plan.plan_warnings`)
    warnings: list[str] = field(default_factory=list)
    #: whether a row of ``source`` is empty in every column the mapping reads (the pandas
    #: loader skips it: :func:`blank_rows`); None for an event log or ``dedupe:``
    blank: Any = None


_NAMES = itertools.count(1)


def fresh_name(kind: str) -> str:
    """A name no other temporary view or table of this process has had: ``csi_<kind>_<n>``.
    Not ``id()`` of an object: a freed object's id comes back, and a view named after one
    whose SQL reads the view of that name before it binds itself ("infinite recursion")."""
    return f"csi_{kind}_{next(_NAMES)}"


def one_of(col: Any, values: Iterable[str]) -> Any:
    """``col`` equal to one of ``values`` (``a = x OR a = y``: DuckDB plans an IN list as a
    join, which costs far more than a few comparisons). NULL stays NULL."""
    values = list(values)
    if not values:
        return ibis.literal(False)
    out = col == values[0]
    for v in values[1:]:
        out = out | (col == v)
    return out


def _no_nan(col: Any) -> Any:
    """A float column with NaN as missing, as pandas reads it: a Parquet file or a table
    written by another tool (DuckDB, Spark, Arrow, PostgreSQL's 'NaN') may hold NaN where
    pandas writes a null. In SQL NaN is a value, greater than any number: a score of NaN
    was out of range and its request refused."""
    if not col.type().is_floating():
        return col
    return ibis.ifelse(col.isnan(), ibis.null(col.type()), col)


def _text(col: Any, na_values: Iterable[str], d: Dialect | None = None) -> Any:
    """Stripped text, then empty or a missing-value spelling as NULL (typed columns as text;
    a float's NaN as missing); ``d``: the engine, which decides how
    (:func:`~.dialects.strip_missing`)."""
    if not col.type().is_string():
        col = _no_nan(col)
        if col.type().is_boolean():
            col = ibis.ifelse(col, "true", "false")
        col = col.cast("string")
    na = [v for v in na_values if v]  # after the strip, as the pandas loader: " N/A " too
    text = strip_missing(col, na, d)
    return text.nullif("")


def dirty_ids(col: Any, na_values: Iterable[str], chars: str = WHITESPACE) -> Any:
    """Whether :func:`_ids` would change a text id: missing, a missing-value spelling,
    blank, padded (what ``strip()`` removes: ``chars``, written into the class as
    themselves), or a whole number written as a float (``123.0``, :data:`_INTEGRAL_FLOAT`):
    one regular expression per id."""
    dirty = f"^[{chars}]|[{chars}]$|" + _INTEGRAL_FLOAT
    return (col.isnull() | one_of(col, [*na_values, ""]) | col.re_search(dirty)).fill_null(True)


def _may_be_dirty(col: Any, na_values: Iterable[str], d: Dialect | None = None) -> Any:
    """A cheap test true for every id :func:`dirty_ids` finds (and some others): missing,
    no longer than the longest missing-value spelling, starting or ending with a control
    character, a space or a character beyond ASCII (where every other character
    ``strip()`` removes lies), or holding a ``.``. DuckDB measures the id in bytes and
    reads its last character by index (faster there than ``right``); other engines by
    :func:`~.dialects._white_ends`, whose ``ascii()`` must give a character's code point
    (PostgreSQL: a UTF-8 database, see :func:`.backends.postgres_codec`)."""
    from .dialects import _white_ends, duckdb_char, duckdb_strlen, may_be_white, may_start_white

    if d is None or d.name == "duckdb":
        longest = max((len(v.encode("utf-8")) for v in na_values), default=0)
        tests = [duckdb_strlen(col) <= longest, may_start_white(col),
                 may_be_white(duckdb_char(col, -1).ascii_str())]  # fmt: skip
    else:
        tests = [col.length() <= max((len(v) for v in na_values), default=0), _white_ends(col)]
    out = col.isnull()
    for test in [*tests, col.contains(".")]:
        out = out | test
    return out.fill_null(True)


def guarded_ids(col: Any, na_values: Iterable[str], d: Dialect | None = None) -> Any:
    """The ids of :func:`_ids`, cleaned only where :func:`dirty_ids` says they need it: a
    clean id is read as it is. DuckDB and PostgreSQL evaluate a branch of CASE only on
    the rows that take it, so a source of clean ids costs a few comparisons per id
    (:func:`_may_be_dirty`), not the regular expression, a trim and the cleaning
    (PostgreSQL, 1M ids: their count of distinct ids 0.90 s -> 0.43 s)."""
    # DuckDB cleans a dirty id with the plain strip (its own would guard the trim again)
    e = None if d is None or d.name == "duckdb" else d
    if not col.type().is_string():
        return _ids(col, na_values, e)
    return ibis.ifelse(guarded_dirty(col, na_values, d), _ids(col, na_values, e), col)


def guarded_dirty(col: Any, na_values: Iterable[str], d: Dialect | None = None) -> Any:
    """:func:`dirty_ids` of a text id, evaluated only where the cheap :func:`_may_be_dirty`
    says it may be (False for every id :func:`_ids` reads as it is)."""
    na = [*na_values, ""]
    chars = WHITESPACE if d is None else d.whitespace
    return ibis.ifelse(_may_be_dirty(col, na, d), dirty_ids(col, na_values, chars), False)


def clean_id_hashes(raw: Any, mapping: Mapping, label: str) -> Any | None:
    """DuckDB: ``_h``, each text id's hash where the id is clean (read as it is:
    :func:`guarded_dirty` false), NULL where it is not, and ``_id``, the id as read (for
    its control characters, which the cheap test does not see); None where the ids are not
    read as they are (not text, or folded from events or deduplicated by the mapping). A
    source of clean, distinct ids is then viewed with ``ids_clean`` (:func:`canonical_view`)."""
    from .dialects import duckdb_hash

    m = mapping
    if m.events is not None or m.dedupe is not None:
        return None
    col = raw[_plan(m, list(raw.columns), label, ()).columns["request_id"]]
    if not col.type().is_string():
        return None
    dirty = guarded_dirty(col, m.na_values, Dialect("duckdb"))
    return raw.select(_h=ibis.ifelse(dirty, ibis.null("uint64"), duckdb_hash(col)), _id=col)


def _ids(col: Any, na_values: Iterable[str], d: Dialect | None = None) -> Any:
    """The request ids as text, like validation: an id read as a number ("123.0" in a CSV,
    1.0 in Parquet) is the same id as "123".

    The trailing ".0" is cut, not rewritten with a back-reference (``\\1`` in DuckDB and
    PostgreSQL, ``$1`` in Spark's Java patterns); a whole float is written through an
    integer, as Spark writes 1.0E7 where pandas writes 10000000.0.
    """
    if col.type().is_floating():
        col = _no_nan(col)
        whole = col.notnull() & (col == col.floor()) & (col.abs() < 1e16)
        col = ibis.ifelse(whole, col.cast("int64").cast("string"), col.cast("string"))
    t = _text(col, na_values, d)
    return ibis.ifelse(t.re_search(_INTEGRAL_FLOAT), t.re_replace(_TRAILING_ZEROS, ""), t)


#: the fraction of a whole number written as a float (the ``.0`` of ``123.0``)
_TRAILING_ZEROS = r"\.0*$"


#: :data:`DATE_RANGE` to the microsecond, inside it (SQL timestamps hold microseconds)
_RANGE = tuple(
    dt_.datetime.fromtimestamp(t.value // 1000 / 1e6 + (1e-6 if i == 0 else 0), tz=dt_.UTC)
    for i, t in enumerate(DATE_RANGE)
)


@dataclass
class _Time:
    value: Any  # UTC instant or NULL
    bad: Any  # given but unreadable, or in the repeated hour of a DST change
    outside: Any  # read but outside DATE_RANGE


def _localize(d: Dialect, naive: Any, tz: str) -> tuple[Any, Any]:
    """Naive local times in ``tz`` as UTC, like pandas' ``tz_localize(ambiguous="NaT",
    nonexistent="shift_forward")``: (value, ambiguous)."""
    if tz == "UTC":
        return naive.cast(UTC), ibis.literal(False)
    u = d.local_to_utc(naive, tz)
    hour = ibis.interval(hours=1)
    back = d.utc_to_local(u, tz)
    gap = back != naive
    earlier, later = d.utc_to_local(u - hour, tz), d.utc_to_local(u + hour, tz)
    ambiguous = ~gap & ((earlier == naive) | (later == naive))
    shifted = d.local_to_utc(naive.truncate("h") + hour, tz)
    value = ibis.ifelse(ambiguous, None, ibis.ifelse(gap, shifted, u))
    return value, ambiguous.fill_null(False)


def _time_parts(
    d: Dialect,
    col: Any,
    m: Mapping,
    name: str,
    *,
    text: Any = None,
    aware: Any = None,
    groups: Any = None,
) -> dict[str, Any]:
    """First stage of a date column (the expressions over the source column): ``_t`` the
    text (text columns), ``_n`` the naive time read, ``_a`` the instant of a value with
    a zone, ``_w`` whether the value has one. ``text``, ``aware``, ``groups``: the column's
    text (:func:`_text`), ``_w`` and the groups of its format, computed before
    (:func:`_texts_once`)."""
    typ = col.type()
    if typ.is_timestamp() and typ.timezone is not None:
        return {f"_a{name}": col.cast(UTC), f"_w{name}": ibis.literal(True)}
    if typ.is_timestamp() or typ.is_date():
        return {f"_n{name}": col.cast(dt.Timestamp()), f"_w{name}": ibis.literal(False)}
    if text is None:
        text = _text(col, m.na_values, d)
    if aware is None:
        aware = text.re_search(_AWARE_RE).fill_null(False)
    return {
        f"_t{name}": text,
        # each value is parsed one way only (a regular expression costs the most per row)
        f"_n{name}": ibis.ifelse(
            aware, None, d.parse_naive(text, m.datetime_format, groups=groups)
        ),
        f"_a{name}": ibis.ifelse(aware, d.parse_aware(text), None),
        f"_w{name}": aware,
    }


def _texts_once(d: Dialect, src: Any, m: Mapping, sources: Mapping[str, str]) -> Any:
    """PostgreSQL (:attr:`.dialects.Dialect.repeats_expressions`): ``src`` with
    ``_csi_text_<canonical>``, the text (:func:`_text`) of each text column ``sources``
    maps (canonical -> source column), in a stage of its own. The
    parse of a date reads its text up to a dozen times (the fields of a
    ``datetime_format``), that of an outcome, a yes/no or a number several times, and
    PostgreSQL would strip the text again at each (:meth:`.dialects.Dialect.fence`): a
    400-row table with dates written "%d %b %y %I:%M %p" took 10.2 s for one KPI table,
    its queries 585 KB of SQL. DuckDB and Spark share the expression themselves."""
    texts = {f"_csi_text_{canon}": _text(src[c], m.na_values, d) for canon, c in sources.items()
             if d.repeats_expressions and src[c].type().is_string()}  # fmt: skip
    if not texts:
        return src
    src = d.fence(src.mutate(**texts))
    # then of each date: whether it names its zone (read by three columns of the first
    # stage: 1.3 s per date column per million rows each time) and its format's fields
    facts = {}
    for canon in (c for c in DATETIME_COLUMNS if f"_csi_text_{c}" in src.columns):
        text = src[f"_csi_text_{canon}"]
        facts[f"_csi_aware_{canon}"] = text.re_search(_AWARE_RE).fill_null(False)
        groups = d.date_groups(text, m.datetime_format)
        if groups is not None:
            facts[f"_csi_groups_{canon}"] = groups
    return d.fence(src.mutate(**facts)) if facts else src


def _text_once(src: Any, canon: str, what: str = "text") -> Any:
    """The column :func:`_texts_once` computed for ``canon`` (its ``text``, or of a date
    ``aware`` and ``groups``), or None."""
    name = f"_csi_{what}_{canon}"
    return src[name] if name in src.columns else None


def _time_value(d: Dialect, t: Any, m: Mapping, name: str) -> dict[str, Any]:
    """Second stage: ``_v`` the UTC instant, ``_b`` given but unreadable or ambiguous."""
    cols = t.columns
    naive = t[f"_n{name}"] if f"_n{name}" in cols else None
    aware = t[f"_a{name}"] if f"_a{name}" in cols else ibis.null(UTC)
    if naive is None:
        value, ambiguous = aware, ibis.literal(False)
    else:
        local, ambiguous = _localize(d, naive, m.timezone)
        value = ibis.ifelse(t[f"_w{name}"], aware, local)
    text = t[f"_t{name}"] if f"_t{name}" in cols else None
    bad = ambiguous if text is None else (text.notnull() & value.isnull()) | ambiguous
    return {f"_v{name}": value, f"_b{name}": bad.fill_null(False)}


def _inside(v: Any) -> tuple[Any, Any]:
    """(``v`` inside DATE_RANGE or NULL, whether it is outside)."""
    lo, hi = (ibis.literal(x, type=UTC) for x in _RANGE)
    outside = (v.notnull() & ((v < lo) | (v > hi))).fill_null(False)
    return ibis.ifelse(outside, None, v), outside


def _time_final(t: Any, name: str) -> tuple[Any, Any, Any]:
    """Third stage: (value inside DATE_RANGE or NULL, bad, outside DATE_RANGE)."""
    value, outside = _inside(t[f"_v{name}"])
    return value, t[f"_b{name}"] & ~outside, outside


def _time(d: Dialect, col: Any, m: Mapping) -> tuple[_Time, Any | None]:
    """A date column in one expression (for the order of events and of dedupe:); a time
    outside DATE_RANGE is none (NULL), as pandas reads it: such an event takes no part."""
    parts = _time_parts(d, col, m, "")
    naive = parts.get("_n")
    aware = parts.get("_a", ibis.null(UTC))
    if naive is None:
        value = aware
    else:
        local, _ = _localize(d, naive, m.timezone) if m.timezone != "UTC" else (naive.cast(UTC), 0)
        value = ibis.ifelse(parts["_w"], aware, local)
    inside, outside = _inside(value)
    return _Time(inside, ibis.literal(False), outside), parts.get("_t")


def _booleans(col: Any, m: Mapping, d: Dialect | None = None, *, text: Any = None) -> Any:
    if col.type().is_boolean():
        return col
    s = (_text(col, m.na_values, d) if text is None else text).lower()
    spec = m.sla_met
    trues = {v.strip().lower() for v in spec.true_values} if spec else set(TRUE_STRINGS)
    if spec is not None and not spec.false_values:
        return ibis.ifelse(one_of(s, sorted(trues)), True, ibis.ifelse(s.notnull(), False, None))
    falses = (
        {v.strip().lower() for v in spec.false_values}
        if spec and spec.false_values
        else set(FALSE_STRINGS)
    )
    return ibis.cases(
        (one_of(s, sorted(trues)), True),
        (one_of(s, sorted(falses)), False),
        else_=ibis.null("boolean"),
    )


def _outcome(col: Any, m: Mapping, d: Dialect | None = None, *, text: Any = None) -> Any:
    if text is None:
        text = _text(col, m.na_values, d)
    spec = m.outcome
    if spec is None:
        return text.lower()
    lut = {v.strip().lower(): canon for canon, vals in spec.values.items() for v in vals}
    low = text.lower()
    mapped = ibis.cases(
        *[(one_of(low, sorted(k for k, c in lut.items() if c == canon)), canon)
          for canon in OUTCOMES if canon in lut.values()],
        else_=ibis.null("string"),
    )  # fmt: skip
    fallback = ibis.literal(spec.default) if spec.default is not None else low
    return ibis.ifelse(text.isnull() & ibis.literal(spec.default is None), None,
                       mapped.coalesce(fallback))  # fmt: skip


def outcome_values(
    raw: Any, mapping: Mapping, label: str, *, most: int = 200, control: str | None = None
) -> Any | None:
    """The distinct values of the source's outcome column with their canonical outcome
    (columns ``v``, ``o``; at most ``most`` + 1 rows: more values are not looked up), for a
    mapping without ``events:``; each value read without the characters of the regular
    expression ``control`` (the control characters the pandas loader removes). None where
    it does not apply."""
    m = mapping
    plan = _plan(m, list(raw.columns), label, ())
    if m.events is not None or not plan.outcome:
        return None
    values = raw.select(v=raw[plan.outcome]).distinct().limit(most + 1)
    text = values.v if control is None else values.v.re_replace(control, "")
    return values.mutate(o=_outcome(text, m))


def _looked_up(col: Any, outcomes: Mapping[str | None, str | None]) -> Any:
    """The canonical outcome of each value of ``col`` from its table (exact values; the
    entry of a missing value for NULL)."""
    given = [(v, o) for v, o in outcomes.items() if v is not None]
    missing = outcomes.get(None)
    if not given:
        return ibis.literal(missing, type="string")
    return ibis.cases(*[(col == v, ibis.literal(o, type="string")) for v, o in given],
                      else_=ibis.literal(missing, type="string"))  # fmt: skip


def _dimension(d: Dialect, col: Any) -> Any:
    """A group's text, DuckDB: without control characters, as the pandas loader reads it
    (PostgreSQL and Spark clean the source's columns; computed only where read)."""
    if d.name == "duckdb" and col.type().is_string():
        return col.re_replace(DUCKDB_CONTROL, "")
    return col


def _number(d: Dialect, col: Any, m: Mapping, *, text: Any = None) -> tuple[Any, Any]:
    """(float value, given but not a number)."""
    if col.type().is_numeric():  # a decimal's NaN too (PostgreSQL's numeric holds one)
        return _no_nan(col.cast("float64")), ibis.literal(False)
    if text is None:
        text = _text(col, m.na_values, d)
    value = d.number(text)
    return value, (text.notnull() & value.isnull())


def _fold_events(d: Dialect, raw: Any, m: Mapping, plan: Any) -> tuple[Any, dict[str, Any]]:
    """One row per request from an event log: the request's last event, with the
    ``derive:`` columns computed over its events ordered by (time, row of the file)."""
    ev = raw.mutate(
        _csi_id=_ids(raw[plan.columns["request_id"]], m.na_values, d),
        _csi_t=_time(d, raw[plan.event_time], m)[0].value,
        _csi_status=_text(raw[plan.event_status], m.na_values, d).lower(),
    )
    ev = ev.filter(ev._csi_id.notnull(), ev._csi_t.notnull())
    listed = {
        canon: [v.strip().lower() for v in rule.values]
        for canon, rule in m.derive.items()
        if rule.kind != "first_time"
    }
    flags = {f"_csi_in_{canon}": one_of(ev._csi_status, vals).fill_null(False)
             for canon, vals in listed.items()}  # fmt: skip
    ev = ev.mutate(**flags)
    order = [ev._csi_t.asc(), ev[ROW].asc()]
    w = ibis.window(group_by=ev._csi_id, order_by=order)
    last = ibis.row_number().over(
        ibis.window(group_by=ev._csi_id, order_by=[ev._csi_t.desc(), ev[ROW].desc()])
    )
    lags = {
        f"_csi_prev_{canon}": ev[f"_csi_in_{canon}"].lag().over(w)
        for canon, rule in m.derive.items()
        if rule.kind == "transitions_from"
    }
    ev = ev.mutate(_csi_last=last, **lags)
    aggs: dict[str, Any] = {}
    for canon, rule in m.derive.items():
        if rule.kind == "first_time":
            aggs[f"_csi_d_{canon}"] = ev._csi_t.min()
        elif rule.kind == "first_time_in":
            aggs[f"_csi_d_{canon}"] = ev._csi_t.min(where=ev[f"_csi_in_{canon}"])
        elif rule.kind == "transitions_from":
            left = ev[f"_csi_prev_{canon}"].fill_null(False) & ~ev[f"_csi_in_{canon}"]
            aggs[f"_csi_d_{canon}"] = left.cast("int32").sum().fill_null(0)
    per = ev.group_by(_csi_key=ev._csi_id).aggregate(**aggs) if aggs else None
    lasts = ev.filter(ev._csi_last == 0)
    derived_last = {
        f"_csi_d_{canon}": ibis.ifelse(lasts[f"_csi_in_{canon}"], lasts._csi_t, None)
        for canon, rule in m.derive.items()
        if rule.kind == "last_time_if_final_in"
    }
    lasts = lasts.mutate(**derived_last)
    if per is not None:
        lasts = lasts.join(per, lasts._csi_id == per._csi_key).drop("_csi_key")
    derived = {canon: lasts[f"_csi_d_{canon}"] for canon in m.derive}
    return lasts, derived


@dataclass(frozen=True)
class ColumnStats:
    """What a source says of one typed column without reading it (a Parquet file's
    statistics): least and greatest value (None: no value at all), values present (None:
    not counted) and rows."""

    least: Any
    greatest: Any
    present: int | None
    rows: int


def _instant(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _proven(raw: Any, m: Mapping, plan: Any, stats: Any, outcomes: Any, now: Any) -> set[str]:
    """Checks of validation that no row can fail, from the source's column statistics
    and the table of outcome values: ``inside:<column>`` (every date inside
    DATE_RANGE), ``past:<column>`` (none after ``now``), ``present:opened_at`` (no
    request without one), ``outcomes`` (every value maps onto an outcome), ``csat``
    (every score within 1-5), ``reopen_count`` (whole and not negative). Only typed
    columns read as they are (instants, or naive times of a UTC mapping) are judged."""
    out: set[str] = set()
    if outcomes is not None and all(o in OUTCOMES for o in outcomes.values()):
        out.add("outcomes")
    if not stats:
        return out
    lo, hi = (pd.Timestamp(x).tz_convert("UTC") for x in _RANGE)
    second = pd.Timedelta(seconds=1)
    for canon in DATETIME_COLUMNS:
        source = plan.columns.get(canon)
        st = stats.get(source) if isinstance(source, str) else None
        if st is None:
            continue
        typ = raw[source].type()
        if not typ.is_timestamp() or (typ.timezone is None and m.timezone != "UTC"):
            continue
        least, greatest = _instant(st.least), _instant(st.greatest)
        none = least is None or greatest is None
        if none or (least >= lo + second and greatest <= hi - second):
            out.add(f"inside:{canon}")
            if none or greatest + second <= now:
                out.add(f"past:{canon}")
            if st.present is not None and st.present == st.rows:
                out.add(f"present:{canon}")
    csat = stats.get(plan.columns.get("csat"))
    if (
        csat is not None
        and raw[plan.columns["csat"]].type().is_numeric()
        and (csat.least is None or (csat.least >= 1 and csat.greatest <= 5))
    ):
        out.add("csat")
    reopen = stats.get(plan.columns.get("reopen_count"))
    if (
        reopen is not None
        and raw[plan.columns["reopen_count"]].type().is_integer()
        and (reopen.least is None or reopen.least >= 0)
    ):
        out.add("reopen_count")
    return out


def canonical_view(
    raw: Any,
    mapping: Mapping,
    *,
    dialect: Dialect,
    label: str,
    keep: Iterable[str] = (),
    guard_ids: bool = False,
    ids_clean: bool = False,
    outcomes: Mapping[str | None, str | None] | None = None,
    stats: Mapping[str, ColumnStats] | None = None,
    row: bool = False,
) -> View:
    """The mapped, validated requests of ``raw`` (an Ibis table of the source's columns).

    ``guard_ids``: clean ids are read as they are and only the others cleaned
    (:func:`guarded_ids`; for an engine that evaluates a branch of CASE only on the rows
    that take it: DuckDB, and PostgreSQL where ``ascii()`` gives a code point).
    ``ids_clean``: every id is known clean (:func:`clean_id_hashes`): read as it is, and
    no row is tested for a missing one (the rows' table then never reads the ids).
    ``outcomes``: the canonical outcome of each value of the source's outcome column
    (:func:`outcome_values`), looked up instead of cleaning the text of every row.
    ``stats``: the source's typed columns' :class:`ColumnStats` (a Parquet file's own
    statistics): a check they prove no row can fail is left out (:func:`_proven`).
    ``row``: :attr:`View.table` also holds each request's row of the source (:data:`ROW`,
    which ``raw`` must have) and ``_out_<column>`` (a date read but outside DATE_RANGE):
    where its quarantined rows are read back, the order of its kept rows and the load's
    counts (:mod:`.rows`). :attr:`View.kept` never holds them.

    Raises
    ------
    InputError
        A column the mapping needs is not in the source (the loader's own message).
    """
    m = mapping
    plan = _plan(m, list(raw.columns), label, keep)
    d = dialect
    derived: dict[str, Any] = {}
    src = raw
    if m.events is not None:
        src, derived = _fold_events(d, raw, m, plan)
    elif m.dedupe is not None:
        t, _ = _time(d, raw[plan.order_by], m)
        ids = _ids(raw[plan.columns["request_id"]], m.na_values, d)
        rank = ibis.row_number().over(
            ibis.window(group_by=ids, order_by=[t.value.desc(nulls_first=False), raw[ROW].desc()])
        )
        src = raw.mutate(_csi_rank=rank, _csi_dedupe_id=ids)
        src = src.filter((src._csi_rank == 0) | src._csi_dedupe_id.isnull())

    read = src
    once = {c: plan.columns[c] for c in (*DATETIME_COLUMNS, "csat", "reopen_count")
            if c in plan.columns and c not in derived}  # fmt: skip
    if plan.outcome and (outcomes is None or m.events is not None):
        once["outcome"] = plan.outcome
    if plan.sla_met:
        once["sla_met"] = plan.sla_met
    src = _texts_once(d, src, m, once)
    # stage 1: expressions over the source columns (each parse written once)
    ids_clean = ids_clean and m.events is None and m.dedupe is None
    first: dict[str, Any] = {
        "request_id": src._csi_id
        if m.events is not None
        else src[plan.columns["request_id"]]
        if ids_clean
        else guarded_ids(src[plan.columns["request_id"]], m.na_values, d)
        if guard_ids and m.dedupe is None
        else _ids(src[plan.columns["request_id"]], m.na_values, d)
    }
    text_dates: list[tuple[str, str, Any]] = []
    for canon in DATETIME_COLUMNS:
        if canon in derived:
            first[f"_a_{canon}"] = derived[canon]
            first[f"_w_{canon}"] = ibis.literal(True)
        elif canon in plan.columns:
            first.update(_time_parts(d, src[plan.columns[canon]], m, f"_{canon}",
                                     text=_text_once(src, canon),
                                     aware=_text_once(src, canon, "aware"),
                                     groups=_text_once(src, canon, "groups")))  # fmt: skip
            if f"_t_{canon}" in first and m.datetime_format is None:
                text_dates.append(  # over the source as read (``src`` may have a stage more)
                    (canon, plan.columns[canon], _text(read[plan.columns[canon]], m.na_values, d))
                )
    first["outcome"] = (
        ibis.null("string")
        if not plan.outcome
        else _outcome(src[plan.outcome], m, d, text=_text_once(src, "outcome"))
        if outcomes is None or m.events is not None
        else _looked_up(src[plan.outcome], outcomes)
    )
    for canon in DIMENSION_COLUMNS:
        if canon in plan.columns:
            first[canon] = _text(_dimension(d, src[plan.columns[canon]]), m.na_values, d)
    if plan.sla_met:
        first["sla_met"] = _booleans(src[plan.sla_met], m, d, text=_text_once(src, "sla_met"))
    for canon in ("csat", "reopen_count"):
        if canon in derived:
            first[canon] = derived[canon].cast("float64")
            first[f"_x_{canon}"] = ibis.literal(False)
        elif canon in plan.columns:
            first[canon], first[f"_x_{canon}"] = _number(
                d, src[plan.columns[canon]], m, text=_text_once(src, canon)
            )
    extras = [c for c in plan.keep if c not in first]
    for c in extras:
        first[c] = _text(_dimension(d, src[c]), m.na_values, d)
    rows = [ROW] if row else []
    for c in rows:
        first[c] = src[c]
    a = d.fence(src.select(**first))
    # stage 2: instants in UTC
    second = {}
    for canon in DATETIME_COLUMNS:
        if f"_a_{canon}" in a.columns or f"_n_{canon}" in a.columns:
            second.update(_time_value(d, a, m, f"_{canon}"))
    b = d.fence(a.mutate(**second))
    # stage 3: dates inside the range, then the canonical columns and the checks
    cols: dict[str, Any] = {"request_id": b.request_id}
    times: dict[str, _Time] = {}
    now = pd.Timestamp.now(tz="UTC") + FUTURE_TOLERANCE
    proven = _proven(raw, m, plan, stats, outcomes, now) if m.events is None else set()
    for canon in DATETIME_COLUMNS:
        if f"_v_{canon}" in b.columns and f"inside:{canon}" in proven:
            times[canon] = _Time(b[f"_v_{canon}"], b[f"_b_{canon}"], ibis.literal(False))
        elif f"_v_{canon}" in b.columns:
            times[canon] = _Time(*_time_final(b, f"_{canon}"))
        else:
            times[canon] = _Time(ibis.null(UTC), ibis.literal(False), ibis.literal(False))
        cols[canon] = times[canon].value
    c3 = b.select(
        *[c for c in b.columns if not c.startswith("_") and c not in DATETIME_COLUMNS],
        *[c for c in b.columns if c.startswith("_x_")],
        *rows,
        **{k: v for k, v in cols.items() if k != "request_id"},
        **{f"_bad_{canon}": times[canon].bad for canon in DATETIME_COLUMNS},
        **{f"_out_{canon}": times[canon].outside for canon in DATETIME_COLUMNS},
    )
    c3 = d.fence(c3)
    src = c3
    cols = {"request_id": c3.request_id}
    bad: list[Any] = [] if ids_clean else [c3.request_id.isnull()]
    for canon in DATETIME_COLUMNS:
        cols[canon] = c3[canon]
        bad.append(c3[f"_bad_{canon}"])
    opened = _Time(c3.opened_at, c3._bad_opened_at, c3._out_opened_at)
    bad.append(opened.outside)
    if "present:opened_at" not in proven:
        bad.append(opened.value.isnull() & ~opened.bad & ~opened.outside)
    for canon in PAST_COLUMNS:
        if f"past:{canon}" not in proven:
            bad.append((cols[canon] > ibis.literal(now.to_pydatetime(), type=UTC)).fill_null(False))

    outcome = c3.outcome
    cols["outcome"] = outcome
    if "outcomes" not in proven:
        bad.append(outcome.isnull() | ~one_of(outcome, list(OUTCOMES)))
    is_closed = one_of(outcome, list(CLOSED_OUTCOMES)).fill_null(False)
    closed = _Time(c3.closed_at, c3._bad_closed_at, c3._out_closed_at)
    bad.append(is_closed & closed.outside)
    bad.append(is_closed & closed.value.isnull() & ~closed.bad & ~closed.outside)
    bad.append((outcome == "open").fill_null(False) & closed.value.notnull())
    bad.append((closed.value < opened.value).fill_null(False))

    for canon in DIMENSION_COLUMNS:
        cols[canon] = c3[canon] if canon in c3.columns else ibis.null("string")
    if "sla_met" in c3.columns:
        cols["sla_met"] = c3.sla_met
    else:
        known = closed.value.notnull() & c3.sla_due_at.notnull() & is_closed
        cols["sla_met"] = ibis.ifelse(known, closed.value <= c3.sla_due_at, None)
    if "csat" in c3.columns:
        csat = c3.csat
        bad.append(c3._x_csat)
        if "csat" not in proven:
            bad.append((csat.notnull() & ((csat < 1) | (csat > 5))).fill_null(False))
    else:
        csat = ibis.null("float64")
    cols["csat"] = csat
    if "reopen_count" in c3.columns:
        reopen = c3.reopen_count
        if "reopen_count" in proven:
            bad.append(c3._x_reopen_count)
            cols["reopen_count"] = reopen.cast("int64")
        else:
            # infinite or beyond 2**53 is no count, as in validation; Ibis rounds to an
            # int64, which such a value fails (DuckDB, PostgreSQL): it is rounded as 0
            big = ~(reopen.abs() <= _WHOLE_MAX)
            fits = ibis.ifelse(big, 0.0, reopen)
            not_whole = reopen.notnull() & ((fits.round() != fits) | (reopen < 0) | big)
            bad += [c3._x_reopen_count, not_whole.fill_null(False)]
            cols["reopen_count"] = ibis.ifelse(not_whole, None, fits.round().cast("int64"))
    else:
        cols["reopen_count"] = ibis.null("int64")
    for c in [*extras, *rows]:
        cols[c] = c3[c]
    if row:  # dates read but outside DATE_RANGE (an optional one is then read as missing)
        cols.update({f"_out_{canon}": c3[f"_out_{canon}"] for canon in DATETIME_COLUMNS})
    flag = ibis.literal(False)
    for b in bad:
        flag = flag | b.fill_null(False)
    table = d.fence(src.select(**cols, _bad=flag))
    outs = [f"_out_{canon}" for canon in DATETIME_COLUMNS] if row else []
    kept = table.filter(~table._bad).drop("_bad", *rows, *outs)
    return View(table=table, kept=kept, read=read, extras=extras, text_dates=text_dates,
                source=raw, warnings=[w for part in plan_warnings(plan, m) for w in part],
                blank=blank_rows(raw, plan, m, d))  # fmt: skip


def blank_rows(raw: Any, plan: Any, m: Mapping, d: Dialect) -> Any | None:
    """Whether each row of ``raw`` holds nothing in any column the mapping reads (text
    cleaned as :func:`_text` cleans it), as the pandas loader's ``_blank_rows`` tests:
    a spreadsheet's formatted empty rows, a CSV line of delimiters only. The pandas
    loader skips them; the view forms them into requests without an id, so bad. None
    for an event log (its fold quarantines them) or ``dedupe:`` (they would share one
    missing id)."""
    if m.events is not None or m.dedupe is not None:
        return None
    empty = ibis.literal(True)
    for c in plan.used():
        col = raw[c]
        empty = empty & (_text(col, m.na_values, d) if col.type().is_string() else col).isnull()
    return empty


def collapse_duplicates(view: View) -> View:
    """The view with repeated ids handled as :func:`csi_lib.schema.validate` does: exact
    copies collapse into one; the rows of an id given with different values are all bad.
    Only asked for when the source has a repeated id (a count the engine makes once)."""
    columns = [*CANONICAL_ORDER, *view.extras]
    distinct = view.table.distinct()
    counts = distinct.group_by(_csi_dup_id=distinct.request_id).aggregate(_csi_n=ibis._.count())
    counts = counts.filter(counts._csi_n > 1, counts._csi_dup_id.notnull())
    joined = distinct.left_join(counts, distinct.request_id == counts._csi_dup_id)
    table = joined.select(*columns, _bad=distinct._bad | joined._csi_n.notnull())
    kept = table.filter(~table._bad).drop("_bad")
    return replace(view, table=table, kept=kept)


#: the most distinct dates written otherwise than ISO 8601 that a SQL engine puts to the
#: pandas engine's parser (:func:`check_text_dates`); a column with more is refused
ODD_DATES_MOST = 1000


def check_text_dates(backend: Any, view: View, label: str, mapping: Mapping) -> None:
    """Dates given as text with no datetime_format are read as ISO 8601 by the SQL engines.

    A value written otherwise is unreadable there (the request is refused as "unparseable",
    as any unreadable date); that is how the pandas engine reads it only if pandas cannot
    read it either. So each date column's distinct other values (at most
    :data:`ODD_DATES_MOST`) go to the pandas engine's own parser: where it reads none
    (``TBD``, ``pending``, ``-``, an impossible ``2025-02-31`` or ``24:00``), both engines
    refuse the same requests; where it reads one (``01/02/2025``, ``June``, an Excel day
    number, or outside DATE_RANGE in a column other than opened_at), or there are more,
    the source is refused with the first such example."""
    from ..schema import parse_datetimes
    from ..sources.plan import _serial_mask

    for canon, column, text in view.text_dates:
        odd = text.notnull() & ~text.re_search(ISO_NAIVE) & ~text.re_search(ISO_AWARE)
        got = backend.execute(
            view.read.filter(odd).select(_v=text).distinct().limit(ODD_DATES_MOST + 1)
        )
        if not len(got):
            continue
        values = pd.Series(sorted(str(v) for v in got["_v"]), dtype=object)
        parsed = parse_datetimes(values, dayfirst=mapping.dayfirst, tz=mapping.timezone)
        # read as a date; one outside the range too, except an opening date (refused by
        # both engines then): another date outside it is missing to pandas (``-5``, the
        # year -5 to pandas, as an approval date), unreadable here
        outside = parsed.out_of_range if canon == "opened_at" else False
        read = ~parsed.unparseable & ~outside | _serial_mask(values)
        read = read.to_numpy(dtype=bool)
        if len(values) <= ODD_DATES_MOST and not read.any():
            continue
        example = values[read].iloc[0] if read.any() else values.iloc[0]
        raise ConfigError(
            f"the column '{column}' ({canon}) holds dates such as '{example}', "
            "which are not ISO 8601 (2025-01-31 14:05), and the mapping gives no "
            "datetime_format",
            file=label,
            column=column,
            hint='set datetime_format in the mapping (e.g. "%d/%m/%Y %H:%M"), or use '
            "--engine pandas, which infers the format",
        )
