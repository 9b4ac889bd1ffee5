"""The canonical request frame: columns, dtypes, outcome vocabulary, validation.

One row per service request. Times are timezone-aware UTC. See DESIGN.md,
"Canonical request data".
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError

#: Outcomes a request can have.
OUTCOMES: tuple[str, ...] = ("fulfilled", "declined", "cancelled", "open")
#: Outcomes that mean the request is closed.
CLOSED_OUTCOMES: tuple[str, ...] = ("fulfilled", "declined", "cancelled")


@dataclass(frozen=True)
class Column:
    """A canonical column: its name, pandas dtype, whether it is required, its meaning and
    what readers of a report call it (``label``)."""

    name: str
    dtype: str
    required: bool
    meaning: str
    label: str


#: The canonical columns, in order. dtypes: "datetime" = datetime64[ns, UTC].
CANONICAL_COLUMNS: tuple[Column, ...] = (
    Column("request_id", "string", True, "unique id", "Request number"),
    Column("opened_at", "datetime", True, "received", "Opened (received)"),
    Column(
        "assessed_at",
        "datetime",
        False,
        "first assessment / triage / approval decision",
        "Assessed",
    ),
    Column(
        "closed_at",
        "datetime",
        False,
        "fulfilled, declined or cancelled; empty while open",
        "Closed",
    ),
    Column("outcome", "category", True, "one of fulfilled, declined, cancelled, open", "Outcome"),
    Column("category", "category", False, "catalogue item or request type", "Category"),
    Column("channel", "category", False, "breakdown dimension", "Channel"),
    Column("priority", "category", False, "breakdown dimension", "Priority"),
    Column("group", "category", False, "breakdown dimension (assignment group)", "Support group"),
    Column("sla_due_at", "datetime", False, "when the SLA expires", "SLA due"),
    Column(
        "sla_met", "boolean", False, "given by the source; else derived from sla_due_at", "SLA met"
    ),
    Column("csat", "float64", False, "satisfaction score 1..5", "Satisfaction score"),
    Column("reopen_count", "Int64", False, "times reopened", "Times reopened"),
)

COLUMNS: dict[str, Column] = {c.name: c for c in CANONICAL_COLUMNS}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in CANONICAL_COLUMNS if c.required)
DATETIME_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in CANONICAL_COLUMNS if c.dtype == "datetime"
)
#: Canonical columns usable as breakdown dimensions (extra kept source columns are too).
DIMENSION_COLUMNS: tuple[str, ...] = ("category", "channel", "priority", "group")


# --------------------------------------------------------------------------------------
# Parsing helpers (vectorised; shared by ``sources``)
# --------------------------------------------------------------------------------------

#: Reason strings written to the quarantine (tests and users rely on the exact wording).
REASON_MISSING_ID = "missing request_id"
REASON_DUPLICATE_ID = "duplicate request_id"
REASON_CLOSED_BEFORE_OPENED = "closed before opened"
REASON_UNKNOWN_OUTCOME = "unknown outcome"
REASON_MISSING_OUTCOME = "missing outcome"
REASON_CLOSED_WITHOUT_CLOSED_AT = "closed outcome without closed_at"
REASON_OPEN_WITH_CLOSED_AT = "open request with closed_at"
REASON_CSAT_RANGE = "csat out of range 1..5"
REASON_CSAT_NAN = "csat not a number"
REASON_REOPEN = "reopen_count not a whole number"
#: A required date outside :data:`DATE_RANGE` (``9999-12-31``, year 0001): "<column> out of range ...".
REASON_OUT_OF_RANGE = "out of range 1677..2262"
#: Dates (opened_at, assessed_at, closed_at) later than ``validate(now=...)``: "<column> in the future".
REASON_FUTURE = "in the future"
#: Date columns that cannot lie in the future (``sla_due_at`` may).
PAST_COLUMNS: tuple[str, ...] = ("opened_at", "assessed_at", "closed_at")

#: Spellings read as true / false in a boolean column (compared in lower case).
TRUE_STRINGS: frozenset[str] = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_STRINGS: frozenset[str] = frozenset({"false", "f", "no", "n", "0", "0.0"})

# a time of day followed by a zone designator: "...10:15Z" (or "z"), "...10:15:00+01:00",
# "... 10:15 -0500"
_AWARE_RE = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"

_NS_UTC = "datetime64[ns, UTC]"
#: The instants a canonical date column can hold (nanosecond timestamps, about 1677..2262).
DATE_RANGE: tuple[pd.Timestamp, pd.Timestamp] = (
    pd.Timestamp.min.tz_localize("UTC"),
    pd.Timestamp.max.tz_localize("UTC"),
)
#: How reasons and warnings name :data:`DATE_RANGE`.
DATE_RANGE_TEXT = "1677-09-22..2262-04-11"


class ParsedDates(NamedTuple):
    """Result of :func:`parse_datetimes`.

    values: ``datetime64[ns, UTC]`` (NaT where missing, unparseable, ambiguous or out of
    range);
    unparseable: True where a value was given but could not be read;
    ambiguous: True where a naive local time falls in the repeated hour of a DST change;
    out_of_range: True where a date was read but lies outside :data:`DATE_RANGE`
    (``9999-12-31``, year 1000 or 0001): it is NaT in ``values``;
    nonexistent: True where a naive local time falls in the skipped hour of a DST change
    (it is moved forward to the first valid time, e.g. 02:30 to 03:00).
    """

    values: pd.Series
    unparseable: pd.Series
    ambiguous: pd.Series
    out_of_range: pd.Series
    nonexistent: pd.Series


#: A whole number written as a float ("123.0"): ids read as numbers by a spreadsheet or Parquet.
_INTEGRAL_FLOAT = r"^([+-]?\d+)\.0*$"


def _as_text(raw: pd.Series, *, lower: bool = False) -> pd.Series:
    """``raw`` as a stripped ``str`` series with empty strings as missing (``lower``: and
    lower-cased).

    A categorical column (Parquet's dictionary-encoded text) is cleaned on its categories
    and then spread over the rows: at a million rows, ~10 ms instead of ~120 ms.
    """
    if isinstance(raw.dtype, pd.CategoricalDtype):
        categories = _as_text(pd.Series(raw.cat.categories).astype("str"), lower=lower)
        codes = raw.cat.codes.to_numpy()
        return pd.Series(categories.array.take(codes, allow_fill=True), index=raw.index)
    s = raw if pd.api.types.is_string_dtype(raw.dtype) else raw.astype("str")
    s = s.str.strip()
    if lower:
        s = s.str.lower()
    return s.mask(s == "")


def _matches(s: pd.Series, pattern: str) -> pd.Series:
    """Boolean mask of ``s`` matching the regex ``pattern`` (missing: False), via RE2 in Arrow."""
    try:
        arr = (
            pa.chunked_array(s.array.__arrow_array__())
            if hasattr(s.array, "__arrow_array__")
            else pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.string())
        )
        hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
        return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index, dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        return s.str.contains(pattern, regex=True, na=False).astype(bool)


class _Zoned(Exception):
    """pandas read a zone in values the zone test (:data:`_AWARE_RE`) took for local times
    (``...t10:00z``, ``...T10Z``, ``GMT+2``): a parse of local times cannot hold them."""


def _each_alone(values: pd.Series, fmt: str | None, dayfirst: bool) -> dict[str, pd.Timestamp]:
    """Each distinct text of ``values`` as pandas reads it alone (NaT where it cannot);
    only asked for when a parse of local times met a zone (:class:`_Zoned`)."""
    read: dict[str, pd.Timestamp] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for v in values.dropna().unique():
            try:
                read[v] = pd.to_datetime(v, format=fmt, dayfirst=dayfirst, errors="coerce")
            except (ValueError, TypeError, OverflowError):
                read[v] = pd.NaT
    return read


def _has_zone(value: pd.Timestamp) -> bool:
    return value is not pd.NaT and getattr(value, "tzinfo", None) is not None


def _zoned(values: pd.Series, read: dict[str, pd.Timestamp]) -> pd.Series:
    """Which of ``values`` pandas reads, each alone (``read``, :func:`_each_alone`), as a
    time with a zone (a mask)."""
    return values.map({v: _has_zone(t) for v, t in read.items()}).fillna(False).astype(bool)


def _one_by_one(values: pd.Series, read: dict[str, pd.Timestamp]) -> tuple[pd.Series, pd.Series]:
    """Local times of :func:`_to_datetime`, each distinct value as parsed alone (``read``,
    :func:`_each_alone`; a value read with a zone is not one: NaT)."""
    local = {v: pd.NaT if _has_zone(t) else t for v, t in read.items()}
    out = pd.Series([local.get(v, pd.NaT) if isinstance(v, str) else pd.NaT for v in values],
                    index=values.index, dtype="datetime64[us]")  # fmt: skip
    return _fit_ns(out, utc=False)


def _local(out: pd.Series) -> pd.Series:
    """``out`` of a parse of local times; :class:`_Zoned` where pandas gave it a zone."""
    if isinstance(out.dtype, pd.DatetimeTZDtype) or out.dtype == object:
        raise _Zoned
    return out


#: the largest whole number a float64 holds exactly (2**53): a larger reopen count is none
_WHOLE_MAX = float(2**53)


def _fit_ns(out: pd.Series, utc: bool) -> tuple[pd.Series, pd.Series]:
    """Datetimes of any resolution as nanoseconds, and the mask of those outside
    :data:`DATE_RANGE` (NaT in the result instead of an ``OutOfBoundsDatetime``)."""
    target = _NS_UTC if utc else "datetime64[ns]"
    lo, hi = (
        DATE_RANGE if utc else (DATE_RANGE[0].tz_localize(None), DATE_RANGE[1].tz_localize(None))
    )
    outside = out.notna() & ((out < lo) | (out > hi))
    if outside.any():
        out = out.mask(outside)
    return out.astype(target), outside


def _to_datetime(
    values: pd.Series, fmt: str | None, dayfirst: bool, utc: bool
) -> tuple[pd.Series, pd.Series]:
    """Vectorised parse; values the first pass cannot read get one fallback pass.

    Returns the nanosecond datetimes and the mask of dates read but out of :data:`DATE_RANGE`.

    Raises
    ------
    _Zoned
        Local times asked for (``utc`` false) and pandas read a zone in one of them.
    """
    check = (lambda out: out) if utc else _local
    with warnings.catch_warnings(), _mixed_zones_are_zoned(utc):
        warnings.simplefilter("ignore", UserWarning)
        if fmt:
            out = pd.to_datetime(values, format=fmt, errors="coerce", utc=utc)
        else:
            out = pd.to_datetime(values, errors="coerce", dayfirst=dayfirst, utc=utc)
        out, outside = _fit_ns(check(out), utc)
        failed = values.notna() & out.isna() & ~outside
        if failed.any():
            # an explicit format still accepts ISO 8601 (e.g. real dates in Excel cells);
            # inference falls back to element-wise parsing for the few odd values only
            again = pd.to_datetime(
                values[failed],
                format="ISO8601" if fmt else "mixed",
                dayfirst=dayfirst,
                errors="coerce",
                utc=utc,
            )
            again, again_outside = _fit_ns(check(again), utc)
            out[failed] = again
            outside[failed] = again_outside
    return out, outside


@contextlib.contextmanager
def _mixed_zones_are_zoned(utc: bool) -> Iterator[None]:
    """pandas refuses local times mixed with zoned ones ("Mixed timezones detected"):
    :class:`_Zoned` for a parse of local times."""
    try:
        yield
    except ValueError as exc:
        if utc or "timezone" not in str(exc).lower():
            raise
        raise _Zoned from exc


def _localize(naive: pd.Series, tz: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Naive local times in ``tz`` as UTC; (values, ambiguous, nonexistent).

    A time in the repeated autumn hour is ambiguous (NaT); a time in the skipped spring
    hour does not exist and is moved forward to the first valid time.
    """
    loc = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    gap = naive.notna() & loc.isna()
    nonexistent = pd.Series(False, index=naive.index)
    if gap.any():
        moved = naive[gap].dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        nonexistent[gap] = moved.notna()
        loc[gap] = moved
    return loc.dt.tz_convert("UTC").astype(_NS_UTC), gap & ~nonexistent, nonexistent


#: text pandas would read as the time of reading, not a date of the data
_NOW_WORDS = ("now", "today")
#: a number with a sign, which pandas reads as a year (``-5``: 5 BC), not a date
_SIGNED_NUMBER = r"^\s*[+-]\d+([.,]\d*)?\s*$"


def parse_datetimes(
    raw: pd.Series,
    *,
    fmt: str | None = None,
    dayfirst: bool = False,
    tz: str = "UTC",
) -> ParsedDates:
    """Parse timestamps to UTC, vectorised.

    Naive values are local times in ``tz`` (DST-safe: a time in the repeated
    autumn hour is ambiguous and becomes NaT; a time in the skipped spring hour
    is shifted forward and flagged ``nonexistent``); values carrying an offset or
    ``Z`` are converted. The words ``now`` and ``today`` are unparseable (pandas alone
    reads them as the time of the call, which no export means). A date outside
    :data:`DATE_RANGE` (``9999-12-31``) becomes NaT and is flagged ``out_of_range``, never
    an ``OutOfBoundsDatetime``.

    Parameters
    ----------
    raw:
        Strings (or datetimes). Missing values stay missing.
    fmt:
        strftime format such as ``"%d/%m/%Y %H:%M"``; ``None`` infers it.
    dayfirst:
        When inferring, read ``01/02/2025`` as 1 February.
    tz:
        IANA zone of naive values, e.g. ``"Europe/London"``.

    Examples
    --------
    >>> parse_datetimes(pd.Series(["29/2/2016 01:16"]), fmt="%d/%m/%Y %H:%M").values[0]
    Timestamp('2016-02-29 01:16:00+0000', tz='UTC')
    """
    none = pd.Series(False, index=raw.index)
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        values, outside = _fit_ns(raw.dt.tz_convert("UTC"), utc=True)
        return ParsedDates(values, none, none.copy(), outside, none.copy())
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        values, outside = _fit_ns(raw, utc=False)
        loc, ambiguous, nonexistent = _localize(values, tz)
        return ParsedDates(loc, none, ambiguous, outside, nonexistent)

    s = _as_text(raw)
    missing = s.isna()
    # pandas reads the words "now" and "today" as the time of the call, and a signed
    # number as a year ("-5": 5 BC, outside the range, so missing where a date is optional):
    # no date of the data
    s = s.mask(s.isin(_NOW_WORDS) | _matches(s, _SIGNED_NUMBER))
    aware = _matches(s, _AWARE_RE)
    result = pd.Series(pd.NaT, index=raw.index, dtype=_NS_UTC)
    ambiguous = none.copy()
    nonexistent = none.copy()
    outside = none.copy()
    naive = ~missing & ~aware
    if naive.any():
        try:
            parsed, outside_naive = _to_datetime(s.where(naive), fmt, dayfirst, utc=False)
        except _Zoned:  # zones the zone test does not know: those values read as zoned
            alone = _each_alone(s.where(naive), fmt, dayfirst)
            zoned = naive & _zoned(s.where(naive), alone)
            aware, naive = aware | zoned, naive & ~zoned
            try:
                parsed, outside_naive = _to_datetime(s.where(naive), fmt, dayfirst, utc=False)
            except _Zoned:  # a zone read in a batch, never alone: each value alone
                parsed, outside_naive = _one_by_one(s.where(naive), alone)
        loc, ambiguous, nonexistent = _localize(parsed, tz)
        ambiguous &= naive
        nonexistent &= naive
        outside |= naive & outside_naive
        result = result.where(~naive, loc)
    if aware.any():
        parsed, outside_aware = _to_datetime(s.where(aware), fmt, dayfirst, utc=True)
        outside |= aware & outside_aware
        result = result.where(~aware, parsed)
    unparseable = ~missing & result.isna() & ~ambiguous & ~outside
    return ParsedDates(result, unparseable, ambiguous, outside, nonexistent)


def parse_booleans(
    raw: pd.Series,
    *,
    true_values: list[str] | None = None,
    false_values: list[str] | None = None,
) -> pd.Series:
    """Parse a yes/no column to nullable ``boolean``.

    With ``true_values`` only, every other non-missing value is False; with
    both lists, values in neither are unknown (NA). Without lists the usual
    spellings (true/false, yes/no, 1/0, t/f, y/n) are read, case-insensitively.

    Examples
    --------
    >>> parse_booleans(pd.Series(["true", "false", None])).tolist()
    [True, False, <NA>]
    """
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean")
    s = _as_text(raw).str.lower()
    trues = {v.strip().lower() for v in true_values} if true_values else TRUE_STRINGS
    if true_values and not false_values:
        falses = None
    else:
        falses = {v.strip().lower() for v in false_values} if false_values else FALSE_STRINGS
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    is_true = s.isin(trues)
    is_false = s.notna() & ~is_true if falses is None else s.isin(falses)
    out[is_true] = True
    out[is_false] = False
    return out


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


@dataclass
class Validated:
    """Output of :func:`validate`.

    data:
        the canonical frame (dtypes of ``docs/architecture.md``), one row per request.
    quarantine:
        the rejected rows: ``source_row`` (1-based data row of the source file),
        ``request_id``, ``column``, ``reason`` (several joined with ``"; "``), then the
        row's own values as given.
    collapsed:
        how many exact duplicate rows were collapsed silently into one.
    rows:
        the source row (1-based) of each row of ``data``, in order; the first of exact
        copies for a collapsed request (None where not given).
    """

    data: pd.DataFrame
    quarantine: pd.DataFrame
    collapsed: int = 0
    rows: np.ndarray | None = None


QUARANTINE_COLUMNS: tuple[str, ...] = ("source_row", "request_id", "column", "reason")


def value_columns(values: pd.DataFrame) -> pd.DataFrame:
    """``values`` with names clashing with :data:`QUARANTINE_COLUMNS` suffixed " (source)"."""
    return values.rename(
        columns={c: f"{c} (source)" for c in values.columns if c in QUARANTINE_COLUMNS}
    )


def _numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float values, mask of values given but not numbers)."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        num = raw.astype("float64")
        return num, pd.Series(False, index=raw.index)
    s = _as_text(raw)
    num = pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce").astype("float64")
    return num, s.notna() & num.isna()


def _category(values: pd.Series) -> pd.Series:
    """Text as a categorical, stripped, empty as missing; a categorical of clean text (as
    the readers give) is kept as it is, with no pass over its rows."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = pd.Series(values.cat.categories)
        if not pd.api.types.is_string_dtype(categories.dtype):
            return values
        if _as_text(categories).equals(categories.astype("str")):
            return values
    return _as_text(values).astype("category")


def _join_reasons(checks: list[tuple[pd.Series, str, str]], bad: pd.Series) -> pd.DataFrame:
    """For the ``bad`` rows, the joined column names and reasons of every failed check."""
    idx = bad[bad].index
    reason = np.full(len(idx), "", dtype=object)
    column = np.full(len(idx), "", dtype=object)
    added: dict[str, np.ndarray] = {}
    for mask, col, text in checks:
        m = mask.reindex(idx, fill_value=False).fillna(False).to_numpy(dtype=bool)
        if not m.any():
            continue
        reason = reason + np.where(m, np.where(reason == "", "", "; ") + text, "")
        new_col = m & ~added.get(col, np.zeros(len(idx), dtype=bool))
        column = column + np.where(new_col, np.where(column == "", "", "; ") + col, "")
        added[col] = added.get(col, np.zeros(len(idx), dtype=bool)) | m
    return pd.DataFrame({"column": column, "reason": reason}, index=idx)


def validate(
    df: pd.DataFrame,
    *,
    source: str,
    unparseable: dict[str, pd.Series] | None = None,
    now: pd.Timestamp | None = None,
    out_of_range: dict[str, pd.Series] | None = None,
) -> Validated:
    """Check a renamed frame and turn it into the canonical frame plus a quarantine.

    Parameters
    ----------
    df:
        Columns with canonical names (any subset; ``request_id``, ``opened_at``
        and ``outcome`` are required), extra dimension columns, and optionally
        ``source_row`` (1-based data row in the source; 1..n if absent). Dates may
        be parsed already (UTC) or strings (ISO 8601 or inferable; naive = UTC);
        csat / reopen_count may be numbers or strings; outcome must be canonical
        (case-insensitive).
    source:
        The file (or redacted URL) the rows come from, for error messages.
    unparseable:
        For dates parsed by the caller: column -> boolean mask of values given in
        the source but unreadable (they become "unparseable <column>").
    now:
        If given (UTC), rows whose opened_at, assessed_at or closed_at is later are
        quarantined as "<column> in the future" (a clock, timezone or typing mistake).
    out_of_range:
        For dates parsed by the caller: column -> mask of dates read but outside
        :data:`DATE_RANGE`. Such a date is a bad value of a required column
        (opened_at; closed_at of a closed request: "<column> out of range 1677..2262")
        and is read as missing in an optional one (``sla_due_at`` of 9999-12-31 means
        no due date). Dates given as text are checked here as well.

    Returns
    -------
    Validated
        ``data`` holds the rows that pass every check; ``quarantine`` every other
        row with its reasons (see the reason strings in this module). Rows that are
        exact duplicates of another row are collapsed into one (``collapsed``).

    Examples
    --------
    >>> v = validate(pd.DataFrame({"request_id": ["R1", "R2"],
    ...     "opened_at": ["2025-01-01 10:00", "2025-01-02 10:00"],
    ...     "closed_at": ["2025-01-01 12:00", None], "outcome": ["fulfilled", "fulfilled"]}),
    ...     source="example.csv")
    >>> len(v.data), v.quarantine["reason"].tolist()
    (1, ['closed outcome without closed_at'])
    """
    _require_columns(df, source)
    original = df.reset_index(drop=True)
    rows = (
        original["source_row"].astype("int64")
        if "source_row" in original.columns
        else pd.Series(np.arange(1, len(original) + 1), dtype="int64")
    )
    given = original.drop(columns=["source_row"], errors="ignore")
    checks: list[tuple[pd.Series, str, str]] = []
    out: dict[str, pd.Series] = {}
    ids = _check_ids(given, out, checks)
    _check_dates(given, out, checks, unparseable, out_of_range, now)
    _check_numbers(given, out, checks)
    order = [c.name for c in CANONICAL_COLUMNS] + _extras(given)
    frame = pd.DataFrame({c: out[c] for c in order}, copy=False)  # the columns, not copies
    collapsed = _check_duplicates(frame, ids, checks)
    return _split(frame, given, rows, ids, checks, collapsed)


def _require_columns(df: pd.DataFrame, source: str) -> None:
    missing_required = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing_required:
        raise InputError(
            f"the required column(s) {', '.join(missing_required)} are missing",
            file=source,
            column=missing_required[0],
            hint="map them in the mapping file (columns: / outcome:) or rename them in the export",
        )


def _extras(given: pd.DataFrame) -> list[str]:
    return [c for c in given.columns if c not in COLUMNS]


def _check_ids(
    given: pd.DataFrame, out: dict[str, pd.Series], checks: list[tuple[pd.Series, str, str]]
) -> pd.Series:
    """The request ids as text; a missing id is a reason."""
    # an id read as a number ("123.0" in a CSV, 1.0 in Parquet) is the same id as "123"
    ids = _as_text(given["request_id"])
    if _matches(ids, _INTEGRAL_FLOAT).any():  # a match is rare: no rewrite of every id
        ids = ids.str.replace(_INTEGRAL_FLOAT, r"\1", regex=True)
    ids = ids.astype("string")
    out["request_id"] = ids
    checks.append((ids.isna(), "request_id", REASON_MISSING_ID))
    return ids


def _check_dates(
    given: pd.DataFrame,
    out: dict[str, pd.Series],
    checks: list[tuple[pd.Series, str, str]],
    unparseable: dict[str, pd.Series] | None,
    out_of_range: dict[str, pd.Series] | None,
    now: pd.Timestamp | None,
) -> None:
    """Timestamps parsed, then the outcome and the rules that tie it to closed_at."""
    false = pd.Series(False, index=given.index)
    unparseable = {k: v.reset_index(drop=True) for k, v in (unparseable or {}).items()}
    out_of_range = {k: v.reset_index(drop=True) for k, v in (out_of_range or {}).items()}
    for col in DATETIME_COLUMNS:
        if col not in given.columns:
            out[col] = pd.Series(pd.NaT, index=given.index, dtype=_NS_UTC)
            continue
        parsed = parse_datetimes(given[col])
        bad = parsed.unparseable | parsed.ambiguous | unparseable.get(col, false)
        out_of_range[col] = parsed.out_of_range | out_of_range.get(col, false)
        out[col] = parsed.values
        checks.append((bad, col, f"unparseable {col}"))
        if col == "opened_at":
            checks.append((out_of_range[col], col, f"{col} {REASON_OUT_OF_RANGE}"))
            missing = parsed.values.isna() & ~bad & ~out_of_range[col]
            checks.append((missing, col, f"missing {col}"))
        if now is not None and col in PAST_COLUMNS:
            checks.append((parsed.values > now, col, f"{col} {REASON_FUTURE}"))
        unparseable[col] = bad

    outcome = _as_text(given["outcome"], lower=True)
    out["outcome"] = outcome
    checks.append((outcome.isna(), "outcome", REASON_MISSING_OUTCOME))
    checks.append((outcome.notna() & ~outcome.isin(OUTCOMES), "outcome", REASON_UNKNOWN_OUTCOME))
    closed_at = out["closed_at"]
    closed_outside = out_of_range.get("closed_at", false)
    closed_missing = closed_at.isna() & ~unparseable.get("closed_at", false) & ~closed_outside
    is_closed = outcome.isin(CLOSED_OUTCOMES)
    checks.append((is_closed & closed_outside, "closed_at", f"closed_at {REASON_OUT_OF_RANGE}"))
    checks.append((is_closed & closed_missing, "closed_at", REASON_CLOSED_WITHOUT_CLOSED_AT))
    checks.append(
        ((outcome == "open") & closed_at.notna(), "closed_at", REASON_OPEN_WITH_CLOSED_AT)
    )
    checks.append((closed_at < out["opened_at"], "closed_at", REASON_CLOSED_BEFORE_OPENED))


def _check_numbers(
    given: pd.DataFrame, out: dict[str, pd.Series], checks: list[tuple[pd.Series, str, str]]
) -> None:
    """Dimensions, sla_met (given or derived), csat and reopen_count, and kept extra columns."""
    outcome = out["outcome"]
    for col in DIMENSION_COLUMNS:
        out[col] = (
            _category(given[col])
            if col in given.columns
            else pd.Series(pd.NA, index=given.index, dtype="str").astype("category")
        )

    if "sla_met" in given.columns:
        out["sla_met"] = parse_booleans(given["sla_met"])
    else:
        # derived: closed on or before the due time; unknown while open or without a due time
        known = out["closed_at"].notna() & out["sla_due_at"].notna() & outcome.isin(CLOSED_OUTCOMES)
        out["sla_met"] = (out["closed_at"] <= out["sla_due_at"]).astype("boolean").where(known)

    if "csat" in given.columns:
        csat, not_number = _numbers(given["csat"])
        checks.append((not_number, "csat", REASON_CSAT_NAN))
        checks.append((csat.notna() & ~csat.between(1, 5), "csat", REASON_CSAT_RANGE))
        out["csat"] = csat
    else:
        out["csat"] = pd.Series(np.nan, index=given.index, dtype="float64")

    if "reopen_count" in given.columns:
        reopen, not_number = _numbers(given["reopen_count"])
        # infinite or beyond the integers a float holds exactly: no count (and no Int64)
        not_whole = reopen.notna() & ((reopen % 1 != 0) | (reopen < 0) | ~(reopen <= _WHOLE_MAX))
        checks.append((not_number | not_whole, "reopen_count", REASON_REOPEN))
        out["reopen_count"] = reopen.where(~not_whole).round().astype("Int64")
    else:
        out["reopen_count"] = pd.Series(pd.NA, index=given.index, dtype="Int64")

    for col in _extras(given):
        out[col] = _category(given[col])


def _all_distinct(ids: pd.Series) -> bool:
    """True when no two present ids are equal; False when some may be (the caller checks).

    The ids are sorted with Arrow and neighbours compared: no hash table and no Python
    string per id (at 10M ids: ~1.5 s and the sorted copy, ~0.2 GB, against ~8 s and
    ~1 GB for pandas' ``duplicated``). Ids Arrow cannot hold in one type return False.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        present = pa.array(ids.dropna(), from_pandas=True)  # Arrow-backed text: no copy
    except (pa.ArrowException, TypeError, ValueError):
        return False
    if len(present) < 2:
        return True
    ordered = present.take(pc.array_sort_indices(present))
    return not pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py()


def _check_duplicates(
    frame: pd.DataFrame, ids: pd.Series, checks: list[tuple[pd.Series, str, str]]
) -> pd.Series:
    """Exact copies collapse to the first (returned mask); ids whose rows differ are all a reason."""
    collapsed = pd.Series(False, index=frame.index)
    if _all_distinct(ids):
        return collapsed
    id_dup = ids.notna() & ids.duplicated(keep=False)
    if id_dup.any():
        sub = frame[id_dup].astype("string")
        collapsed[sub.index] = sub.duplicated(keep="first").to_numpy()
        remaining = ids[~collapsed]
        dup = remaining.notna() & remaining.duplicated(keep=False)
        checks.append(
            (dup.reindex(frame.index, fill_value=False), "request_id", REASON_DUPLICATE_ID)
        )
    return collapsed


def _outcome_categorical(outcome: pd.Series) -> pd.Categorical:
    """Canonical outcome text as a categorical of :data:`OUTCOMES` (other values missing),
    looked up in Arrow (at a million rows ~10 ms, against ~100 ms for ``pd.Categorical``)."""
    categories = list(OUTCOMES)
    try:
        arr = pa.chunked_array(outcome.array.__arrow_array__())
        codes = pc.fill_null(pc.index_in(arr, value_set=pa.array(categories)), -1)
        return pd.Categorical.from_codes(codes.to_numpy().astype(np.int8), categories=categories)
    except (AttributeError, pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        return pd.Categorical(outcome, categories=categories)


def _split(
    frame: pd.DataFrame,
    given: pd.DataFrame,
    rows: pd.Series,
    ids: pd.Series,
    checks: list[tuple[pd.Series, str, str]],
    collapsed: pd.Series,
) -> Validated:
    """Kept rows (typed canonical frame) and the quarantine (source row, id, reasons, values)."""
    bad = pd.Series(False, index=given.index)
    for mask, _, _ in checks:
        bad |= mask.fillna(False).astype(bool)
    bad &= ~collapsed
    keep = ~bad & ~collapsed

    data = frame if keep.all() else frame[keep]  # all kept: no copy of the frame
    if not isinstance(data.index, pd.RangeIndex) or not data.index.equals(pd.RangeIndex(len(data))):
        data = data.reset_index(drop=True)
    data["outcome"] = _outcome_categorical(data["outcome"])
    for col in DATETIME_COLUMNS:
        data[col] = data[col].astype(_NS_UTC)
    data["request_id"] = data["request_id"].astype("string")

    reasons = _join_reasons(checks, bad)
    quarantine = pd.concat(
        [
            pd.DataFrame(
                {"source_row": rows[bad].to_numpy(), "request_id": ids[bad].to_numpy()},
                index=reasons.index,
            ),
            reasons,
            value_columns(given[bad]),
        ],
        axis=1,
    ).reset_index(drop=True)
    quarantine["source_row"] = quarantine["source_row"].astype("int64")
    return Validated(
        data=data,
        quarantine=quarantine,
        collapsed=int(collapsed.sum()),
        rows=rows[keep].to_numpy(dtype="int64"),
    )
