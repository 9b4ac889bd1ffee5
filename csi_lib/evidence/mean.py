"""Means (satisfaction scores, mean durations): Welch's t test and its interval.

The estimate is the difference of the two periods' means, the interval Welch's t
interval (unequal variances, Welch-Satterthwaite degrees of freedom) and the p-value
Welch's t test, all from one ``scipy.stats.ttest_ind(..., equal_var=False)``: the
interval excludes no change exactly when p < alpha. The central limit theorem makes it
fit for scores on a 1..5 scale from a few dozen answers, and for mean durations from a
few hundred (skewed data need more); it asks for at least 2 values in each period and
some spread.

>>> import pandas as pd
>>> from csi_lib.evidence import compare
>>> ev = compare(pd.Series([3.0, 4, 2, 3, 4, 3, 5, 3, 2, 4]),
...              pd.Series([4.0, 5, 4, 5, 3, 5, 4, 5, 4, 5]), kind="score", better="higher")
>>> ev.test, round(ev.effect, 2), round(ev.p_value, 4)
('Welch t test', 1.1, 0.0091)
"""

from __future__ import annotations

import warnings

import numpy as np

from .base import TestInput, TestOutcome, compared, need


def welch_t(r: np.ndarray, b: np.ndarray, alpha: float) -> dict:
    """Welch's t test of ``r`` against ``b`` (``scipy.stats.ttest_ind(equal_var=False)``):
    its interval at level 1 - alpha, statistic, p-value and degrees of freedom."""
    from scipy import stats

    with warnings.catch_warnings():  # nearly constant values: the precision is enough here
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_ind(r, b, equal_var=False)
    ci = res.confidence_interval(1 - alpha)
    return {
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "statistic": float(res.statistic),
        "p_value": float(res.pvalue),
        "extra": {"df": float(res.df)},
    }


def welch(inp: TestInput, *, measure: str, unit: str, decimals: int) -> TestOutcome:
    """Welch's t test of the difference review - baseline of the means."""
    b = inp.baseline.to_numpy(dtype="float64")
    r = inp.review.to_numpy(dtype="float64")
    need(len(b), len(r), 2)
    vb, vr = float(b.mean()), float(r.mean())
    common = compared(vb, vr, len(b), len(r), measure, unit, decimals)
    if np.ptp(b) == 0 and np.ptp(r) == 0:
        same = "every value in both periods is" if vb == vr else "each period's values are all"
        values = f"{vb:,.{decimals}f}" if vb == vr else f"{vb:,.{decimals}f} and {vr:,.{decimals}f}"
        return TestOutcome(
            test="no interval",
            reason=f"the values are tied ({same} {values}): the interval has no width",
            **common,
        )
    welch_fields = welch_t(r, b, inp.alpha)
    return TestOutcome(
        test="Welch t test",
        how="Welch t interval",
        **welch_fields,
        **common,
    )


def score_mean(inp: TestInput) -> TestOutcome:
    """Scores: the difference of the mean scores."""
    return welch(inp, measure="the mean score", unit="", decimals=2)


def duration_mean(inp: TestInput) -> TestOutcome:
    """Durations aggregated by their mean (``fulfil_mean_h``), in hours."""
    return welch(inp, measure="the mean", unit="h", decimals=1)
