"""generate_requests: canonical request rows drawn step by step, fully vectorised with numpy.

Each step draws what one part of a request's life needs (the day and time it is
opened, its catalogue item and priority, the assessment, the outcome, the work,
the closure, the SLA and the satisfaction answer), in one fixed order of random
draws: the same seed gives the same frame, byte for byte, as it always has.
Times inside the steps are local hours since midnight of the first day of the
:class:`_Calendar`; :meth:`_Calendar.utc_ns` turns them into UTC nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..schema import CANONICAL_COLUMNS, OUTCOMES
from .story import (
    _APPROVAL_FACTOR,
    _AUTOMATION_RAMP_DAYS,
    _CANCEL,
    _CLOSE_IN_OFFICE,
    _DECLINE_BASE,
    _DECLINE_DRIFT_PER_YEAR,
    _GROWTH_PER_YEAR,
    _MONTH,
    _NS_PER_H,
    _OFFICE_CLOSE,
    _OFFICE_OPEN,
    _REF,
    _STALE,
    _STALLED,
    _STALLED_DAYS,
    _STALLED_SIGMA,
    _WEEKDAY,
    _XMAS_WEIGHT,
    CATEGORIES,
    CHANNELS,
    INTERVENTIONS,
    PRIORITIES,
)

__all__ = ["generate_requests"]


def _to_utc_ts(value: str | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1): column index."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cdf).sum(axis=1), probs.shape[1] - 1)


def _next_office(t: np.ndarray, dow0: int) -> np.ndarray:
    """The first office instant at or after local time ``t`` (hours since day 0 midnight)."""
    day = np.floor(t / 24.0)
    hod = t - 24.0 * day
    dow = (dow0 + day) % 7
    weekday = dow < 5
    inside = weekday & (hod >= _OFFICE_OPEN) & (hod < _OFFICE_CLOSE)
    before = weekday & (hod < _OFFICE_OPEN)
    ndow = (dow + 1) % 7
    next_day = day + 1 + 2 * (ndow == 5) + (ndow == 6)
    return np.where(
        inside,
        t,
        np.where(before, day * 24.0 + _OFFICE_OPEN, next_day * 24.0 + _OFFICE_OPEN),
    )


def _timestamps(ns: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    """int64 UTC nanoseconds (and a missing mask) as a ``datetime64[ns, UTC]`` series."""
    arr = ns.astype("int64").copy()
    if missing is not None:
        arr[missing] = np.iinfo("int64").min  # NaT
    return pd.Series(arr.view("datetime64[ns]")).dt.tz_localize("UTC")


def _categorical(codes: np.ndarray, categories: list[str] | tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype("int64"), categories=list(categories))


def _spec(name: str, rows: np.ndarray) -> np.ndarray:
    """One field of every :data:`CATEGORIES` entry, taken for each row's category code."""
    return np.array([getattr(c, name) for c in CATEGORIES.values()])[rows]


# -- the window and its calendar -------------------------------------------------------


def _window(
    rows: int, start: str | pd.Timestamp, end: str | pd.Timestamp
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day (naive midnights), checked: at least one row, real dates in order."""
    if rows < 1:
        raise ConfigError(f"rows must be at least 1, not {rows}", column="rows")
    try:
        start_d = pd.Timestamp(start).normalize().tz_localize(None)
        end_d = pd.Timestamp(end).normalize().tz_localize(None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"'{start}' or '{end}' is not a date", hint="write dates as YYYY-MM-DD"
        ) from exc
    if end_d < start_d:
        raise ConfigError(f"end {end_d.date()} is before start {start_d.date()}")
    return start_d, end_d


@dataclass(frozen=True)
class _Calendar:
    """One entry per local day of the data, plus 60 days for closures after the end.

    ``offset_h`` is each day's local time minus UTC at noon (hours), ``years`` the
    years from 2025-01-01 to each day, ``dow0`` the weekday of the first day
    (Monday 0) and ``ndays`` the number of days requests are opened on.
    """

    table: pd.DatetimeIndex
    offset_h: np.ndarray
    years: np.ndarray
    dow0: int
    ndays: int

    def utc_ns(self, t: np.ndarray) -> np.ndarray:
        """Local hours -> UTC ns (to the whole second); NaN stays NaN-safe via clipping."""
        tt = np.nan_to_num(t, nan=0.0)
        dd = np.clip(np.floor(tt / 24.0).astype(np.int64), 0, len(self.offset_h) - 1)
        secs = np.floor((tt - self.offset_h[dd]) * 3600.0).astype(np.int64)
        return self.table[0].value + secs * 1_000_000_000

    def next_office(self, t: np.ndarray) -> np.ndarray:
        """The first office instant at or after local hours ``t``."""
        return _next_office(t, self.dow0)


def _calendar(start_d: pd.Timestamp, end_d: pd.Timestamp, timezone: str) -> _Calendar:
    ndays = (end_d - start_d).days + 1
    table = pd.date_range(start_d, periods=ndays + 60, freq="D")
    noon = table + pd.Timedelta(hours=12)
    try:
        local_noon = noon.tz_localize(timezone)
    except Exception as exc:  # pytz/zoneinfo raise several types
        raise ConfigError(f"unknown timezone '{timezone}'", column="timezone") from exc
    offset_h = (
        (noon - local_noon.tz_convert("UTC").tz_localize(None)) / pd.Timedelta(hours=1)
    ).to_numpy()
    years = ((table - _REF.tz_localize(None)) / pd.Timedelta(days=365.25)).to_numpy()
    return _Calendar(table, offset_h, years, table[0].day_of_week, ndays)


# -- the steps of a request's life -----------------------------------------------------


def _open_times(rng: np.random.Generator, cal: _Calendar, n: int) -> np.ndarray:
    """Local opening hours, sorted: a day by weekday, month, Christmas and growth weights,
    then a time of day (office-hours peaks on weekdays, spread out at weekends)."""
    d = cal.table[: cal.ndays]
    xmas = ((d.month == 12) & (d.day >= 22)) | ((d.month == 1) & (d.day == 1))
    weight = (
        _WEEKDAY[d.day_of_week]
        * _MONTH[d.month - 1]
        * np.where(xmas, _XMAS_WEIGHT, 1.0)
        * np.clip(1.0 + _GROWTH_PER_YEAR * cal.years[: cal.ndays], 0.3, None)
    )
    day = np.sort(rng.choice(cal.ndays, size=n, p=weight / weight.sum()))
    weekend = (cal.dow0 + day) % 7 >= 5
    comp = rng.random(n)
    hod = np.where(
        comp < 0.45,
        rng.normal(10.2, 1.4, n),
        np.where(comp < 0.87, rng.normal(14.3, 1.6, n), rng.uniform(0.0, 24.0, n)),
    )
    hod = np.where(weekend, rng.uniform(7.0, 23.0, n), hod)
    t_open = day * 24.0 + np.clip(hod, 0.0, 23.999)
    return np.sort(t_open)  # ids follow opened_at


@dataclass(frozen=True)
class _Dimensions:
    """Codes of each row's category, group, priority and channel, and what follows from them."""

    cat: np.ndarray
    group: np.ndarray
    group_names: list[str]
    prio: np.ndarray
    chan: np.ndarray
    sla_h: np.ndarray
    sla_days: np.ndarray
    prio_work: np.ndarray
    chan_assess: np.ndarray


def _dimensions(rng: np.random.Generator, n: int) -> _Dimensions:
    """Catalogue item by demand share, then its group and priority, then the channel."""
    cat_w = np.array([c.weight for c in CATEGORIES.values()])
    cat = rng.choice(len(CATEGORIES), size=n, p=cat_w / cat_w.sum())
    group_names = sorted({g for c in CATEGORIES.values() for g in c.groups})
    group_p = np.array([[c.groups.get(g, 0.0) for g in group_names] for c in CATEGORIES.values()])
    group = _pick(rng, group_p[cat])
    prio = _pick(rng, _spec("priority", cat))
    chan_p, chan_assess = (np.array(v) for v in zip(*CHANNELS.values(), strict=True))
    chan = rng.choice(len(CHANNELS), size=n, p=chan_p)
    return _Dimensions(
        cat=cat,
        group=group,
        group_names=group_names,
        prio=prio,
        chan=chan,
        sla_h=np.array([p.hours for p in PRIORITIES.values()])[prio],
        sla_days=np.array([p.working_days for p in PRIORITIES.values()])[prio],
        prio_work=np.array([p.work for p in PRIORITIES.values()])[prio],
        chan_assess=chan_assess[chan],
    )


def _assessment(
    rng: np.random.Generator,
    cal: _Calendar,
    t_open: np.ndarray,
    dims: _Dimensions,
    after_b: np.ndarray,
) -> np.ndarray:
    """Local assessment hours: from the next office instant (critical ones at once), a
    lognormal delay (shorter after intervention B); an after-hours decision is taken
    the next working morning."""
    critical = dims.prio == 0
    t_assess_start = np.where(critical, t_open, cal.next_office(t_open))
    assess_delay = (
        rng.lognormal(np.log(1.6), 1.0, len(t_open))
        * dims.chan_assess
        * np.where(critical, 0.3, 1.0)
        * np.where(after_b, _APPROVAL_FACTOR, 1.0)
    )
    t_assess = t_assess_start + assess_delay
    pushed = cal.next_office(t_assess)
    return np.where(
        ~critical & (pushed > t_assess), pushed + rng.exponential(0.5, len(t_open)), t_assess
    )


@dataclass(frozen=True)
class _Outcomes:
    """Which rows end declined, cancelled (stalled ones included), stalled or fulfilled."""

    declined: np.ndarray
    cancelled: np.ndarray
    stalled: np.ndarray
    fulfilled: np.ndarray


def _outcomes(rng: np.random.Generator, cat: np.ndarray, yrs: np.ndarray) -> _Outcomes:
    """Decline (by category, drifting down), cancel, or stall and be cancelled by a clean-up."""
    p_decl = (
        _DECLINE_BASE
        * _spec("decline", cat)
        * np.clip(1.0 - _DECLINE_DRIFT_PER_YEAR * yrs, 0.5, 1.5)
    )
    u = rng.random(len(cat))
    declined = u < p_decl
    cancelled = ~declined & (u < p_decl + _CANCEL)
    stalled = ~declined & ~cancelled & (u < p_decl + _CANCEL + _STALLED)
    cancelled |= stalled  # closed by a backlog clean-up, if the data lasts that long
    return _Outcomes(declined, cancelled, stalled, ~declined & ~cancelled)


def _fulfilment(
    rng: np.random.Generator,
    cal: _Calendar,
    t_assess: np.ndarray,
    dims: _Dimensions,
    fulfilled: np.ndarray,
    ramp_a: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(local done hours, reopen count): lognormal work by category and priority (faster
    and steadier with intervention A), a few stale ones, rework of reopened requests,
    and most closures recorded in office hours."""
    n, cat = len(t_assess), dims.cat
    auto_median, auto_sigma = (
        1.0 - (1.0 - np.array(f)[cat]) * ramp_a
        for f in zip(*(c.automation for c in CATEGORIES.values()), strict=True)
    )
    sigma = _spec("sigma", cat) * auto_sigma
    work = (
        _spec("work_h", cat)
        * np.exp(sigma * rng.standard_normal(n))
        * dims.prio_work
        * auto_median
        * np.where(rng.random(n) < _STALE, 15.0, 1.0)
    )
    r = rng.random(n)
    reopen = np.where(fulfilled, (r < 0.045).astype(np.int64) + (r < 0.007), 0)
    work = work + reopen * rng.lognormal(np.log(20.0), 0.7, n)
    t_done = t_assess + work
    in_office = rng.random(n) < _CLOSE_IN_OFFICE
    pushed = np.where(in_office & (dims.prio != 0), cal.next_office(t_done), t_done)
    t_done = np.where(pushed > t_done, pushed + rng.exponential(0.7, n), t_done)
    return t_done, reopen


def _closure(
    rng: np.random.Generator,
    t_open: np.ndarray,
    t_assess: np.ndarray,
    t_done: np.ndarray,
    out: _Outcomes,
) -> tuple[np.ndarray, np.ndarray]:
    """(local closing hours, has an assessment): declined soon after assessment, stalled
    ones months later, other cancellations soon after opening (before any assessment)."""
    n = len(t_open)
    t_decline = t_assess + rng.lognormal(np.log(0.3), 0.8, n)
    t_cancel = np.where(
        out.stalled,
        t_assess + 24.0 * rng.lognormal(np.log(_STALLED_DAYS), _STALLED_SIGMA, n),
        t_open + rng.lognormal(np.log(18.0), 1.3, n),
    )
    t_close = np.where(out.declined, t_decline, np.where(out.cancelled, t_cancel, t_done))
    return t_close, ~(out.cancelled & (t_cancel < t_assess))


def _sla_due_ns(
    cal: _Calendar, t_open: np.ndarray, open_ns: np.ndarray, dims: _Dimensions
) -> np.ndarray:
    """SLA deadlines (UTC ns): hours round the clock, or working days from the next
    office instant."""
    clock = cal.next_office(t_open)
    clock_day = np.floor(clock / 24.0).astype(np.int64)
    first = np.datetime64(cal.table[0].date(), "D")
    due_day = (np.busday_offset(first + clock_day, dims.sla_days) - first).astype(np.int64)
    t_due = due_day * 24.0 + (clock - clock_day * 24.0)
    return np.where(
        dims.sla_days > 0,
        cal.utc_ns(t_due),
        open_ns + (dims.sla_h * _NS_PER_H).astype(np.int64),
    )


def _satisfaction(
    rng: np.random.Generator,
    hours: np.ndarray,
    closed: np.ndarray,
    sla_met: np.ndarray,
    out: _Outcomes,
    reopen: np.ndarray,
) -> np.ndarray:
    """Survey answers 1..5 (NaN for none): fewer answers after declines and cancellations,
    more after a missed SLA; lower after long fulfilment, a decline, a cancellation or a
    reopening."""
    n = len(hours)
    respond_p = (
        np.select([out.declined, out.cancelled], [0.22, 0.05], default=0.30) + 0.08 * ~sla_met
    )
    responded = closed & (rng.random(n) < respond_p)
    latent = (
        4.75
        - 0.28 * np.log(np.maximum(hours, 4.0) / 4.0)
        - 1.4 * out.declined
        - 0.6 * out.cancelled
        - 0.8 * (reopen > 0)
        + rng.normal(0.0, 0.95, n)
    )
    return np.where(responded, np.clip(np.rint(latent), 1.0, 5.0), np.nan)


def _frame(columns: dict[str, object], n: int) -> pd.DataFrame:
    """The canonical frame from the drawn columns (ids REQ0000001... in opening order)."""
    digits = max(7, len(str(n)))
    ids = pd.Series(np.arange(1, n + 1)).astype("string").str.zfill(digits)
    out = pd.DataFrame({"request_id": ("REQ" + ids).astype("string"), **columns})
    return out[[c.name for c in CANONICAL_COLUMNS]]


def generate_requests(
    *,
    rows: int = 40_000,
    seed: int = 42,
    start: str | pd.Timestamp = "2024-07-01",
    end: str | pd.Timestamp = "2026-06-30",
    timezone: str = "Europe/London",
) -> pd.DataFrame:
    """Draw ``rows`` canonical service requests opened between ``start`` and ``end``.

    Demand has a weekly pattern (few requests at weekends), office-hours arrival
    times in ``timezone``, seasonality (dip in August and late December, peaks in
    January and September) and mild growth (+8 % a year). Each catalogue item
    (:data:`CATEGORIES`) has its own volume, groups, priorities and lognormal
    fulfilment time (hours). About 88 % of requests are fulfilled, 5 % declined,
    4 % cancelled and the rest still open when the data ends (mostly recent).
    The improvement story of :data:`INTERVENTIONS` is built in.

    Parameters
    ----------
    rows:
        Number of requests (rows).
    seed:
        Random seed; the same seed and arguments give the same frame.
    start, end:
        Inclusive dates of ``opened_at`` (UTC). The data ends at midnight after
        ``end``: requests not closed by then are ``open``.
    timezone:
        Zone of the office (working hours 08:00-18:00, Monday to Friday).

    Returns
    -------
    pandas.DataFrame
        The canonical frame, sorted by ``opened_at``: ``request_id`` (string
        ``REQ0000001``...), timestamps as ``datetime64[ns, UTC]`` to the second,
        ``outcome``/``category``/``channel``/``priority``/``group`` as
        ``category``, ``sla_met`` ``boolean``, ``csat`` ``float64`` (1..5, NaN
        for no answer), ``reopen_count`` ``Int64``.

    Examples
    --------
    >>> df = generate_requests(rows=500, seed=3)
    >>> df["outcome"].value_counts().index[0]
    'fulfilled'
    """
    start_d, end_d = _window(rows, start, end)
    cal = _calendar(start_d, end_d, timezone)
    rng = np.random.default_rng(seed)  # the steps below draw from it in this order
    n = int(rows)

    t_open = _open_times(rng, cal, n)
    open_ns = cal.utc_ns(t_open)
    yrs = cal.years[np.floor(t_open / 24.0).astype(np.int64)]
    after_b = open_ns >= _to_utc_ts(INTERVENTIONS["B"]["date"]).value
    ramp_a = np.clip(
        (open_ns - _to_utc_ts(INTERVENTIONS["A"]["date"]).value)
        / (_AUTOMATION_RAMP_DAYS * 24 * _NS_PER_H),
        0.0,
        1.0,
    )
    dims = _dimensions(rng, n)
    t_assess = _assessment(rng, cal, t_open, dims, after_b)
    out = _outcomes(rng, dims.cat, yrs)
    t_done, reopen = _fulfilment(rng, cal, t_assess, dims, out.fulfilled, ramp_a)
    t_close, has_assess = _closure(rng, t_open, t_assess, t_done, out)

    # cut at the end of the data: what closes later is still open
    end_ns = _to_utc_ts(end_d + pd.Timedelta(days=1)).value
    close_ns, assess_ns = cal.utc_ns(t_close), cal.utc_ns(t_assess)
    is_open = close_ns >= end_ns
    has_assess &= assess_ns < end_ns
    reopen = np.where(is_open, 0, reopen)

    sla_ns = _sla_due_ns(cal, t_open, open_ns, dims)
    sla_met = close_ns <= sla_ns
    hours = (close_ns - open_ns) / _NS_PER_H
    csat = _satisfaction(rng, hours, ~is_open, sla_met, out, reopen)
    sla_met = pd.array(np.where(is_open, False, sla_met), dtype="boolean")
    sla_met[is_open] = pd.NA
    outcome = np.select([is_open, out.fulfilled, out.declined], [3, 0, 1], default=2)
    return _frame(
        {
            "opened_at": _timestamps(open_ns),
            "assessed_at": _timestamps(assess_ns, ~has_assess),
            "closed_at": _timestamps(close_ns, is_open),
            "outcome": _categorical(outcome, OUTCOMES),
            "category": _categorical(dims.cat, list(CATEGORIES)),
            "channel": _categorical(dims.chan, list(CHANNELS)),
            "priority": _categorical(dims.prio, list(PRIORITIES)),
            "group": _categorical(dims.group, dims.group_names),
            "sla_due_at": _timestamps(sla_ns),
            "sla_met": sla_met,
            "csat": csat.astype("float64"),
            "reopen_count": pd.array(reopen, dtype="Int64"),
        },
        n,
    )
