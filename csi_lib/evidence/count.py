"""Counts per day (requests received, fulfilled, declined, cancelled): a t interval on
weekly blocks, which allows for overdispersion and for dependence between days.

A service desk's daily counts vary far more than a Poisson process would (Mondays,
month ends, a batch of requests from one project), and a day's closures come from the
arrivals of several days before, so neighbouring days are not independent. A Poisson
rate test, or a t-test on daily counts, then calls many chance differences real.

The method:

1. Each period is cut into whole weeks from its first day (:data:`BLOCK_DAYS`); each
   week holds every weekday once, so the weekly pattern adds nothing to their spread.
   A period needs at least two whole weeks.
2. The estimate is the difference of the two periods' counts per day over their whole
   weeks; the days after the last whole week (fewer than 7) are left out, so that both
   periods weigh every weekday alike (a period that ends on a Sunday and one that ends
   on a Monday would otherwise differ by their calendar alone).
3. Each period's standard error is the spread of its weekly counts per day over the
   square root of its weeks: the dispersion of a quasi-Poisson model measured on weekly
   blocks, with no assumption on its size.
4. Closures lag arrivals: the weeks of a closure count share arrivals, which makes the
   weekly spread smaller than the spread of a whole period's count. The weekly variance
   is multiplied by ``7 / sum(g ** 2)``, where ``g`` is the distribution of the days
   from opening to the counted event, summed over a week (``g = h * box_7``): the
   exact ratio of the long-run to the weekly variance of a count smoothed by that delay.
   For arrivals (no delay) the factor is 1.
5. Welch's t test and interval (``scipy.stats.ttest_ind(equal_var=False)``) on the
   weekly rates, scaled about their mean as in 4.

The result is stated per day. Simulated calibration and power: docs/statistics.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .base import BLOCK_DAYS, NotEnoughData, TestInput, TestOutcome, compared
from .mean import welch_t

_DAY_NS = 86_400 * 10**9
#: Delays from opening to the counted event longer than this (days) count as this long.
MAX_DELAY_DAYS = 366


def _bounds(period: Any, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    if period is None:
        raise ConfigError(
            f"a count KPI needs the {name} period (its start and end) for its weekly blocks",
            column=name,
            hint="pass baseline_period= and review_period= (csi_lib.periods.Period)",
        )
    start, end = (period.start, period.end) if hasattr(period, "start") else period
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if start.tzinfo is None:
        start, end = start.tz_localize("UTC"), end.tz_localize("UTC")
    return start, end


def _utc(values: Any) -> pd.DatetimeIndex:
    """Times as a UTC DatetimeIndex in nanoseconds (no per-value Python objects)."""
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns")


def _ns(values: Any, start: pd.Timestamp) -> np.ndarray:
    """Nanoseconds since ``start`` (int64; NaT as the period start)."""
    idx = _utc(values)
    return np.where(idx.isna(), 0, idx.asi8 - start.tz_convert("UTC").as_unit("ns").value)


def delay_factor(delays: np.ndarray, weights: np.ndarray, block: int = BLOCK_DAYS) -> float:
    """How much a count smoothed by ``delays`` (whole days from opening to the counted
    event) under-states, week by week, the variance of a whole period's count:
    ``block / sum(g ** 2)`` with ``g`` the delay distribution summed over a block.

    >>> delay_factor(np.zeros(10, dtype=int), np.ones(10))  # arrivals: no delay
    1.0
    >>> round(delay_factor(np.array([0, 1, 2, 3]), np.ones(4)), 3)  # spread over 4 days
    1.217
    """
    if len(delays) == 0 or not np.any(weights):
        return 1.0
    lags = np.clip(delays, 0, MAX_DELAY_DAYS).astype("int64")
    h = np.bincount(lags, weights=weights) / float(np.sum(weights))
    g = np.convolve(h, np.ones(block))
    return float(block / np.sum(g**2))


def _period_rates(frame: pd.DataFrame, period: Any, name: str) -> dict[str, Any]:
    """Weekly rates per day, the whole period's rate, days and the delay factor."""
    start, end = _bounds(period, name)
    days = (end - start) / pd.Timedelta(days=1)
    weeks = int(days // BLOCK_DAYS)
    if weeks < 2:
        raise NotEnoughData(
            f"the {name} has {days:.0f} days; counts per day are compared over whole weeks "
            f"and need at least two ({2 * BLOCK_DAYS} days) in each period"
        )
    at = _ns(frame["at"], start)
    weight = frame["value"].to_numpy(dtype="float64")
    inside = (at >= 0) & (at < (end - start).value)
    at, weight = at[inside], weight[inside]
    opened = _ns(frame["opened_at"], start)[inside] if "opened_at" in frame else at
    block = at // (BLOCK_DAYS * _DAY_NS)
    in_weeks = block < weeks
    weekly = np.bincount(block[in_weeks], weights=weight[in_weeks], minlength=weeks) / BLOCK_DAYS
    delays = at[in_weeks] // _DAY_NS - np.floor_divide(opened[in_weeks], _DAY_NS)
    return {
        "weekly": weekly,
        "rate": float(weekly.mean()),
        "total": float(weight[in_weeks].sum()),
        "days": days,
        "weeks": weeks,
        "left_out": days - BLOCK_DAYS * weeks,
        "factor": delay_factor(delays, weight[in_weeks]),
    }


def _scaled(p: dict[str, Any]) -> np.ndarray:
    """The weekly rates scaled about their mean so that the variance of their mean is
    ``factor`` times the weekly one (step 4 of the module)."""
    return p["rate"] + (p["weekly"] - p["rate"]) * math.sqrt(p["factor"])


def _left_out(base: dict[str, Any], rev: dict[str, Any]) -> str:
    """The days after the last whole week of each period, in words (``""`` when none)."""
    parts = [
        f"{p['left_out']:.0f} day{'s' * (round(p['left_out']) != 1)} of the {name}"
        for p, name in ((base, "baseline"), (rev, "review period"))
        if p["left_out"] >= 0.5
    ]
    return f" (the last {' and '.join(parts)}, less than a week, left out)" if parts else ""


def count_rate(inp: TestInput) -> TestOutcome:
    """The difference of a count KPI's count per day between the periods."""
    base = _period_rates(inp.baseline, inp.baseline_period, "baseline")
    rev = _period_rates(inp.review, inp.review_period, "review period")
    common = compared(base["rate"], rev["rate"], round(base["total"]), round(rev["total"]),
                      "the count per day", "requests a day", 2)  # fmt: skip
    if base["total"] + rev["total"] == 0:
        raise NotEnoughData("nothing was counted in either period")
    if np.ptp(base["weekly"]) == 0 and np.ptp(rev["weekly"]) == 0:
        return TestOutcome(
            test="no interval",
            reason="every week of each period counted the same: the weeks have no spread",
            **common,
        )
    fields = welch_t(_scaled(rev), _scaled(base), inp.alpha)
    fields["extra"] |= {
        "weeks": [base["weeks"], rev["weeks"]],
        "factor": [base["factor"], rev["factor"]],
    }
    return TestOutcome(
        test="t interval on weekly counts",
        how=(
            f"Welch t interval on the counts of {base['weeks']} and {rev['weeks']} whole "
            "weeks, allowing for days that vary more than chance"
            + _left_out(base, rev)
            + (
                " and for closures that lag arrivals"
                if max(base["factor"], rev["factor"]) > 1.001
                else ""
            )
        ),
        **fields,
        **common,
    )


def count_frame(
    times: pd.Series, values: pd.Series | None = None, opened: pd.Series | None = None
) -> pd.DataFrame:
    """The observations of a count for :func:`csi_lib.evidence.compare`: one row per
    request, ``at`` (the counted event's time), ``opened_at`` and ``value`` (1 = counted)."""
    at = _utc(times)
    frame = pd.DataFrame({"at": at, "opened_at": at if opened is None else _utc(opened)})
    frame["value"] = 1.0 if values is None else np.asarray(values, dtype="float64")
    return frame
