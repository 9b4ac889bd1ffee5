"""Periods: half-open intervals of instants ``[start, end)`` in UTC.

The command line and the cycle files take *inclusive dates*
(``--from 2025-01-01 --to 2025-06-30`` covers the whole of 30 June); they are
turned into instants at midnight in the reporting timezone (UTC unless given)
and converted to UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .errors import ConfigError

Freq = Literal["month", "week"]

#: pandas offset alias of each supported series frequency (weeks start on Monday).
FREQ_ALIASES: dict[str, str] = {"month": "MS", "week": "W-MON"}


#: The dates a cycle file or the command line may give (inclusive). Timestamps of request
#: data hold 1677-09-22 .. 2262-04-11; a period's dates are kept well inside, so a "never"
#: value such as 9999-12-31 or a typo such as 1000-01-01 is refused with a sentence, not
#: a traceback deep inside a computation.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2199, 12, 31)


def check_date(value: dt.date) -> dt.date:
    """``value`` when it lies in :data:`FIRST_DATE` .. :data:`LAST_DATE`, else ``ValueError``.

    Examples
    --------
    >>> check_date(dt.date(2025, 6, 30))
    datetime.date(2025, 6, 30)
    >>> check_date(dt.date(9999, 12, 31))
    Traceback (most recent call last):
    ValueError: 9999-12-31 is outside the dates the workbook computes with (1900-01-01 to 2199-12-31); give the real date (a "never" value such as 9999-12-31 is not a date of a period)
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(
            f"{value.isoformat()} is outside the dates the workbook computes with "
            f'({FIRST_DATE} to {LAST_DATE}); give the real date (a "never" value such as '
            "9999-12-31 is not a date of a period)"
        )
    return value


def _to_utc(value: str | dt.date | dt.datetime | pd.Timestamp, tz: str = "UTC") -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = local_instant(ts, tz)
    return ts.tz_convert("UTC")


def local_instant(ts: pd.Timestamp, tz: str) -> pd.Timestamp:
    """The naive local time ``ts`` in ``tz`` as an instant, also on a daylight-saving day.

    A local time the clocks skip (midnight in America/Santiago on 2025-09-07: 00:00 becomes
    01:00) is moved to the first instant that exists; a local time they repeat (midnight in
    America/Havana on 2025-11-02) is the first of the two. Either is said with a
    :class:`~csi_lib.errors.CsiNote` warning.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as said:
    ...     warnings.simplefilter("always")
    ...     local_instant(pd.Timestamp("2025-09-07"), "America/Santiago")
    Timestamp('2025-09-07 01:00:00-0300', tz='America/Santiago')
    >>> print(said[0].message)
    2025-09-07 00:00 does not exist in America/Santiago (the clocks go forward at that time); 01:00, the first instant that exists, is used instead
    """
    found = ts.tz_localize(tz, nonexistent="NaT", ambiguous="NaT")
    if not pd.isna(found):
        return found
    import warnings

    from .errors import CsiNote

    moved = ts.tz_localize(tz, nonexistent="NaT", ambiguous=True)
    when = f"{ts:%Y-%m-%d %H:%M}"
    if pd.isna(moved):
        moved = first_existing(ts, tz)
        shown = f"{moved:%H:%M}" if moved.date() == ts.date() else f"{moved:%Y-%m-%d %H:%M}"
        text = (
            f"{when} does not exist in {tz} (the clocks go forward at that time); "
            f"{shown}, the first instant that exists, is used instead"
        )
    else:
        text = (
            f"{when} happens twice in {tz} (the clocks go back at that time); the first "
            f"of the two ({moved:%H:%M} {moved.tzname()}) is used"
        )
    warnings.warn(CsiNote(text), stacklevel=3)
    return moved


def first_existing(ts: pd.Timestamp, tz: str) -> pd.Timestamp:
    """The first local time at or after the naive ``ts`` that exists in ``tz``, localized.

    pandas' ``nonexistent="shift_forward"`` misses the end of a gap longer than an
    hour (Samoa skipped the whole of 2011-12-30: it gives 01:00 on the 31st, an hour
    after the first instant that exists); this walks the minutes instead.

    Examples
    --------
    >>> first_existing(pd.Timestamp("2011-12-30"), "Pacific/Apia")
    Timestamp('2011-12-31 00:00:00+1400', tz='Pacific/Apia')
    >>> first_existing(pd.Timestamp("2025-04-25"), "Africa/Cairo")
    Timestamp('2025-04-25 01:00:00+0300', tz='Africa/Cairo')
    """
    grid = pd.date_range(ts, ts + pd.Timedelta(hours=49), freq="min")
    found = grid.tz_localize(tz, nonexistent="NaT", ambiguous=np.ones(len(grid), dtype=bool))
    return found[~found.isna()][0]


@dataclass(frozen=True)
class Period:
    """A half-open interval of instants ``[start, end)``, both UTC timestamps.

    ``tz`` is the reporting timezone the period's dates are read in: its label gives
    local dates, and its month and week bins start at local midnight
    (:func:`period_edges`).

    Examples
    --------
    >>> p = Period.from_dates("2025-01-01", "2025-06-30")
    >>> p.start, p.end
    (Timestamp('2025-01-01 00:00:00+0000', tz='UTC'), Timestamp('2025-07-01 00:00:00+0000', tz='UTC'))
    >>> p.label
    '2025-01-01 to 2025-06-30'
    >>> paris = Period.from_dates("2025-01-01", "2025-06-30", tz="Europe/Paris")
    >>> paris.start, paris.label
    (Timestamp('2024-12-31 23:00:00+0000', tz='UTC'), '2025-01-01 to 2025-06-30')
    """

    start: pd.Timestamp
    end: pd.Timestamp
    tz: str = "UTC"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _to_utc(self.start, self.tz))
        object.__setattr__(self, "end", _to_utc(self.end, self.tz))
        if self.end <= self.start:
            raise ConfigError(
                f"the period ends ({self.end}) before or when it starts ({self.start})",
                hint="give an end date on or after the start date",
            )

    @classmethod
    def from_dates(
        cls,
        date_from: str | dt.date | pd.Timestamp,
        date_to: str | dt.date | pd.Timestamp,
        tz: str = "UTC",
    ) -> Period:
        """Period covering the inclusive dates ``date_from`` .. ``date_to`` (midnight to midnight in ``tz``)."""
        try:
            start = pd.Timestamp(date_from).normalize()
            last = pd.Timestamp(date_to).normalize()
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"'{date_from}' or '{date_to}' is not a date",
                hint="write dates as YYYY-MM-DD",
            ) from exc
        for day in (start, last):
            try:
                check_date(day.date())
            except ValueError as exc:
                raise ConfigError(str(exc), hint="write dates as YYYY-MM-DD") from exc
        if start.tzinfo is not None:
            start = start.tz_localize(None)
        if last.tzinfo is not None:
            last = last.tz_localize(None)
        if last < start:
            raise ConfigError(
                f"the period's last date {last.date()} is before its first date {start.date()}",
                hint="swap --from and --to",
            )
        return cls(_to_utc(start, tz), _to_utc(last + pd.Timedelta(days=1), tz), tz)

    @property
    def first_date(self) -> dt.date:
        """The first calendar day of the period (in its timezone)."""
        return self.start.tz_convert(self.tz).date()

    @property
    def last_date(self) -> dt.date:
        """The last calendar day inside the period (in its timezone)."""
        return (self.end - pd.Timedelta(microseconds=1)).tz_convert(self.tz).date()

    @property
    def label(self) -> str:
        """``'YYYY-MM-DD to YYYY-MM-DD'`` (inclusive dates, in the period's timezone)."""
        return f"{self.first_date} to {self.last_date}"

    def until(self, end: pd.Timestamp | None) -> Period | None:
        """The part of the period before ``end`` (an instant): the period itself when it ends
        by then, None when it starts at or after it.

        Examples
        --------
        >>> p = Period.from_dates("2025-07-01", "2025-12-31")
        >>> p.until(pd.Timestamp("2025-10-16", tz="UTC")).label
        '2025-07-01 to 2025-10-15'
        >>> p.until(pd.Timestamp("2025-07-01", tz="UTC")) is None
        True
        """
        if end is None or end >= self.end:
            return self
        if end <= self.start:
            return None
        return Period(self.start, end, self.tz)

    @property
    def days(self) -> float:
        """Length of the period in days."""
        return (self.end - self.start) / pd.Timedelta(days=1)

    def contains(self, ts: pd.Series) -> pd.Series:
        """Boolean mask: ``start <= ts < end`` (missing timestamps are False)."""
        return (ts >= self.start) & (ts < self.end)

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly form: ISO instants plus the inclusive dates."""
        out = {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "from": str(self.first_date),
            "to": str(self.last_date),
        }
        return out | ({"tz": self.tz} if self.tz != "UTC" else {})

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> Period:
        return cls(pd.Timestamp(d["start"]), pd.Timestamp(d["end"]), d.get("tz", "UTC"))


def period_edges(period: Period, freq: Freq = "month") -> pd.DatetimeIndex:
    """Bin edges of a series over ``period``: calendar months or ISO weeks starting at
    midnight in the period's timezone, as UTC instants.

    The first and last bins are clipped to the period, so the edges always start
    at ``period.start`` and end at ``period.end``.

    Examples
    --------
    >>> period_edges(Period.from_dates("2025-01-01", "2025-02-28", tz="Europe/Paris"))[1]
    Timestamp('2025-01-31 23:00:00+0000', tz='UTC')
    """
    if freq not in FREQ_ALIASES:
        raise ConfigError(f"unknown frequency '{freq}'", hint="use 'month' or 'week'")
    local = [t.tz_convert(period.tz).tz_localize(None) for t in (period.start, period.end)]
    days = pd.date_range(local[0].normalize(), local[1], freq=FREQ_ALIASES[freq])
    at = days.tz_localize(period.tz, nonexistent="NaT", ambiguous=np.ones(len(days), dtype=bool))
    if at.isna().any():  # a bin starting at a midnight the clocks skip: the first instant after
        at = pd.DatetimeIndex(
            [
                first_existing(d, period.tz) if pd.isna(a) else a
                for d, a in zip(days, at, strict=True)
            ]
        )
    at = at.tz_convert("UTC")
    inner = at[(at > period.start) & (at < period.end)]
    return pd.DatetimeIndex([period.start, *inner, period.end]).drop_duplicates()


def natural_bin(
    start: pd.Timestamp, freq: str, tz: str = "UTC"
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The whole calendar month or ISO week (in ``tz``) that the bin starting at ``start``
    belongs to, as UTC instants ``[start, end)``."""
    local = start.tz_convert(tz).tz_localize(None)
    if period_word(freq) == "week":
        first = local.normalize() - pd.Timedelta(days=local.weekday())
        last = first + pd.Timedelta(days=7)
    else:
        first = local.normalize().replace(day=1)
        last = first + pd.offsets.MonthBegin(1)
    return tuple(local_instant(t, tz).tz_convert("UTC") for t in (first, last))  # type: ignore[return-value]


def partial_bins(
    starts: pd.Series | pd.Index,
    ends: pd.Series | pd.Index,
    freq: str,
    *,
    complete_until: pd.Timestamp | None = None,
    tz: str = "UTC",
) -> np.ndarray:
    """Which bins of a series are *partial*: cut short by their period (not a whole calendar
    month or ISO week in ``tz``), or not over by ``complete_until`` (the as-of cut, or the
    end of the data's last day). A partial bin is drawn but never judged.

    Examples
    --------
    >>> edges = period_edges(Period.from_dates("2025-01-01", "2025-04-15"))
    >>> partial_bins(edges[:-1], edges[1:], "month").tolist()      # 1-15 April
    [False, False, False, True]
    >>> cut = pd.Timestamp("2025-03-20", tz="UTC")                  # the data ends on 19 March
    >>> partial_bins(edges[:-1], edges[1:], "month", complete_until=cut).tolist()
    [False, False, True, True]
    """
    out = []
    for s, e in zip(pd.DatetimeIndex(starts), pd.DatetimeIndex(ends), strict=True):
        first, last = natural_bin(s, freq, tz)
        whole = s == first and e == last
        out.append(not whole or (complete_until is not None and e > complete_until))
    return np.asarray(out, dtype=bool)


#: Shorthands :func:`as_period` understands, with an example of each.
PERIOD_SHORTHANDS = {
    "year": "2025",
    "half": "2025-H1",
    "quarter": "2025-Q3",
    "month": "2025-07",
}

_SHORTHAND = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<half>[Hh][12])|(?P<quarter>[Qq][1-4])|(?P<month>\d{2})))?$"
)


def _shorthand(text: str) -> tuple[dt.date, dt.date] | None:
    m = _SHORTHAND.match(text.strip())
    if not m:
        return None
    year = int(m["year"])
    if m["half"]:
        first_month, months = (1 if m["half"][1] == "1" else 7), 6
    elif m["quarter"]:
        first_month, months = 3 * (int(m["quarter"][1]) - 1) + 1, 3
    elif m["month"]:
        first_month, months = int(m["month"]), 1
        if not 1 <= first_month <= 12:
            return None
    else:
        first_month, months = 1, 12
    start = dt.date(year, first_month, 1)
    end_month = first_month + months  # first month after the period
    end = dt.date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end - dt.timedelta(days=1)


#: What :func:`as_period` accepts.
PeriodLike = (
    Period
    | str
    | tuple[str | dt.date | pd.Timestamp, str | dt.date | pd.Timestamp]
    | list[str | dt.date | pd.Timestamp]
)


def as_period(value: PeriodLike, *, tz: str = "UTC") -> Period:
    """Turn what an analyst writes into a :class:`Period`.

    Parameters
    ----------
    value:
        A :class:`Period` (returned as it is); a pair of inclusive dates
        ``("2025-01-01", "2025-06-30")``; or a shorthand: a year ``"2025"``, a
        half ``"2025-H1"``, a quarter ``"2025-Q3"`` or a month ``"2025-07"``.
    tz:
        Reporting timezone of the dates (midnight to midnight there); UTC by default.

    Returns
    -------
    Period
        The half-open interval ``[start, end)`` in UTC.

    Raises
    ------
    ConfigError
        Anything else, with the forms that are understood.

    Examples
    --------
    >>> as_period("2025-H1").label
    '2025-01-01 to 2025-06-30'
    >>> as_period("2025-Q3").label
    '2025-07-01 to 2025-09-30'
    >>> as_period(("2025-02-01", "2025-02-28")).days
    28.0
    """
    if isinstance(value, Period):
        return value
    if isinstance(value, str):
        dates = _shorthand(value)
        if dates is None:
            raise ConfigError(
                f"'{value}' is not a period",
                hint="write a year (2025), a half (2025-H1), a quarter (2025-Q3), a month "
                "(2025-07) or a pair of dates ('2025-01-01', '2025-06-30')",
            )
        return Period.from_dates(*dates, tz=tz)
    if isinstance(value, tuple | list) and len(value) == 2:
        return Period.from_dates(value[0], value[1], tz=tz)
    raise ConfigError(
        f"{type(value).__name__} {value!r} is not a period",
        hint="give a pair of dates ('2025-01-01', '2025-06-30'), a Period, or a shorthand "
        "such as '2025-H1', '2025-Q3' or '2025-07'",
    )


def period_word(freq: str, n: int | None = None) -> str:
    """The cycle's period in words: "month" / "week"; with ``n``, counted ("7 weeks", "1 month").

    Examples
    --------
    >>> period_word("week"), period_word("month", 7), period_word("W-MON", 1)
    ('week', '7 months', '1 week')
    """
    word = "week" if str(freq).lower().startswith("w") else "month"
    return word if n is None else f"{n} {word}{'' if n == 1 else 's'}"


def period_when(ts: object, freq: str) -> str:
    """When a period of the cycle's frequency starts, in words: "2025-03" or "the week of 2025-03-03".

    Examples
    --------
    >>> import pandas as pd
    >>> period_when(pd.Timestamp("2025-03-03"), "week"), period_when(pd.Timestamp("2025-03-01"), "month")
    ('the week of 2025-03-03', '2025-03')
    """
    import pandas as pd

    if ts is None or pd.isna(ts):
        return "?"
    t = pd.Timestamp(ts)
    return f"the week of {t:%Y-%m-%d}" if period_word(freq) == "week" else f"{t:%Y-%m}"


def bin_words(
    start: pd.Timestamp, end: pd.Timestamp, freq: str, tz: str = "UTC", *, partial: bool = False
) -> str:
    """A bin of a series in words: a whole month "April 2012", a whole week "week of 2
    April 2012"; a bin cut short (or ``partial``) by its days, "1-15 Apr 2012, partial".

    Examples
    --------
    >>> t = lambda s: pd.Timestamp(s, tz="UTC")
    >>> bin_words(t("2012-04-01"), t("2012-05-01"), "month")
    'April 2012'
    >>> bin_words(t("2012-04-01"), t("2012-04-16"), "month", partial=True)
    '1-15 Apr 2012, partial'
    >>> bin_words(t("2025-03-31"), t("2025-04-07"), "week")
    'week of 31 March 2025'
    """
    first, last = natural_bin(start, freq, tz)
    local = start.tz_convert(tz)
    if start == first and end == last and not partial:
        if period_word(freq) == "week":
            return f"week of {local.day} {local:%B %Y}"
        return f"{local:%B %Y}"
    final = (end - pd.Timedelta(microseconds=1)).tz_convert(tz)
    if (local.year, local.month) == (final.year, final.month):
        days = (
            f"{local.day}-{final.day} {local:%b %Y}"
            if local.day != final.day
            else f"{local.day} {local:%b %Y}"
        )
    elif local.year == final.year:
        days = f"{local.day} {local:%b}-{final.day} {final:%b %Y}"
    else:
        days = f"{local.day} {local:%b %Y}-{final.day} {final:%b %Y}"
    return f"{days}, partial" if partial else days
