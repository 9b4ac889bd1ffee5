"""Medians and percentiles (durations): an interval for the difference of the quantile.

The estimate is the KPI itself: review quantile - baseline quantile (linear
interpolation, as the KPI). Each period's sampling distribution of its quantile is
taken, *per period*, from

* the bootstrap (``scipy.stats.bootstrap``, :data:`N_RESAMPLES` resamples, seeded) when
  it has at most :data:`BOOTSTRAP_MAX_N` values: exact for the data at hand, no
  assumption on the distribution's shape; or
* order statistics when it is larger: the distribution-free interval of the quantile
  (``scipy.stats.quantile_test``, exact binomial ranks) gives its standard error, half
  the interval's width / z (Price & Bonett 2002 for the median), in O(n log n).

Two large periods give the normal interval ``d +/- z sqrt(se_r^2 + se_b^2)`` and its
p-value; otherwise the interval is the percentile interval of the differences of the
two periods' replicates (a large period's replicates drawn from its normal
distribution), and there is no p-value. Nothing is assumed about the two shapes
being alike: equal medians with different spreads give no evidence of a change.

A period needs enough values for the distribution-free interval of its quantile to
exist: 6 for a median, 36 for a 90th percentile (:func:`min_n`).

>>> import pandas as pd
>>> from csi_lib.evidence import compare
>>> ev = compare(pd.Series([30.0, 41, 35, 52, 38, 45, 33, 48]),
...              pd.Series([20.0, 22, 25, 18, 27, 21, 24, 19]), kind="duration", better="lower")
>>> ev.test, ev.effect, ev.significant
('bootstrap interval of the difference in medians', -18.0, True)
"""

from __future__ import annotations

import math
import re
import warnings
from statistics import NormalDist

import numpy as np

from ..errors import ConfigError
from .base import (
    BOOTSTRAP_MAX_N,
    N_RESAMPLES,
    NotEnoughData,
    TestInput,
    TestOutcome,
    compared,
    plural,
)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def quantile_of(agg: str | None) -> tuple[float, str]:
    """The probability and the name of the quantile a duration KPI aggregates to.

    >>> quantile_of("median"), quantile_of("p90")
    ((0.5, 'the median'), (0.9, 'the 90th percentile'))
    """
    if agg in (None, "median"):
        return 0.5, "the median"
    match = re.fullmatch(r"p(\d{1,2})", str(agg))
    if match and 0 < int(match.group(1)) < 100:
        q = int(match.group(1))
        return q / 100, f"the {_ordinal(q)} percentile"
    raise ConfigError(
        f"cannot compare durations by {agg!r}",
        column="agg",
        hint="use 'median', 'mean' or a percentile such as 'p90'",
    )


def min_n(q: float, alpha: float = 0.05) -> int:
    """Fewest values for which the distribution-free interval of the ``q`` quantile at
    level 1 - alpha has both ends inside the sample: ``max(q, 1 - q) ** n <= alpha / 2``.

    >>> min_n(0.5), min_n(0.9), min_n(0.75)
    (6, 36, 13)
    """
    return max(2, math.ceil(math.log(alpha / 2) / math.log(max(q, 1 - q))))


def _bootstrap(x: np.ndarray, q: float, rng: np.random.Generator) -> np.ndarray:
    """:data:`N_RESAMPLES` bootstrap replicates of the ``q`` quantile of ``x``."""
    from scipy import stats

    def statistic(a: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.quantile(a, q, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tied data: a degenerate distribution is fine here
        res = stats.bootstrap(
            (x,),
            statistic,
            n_resamples=N_RESAMPLES,
            method="percentile",
            vectorized=True,
            batch=max(1, 4_000_000 // len(x)),
            rng=rng,
        )
    return np.asarray(res.bootstrap_distribution, dtype="float64")


def _order_statistics_se(x: np.ndarray, q: float, alpha: float) -> float:
    """Standard error of the ``q`` quantile of ``x``: half the width of its
    distribution-free interval (``scipy.stats.quantile_test``) divided by z."""
    from scipy import stats

    z = NormalDist().inv_cdf(1 - alpha / 2)
    ci = stats.quantile_test(x, q=float(np.quantile(x, q)), p=q).confidence_interval(1 - alpha)
    return float(ci.high - ci.low) / (2 * z)


def quantile_difference(inp: TestInput) -> TestOutcome:
    """The difference of a duration KPI's median or percentile (see the module)."""
    q, measure = quantile_of(inp.agg)
    b = inp.baseline.to_numpy(dtype="float64")
    r = inp.review.to_numpy(dtype="float64")
    least = min_n(q, inp.alpha)
    if len(b) < least or len(r) < least:
        raise NotEnoughData(
            f"the baseline has {plural(len(b), 'value')} and the review period {len(r):,}; "
            f"an interval of {measure} needs at least {least} in each"
        )
    vb, vr = float(np.quantile(b, q)), float(np.quantile(r, q))
    short = measure.removeprefix("the ")
    common = compared(vb, vr, len(b), len(r), measure, "h", 1)
    large = {"baseline": len(b) > BOOTSTRAP_MAX_N, "review": len(r) > BOOTSTRAP_MAX_N}
    if large["baseline"] and large["review"]:
        se = math.hypot(
            _order_statistics_se(r, q, inp.alpha), _order_statistics_se(b, q, inp.alpha)
        )
        if se == 0:
            return _tied(common, b, r, measure)
        z = NormalDist().inv_cdf(1 - inp.alpha / 2)
        d = vr - vb
        stat = d / se
        return TestOutcome(
            test=f"order-statistics interval of the difference in {_plural(short)}",
            ci_low=d - z * se,
            ci_high=d + z * se,
            statistic=stat,
            p_value=2 * NormalDist().cdf(-abs(stat)),
            how=f"from order statistics of each period's {short}, normal approximation",
            **common,
        )
    replicates = []
    for part, (x, name) in enumerate(((r, "review"), (b, "baseline"))):
        rng = np.random.default_rng([inp.seed, part])
        if large[name]:
            se = _order_statistics_se(x, q, inp.alpha)
            replicates.append(float(np.quantile(x, q)) + se * rng.standard_normal(N_RESAMPLES))
        else:
            replicates.append(_bootstrap(x, q, rng))
    diffs = replicates[0] - replicates[1]
    low, high = np.quantile(diffs, [inp.alpha / 2, 1 - inp.alpha / 2])
    if high - low <= 0:
        return _tied(common, b, r, measure)
    if large["baseline"] or large["review"]:
        big = "baseline" if large["baseline"] else "review period"
        how = (
            f"bootstrap of the {'review period' if large['baseline'] else 'baseline'}'s {short}, "
            f"order statistics of the {big}'s"
        )
    else:
        how = f"bootstrap of each period's {short}"
    return TestOutcome(
        test=f"bootstrap interval of the difference in {_plural(short)}",
        ci_low=float(low),
        ci_high=float(high),
        how=how,
        **common,
    )


def _plural(short: str) -> str:
    return "medians" if short == "median" else short.replace("percentile", "percentiles")


def _tied(common: dict, b: np.ndarray, r: np.ndarray, measure: str) -> TestOutcome:
    """No interval: the values are tied so that the quantile cannot vary."""
    both = np.concatenate([b, r])
    values, counts = np.unique(both, return_counts=True)
    top = values[np.argmax(counts)]
    share = counts.max() / len(both)
    if len(values) == 1:
        reason = f"every value in both periods is {top:,.1f} h"
    else:
        reason = f"{share:.0%} of the values are {top:,.1f} h, so {measure} cannot vary"
    return TestOutcome(
        test="no interval",
        reason=f"the values are tied ({reason}): the interval has no width",
        **common,
    )
