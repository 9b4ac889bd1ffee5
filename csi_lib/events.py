"""Event logs: one row per status change, folded into one row per request.

DESIGN.md "Event logs". A mapping's ``events:`` section names the request id
(``case``), the event time (``time``) and the status after the event
(``status``); its ``derive:`` section gives canonical columns a rule over each
request's events:

- ``first_time``: the time of the earliest event;
- ``{first_time_in: [...]}``: the time of the first event whose status is listed;
- ``{last_time_if_final_in: [...]}``: the last event's time when the final status
  is listed, else empty;
- ``{transitions_from: [...]}``: how often the status left a listed value
  (a listed status followed by an unlisted one; a whole number).

Events of a request are ordered by time; among equal times the later line of
the file is the later event. Every other canonical column is read from the
request's last event. Status values are compared case-insensitively, without
surrounding spaces.

The fold is vectorised: one stable sort of the events by (request, time), then
group-wise first / last / cumulative operations with NumPy; no Python loop runs
per request or per event.

Examples
--------
>>> import pandas as pd
>>> work = pd.DataFrame({"id": ["A", "A", "B", "A"], "st": ["New", "Done", "New", "Active"]})
>>> t = pd.to_datetime(["2025-01-01 09:00", "2025-01-03 09:00", "2025-01-02 00:00", "2025-01-02 00:00"], utc=True)
>>> rules = {"opened_at": parse_rule("first_time"),
...          "closed_at": parse_rule({"last_time_if_final_in": ["done"]}),
...          "reopen_count": parse_rule({"transitions_from": ["Done"]})}
>>> f = fold_events(work, case="id", status="st", times=pd.Series(t), rules=rules,
...                 time_column="st")
>>> f.derived["closed_at"].dt.strftime("%Y-%m-%d").tolist(), f.derived["reopen_count"].tolist()
(['2025-01-03', nan], [0, 0])
>>> f.source_rows.tolist()   # the rows of each request's last event (1-based)
[2, 3]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_serializer

from .schema import DATETIME_COLUMNS, QUARANTINE_COLUMNS, REASON_MISSING_ID, value_columns

__all__ = [
    "Events",
    "Rule",
    "RULE_KINDS",
    "EventCounts",
    "Folded",
    "parse_rule",
    "check_mapping",
    "fold_events",
]

#: Rule kinds whose result is a time (they may derive a date column).
TIME_RULES: tuple[str, ...] = ("first_time", "first_time_in", "last_time_if_final_in")
#: Every rule kind a ``derive:`` entry may use.
RULE_KINDS: tuple[str, ...] = (*TIME_RULES, "transitions_from")
#: Canonical whole-number columns a ``transitions_from`` rule may derive.
COUNT_COLUMNS: tuple[str, ...] = ("reopen_count",)
REASON_NO_TIME = "no event of the request has a readable time"

_RULE_FORMS = (
    "first_time, {first_time_in: [statuses]}, {last_time_if_final_in: [statuses]} "
    "or {transitions_from: [statuses]}"
)


class Events(BaseModel):
    """The ``events:`` section: which source columns hold the request, the time and the status."""

    model_config = ConfigDict(extra="forbid")

    case: str
    time: str
    status: str


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Rule(BaseModel):
    """One ``derive:`` rule: its kind and, except for ``first_time``, the listed statuses."""

    model_config = ConfigDict(frozen=True)

    kind: Literal[RULE_KINDS]  # type: ignore[valid-type]
    values: tuple[str, ...] = ()

    @model_serializer
    def _as_written(self) -> Any:
        """Serialised as it is written in a mapping file."""
        return self.kind if self.kind == "first_time" else {self.kind: list(self.values)}

    def matches(self, statuses: pd.Index) -> np.ndarray:
        """Mask of the distinct ``statuses`` this rule lists (case-insensitive, stripped)."""
        wanted = {v.strip().casefold() for v in self.values}
        return np.array([str(s).strip().casefold() in wanted for s in statuses], dtype=bool)


def parse_rule(value: Any) -> Rule:
    """A ``derive:`` entry as written in YAML -> :class:`Rule`.

    Raises
    ------
    ValueError
        Any other form (the message lists the four forms).

    Examples
    --------
    >>> parse_rule({"first_time_in": ["Accepted"]}).values
    ('Accepted',)
    """
    if isinstance(value, Rule):
        return value
    if isinstance(value, dict) and set(value) == {"kind", "values"}:  # a model_dump of a Rule
        value = value["kind"] if value["kind"] == "first_time" else {value["kind"]: value["values"]}
    if value == "first_time":
        return Rule(kind="first_time")
    if isinstance(value, dict) and len(value) == 1:
        kind, listed = next(iter(value.items()))
        if kind in RULE_KINDS and kind != "first_time":
            listed = listed if isinstance(listed, list) else [listed]
            values = tuple(_text(v) for v in listed if v is not None and _text(v).strip())
            if not values:
                raise ValueError(f"the rule {kind} needs at least one status value")
            return Rule(kind=kind, values=values)
    raise ValueError(f"a derive rule is one of {_RULE_FORMS}; got {value!r}")


def check_mapping(
    events: Events | None,
    derive: dict[str, Rule],
    dedupe: Any,
    columns: dict[str, Any],
) -> None:
    """The mapping-level rules of ``events:`` / ``derive:``.

    Raises
    ------
    ValueError
        ``events:`` with ``dedupe:``; ``derive:`` without ``events:``; a column both
        mapped and derived; a rule that does not fit its column.
    """
    if events is not None and dedupe is not None:
        raise ValueError(
            "events: and dedupe: exclude each other: events: reads the whole history of "
            "each request (and takes the other columns from its last event), dedupe: keeps "
            "only the last row; keep one of them"
        )
    if derive and events is None:
        raise ValueError(
            "derive: needs an events: section (case, time and status columns) to derive from"
        )
    for canon, rule in derive.items():
        if canon in columns:
            raise ValueError(f"give {canon} either under columns: or under derive:, not both")
        if rule.kind in TIME_RULES and canon not in DATETIME_COLUMNS:
            raise ValueError(
                f"{canon} is not a date column, so it cannot take the time rule {rule.kind}; "
                f"time rules derive {', '.join(DATETIME_COLUMNS)}"
            )
        if rule.kind == "transitions_from" and canon not in COUNT_COLUMNS:
            raise ValueError(
                f"transitions_from counts status changes, so it derives "
                f"{', '.join(COUNT_COLUMNS)}, not {canon}"
            )
    if events is not None and "request_id" in columns:
        given = columns["request_id"]
        if (given if isinstance(given, str) else given[0]).casefold() != events.case.casefold():
            raise ValueError(
                f"columns: request_id ('{given}') differs from events: case ('{events.case}'); "
                "the case column is the request id, so drop request_id from columns:"
            )


@dataclass
class EventCounts:
    """What the fold of an event log did (counts of events and requests)."""

    events_read: int
    requests_formed: int
    requests_quarantined: int = 0
    events_without_time: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "events_read": self.events_read,
            "requests_formed": self.requests_formed,
            "requests_quarantined": self.requests_quarantined,
            "events_without_time": self.events_without_time,
        }


@dataclass
class Folded:
    """One row per request, ready for validation.

    Attributes
    ----------
    positions:
        0-based position in the event frame of each request's last event.
    source_rows:
        The same as 1-based source rows.
    derived:
        Canonical column -> values (one per request, in the order of ``positions``):
        UTC datetimes for time rules, ``int64`` counts for ``transitions_from``.
    quarantine:
        Requests with no readable event time (one row each, at their last event),
        in the quarantine layout (``source_row``, ``request_id``, ``column``,
        ``reason``, then the source values).
    counts:
        :class:`EventCounts` (``requests_quarantined`` counts only these; the loader
        adds the requests that fail validation).
    untimed_example:
        (source row, value) of the first event whose time could not be read, if any.
    """

    positions: np.ndarray
    source_rows: pd.Series
    derived: dict[str, pd.Series]
    quarantine: pd.DataFrame
    counts: EventCounts
    untimed_example: tuple[int, str] | None = None
    warnings: list[str] = field(default_factory=list)


def _times_ns(times: pd.Series) -> np.ndarray:
    """UTC datetimes as int64 nanoseconds (NaT = the minimum int64)."""
    values = times.dt.tz_convert("UTC") if times.dt.tz is not None else times
    return values.to_numpy(dtype="datetime64[ns]").view("int64")


def _as_times(ns: np.ndarray) -> pd.Series:
    return pd.Series(ns.view("datetime64[ns]")).dt.tz_localize("UTC")


@dataclass(frozen=True)
class _Sorted:
    """The timed events in (request, time) order, and where each request's run starts and ends.

    ``order`` holds the events' positions in the file, ``c`` their request codes and
    ``tt`` their times (ns); ``change`` marks where the request changes between two
    consecutive events, ``start`` / ``end`` each request's first and last event,
    ``group`` each event's request (0..n_groups-1, in code order).
    """

    order: np.ndarray
    c: np.ndarray
    tt: np.ndarray
    change: np.ndarray
    start: np.ndarray
    end: np.ndarray
    group: np.ndarray
    n_groups: int


def _case_codes(ids: pd.Series) -> tuple[np.ndarray, int, int]:
    """(a code per event, number of request ids, events without an id): requests are
    numbered in the order their id first appears; each id-less event gets a code of its
    own after them."""
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)
    codes = codes.astype("int64", copy=False)
    no_id = codes < 0
    n_ids, n_no_id = len(uniques), int(no_id.sum())
    if n_no_id:
        codes[no_id] = n_ids + np.arange(n_no_id, dtype="int64")
    return codes, n_ids, n_no_id


def _sort_events(codes: np.ndarray, t: np.ndarray, timed: np.ndarray) -> _Sorted:
    """Stable sorts by time, then by request: events by (request, time), equal times in
    file order (two stable argsorts; faster than np.lexsort on unsorted keys, and
    near-sorted logs, by request or by time, sort in about linear time)."""
    idx = np.flatnonzero(timed)
    order = idx[np.argsort(t[idx], kind="stable")]
    order = order[np.argsort(codes[order], kind="stable")]
    c = codes[order]
    change = c[1:] != c[:-1]
    start = np.concatenate(([True], change)) if len(c) else np.zeros(0, dtype=bool)
    end = np.concatenate((change, [True])) if len(c) else np.zeros(0, dtype=bool)
    return _Sorted(
        order=order,
        c=c,
        tt=t[order],
        change=change,
        start=start,
        end=end,
        group=np.cumsum(start) - 1,  # 0..G-1 for each sorted event
        n_groups=int(start.sum()),
    )


def _derive(statuses: pd.Series, rules: dict[str, Rule], ev: _Sorted) -> dict[str, pd.Series]:
    """Each rule's value for every request (one per request, in code order)."""
    scodes, suniques = pd.factorize(statuses, use_na_sentinel=True)
    nat = np.iinfo("int64").min
    derived: dict[str, pd.Series] = {}
    for canon, rule in rules.items():
        if rule.kind == "first_time":
            derived[canon] = _as_times(ev.tt[ev.start])
            continue
        # a missing status (code -1, the appended last entry) is never listed
        listed = np.append(rule.matches(pd.Index(suniques)), False)
        member = listed[scodes[ev.order]]
        if rule.kind == "first_time_in":
            hits = np.flatnonzero(member)
            g = ev.group[hits]
            first = np.concatenate(([True], g[1:] != g[:-1])) if len(g) else g.astype(bool)
            out = np.full(ev.n_groups, nat, dtype="int64")
            out[g[first]] = ev.tt[hits[first]]
            derived[canon] = _as_times(out)
        elif rule.kind == "last_time_if_final_in":
            derived[canon] = _as_times(np.where(member[ev.end], ev.tt[ev.end], nat))
        else:  # transitions_from: a listed status followed by an unlisted one, same request
            left = member[:-1] & ~member[1:] & ~ev.change
            counts = np.bincount(ev.group[1:][left], minlength=ev.n_groups)
            derived[canon] = pd.Series(counts.astype("int64"))
    return derived


def _untimed(
    work: pd.DataFrame, case: str, codes: np.ndarray, n_codes: int, ev: _Sorted, time_column: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """(codes, quarantine rows) of the requests (and id-less events) none of whose events
    has a readable time; the request's last line of the file stands for it."""
    seen = np.zeros(n_codes, dtype=bool)
    seen[ev.c[ev.start]] = True
    untimed = np.flatnonzero(~seen)
    if not len(untimed):
        return untimed, pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
    last_line = np.full(len(seen), -1, dtype="int64")
    np.maximum.at(last_line, codes, np.arange(len(work), dtype="int64"))
    rows = last_line[untimed]
    ids = work[case].iloc[rows].to_numpy(dtype=object)
    missing = pd.isna(ids)
    reason = np.where(missing, f"{REASON_MISSING_ID}; {REASON_NO_TIME}", REASON_NO_TIME)
    column = np.where(missing, f"request_id; {time_column}", time_column)
    quarantine = pd.concat(
        [
            pd.DataFrame(
                {"source_row": rows + 1, "request_id": ids, "column": column, "reason": reason}
            ),
            value_columns(work.iloc[rows].reset_index(drop=True)),
        ],
        axis=1,
    )
    quarantine["source_row"] = quarantine["source_row"].astype("int64")
    return untimed, quarantine


def _untimed_example(
    work: pd.DataFrame, timed: np.ndarray, time_column: str
) -> tuple[int, str] | None:
    """(source row, value) of the first event whose time could not be read, if any."""
    if timed.all():
        return None
    first_bad = int(np.flatnonzero(~timed)[0])
    return first_bad + 1, str(work[time_column].iloc[first_bad])


def fold_events(
    work: pd.DataFrame,
    *,
    case: str,
    status: str,
    times: pd.Series,
    rules: dict[str, Rule],
    time_column: str,
) -> Folded:
    """Fold events (one row each) into one row per request.

    Parameters
    ----------
    work:
        The events, as cleaned text (missing = NaN), in file order.
    case, status:
        Columns of ``work`` holding the request id and the status after the event.
    times:
        Each event's time (UTC datetimes, NaT where unreadable), aligned with ``work``.
    rules:
        Canonical column -> :class:`Rule`.
    time_column:
        The column of ``work`` holding the event time as text (for the quarantine and
        the example of an unreadable time).

    Returns
    -------
    Folded
        Requests in the order their id first appears in the file. Events without a
        readable time take no part in the order or the rules; a request with none is
        quarantined. Events without a request id each stay a row of their own (the
        validation quarantines them for the missing id).
    """
    codes, n_ids, n_no_id = _case_codes(work[case])
    t = _times_ns(times)
    timed = t != np.iinfo("int64").min
    ev = _sort_events(codes, t, timed)
    last_pos = ev.order[ev.end]
    untimed, quarantine = _untimed(work, case, codes, n_ids + n_no_id, ev, time_column)
    derived = _derive(work[status], rules, ev)
    return Folded(
        positions=last_pos,
        source_rows=pd.Series(last_pos + 1, dtype="int64"),
        derived=derived,
        quarantine=quarantine,
        counts=EventCounts(
            events_read=len(work),
            requests_formed=n_ids,
            requests_quarantined=int((untimed < n_ids).sum()),
            events_without_time=int((~timed).sum()),
        ),
        untimed_example=_untimed_example(work, timed, time_column),
        warnings=_single_final_events(derived, ev, work[case], last_pos),
    )


def _single_final_events(
    derived: dict[str, pd.Series], ev: _Sorted, ids: pd.Series, last_pos: np.ndarray
) -> list[str]:
    """A warning for requests opened and closed by one and the same event (a single event,
    whose status is final): their time to fulfil is 0 h, which is rarely true."""
    opened, closed = derived.get("opened_at"), derived.get("closed_at")
    if opened is None or closed is None or not ev.n_groups:
        return []
    single = (ev.start & ev.end)[ev.start]  # per request: its first event is its last
    same = closed.notna().to_numpy() & (opened.to_numpy() == closed.to_numpy())
    zero = single & same
    n = int(zero.sum())
    if not n:
        return []
    example = ids.iloc[int(last_pos[np.flatnonzero(zero)[0]])]
    return [
        f"{n:,} request(s) have a single event, whose status is final (e.g. '{example}'): "
        "the same event opens and closes them, so their time to fulfil is 0 h. The log "
        "probably starts after they were opened; export their whole history, or leave "
        "them out of the period"
    ]
