"""What every method of :mod:`csi_lib.evidence` shares: the :class:`Evidence` it gives,
what a method receives (:class:`TestInput`) and returns (:class:`TestOutcome`), and the
constants of the methods."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

#: Resamples of the bootstrap of a quantile (durations, small periods).
N_RESAMPLES = 1999
#: A period with more values than this gets the interval of its quantile from order
#: statistics instead of the bootstrap (decided per period).
BOOTSTRAP_MAX_N = 1_000
#: Seed of the bootstrap and of the normal draws that stand for a large period beside a
#: bootstrapped one: the same data give the same interval.
SEED = 20250101
#: Days in a block of the count method: a whole week, so that every block holds each
#: weekday once.
BLOCK_DAYS = 7
#: Increased whenever a method changes, so that stored evidence of an older method is not
#: reused (:func:`csi_lib.runstore.shared_evidence`).
METHOD_VERSION = 3
NO_DATA = "not enough data"
NO_TEST = "process-behaviour chart"
NOT_ESTIMABLE = "no interval"
BETTER = ("higher", "lower", "neither")


@dataclass(frozen=True)
class Evidence:
    """The change of a KPI between the baseline and the review period, by one method.

    One quantity gives the estimate, the 95 % interval and the decision: the change is
    *real* in the method's sense when the interval excludes no change, and its direction
    is the estimate's sign.

    Attributes
    ----------
    test:
        The method, in words (e.g. ``"bootstrap interval of the difference in
        medians"``, ``"Welch t test"``, ``"Miettinen-Nurminen score interval"``,
        ``"t interval on weekly counts"``); ``"process-behaviour chart"`` when no
        two-sample method fits the KPI (a stock, a ratio), ``"not enough data"`` or
        ``"no interval"`` (tied values).
    statistic, p_value:
        The test statistic and its two-sided p-value, NaN where the method has none
        (a bootstrap interval has no p-value).
    ci_low, ci_high:
        The interval of the difference review - baseline at level 1 - alpha, in
        ``unit``; NaN without one.
    effect:
        The estimate: review - baseline in ``unit``.
    direction:
        ``"improved"``, ``"worsened"`` (the interval excludes no change), ``"no
        change"`` (it includes no change) or ``"n/a"`` (no interval, or a KPI with no
        better direction).
    significant:
        The interval excludes no change (real in the method's sense).
    n_baseline, n_review:
        What the method counted: values (requests) of each period; for a count
        KPI the requests counted; for a stock or a ratio the chart's periods.
    wording:
        One sentence that names the method, the estimate, the interval and the decision.
    kind, measure, unit:
        The method's kind (``"quantile"``, ``"mean"``, ``"proportion"``, ``"count"``,
        ``"stock"``, ``"ratio"``), what is compared (``"the median"``...) and the unit
        of ``effect`` (``"h"``, ``"percentage points"``, ``"requests a day"``, ``""``).
    baseline_value, review_value:
        The compared quantity in each period.
    alpha:
        1 - the interval's level.
    reason:
        Why there is no interval (too few values, tied values, a stock), else ``""``.
    """

    test: str
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    effect: float
    direction: str
    significant: bool
    n_baseline: int
    n_review: int
    wording: str
    kind: str = ""
    measure: str = ""
    unit: str = ""
    baseline_value: float = math.nan
    review_value: float = math.nan
    alpha: float = 0.05
    reason: str = ""

    def to_dict(self) -> dict:
        """The fields as a plain dict (for tables and JSON)."""
        return asdict(self)

    @property
    def has_interval(self) -> bool:
        """An interval was computed (and has a width)."""
        return not (math.isnan(self.ci_low) or math.isnan(self.ci_high))


@dataclass(frozen=True)
class TestInput:
    """What a method receives: the observations of each period (NaN left out).

    For a count, ``baseline`` and ``review`` are frames with columns ``at`` (the time
    of the counted event), ``opened_at`` (when the request was opened) and ``value``
    (its weight, 1 for a counted request); ``baseline_period`` and ``review_period``
    are the two periods (``start``, ``end``, ``days``).
    """

    __test__ = False  # not a pytest test class

    baseline: pd.Series | pd.DataFrame
    review: pd.Series | pd.DataFrame
    alpha: float
    seed: int
    agg: str | None = None
    baseline_period: Any = None
    review_period: Any = None


@dataclass(frozen=True)
class TestOutcome:
    """What a method returns; :func:`csi_lib.evidence.compare` adds the direction and
    the sentence.

    ``how`` names the method in the sentence ("by bootstrap of each period's median");
    ``reason`` says why there is no interval (then ``ci_low``/``ci_high`` are NaN).
    """

    __test__ = False

    test: str
    effect: float
    baseline_value: float
    review_value: float
    n_baseline: int
    n_review: int
    measure: str
    unit: str
    decimals: int
    ci_low: float = math.nan
    ci_high: float = math.nan
    statistic: float = math.nan
    p_value: float = math.nan
    how: str = ""
    reason: str = ""
    extra: dict = field(default_factory=dict)


class NotEnoughData(Exception):
    """Raised by a method when a period has too few values; the message says why."""


def plural(n: int, word: str) -> str:
    """``"1 value"``, ``"3 values"``.

    >>> plural(1, "value"), plural(3, "value")
    ('1 value', '3 values')
    """
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def need(n_baseline: int, n_review: int, least: int, what: str = "value") -> None:
    """:class:`NotEnoughData` unless each period has at least ``least`` values."""
    if n_baseline < least or n_review < least:
        raise NotEnoughData(
            f"the baseline has {plural(n_baseline, what)} and the review period "
            f"{n_review:,}; the method needs at least {least} in each"
        )


def compared(
    vb: float, vr: float, nb: int, nr: int, measure: str, unit: str, decimals: int
) -> dict:
    """The :class:`TestOutcome` fields every method fills alike: the estimate (review -
    baseline), the compared quantity in each period, the counts, what and in what unit."""
    return {
        "effect": vr - vb,
        "baseline_value": vb,
        "review_value": vr,
        "n_baseline": nb,
        "n_review": nr,
        "measure": measure,
        "unit": unit,
        "decimals": decimals,
    }
