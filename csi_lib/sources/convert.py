"""From source text to typed canonical columns: cleaning, dates, event logs, outcomes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..events import fold_events
from ..safe import CONTROL_CHARACTERS
from ..schema import (
    CLOSED_OUTCOMES,
    DATETIME_COLUMNS,
    parse_booleans,
    parse_datetimes,
)
from .mapping import Mapping
from .plan import (
    _check_day_month_order,
    _DateStats,
    _outcomes,
    _Plan,
    _serial_mask,
    _serial_to_text,
    _unlisted_outcomes,
)
from .readers import _is_typed


class _NotStreamable(Exception):
    """The file cannot be read in blocks: the whole-file reader reads it (and words any error)."""


def _blank_rows(work: pd.DataFrame) -> np.ndarray:
    """Rows with nothing in any column the mapping reads (cleaned text): a spreadsheet's
    formatted but empty rows, or a CSV line of delimiters only. They are skipped."""
    return work.isna().all(axis=1).to_numpy(dtype=bool)


def _without_control(s: pd.Series, column: str, stats: dict[str, _DateStats] | None) -> pd.Series:
    """Text values without control characters (:func:`csi_lib.safe.clean_text`), counted
    in ``stats`` under the column's name (a warning and the load report say so)."""
    text = s.astype("str")
    has = text.str.contains(CONTROL_CHARACTERS, regex=True).fillna(False).to_numpy(dtype=bool)
    if not has.any():
        return text
    if stats is not None:
        st = stats.setdefault(f"text:{column}", _DateStats(column=column, canon=column))
        st.control += int(has.sum())
        if st.control_example is None:
            st.control_example = str(text[has].iloc[0])
    return text.str.replace(CONTROL_CHARACTERS, "", regex=True)


def _clean_categories(
    s: pd.Series, na: set[str], stats: dict[str, _DateStats] | None = None
) -> pd.Series:
    """A category column cleaned like text (values stripped, missing-value spellings and empty
    values missing, categories sorted), working on the categories only."""
    categories = pd.Series(s.cat.categories.astype("str"))
    if stats is not None and len(categories):
        # counted per value, not per category: each row holding one is a value changed
        has = categories.str.contains(CONTROL_CHARACTERS, regex=True).to_numpy(dtype=bool)
        if has.any():
            st = stats.setdefault(
                f"text:{s.name}", _DateStats(column=str(s.name), canon=str(s.name))
            )
            rows = np.isin(s.cat.codes.to_numpy(), np.flatnonzero(has))
            st.control += int(rows.sum())
            if st.control_example is None:
                st.control_example = str(categories[has].iloc[0])
    text = pd.Index(categories.str.replace(CONTROL_CHARACTERS, "", regex=True)).str.strip()
    gone = text.isin(list(na)) | (text == "")
    kept = sorted(set(text[~gone]))
    position = {v: i for i, v in enumerate(kept)}
    lut = np.array([-1 if g else position[v] for v, g in zip(text, gone, strict=True)] + [-1])
    codes = lut[s.cat.codes.to_numpy()]  # code -1 (missing) takes the last entry: -1
    values = pd.Categorical.from_codes(codes, categories=pd.Index(kept, dtype="str"))
    return pd.Series(values, index=s.index, name=s.name)


def _clean_text(
    work: pd.DataFrame, na: set[str], stats: dict[str, _DateStats] | None = None
) -> pd.DataFrame:
    """Text columns without control characters (counted in ``stats``), stripped,
    missing-value spellings and empty strings as missing."""
    cleaned = {}
    for col in work.columns:
        s = work[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = _clean_categories(s, na, stats)
        elif not _is_typed(s.dtype):
            s = _without_control(s, str(col), stats).str.strip()
            s = s.mask(s.isin(na) | (s == ""))
        cleaned[col] = s
    return pd.DataFrame(cleaned, index=pd.RangeIndex(len(work)))


def _parse_dates(
    raw: pd.Series,
    source_rows: pd.Series,
    canon: str,
    m: Mapping,
    label: str,
    stats: dict[str, _DateStats],
):
    """Parse one date column of a piece as the mapping says, noting its statistics."""
    col = str(raw.name)
    st = stats.setdefault(canon, _DateStats(column=col, canon=canon))
    parsed = parse_datetimes(raw, fmt=m.datetime_format, dayfirst=m.dayfirst, tz=m.timezone)
    if not m.datetime_format and parsed.unparseable.any():
        # Excel's day numbers (45719.375): dates in a workbook, said either way
        failed = np.asarray(parsed.unparseable, dtype=bool)
        found = np.zeros(len(raw), dtype=bool)
        found[failed] = _serial_mask(raw[failed]).to_numpy(dtype=bool)
        serial = pd.Series(found, index=raw.index)
        if serial.any():
            st.serial += int(serial.sum())
            st.serial_example = st.serial_example or str(raw[serial].iloc[0]).strip()
            if label.lower().endswith((".xlsx", ".xlsm", ".xls")):
                st.serial_converted = True
                raw = raw.mask(serial, _serial_to_text(raw[serial]))
                parsed = parse_datetimes(
                    raw, fmt=m.datetime_format, dayfirst=m.dayfirst, tz=m.timezone
                )
    st.given += int(raw.notna().sum())
    st.failed += int(parsed.unparseable.sum())
    if st.example is None and parsed.unparseable.any():
        st.example = str(raw[parsed.unparseable].iloc[0])
    st.ambiguous += int(parsed.ambiguous.sum())
    st.nonexistent += int(parsed.nonexistent.sum())
    if st.nonexistent_example is None and parsed.nonexistent.any():
        st.nonexistent_example = str(raw[parsed.nonexistent].iloc[0])
    if not m.datetime_format and not pd.api.types.is_datetime64_any_dtype(raw.dtype):
        # only text can be read day-first or month-first; typed timestamps are what they are
        st.add_order(raw, source_rows)
        _check_day_month_order(st, m, label)
    return parsed


def _fold_events(
    work: pd.DataFrame, plan: _Plan, m: Mapping, label: str, stats: dict[str, _DateStats]
):
    """An event log (``events:``) folded into one row per request (:mod:`csi_lib.events`)."""
    rows = pd.Series(np.arange(1, len(work) + 1), dtype="int64")
    times = _parse_dates(work[plan.event_time], rows, "event time", m, label, stats)
    return fold_events(
        work,
        case=plan.columns["request_id"],
        status=plan.event_status,
        times=times.values,
        rules=dict(m.derive),
        time_column=plan.event_time,
    )


def _event_warnings(plan: _Plan, m: Mapping, folded: Any) -> list[str]:
    """What the user should know about how the columns of a load were read."""
    out = []
    opened, closed = plan.columns.get("opened_at"), plan.columns.get("closed_at")
    if opened is not None and opened == closed:
        out.append(
            f"opened_at and closed_at both come from '{opened}', so every duration is zero; "
            "map closed_at to the closing time"
            + (
                ", or derive it: closed_at: {last_time_if_final_in: [closing statuses]}"
                if m.events is not None
                else ""
            )
        )
    if folded is None:
        return out
    out.extend(folded.warnings)  # e.g. requests opened and closed by a single event
    same = [c for c in DATETIME_COLUMNS if plan.columns.get(c) == plan.event_time]
    if same:
        out.append(
            f"{', '.join(same)} is read from the time of each request's last event "
            f"('{plan.event_time}'), so open requests get a time too; derive it instead "
            "(first_time, {first_time_in: [...]} or {last_time_if_final_in: [...]})"
        )
    n = folded.counts.events_without_time
    if n and folded.untimed_example:
        row, value = folded.untimed_example
        out.append(
            f"{n:,} event(s) have no readable time in '{plan.event_time}' (e.g. row {row}: "
            f"'{value}') and take no part in their request's history"
        )
    return out


def _convert(
    kept: pd.DataFrame,
    source_rows: pd.Series,
    plan: _Plan,
    m: Mapping,
    label: str,
    stats: dict[str, _DateStats],
) -> tuple[pd.DataFrame, dict[str, pd.Series], dict[str, pd.Series]]:
    """Parse one piece of cleaned text into canonical columns (plus ``source_row``);
    also the masks of unparseable and of out-of-range dates per date column."""
    frame: dict[str, pd.Series] = {}
    unparseable: dict[str, pd.Series] = {}
    outside: dict[str, pd.Series] = {}
    for canon, col in plan.columns.items():
        if canon not in DATETIME_COLUMNS:
            frame[canon] = kept[col]
            continue
        parsed = _parse_dates(kept[col], source_rows, canon, m, label, stats)
        frame[canon] = parsed.values
        unparseable[canon] = parsed.unparseable | parsed.ambiguous
        outside[canon] = parsed.out_of_range
    when_empty = kept[plan.outcome_when_empty] if plan.outcome_when_empty else None
    frame["outcome"] = _outcomes(kept[plan.outcome], m, when_empty)
    unlisted = _unlisted_outcomes(kept[plan.outcome], m)
    if len(unlisted):  # outcome.other decided them: said in a warning
        st = stats.setdefault("outcome", _DateStats(column=plan.outcome, canon="outcome"))
        for value, n in unlisted.items():
            st.unrecognised[str(value)] = st.unrecognised.get(str(value), 0) + int(n)
    for canon, mask in outside.items():
        # a required date out of range is quarantined (schema.validate); else read as missing
        if canon == "opened_at":
            continue
        if canon == "closed_at":
            mask = mask & ~frame["outcome"].str.lower().isin(CLOSED_OUTCOMES).to_numpy()
        if mask.any():
            st = stats[canon]
            st.out_of_range += int(mask.sum())
            if st.out_of_range_example is None:
                st.out_of_range_example = str(kept[plan.columns[canon]][mask].iloc[0])
    if plan.sla_met is not None:
        spec = m.sla_met
        given = kept[plan.sla_met]
        frame["sla_met"] = parse_booleans(
            given,
            true_values=spec.true_values if spec else None,
            false_values=spec.false_values if spec else None,
        )
        unknown = given.notna() & frame["sla_met"].isna()
        if unknown.any():
            st = stats.setdefault("sla_met", _DateStats(column=plan.sla_met, canon="sla_met"))
            for value, n in given[unknown].value_counts().items():
                st.unrecognised[str(value)] = st.unrecognised.get(str(value), 0) + int(n)
    for col in plan.keep:
        frame[col] = kept[col]
    frame["source_row"] = source_rows.reset_index(drop=True)
    return pd.DataFrame(frame, copy=False), unparseable, outside  # the columns, not copies


def _columns_used(plan: _Plan, m: Mapping) -> dict[str, str]:
    used = dict(plan.columns)
    for canon, rule in m.derive.items():
        used[canon] = f"derived from the events ({rule.kind})"
    used["outcome"] = plan.outcome or ""
    if plan.sla_met is not None:
        used["sla_met"] = plan.sla_met
    elif "sla_due_at" in plan.columns:
        used["sla_met"] = "derived from sla_due_at"
    for col in plan.keep:
        used[col] = col
    return used
