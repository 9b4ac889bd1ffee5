"""Which source column feeds which canonical column, and the day/month, outcome and dedupe rules of a mapping."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from ..errors import ConfigError, InputError
from ..safe import clean_text
from ..schema import (
    COLUMNS,
    DATE_RANGE_TEXT,
    REQUIRED_COLUMNS,
    parse_datetimes,
)
from .mapping import Mapping


def _missing_column_error(
    wanted: str, purpose: str, available: list[str], mapping: Mapping, label: str
) -> InputError:
    close = difflib.get_close_matches(wanted, available, n=3, cutoff=0.5)
    if not close:
        folded = {c.casefold(): c for c in available}
        close = [folded[c] for c in difflib.get_close_matches(wanted.casefold(), list(folded), n=3)]
    shown = ", ".join(available[:25]) + (" ..." if len(available) > 25 else "")
    return InputError(
        f"the {mapping.label} expects a column '{wanted}' ({purpose}) but the source has "
        "no such column",
        file=label,
        column=wanted,
        hint=(f"closest columns in the file: {', '.join(close)}. " if close else "")
        + f"The file's columns are: {shown}. Fix the mapping or choose another preset",
    )


@dataclass
class _Plan:
    """Which source column feeds which canonical / kept column."""

    columns: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None
    outcome_when_empty: str | None = None
    sla_met: str | None = None
    order_by: str | None = None
    keep: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    event_time: str | None = None
    event_status: str | None = None

    def used(self) -> list[str]:
        cols = [*self.columns.values(), self.outcome, self.outcome_when_empty, self.sla_met]
        cols += [self.order_by, *self.keep]
        cols += [self.event_time, self.event_status]
        return list(dict.fromkeys(c for c in cols if c))


def _check_repeated_columns(available: list[str], plan: _Plan, label: str) -> None:
    """A column the mapping reads must appear once in the header (``category,category``)."""
    for col in plan.used():
        times = available.count(col)
        if times > 1:
            raise InputError(
                f"the column '{col}' appears {times} times in the header, so it is not clear "
                "which one to read",
                file=label,
                column=col,
                hint="rename or remove the repeated column in the export, then load it again",
            )


def _shared_column_warnings(plan: _Plan, mapping: Mapping) -> list[str]:
    """Warnings for a source column mapped to several canonical columns
    (``closed_at: opened_at``): every duration or flag between them would be meaningless."""
    readers: dict[str, list[str]] = {}
    for canon, col in [*plan.columns.items(), ("outcome", plan.outcome), ("sla_met", plan.sla_met)]:
        if col:
            readers.setdefault(col, []).append(canon)
    return [
        f"the {mapping.label} reads the column '{col}' for {', '.join(canons[:-1])} and "
        f"{canons[-1]}; each should come from its own column. Check the columns: section"
        for col, canons in readers.items()
        # opened_at and closed_at alone have their own warning (_event_warnings)
        if len(canons) > 1 and set(canons) != {"opened_at", "closed_at"}
    ]


def plan_warnings(plan: _Plan, m: Mapping) -> tuple[list[str], list[str]]:
    """What a load says of its columns before reading a value (every engine says it):
    optional columns absent from the source, and a source column read for several
    canonical columns."""
    absent = [f"optional columns not in the source, left empty: {', '.join(plan.absent)}"]
    return (absent if plan.absent else []), _shared_column_warnings(plan, m)


def _plan(mapping: Mapping, available: list[str], label: str, keep: Iterable[str]) -> _Plan:
    plan = _Plan()
    lookup: dict[str, list[str]] = {}
    for c in available:
        lookup.setdefault(c.casefold(), []).append(c)

    def find(candidates: str | list[str]) -> str | None:
        options = [candidates] if isinstance(candidates, str) else list(candidates)
        for c in options:
            if c in available:
                return c
        for c in options:
            same = list(dict.fromkeys(lookup.get(c.casefold(), [])))
            if len(same) > 1:  # never pick one silently
                raise InputError(
                    f"the {mapping.label} reads a column '{c}', and the file has "
                    f"{len(same)} columns that differ from it only in upper and lower case "
                    f"({', '.join(repr(x) for x in same)}), so it is not clear which one to read",
                    file=label,
                    column=c,
                    hint="name the right one exactly, as the header writes it, in a mapping "
                    "file (columns:), or rename the other column in the export",
                )
            if same:
                return same[0]
        return None

    def need(name: str, candidates: str | list[str], purpose: str) -> str | None:
        hit = find(candidates)
        if hit is None:
            first = candidates if isinstance(candidates, str) else candidates[0]
            if name in mapping.optional:
                plan.absent.append(_absent_words(name, first))
                return None
            raise _missing_column_error(first, purpose, available, mapping, label)
        return hit

    specs: dict[str, str | list[str]] = dict(mapping.columns)
    if mapping.events is not None:  # the case column is the request id
        specs["request_id"] = mapping.events.case
        plan.event_time = need("events.time", mapping.events.time, "events.time")
        plan.event_status = need("events.status", mapping.events.status, "events.status")
    for req in REQUIRED_COLUMNS:  # a required column not mapped is looked for under its own name
        if (req == "outcome" and mapping.outcome is not None) or req in mapping.derive:
            continue
        specs.setdefault(req, req)
    for canon, candidates in specs.items():
        if canon == "outcome":
            plan.outcome = need(canon, candidates, "outcome")
            continue
        if canon == "sla_met":
            plan.sla_met = need(canon, candidates, "sla_met")
            continue
        hit = need(canon, candidates, canon)
        if hit is not None:
            plan.columns[canon] = hit
    if mapping.outcome is not None:
        plan.outcome = need("outcome", mapping.outcome.column, "outcome")
        if mapping.outcome.when_empty is not None:  # optional: absent, the default decides
            plan.outcome_when_empty = find(mapping.outcome.when_empty.column)
    if mapping.sla_met is not None:
        plan.sla_met = need("sla_met", mapping.sla_met.column, "sla_met")
    if mapping.dedupe is not None:
        plan.order_by = need("dedupe.order_by", mapping.dedupe.order_by, "dedupe.order_by")
    for name in dict.fromkeys([*mapping.keep, *keep]):
        if name in COLUMNS:
            if plan.columns.get(name) == name:
                continue
            raise ConfigError(
                f"the kept column '{name}' has the name of a canonical column",
                file=mapping.path,
                column=name,
                hint=f"map it under columns: ({name}: {name}) instead of keep:",
            )
        hit = need(name, name, "keep")
        if hit is not None:
            plan.keep.append(hit)
    return plan


_NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:\D|$)"


@dataclass
class _DateStats:
    """One column (a date, yes/no or text column), gathered over the pieces of a source
    read in blocks."""

    column: str
    canon: str
    given: int = 0
    failed: int = 0
    example: str | None = None
    ambiguous: int = 0
    #: local times in the skipped hour of a DST change (moved forward), and the first one
    nonexistent: int = 0
    nonexistent_example: str | None = None
    #: dates outside the representable range read as missing (optional columns), first one
    out_of_range: int = 0
    out_of_range_example: str | None = None
    #: yes/no values that are neither true nor false: value -> count
    unrecognised: dict[str, int] = field(default_factory=dict)
    #: Excel serial day numbers: read as dates (a workbook) or left unparseable (text)
    serial: int = 0
    serial_example: str | None = None
    serial_converted: bool = False
    #: text values that held control characters (removed), and the first one as read
    control: int = 0
    control_example: str | None = None
    either: bool = False
    day_first: tuple[int, str] | None = None  # first (row, value) that can only be day-first
    month_first: tuple[int, str] | None = None  # first (row, value) that can only be month-first

    def add_order(self, raw: pd.Series, source_rows: pd.Series) -> None:
        """Note which numeric dates (``dd/mm/yyyy`` or ``mm/dd/yyyy``) only one order can read."""
        from ..schema import _as_text, _matches

        text = _as_text(raw)
        hit = _matches(text, _NUMERIC_DATE)
        if not hit.any():
            return
        parts = text[hit].str.extract(_NUMERIC_DATE).astype("int64")
        first, second = parts[0], parts[1]
        self.either = self.either or bool(
            ((first <= 12) & (second <= 12) & (first != second)).any()
        )
        for attr, only in (
            ("day_first", (first > 12) & (second <= 12)),
            ("month_first", (second > 12) & (first <= 12)),
        ):
            if getattr(self, attr) is None and only.any():
                pos = only[only].index[0]
                setattr(self, attr, (int(source_rows.iloc[pos]), str(raw.iloc[pos])))


def _check_day_month_order(stats: _DateStats, mapping: Mapping, label: str) -> None:
    """Refuse a date column that would be read day-first for some values and month-first for others.

    Without a ``datetime_format``, ``01/02/2025`` is read as the mapping's ``dayfirst``
    says, but ``13/02/2025`` can only be day-first (and ``02/13/2025`` only month-first),
    and the parser silently swaps day and month for those values: one column would mix
    both readings. This raises an :class:`InputError` naming the first row that
    contradicts the mapping's order.
    """
    if mapping.datetime_format:
        return
    contradicts = stats.month_first if mapping.dayfirst else stats.day_first
    if contradicts is None:
        return
    mixed = stats.day_first is not None and stats.month_first is not None
    if not mixed and not stats.either:
        return  # every value is unambiguous and read the one way it can be
    row, value = contradicts
    column = stats.column
    if mixed:
        message = (
            f"the dates of '{column}' mix day-first and month-first values "
            f"(e.g. '{value}'), so none of them can be trusted"
        )
        hint = "export the dates in one format (ISO 8601, YYYY-MM-DD, is safest)"
    else:
        order = "month-first" if mapping.dayfirst else "day-first"
        other = "day-first" if mapping.dayfirst else "month-first"
        message = (
            f"'{value}' can only be a {order} date, but the {mapping.label} reads dates "
            f"{other}, so values such as 01/02 would be read the other way"
        )
        hint = (
            f"set dayfirst: {str(not mapping.dayfirst).lower()} (or a datetime_format such as "
            f"'{'%d/%m/%Y %H:%M' if not mapping.dayfirst else '%m/%d/%Y %H:%M'}') in your "
            "mapping file (copy a preset from csi_lib/presets to start one)"
        )
    raise InputError(message, file=label, column=column, row=row, hint=hint)


def _adjusted_values(stats: Iterable[_DateStats]) -> dict[str, int]:
    """Values kept or read as missing with a warning, counted by what happened to them."""
    out: dict[str, int] = {}
    for st in stats:
        if st.out_of_range:
            out[f"{st.canon} out of range, read as missing"] = st.out_of_range
        if st.nonexistent:
            out[f"{st.canon} in a skipped daylight-saving hour, moved forward"] = st.nonexistent
        if st.unrecognised and st.canon == "outcome":
            out["outcome not listed in the mapping, counted as closed"] = sum(
                st.unrecognised.values()
            )
        elif st.unrecognised:
            out[f"{st.canon} not recognised, read as unknown"] = sum(st.unrecognised.values())
        if st.control:
            out[f"{st.canon} control characters removed"] = st.control
        if st.serial and st.serial_converted:
            out[f"{st.canon} Excel serial numbers read as dates"] = st.serial
    return out


#: An Excel serial day number of a plausible date (1950-01-01 .. 2099-12-31): day 1 is
#: 1900-01-01, day 0 is 1899-12-30 in Excel's count (which keeps Lotus' missing 1900-02-29).
_SERIAL = r"^\s*(?:1[89]|[2-6]\d|7[0-2])\d{3}(?:\.\d+)?\s*$"
_SERIAL_EPOCH = pd.Timestamp("1899-12-30")


def _serial_mask(raw: pd.Series) -> pd.Series:
    """Which text values are Excel serial day numbers (``45719`` or ``45719.375``)."""
    text = raw.astype("str")
    return text.str.match(_SERIAL).fillna(False).astype(bool) & raw.notna()


def _serial_to_text(raw: pd.Series) -> pd.Series:
    """Excel serial day numbers as ISO local date-times, to the second.

    Examples
    --------
    >>> _serial_to_text(pd.Series(["45719.375"])).tolist()
    ['2025-03-03 09:00:00']
    """
    days = pd.to_numeric(raw, errors="coerce")
    stamps = _SERIAL_EPOCH + pd.to_timedelta(days, unit="D").dt.round("s")
    return stamps.dt.strftime("%Y-%m-%d %H:%M:%S")


def _date_warnings(stats: Iterable[_DateStats], mapping: Mapping) -> list[str]:
    out = []
    for st in stats:
        if st.control:
            out.append(
                f"{st.control:,} value(s) of '{st.column}' held control characters (e.g. "
                f"{st.control_example!r}); they were removed, so the value reads "
                f"{clean_text(st.control_example or '')!r}. Check how the export was made"
            )
            continue
        if st.unrecognised:
            shown = ", ".join(
                f"'{v}' ({n:,})"
                for v, n in sorted(st.unrecognised.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
            )
            if st.canon == "outcome" and mapping.outcome is not None:
                out.append(
                    f"{sum(st.unrecognised.values()):,} value(s) of '{st.column}' (outcome) are "
                    f"not listed in the {mapping.label}: {shown}; they count as "
                    f"{mapping.outcome.other}. List them under outcome: values to count them "
                    "otherwise"
                )
                continue
            out.append(
                f"{sum(st.unrecognised.values()):,} value(s) of '{st.column}' ({st.canon}) are "
                f"neither true nor false: {shown}; they are read as unknown. List them under "
                f"sla_met: true_values / false_values in the {mapping.label}"
            )
            continue
        if st.out_of_range:
            out.append(
                f"{st.out_of_range:,} value(s) of '{st.column}' ({st.canon}) are dates outside "
                f"{DATE_RANGE_TEXT} (e.g. '{st.out_of_range_example}'); they are read as "
                "missing (an export's 9999-12-31 usually means 'never')"
            )
        if st.nonexistent:
            out.append(
                f"{st.nonexistent:,} value(s) of '{st.column}' (e.g. '{st.nonexistent_example}') "
                f"fall in the hour skipped by a daylight-saving change in {mapping.timezone}, so "
                "that local time never existed; they were moved forward to the end of the gap. "
                "Check the mapping's timezone"
            )
        if st.serial:
            example = st.serial_example or ""
            if st.serial_converted:
                day = _serial_to_text(pd.Series([example])).iloc[0]
                out.append(
                    f"{st.serial:,} value(s) of '{st.column}' ({st.canon}) are Excel serial "
                    f"numbers, not dates (e.g. {example}); they were read as the dates Excel "
                    f"shows for them ({example} = {day}, local time in {mapping.timezone}). "
                    "Format the column as dates in the workbook to be sure"
                )
            else:
                out.append(
                    f"{st.serial:,} value(s) of '{st.column}' ({st.canon}) look like Excel "
                    f"serial day numbers (e.g. {example}), not dates, and were quarantined as "
                    "unparseable; format the column as dates in Excel before exporting, or "
                    "load the .xlsx workbook itself (its serial numbers are read as dates)"
                )
        if st.given and st.failed / st.given > 0.5:
            out.append(
                f"{st.failed:,} of {st.given:,} values of '{st.column}' ({st.canon}) could not "
                f"be read as dates (e.g. '{st.example}'); check datetime_format "
                f"({mapping.datetime_format or 'inferred'}) and dayfirst in the {mapping.label}"
            )
        if st.ambiguous:
            out.append(
                f"{st.ambiguous} value(s) of '{st.column}' fall in the repeated hour "
                f"of a daylight-saving change in {mapping.timezone} and cannot be placed; their "
                "rows are quarantined as unparseable"
            )
    return out


def _dedupe(work: pd.DataFrame, plan: _Plan, mapping: Mapping) -> pd.Series:
    """Mask of the rows to keep: the last row of each request after a stable sort."""
    order = parse_datetimes(
        work[plan.order_by],
        fmt=mapping.datetime_format,
        dayfirst=mapping.dayfirst,
        tz=mapping.timezone,
    ).values
    ids = work[plan.columns["request_id"]]
    ranked = pd.DataFrame({"t": order.to_numpy(), "id": ids.to_numpy()})
    ranked = ranked.sort_values("t", kind="stable", na_position="first")
    last = ~ranked["id"].duplicated(keep="last") | ranked["id"].isna()
    return last.sort_index().set_axis(work.index)


def _outcome_text(raw: pd.Series) -> pd.Series:
    text = raw.astype("str").str.strip()
    return text.mask(text == "")


def _lookup(values: dict[str, list[str]]) -> dict[str, str]:
    return {v.strip().lower(): canon for canon, vals in values.items() for v in vals}


def _outcomes(raw: pd.Series, mapping: Mapping, when_empty: pd.Series | None = None) -> pd.Series:
    spec = mapping.outcome
    if isinstance(raw.dtype, pd.CategoricalDtype) and when_empty is None:
        # map the categories, then take the codes
        cats = pd.Series([*raw.cat.categories.astype("str"), None], dtype="str")
        mapped = _outcomes(cats, mapping).to_numpy(dtype=object)
        return pd.Series(mapped[raw.cat.codes.to_numpy()], index=raw.index, dtype="str")
    text = _outcome_text(raw)
    if spec is None:
        return text
    mapped = text.str.lower().map(_lookup(spec.values))
    if spec.other is not None:
        mapped = mapped.mask(mapped.isna() & text.notna(), spec.other)
    if when_empty is not None and spec.when_empty is not None:
        other = _outcome_text(when_empty).str.lower().map(_lookup(spec.when_empty.values))
        mapped = mapped.fillna(other.where(text.isna()))
    if spec.default is not None:
        return mapped.fillna(spec.default)
    return mapped.fillna(text)


def _unlisted_outcomes(raw: pd.Series, mapping: Mapping) -> pd.Series:
    """Counts of the values that ``outcome.other`` decided (not listed, not empty)."""
    spec = mapping.outcome
    if spec is None or spec.other is None:
        return pd.Series(dtype="int64")
    text = _outcome_text(raw.astype("str") if isinstance(raw.dtype, pd.CategoricalDtype) else raw)
    unlisted = text.notna() & ~text.str.lower().isin(list(_lookup(spec.values)))
    return text[unlisted].value_counts()


def _absent_words(name: str, column: str) -> str:
    """An optional column the source lacks, as a reader knows it: ``SLA met (column
    'made_sla')``; a column kept by name is its own name."""
    label = COLUMNS[name].label if name in COLUMNS else name
    return label if column == label else f"{label} (column '{column}')"
