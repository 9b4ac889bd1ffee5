"""Realistic synthetic service-request data, with a known improvement story.

:func:`generate_requests` draws canonical request rows (see ``DESIGN.md``,
"Canonical request data", and ``docs/architecture.md``, "Canonical frame")
fully vectorised with numpy, so a million rows take a few seconds.
:func:`to_servicenow` and :func:`to_jira` reshape such rows into the shape of a
ServiceNow ``sc_req_item`` export and a Jira Service Management CSV export
(with personal and free-text columns that the loader must drop), and
:func:`write_requests` saves canonical rows as CSV, gzipped CSV or Parquet.

The story built into the data (dates in UTC, by ``opened_at``) is documented in
``data/README.md``:

- 2025-09-01 "Laptop build automation" works: Laptop median fulfilment time
  about -35 % and a much shorter tail (phased in over two weeks), so the share
  within SLA rises by about 4 points.
- 2025-10-01 "Approval rules simplified" works a little: assessment delay x0.76
  on its working-hours part (median time to assessment about -25 %).
- 2025-08-01 "Satisfaction survey follow-up" does nothing: satisfaction only
  moves with fulfilment time, as before.
- The decline rate drifts slowly down (about -8 % of itself a year), with no
  intervention behind it.

Examples
--------
>>> from csi_lib.sample import generate_requests
>>> df = generate_requests(rows=1_000, seed=1)
>>> len(df), str(df["opened_at"].dtype)
(1000, 'datetime64[ns, UTC]')
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .errors import ConfigError, OutputError
from .schema import CANONICAL_COLUMNS, OUTCOMES
from .storage import atomic_write

__all__ = [
    "CATEGORIES",
    "INTERVENTIONS",
    "generate_requests",
    "to_jira",
    "to_servicenow",
    "write_requests",
]

_NS_PER_H = 3_600_000_000_000
_HOURS_PER_YEAR = 24 * 365.25


@dataclass(frozen=True)
class CategorySpec:
    """How one catalogue item behaves in the sample.

    ``work_h`` is the median hands-on fulfilment time in calendar hours
    (lognormal with log-sd ``sigma``) after assessment, for priority 3.
    ``decline`` multiplies the base decline probability. ``automation`` is the
    (median, log-sd) factor intervention A ("Laptop build automation") applies
    to the work time.
    """

    weight: float
    work_h: float
    sigma: float
    groups: dict[str, float]
    decline: float = 1.0
    priority: tuple[float, float, float, float] = (0.02, 0.13, 0.65, 0.20)
    automation: tuple[float, float] = (1.0, 1.0)


#: Catalogue items: share of demand, fulfilment time and who fulfils them.
CATEGORIES: dict[str, CategorySpec] = {
    "Access request": CategorySpec(
        0.23, 5.0, 1.0, {"Identity & Access": 0.9, "Service Desk": 0.1}, decline=1.8
    ),
    "Software licence": CategorySpec(
        0.15, 14.0, 0.9, {"Procurement": 0.55, "Service Desk": 0.45}, decline=1.5
    ),
    "Laptop": CategorySpec(
        0.22,
        21.0,
        1.2,
        {"End User Computing": 1.0},
        decline=0.6,
        priority=(0.01, 0.05, 0.86, 0.08),
        automation=(0.86, 0.45),  # automated builds are faster and more consistent
    ),
    "Peripheral": CategorySpec(0.13, 22.0, 0.8, {"End User Computing": 0.75, "Service Desk": 0.25}),
    "Mobile phone": CategorySpec(0.09, 36.0, 0.7, {"Mobile Team": 1.0}, decline=1.2),
    "New starter": CategorySpec(
        0.07,
        60.0,
        0.5,
        {"End User Computing": 0.7, "Service Desk": 0.3},
        decline=0.2,
        priority=(0.01, 0.10, 0.80, 0.09),
        automation=(0.7, 0.8),  # the new starter's kit includes a laptop build
    ),
    "Shared mailbox": CategorySpec(0.05, 10.0, 0.9, {"Identity & Access": 1.0}),
    "Other": CategorySpec(0.06, 12.0, 1.2, {"Service Desk": 1.0}),
}


@dataclass(frozen=True)
class PrioritySpec:
    """A priority's SLA and how it scales the work time.

    The SLA is ``hours`` round the clock from ``opened_at`` when
    ``working_days`` is 0; otherwise ``working_days`` working days (Monday to
    Friday) from the first office instant at or after ``opened_at``.
    """

    hours: float
    working_days: int
    work: float


#: Priorities: SLA (8 h and 24 h round the clock; 3 and 5 working days) and work factor.
PRIORITIES: dict[str, PrioritySpec] = {
    "1 - Critical": PrioritySpec(8.0, 0, 0.2),
    "2 - High": PrioritySpec(24.0, 0, 0.55),
    "3 - Moderate": PrioritySpec(72.0, 3, 1.0),
    "4 - Low": PrioritySpec(120.0, 5, 1.25),
}

#: Channels: share of requests, and how they scale the assessment delay.
CHANNELS: dict[str, tuple[float, float]] = {
    "Portal": (0.62, 1.0),
    "E-mail": (0.22, 1.5),
    "Phone": (0.12, 0.6),
    "Walk-in": (0.04, 0.5),
}

#: The improvement story: date (UTC, by opened_at) and what each action does.
INTERVENTIONS: dict[str, dict[str, str]] = {
    "A": {
        "date": "2025-09-01",
        "title": "Laptop build automation",
        "effect": "work time x CategorySpec.automation (Laptop: median x0.86, log-sd x0.45;"
        " New starter: median x0.7, log-sd x0.8), phased in over 14 days",
    },
    "B": {
        "date": "2025-10-01",
        "title": "Approval rules simplified",
        "effect": "working-hours part of the assessment delay x0.76",
    },
    "C": {
        "date": "2025-08-01",
        "title": "Satisfaction survey follow-up",
        "effect": "none (satisfaction keeps depending on fulfilment time only)",
    },
}

_AUTOMATION_RAMP_DAYS = 14.0
_APPROVAL_FACTOR = 0.76

_OFFICE_OPEN, _OFFICE_CLOSE = 8.0, 18.0
#: Weekday weights Monday..Sunday.
_WEEKDAY = np.array([1.15, 1.10, 1.05, 1.00, 0.85, 0.07, 0.05])
#: Month weights January..December.
_MONTH = np.array([1.20, 1.05, 1.05, 0.95, 1.00, 0.98, 0.90, 0.70, 1.25, 1.08, 1.02, 0.92])
_XMAS_WEIGHT = 0.30  # 22 December .. 1 January
_GROWTH_PER_YEAR = 0.08
_DECLINE_BASE, _DECLINE_DRIFT_PER_YEAR = 0.045, 0.08
_CANCEL = 0.026
_STALE = 0.006  # share waiting for stock or a vendor: work x15
#: Share of requests that stall (waiting on the user, forgotten) and are closed as
#: cancelled by a clean-up months later, if at all: median days, log-sd.
_STALLED, _STALLED_DAYS, _STALLED_SIGMA = 0.03, 200.0, 0.8
_CLOSE_IN_OFFICE = 0.85  # share of closures recorded in office hours
_REF = pd.Timestamp("2025-01-01", tz="UTC")


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

    rng = np.random.default_rng(seed)
    n = int(rows)

    # -- calendar: one entry per local day, plus room for closures after the end
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
    dow0 = table[0].day_of_week

    # -- demand: which day, then the time of day
    d = table[:ndays]
    xmas = ((d.month == 12) & (d.day >= 22)) | ((d.month == 1) & (d.day == 1))
    weight = (
        _WEEKDAY[d.day_of_week]
        * _MONTH[d.month - 1]
        * np.where(xmas, _XMAS_WEIGHT, 1.0)
        * np.clip(1.0 + _GROWTH_PER_YEAR * years[:ndays], 0.3, None)
    )
    day = np.sort(rng.choice(ndays, size=n, p=weight / weight.sum()))
    weekend = (dow0 + day) % 7 >= 5
    comp = rng.random(n)
    hod = np.where(
        comp < 0.45,
        rng.normal(10.2, 1.4, n),
        np.where(comp < 0.87, rng.normal(14.3, 1.6, n), rng.uniform(0.0, 24.0, n)),
    )
    hod = np.where(weekend, rng.uniform(7.0, 23.0, n), hod)
    t_open = day * 24.0 + np.clip(hod, 0.0, 23.999)
    t_open = np.sort(t_open)  # ids follow opened_at
    day = np.floor(t_open / 24.0).astype(np.int64)

    def utc_ns(t: np.ndarray) -> np.ndarray:
        """Local hours -> UTC ns (to the whole second); NaN stays NaN-safe via clipping."""
        tt = np.nan_to_num(t, nan=0.0)
        dd = np.clip(np.floor(tt / 24.0).astype(np.int64), 0, len(offset_h) - 1)
        secs = np.floor((tt - offset_h[dd]) * 3600.0).astype(np.int64)
        return table[0].value + secs * 1_000_000_000

    open_ns = utc_ns(t_open)
    yrs = years[day]
    after = {k: open_ns >= _to_utc_ts(v["date"]).value for k, v in INTERVENTIONS.items()}
    ramp_a = np.clip(
        (open_ns - _to_utc_ts(INTERVENTIONS["A"]["date"]).value)
        / (_AUTOMATION_RAMP_DAYS * 24 * _NS_PER_H),
        0.0,
        1.0,
    )

    # -- dimensions
    cat_names = list(CATEGORIES)
    cat_w = np.array([c.weight for c in CATEGORIES.values()])
    cat = rng.choice(len(cat_names), size=n, p=cat_w / cat_w.sum())
    group_names = sorted({g for c in CATEGORIES.values() for g in c.groups})
    group_p = np.array([[c.groups.get(g, 0.0) for g in group_names] for c in CATEGORIES.values()])
    group = _pick(rng, group_p[cat])
    prio_names = list(PRIORITIES)
    prio = _pick(rng, np.array([c.priority for c in CATEGORIES.values()])[cat])
    sla_h = np.array([p.hours for p in PRIORITIES.values()])[prio]
    sla_days = np.array([p.working_days for p in PRIORITIES.values()])[prio]
    prio_work = np.array([p.work for p in PRIORITIES.values()])[prio]
    chan_names = list(CHANNELS)
    chan_p, chan_assess = (np.array(v) for v in zip(*CHANNELS.values(), strict=True))
    chan = rng.choice(len(chan_names), size=n, p=chan_p)

    # -- assessment: next office instant (critical ones at once), then a lognormal delay
    critical = prio == 0
    t_assess_start = np.where(critical, t_open, _next_office(t_open, dow0))
    assess_delay = (
        rng.lognormal(np.log(1.6), 1.0, n)
        * chan_assess[chan]
        * np.where(critical, 0.3, 1.0)
        * np.where(after["B"], _APPROVAL_FACTOR, 1.0)
    )
    t_assess = t_assess_start + assess_delay
    # a decision that would fall after hours is taken the next working morning
    pushed = _next_office(t_assess, dow0)
    t_assess = np.where(~critical & (pushed > t_assess), pushed + rng.exponential(0.5, n), t_assess)

    # -- outcome type and fulfilment
    decline_mult = np.array([c.decline for c in CATEGORIES.values()])[cat]
    p_decl = _DECLINE_BASE * decline_mult * np.clip(1.0 - _DECLINE_DRIFT_PER_YEAR * yrs, 0.5, 1.5)
    u = rng.random(n)
    declined = u < p_decl
    cancelled = ~declined & (u < p_decl + _CANCEL)
    stalled = ~declined & ~cancelled & (u < p_decl + _CANCEL + _STALLED)
    cancelled |= stalled  # closed by a backlog clean-up, if the data lasts that long
    fulfilled = ~declined & ~cancelled

    auto_median, auto_sigma = (
        1.0 - (1.0 - np.array(f)[cat]) * ramp_a
        for f in zip(*(c.automation for c in CATEGORIES.values()), strict=True)
    )
    sigma = np.array([c.sigma for c in CATEGORIES.values()])[cat] * auto_sigma
    work = (
        np.array([c.work_h for c in CATEGORIES.values()])[cat]
        * np.exp(sigma * rng.standard_normal(n))
        * prio_work
        * auto_median
        * np.where(rng.random(n) < _STALE, 15.0, 1.0)
    )
    r = rng.random(n)
    reopen = np.where(fulfilled, (r < 0.045).astype(np.int64) + (r < 0.007), 0)
    work = work + reopen * rng.lognormal(np.log(20.0), 0.7, n)
    t_done = t_assess + work
    in_office = rng.random(n) < _CLOSE_IN_OFFICE
    pushed = np.where(in_office & ~critical, _next_office(t_done, dow0), t_done)
    t_done = np.where(pushed > t_done, pushed + rng.exponential(0.7, n), t_done)

    t_decline = t_assess + rng.lognormal(np.log(0.3), 0.8, n)
    t_cancel = np.where(
        stalled,
        t_assess + 24.0 * rng.lognormal(np.log(_STALLED_DAYS), _STALLED_SIGMA, n),
        t_open + rng.lognormal(np.log(18.0), 1.3, n),
    )
    t_close = np.where(declined, t_decline, np.where(cancelled, t_cancel, t_done))
    has_assess = ~(cancelled & (t_cancel < t_assess))

    # -- cut at the end of the data
    end_ns = _to_utc_ts(end_d + pd.Timedelta(days=1)).value
    close_ns = utc_ns(t_close)
    assess_ns = utc_ns(t_assess)
    is_open = close_ns >= end_ns
    has_assess &= assess_ns < end_ns
    outcome = np.select([is_open, fulfilled, declined], [3, 0, 1], default=2)
    reopen = np.where(is_open, 0, reopen)

    # -- SLA and satisfaction
    clock = _next_office(t_open, dow0)
    clock_day = np.floor(clock / 24.0).astype(np.int64)
    first = np.datetime64(table[0].date(), "D")
    due_day = (np.busday_offset(first + clock_day, sla_days) - first).astype(np.int64)
    t_due = due_day * 24.0 + (clock - clock_day * 24.0)
    sla_ns = np.where(sla_days > 0, utc_ns(t_due), open_ns + (sla_h * _NS_PER_H).astype(np.int64))
    sla_met = close_ns <= sla_ns
    hours = (close_ns - open_ns) / _NS_PER_H
    closed = ~is_open
    respond_p = np.select([declined, cancelled], [0.22, 0.05], default=0.30) + 0.08 * ~sla_met
    responded = closed & (rng.random(n) < respond_p)
    latent = (
        4.75
        - 0.28 * np.log(np.maximum(hours, 4.0) / 4.0)
        - 1.4 * declined
        - 0.6 * cancelled
        - 0.8 * (reopen > 0)
        + rng.normal(0.0, 0.95, n)
    )
    csat = np.where(responded, np.clip(np.rint(latent), 1.0, 5.0), np.nan)

    digits = max(7, len(str(n)))
    ids = pd.Series(np.arange(1, n + 1)).astype("string").str.zfill(digits)
    out = pd.DataFrame(
        {
            "request_id": ("REQ" + ids).astype("string"),
            "opened_at": _timestamps(open_ns),
            "assessed_at": _timestamps(assess_ns, ~has_assess),
            "closed_at": _timestamps(close_ns, is_open),
            "outcome": _categorical(outcome, OUTCOMES),
            "category": _categorical(cat, cat_names),
            "channel": _categorical(chan, chan_names),
            "priority": _categorical(prio, prio_names),
            "group": _categorical(group, group_names),
            "sla_due_at": _timestamps(sla_ns),
            "sla_met": pd.array(np.where(is_open, False, sla_met), dtype="boolean"),
            "csat": csat.astype("float64"),
            "reopen_count": pd.array(reopen, dtype="Int64"),
        }
    )
    out.loc[is_open, "sla_met"] = pd.NA
    return out[[c.name for c in CANONICAL_COLUMNS]]


# -- writing ---------------------------------------------------------------------------

#: ISO 8601 UTC with a "Z", to the second (e.g. 2025-01-02T09:14:05Z).
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def _csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, date_format=ISO_UTC, lineterminator="\n").encode("utf-8")


def _write_gzip_csv(df: pd.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(fh: IO[bytes]) -> None:
        # mtime=0 and no file name: the same frame always gives the same bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
            gz.write(_csv_bytes(df))

    return write


def _write_parquet(df: pd.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(fh: IO[bytes]) -> None:
        df.to_parquet(fh, index=False)

    return write


#: Writers by file-name suffix: each returns what storage.atomic_write writes.
WRITERS: dict[str, Callable[[pd.DataFrame], bytes | Callable[[IO[bytes]], None]]] = {
    ".csv": _csv_bytes,
    ".csv.gz": _write_gzip_csv,
    ".parquet": _write_parquet,
}


def write_requests(df: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Save request rows as CSV, gzipped CSV or Parquet, chosen by the file's suffix.

    Timestamps in CSV are ISO 8601 UTC (``2025-01-02T09:14:05Z``). The write
    is atomic (:func:`csi_lib.storage.atomic_write`) and refuses to replace an
    existing file unless ``overwrite=True``. Gzipped output is byte-for-byte
    reproducible (no time stamp in the gzip header).

    Parameters
    ----------
    df:
        Rows to save, usually from :func:`generate_requests`.
    path:
        Target file: ``.csv``, ``.csv.gz`` or ``.parquet``.
    overwrite:
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> write_requests(generate_requests(rows=100), tmp / "requests.csv.gz").name
    'requests.csv.gz'
    """
    path = Path(path)
    name = path.name.lower()
    suffix = next((s for s in sorted(WRITERS, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise OutputError(
            "the file type is not supported",
            file=str(path),
            hint="end the file name with " + ", ".join(WRITERS),
        )
    if path.exists() and not overwrite:
        raise OutputError(
            "it exists already and is not overwritten",
            file=str(path),
            hint="choose another output path or remove the old file yourself",
        )
    return atomic_write(path, WRITERS[suffix](df), overwrite=overwrite)


# -- export shapes ---------------------------------------------------------------------

_FIRST = np.array(
    [
        "Aisha",
        "Ben",
        "Chloe",
        "Daniel",
        "Elena",
        "Farid",
        "Grace",
        "Hannah",
        "Ivan",
        "Jade",
        "Kofi",
        "Laura",
        "Mateo",
        "Nadia",
        "Oliver",
        "Priya",
        "Quentin",
        "Rosa",
        "Samir",
        "Tomasz",
        "Uma",
        "Victor",
        "Wen",
        "Yusuf",
        "Zoe",
    ]
)
_LAST = np.array(
    [
        "Adeyemi",
        "Brown",
        "Chen",
        "Dubois",
        "Evans",
        "Fischer",
        "Garcia",
        "Hughes",
        "Iqbal",
        "Jansen",
        "Kowalski",
        "Lopez",
        "Murphy",
        "Nowak",
        "Okafor",
        "Patel",
        "Quinn",
        "Rossi",
        "Singh",
        "Taylor",
        "Usman",
        "Varga",
        "Walsh",
        "Yilmaz",
        "Zhang",
    ]
)
_COMMENTS = np.array(
    [
        "",
        "",
        "Please deliver to reception, I am in the office on Tuesdays.",
        "Urgent - my manager approved this by e-mail.",
        "Spoke to {name} on the phone, waiting for confirmation.",
        "Same as my previous request, thanks.",
        "Called {name} twice, no answer.",
        "Needed before the project starts next Monday.",
    ]
)


def _fake_people(rng: np.random.Generator, n: int) -> tuple[pd.Series, pd.Series]:
    """Fake full names and matching e-mails at example.com (reserved for examples)."""
    first = pd.Series(_FIRST[rng.integers(0, len(_FIRST), n)], dtype="string")
    last = pd.Series(_LAST[rng.integers(0, len(_LAST), n)], dtype="string")
    names = first + " " + last
    emails = (first + "." + last).str.lower() + "@example.com"
    return names, emails


def _naive(ts: pd.Series, timezone: str, fmt: str) -> pd.Series:
    """UTC timestamps as naive wall-clock strings in ``timezone``; "" where missing."""
    local = ts.dt.tz_convert(timezone)
    return local.dt.strftime(fmt).fillna("").astype("string")


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("")


def _lookup(values: pd.Series, table: dict[str, str]) -> pd.Series:
    """Map canonical values onto a tool's vocabulary (unknown values pass through)."""
    text = values.astype("string")
    return text.map(table).fillna(text).fillna("").astype("string")


#: ServiceNow contact_type display values for the canonical channels.
SERVICENOW_CHANNELS = {
    "Portal": "Self-service",
    "E-mail": "Email",
    "Phone": "Phone",
    "Walk-in": "Walk-in",
}
#: Jira priority names for the canonical priorities.
JIRA_PRIORITIES = {
    "1 - Critical": "Highest",
    "2 - High": "High",
    "3 - Moderate": "Medium",
    "4 - Low": "Low",
}
#: Jira Service Management request type names for the sample's catalogue items.
JIRA_REQUEST_TYPES = {
    "Access request": "Request access",
    "Software licence": "Request a software licence",
    "Laptop": "Request a laptop",
    "Peripheral": "Request a peripheral",
    "Mobile phone": "Request a mobile phone",
    "New starter": "Onboard a new employee",
    "Shared mailbox": "Request a shared mailbox",
    "Other": "Get IT help",
}


def to_servicenow(df: pd.DataFrame, *, timezone: str = "UTC", seed: int = 0) -> pd.DataFrame:
    """Reshape canonical rows into a ServiceNow requested-item (``sc_req_item``) list export.

    Columns: ``number`` (RITM0010001...), ``opened_at``, ``approval_set``,
    ``closed_at`` (``"YYYY-MM-DD HH:MM:SS"``, naive wall-clock time in
    ``timezone``; empty while open), ``state`` (Closed Complete / Closed
    Incomplete / Closed Skipped / Open / Work in Progress), ``approval``,
    ``cat_item``, ``assignment_group``, ``priority``, ``contact_type``,
    ``made_sla`` (true/false), and personal or free-text columns that a loader
    must drop: ``opened_by``, ``requested_for``, ``short_description``,
    ``comments`` (fake names at example.com). Matches the ``servicenow`` preset
    when ``timezone`` is the preset's (UTC).

    Parameters
    ----------
    df:
        Canonical rows, e.g. from :func:`generate_requests`.
    timezone:
        The exporting user's ServiceNow timezone.
    seed:
        Seed of the fake names and comments.

    Examples
    --------
    >>> sn = to_servicenow(generate_requests(rows=50, seed=1))
    >>> sn["number"].iloc[0]
    'RITM0010001'
    """
    rng = np.random.default_rng(seed)
    n = len(df)
    outcome = df["outcome"].astype("string")
    assessed = df["assessed_at"].notna()
    state = _lookup(
        outcome,
        {
            "fulfilled": "Closed Complete",
            "declined": "Closed Incomplete",
            "cancelled": "Closed Skipped",
        },
    ).mask(
        outcome.eq("open"),
        pd.Series(np.where(assessed, "Work in Progress", "Open"), index=df.index),
    )
    approval = pd.Series(
        np.where(assessed, "Approved", "Requested"), index=df.index, dtype="string"
    )
    approval = approval.mask(outcome.eq("declined"), "Rejected")
    opened_by, _ = _fake_people(rng, n)
    requested_for, _ = _fake_people(rng, n)
    opened_by.index = requested_for.index = df.index
    comment = pd.Series(
        _COMMENTS[rng.integers(0, len(_COMMENTS), n)], index=df.index, dtype="string"
    )
    parts = comment.str.partition("{name}")
    comment = parts[0] + opened_by.where(parts[1].ne(""), "") + parts[2]
    fmt = "%Y-%m-%d %H:%M:%S"
    made_sla = df["sla_met"].astype("boolean").map({True: "true", False: "false"}).fillna("")
    return pd.DataFrame(
        {
            "number": "RITM"
            + pd.Series(np.arange(10_001, 10_001 + n), index=df.index)
            .astype("string")
            .str.zfill(7),
            "opened_at": _naive(df["opened_at"], timezone, fmt),
            "approval_set": _naive(df["assessed_at"], timezone, fmt),
            "closed_at": _naive(df["closed_at"], timezone, fmt),
            "state": state,
            "approval": approval,
            "cat_item": _text(df["category"]),
            "assignment_group": _text(df["group"]),
            "priority": _text(df["priority"]),
            "contact_type": _lookup(df["channel"], SERVICENOW_CHANNELS),
            "made_sla": made_sla.astype("string"),
            "opened_by": opened_by,
            "requested_for": requested_for,
            "short_description": _text(df["category"]) + " for " + requested_for,
            "comments": comment,
        }
    ).reset_index(drop=True)


def _jira_dates(ts: pd.Series, timezone: str) -> pd.Series:
    """Jira's default export format, e.g. ``25/Jan/25 9:14 AM`` (hour not zero-padded)."""
    text = _naive(ts, timezone, "%d/%b/%y %I:%M %p")
    return text.str.replace(r" 0(\d):", r" \1:", regex=True)


def to_jira(df: pd.DataFrame, *, timezone: str = "UTC", seed: int = 0) -> pd.DataFrame:
    """Reshape canonical rows into a Jira Service Management CSV export (issue search).

    Columns: ``Issue key`` (SR-1...), ``Issue Type``, ``Summary`` (free text),
    ``Reporter`` (fake e-mail), ``Created``, ``Resolved`` (day-first
    ``"25/Jan/25 9:14 AM"`` in ``timezone``; empty while unresolved),
    ``Status``, ``Resolution`` (Done; Declined or Won't Do for declined;
    Cancelled; empty while open), ``Request Type``, ``Priority`` (Highest, High,
    Medium, Low), ``Satisfaction rating`` (1..5 or empty), ``Team``. Matches the
    ``jira-sm`` preset when ``timezone`` is the preset's (UTC).

    Parameters
    ----------
    df:
        Canonical rows, e.g. from :func:`generate_requests`.
    timezone:
        The exporting user's profile timezone.
    seed:
        Seed of the fake reporters and of the Declined / Won't Do split.

    Examples
    --------
    >>> jira = to_jira(generate_requests(rows=50, seed=1))
    >>> list(jira["Issue key"].iloc[:2])
    ['SR-1', 'SR-2']
    """
    rng = np.random.default_rng(seed)
    n = len(df)
    outcome = df["outcome"].astype("string")
    assessed = df["assessed_at"].notna().to_numpy()
    wont_do = rng.random(n) < 0.3
    resolution = np.select(
        [
            outcome.eq("fulfilled"),
            outcome.eq("declined") & wont_do,
            outcome.eq("declined"),
            outcome.eq("cancelled"),
        ],
        ["Done", "Won't Do", "Declined", "Cancelled"],
        default="",
    )
    status = np.select(
        [
            outcome.eq("fulfilled"),
            outcome.eq("declined"),
            outcome.eq("cancelled"),
            pd.Series(assessed, index=df.index),
        ],
        ["Resolved", "Declined", "Canceled", "In Progress"],
        default="Waiting for support",
    )
    names, emails = _fake_people(rng, n)
    names.index = emails.index = df.index
    request_type = _lookup(df["category"], JIRA_REQUEST_TYPES)
    csat = df["csat"].astype("Int64").astype("string").fillna("")
    return pd.DataFrame(
        {
            "Issue key": "SR-" + pd.Series(np.arange(1, n + 1), index=df.index).astype("string"),
            "Issue Type": pd.Series("Service Request", index=df.index, dtype="string"),
            "Summary": request_type + " - " + names,
            "Reporter": emails,
            "Created": _jira_dates(df["opened_at"], timezone),
            "Resolved": _jira_dates(df["closed_at"], timezone),
            "Status": pd.Series(status, index=df.index, dtype="string"),
            "Resolution": pd.Series(resolution, index=df.index, dtype="string"),
            "Request Type": request_type,
            "Priority": _lookup(df["priority"], JIRA_PRIORITIES),
            "Satisfaction rating": csat,
            "Team": _text(df["group"]),
        }
    ).reset_index(drop=True)
