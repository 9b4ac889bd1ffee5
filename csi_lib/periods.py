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
        ts = ts.tz_localize(tz)
    return ts.tz_convert("UTC")


@dataclass(frozen=True)
class Period:
    """A half-open interval of instants ``[start, end)``, both UTC timestamps.

    Examples
    --------
    >>> p = Period.from_dates("2025-01-01", "2025-06-30")
    >>> p.start, p.end
    (Timestamp('2025-01-01 00:00:00+0000', tz='UTC'), Timestamp('2025-07-01 00:00:00+0000', tz='UTC'))
    >>> p.label
    '2025-01-01 to 2025-06-30'
    """

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _to_utc(self.start))
        object.__setattr__(self, "end", _to_utc(self.end))
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
        return cls(_to_utc(start, tz), _to_utc(last + pd.Timedelta(days=1), tz))

    @property
    def last_date(self) -> dt.date:
        """The last calendar day (UTC) inside the period."""
        return (self.end - pd.Timedelta(microseconds=1)).date()

    @property
    def label(self) -> str:
        """``'YYYY-MM-DD to YYYY-MM-DD'`` (inclusive dates)."""
        return f"{self.start.date()} to {self.last_date}"

    @property
    def days(self) -> float:
        """Length of the period in days."""
        return (self.end - self.start) / pd.Timedelta(days=1)

    def contains(self, ts: pd.Series) -> pd.Series:
        """Boolean mask: ``start <= ts < end`` (missing timestamps are False)."""
        return (ts >= self.start) & (ts < self.end)

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly form: ISO instants plus the inclusive dates."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "from": str(self.start.date()),
            "to": str(self.last_date),
        }

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> Period:
        return cls(pd.Timestamp(d["start"]), pd.Timestamp(d["end"]))


def period_edges(period: Period, freq: Freq = "month") -> pd.DatetimeIndex:
    """Bin edges of a series over ``period``: calendar months or ISO weeks (UTC).

    The first and last bins are clipped to the period, so the edges always start
    at ``period.start`` and end at ``period.end``.
    """
    if freq not in FREQ_ALIASES:
        raise ConfigError(f"unknown frequency '{freq}'", hint="use 'month' or 'week'")
    inner = pd.date_range(period.start, period.end, freq=FREQ_ALIASES[freq], inclusive="neither")
    edges = pd.DatetimeIndex([period.start, *inner, period.end])
    return edges.drop_duplicates()


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
