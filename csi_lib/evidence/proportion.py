"""Shares of requests (proportions): one score method for the test and the interval.

The estimate is the difference of the two shares, in percentage points. The interval
is the set of differences that the two-sided score test does not reject, so the test
(at no change) and the interval cannot disagree:

* **Miettinen-Nurminen score** (with its small-sample variance correction N / (N - 1)):
  the statistic at each candidate difference uses the shares estimated under that
  difference (:func:`restricted_shares`); its normal p-value is inverted by bisection.
  At no change it is statsmodels' ``test_proportions_2indep(method="score")``. The
  interval holds its level well down to small samples (Newcombe 1998).
* **Exact unconditional** when counts are small (fewer than :data:`SMALL_COUNT` yes or no
  answers in a period, and at most :data:`EXACT_MAX_TABLES` possible tables): the same
  score statistic, but its p-value is the largest probability, over the common share
  left unknown, of a table at least as extreme (Chan 1998; the interval by inverting it,
  Chan & Zhang 1999). At no change it is Barnard's exact test with the pooled statistic
  (``scipy.stats.barnard_exact(pooled=True)``). Its level is guaranteed, at any size.

Both periods all yes (or all no) give no interval: nothing varies.

>>> import pandas as pd
>>> from csi_lib.evidence import compare
>>> ev = compare(pd.Series([False] * 20), pd.Series([True] * 4 + [False] * 16),
...              kind="proportion", better="lower")
>>> ev.test, ev.effect, ev.significant == (ev.p_value < 0.05)
('exact unconditional score interval', 20.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import InputError
from .base import TestInput, TestOutcome, compared, need

#: A period with fewer yes (or no) answers than this gets the exact method.
SMALL_COUNT = 5
#: The exact method runs over every table (n_review + 1) x (n_baseline + 1): at most this many.
EXACT_MAX_TABLES = 4_000
#: Values of the unknown common share over which the exact p-value is maximised.
NUISANCE_POINTS = 101
#: Precision of an interval's ends, as a share (0.0001 = 0.01 percentage points).
TOLERANCE = 1e-4


def as_bool(obs: pd.Series) -> pd.Series:
    """Observations of a proportion as booleans (True/False, 1/0 or 100/0)."""
    if pd.api.types.is_bool_dtype(obs):
        return obs.astype(bool)
    values = pd.to_numeric(obs, errors="coerce")
    uniq = set(values.unique().tolist())
    if uniq <= {0, 1}:
        return values.astype(bool)
    if uniq <= {0, 100}:
        return values.eq(100)
    raise InputError(
        "the observations of a proportion KPI must be True/False (or 1/0)",
        hint="the KPI's measure should return one boolean per request",
    )


def restricted_shares(x1, n1: int, x2, n2: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood shares ``(p1, p2)`` under ``p1 - p2 = delta`` (Farrington &
    Manning 1990, the closed form of the cubic's root; Miettinen & Nurminen 1985).

    Written here because statsmodels' ``score_test_proportions_2indep`` (0.14-0.15) has
    the cubic's linear coefficient wrong for ``value != 0`` (statsmodels issue #10269):
    its shares do not maximise the restricted likelihood and are negative for many
    negative differences. ``tests/test_evidence.py`` checks these against a numerical
    maximisation of the likelihood.
    """
    x1, x2 = np.asarray(x1, dtype="float64"), np.asarray(x2, dtype="float64")
    if delta == 0:
        pooled = (x1 + x2) / (n1 + n2)
        return pooled, pooled
    p1, p2 = x1 / n1, x2 / n2
    theta = n2 / n1
    a = 1.0 + theta
    b = -(1.0 + theta + p1 + theta * p2 + delta * (theta + 2.0))
    c = delta**2 + delta * (2.0 * p1 + theta + 1.0) + p1 + theta * p2
    d = -p1 * delta * (1.0 + delta)
    v = b**3 / (27 * a**3) - b * c / (6 * a**2) + d / (2 * a)
    u = np.sign(v) * np.sqrt(np.maximum(b**2 / (9 * a**2) - c / (3 * a), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(u == 0, 0.0, v / u**3)
    w = (np.pi + np.arccos(np.clip(ratio, -1.0, 1.0))) / 3.0
    r1 = np.clip(2.0 * u * np.cos(w) - b / (3.0 * a), 0.0, 1.0)
    r2 = np.clip(r1 - delta, 0.0, 1.0)
    return r1, r2


def _score_statistic(xr, nr: int, xb, nb: int, delta: float) -> np.ndarray:
    """Miettinen-Nurminen score statistic of review - baseline = ``delta``, with their
    variance correction N / (N - 1) (arrays of counts allowed; NaN where the restricted
    variance is 0)."""
    pr, pb = restricted_shares(xr, nr, xb, nb, delta)
    var = (pr * (1 - pr) / nr + pb * (1 - pb) / nb) * (nr + nb) / (nr + nb - 1)
    diff = np.asarray(xr, dtype="float64") / nr - np.asarray(xb, dtype="float64") / nb - delta
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            var > 0, diff / np.sqrt(var), np.where(diff == 0, np.nan, np.inf * np.sign(diff))
        )


def _score_pvalue(xr: int, nr: int, xb: int, nb: int) -> Callable[[float], float]:
    """The asymptotic two-sided p-value of the score test at each difference."""
    from statistics import NormalDist

    def p(delta: float) -> float:
        t = float(_score_statistic(xr, nr, xb, nb, delta))
        if math.isnan(t):  # no variance and no difference: the data are the hypothesis
            return 1.0
        return 2 * NormalDist().cdf(-abs(t))

    return p


def _exact_pvalue(xr: int, nr: int, xb: int, nb: int) -> Callable[[float], float]:
    """The exact unconditional two-sided p-value of the score test at each difference:
    the largest probability, over the common baseline share, of the tables whose
    statistic is at least as far from 0 as the observed one."""
    from scipy import stats

    a = np.arange(nr + 1)[:, None]
    b = np.arange(nb + 1)[None, :]
    kr, kb = np.arange(nr + 1), np.arange(nb + 1)

    def p(delta: float) -> float:
        t = _score_statistic(a, nr, b, nb, delta)
        t = np.where(np.isnan(t), 0.0, np.abs(t))  # 0/0: no difference from the hypothesis
        observed = t[xr, xb]
        extreme = (t >= observed - 1e-9).astype("float64")
        lo, hi = max(0.0, -delta), min(1.0, 1.0 - delta)
        if hi < lo:
            return 0.0
        pb = np.linspace(lo, hi, NUISANCE_POINTS)
        pr = np.clip(pb + delta, 0.0, 1.0)
        mass_r = stats.binom.pmf(kr[None, :], nr, pr[:, None])
        mass_b = stats.binom.pmf(kb[None, :], nb, pb[:, None])
        prob = ((mass_r @ extreme) * mass_b).sum(axis=1)
        return float(min(1.0, prob.max()))

    return p


def _bound(p: Callable[[float], float], start: float, end: float, alpha: float) -> float:
    """The end of the interval between ``start`` (accepted) and ``end`` (-1 or 1): the
    first rejected difference on a grid, then bisection to :data:`TOLERANCE`."""
    accepted = start
    for step in np.linspace(0, 1, 21)[1:]:
        delta = start + (end - start) * step
        if p(delta) <= alpha:
            rejected = delta
            break
        accepted = delta
    else:
        return end
    while abs(rejected - accepted) > TOLERANCE:
        mid = (accepted + rejected) / 2
        if p(mid) <= alpha:
            rejected = mid
        else:
            accepted = mid
    return accepted


def proportion_difference(inp: TestInput) -> TestOutcome:
    """The difference of a share between the periods, in percentage points."""
    b, r = as_bool(inp.baseline), as_bool(inp.review)
    xb, nb, xr, nr = int(b.sum()), len(b), int(r.sum()), len(r)
    need(nb, nr, 1)
    common = compared(100 * xb / nb, 100 * xr / nr, nb, nr, "the share", "percentage points", 1)
    if xb + xr in (0, nb + nr):
        share = "0 %" if xb + xr == 0 else "100 %"
        return TestOutcome(
            test="no interval",
            reason=f"the share is {share} in both periods: nothing varies",
            **common,
        )
    small = min(xb, nb - xb, xr, nr - xr) < SMALL_COUNT
    exact = small and (nb + 1) * (nr + 1) <= EXACT_MAX_TABLES
    p = _exact_pvalue(xr, nr, xb, nb) if exact else _score_pvalue(xr, nr, xb, nb)
    estimate = xr / nr - xb / nb
    low = _bound(p, estimate, -1.0, inp.alpha)
    high = _bound(p, estimate, 1.0, inp.alpha)
    return TestOutcome(
        test="exact unconditional score interval" if exact else "Miettinen-Nurminen score interval",
        ci_low=100 * low,
        ci_high=100 * high,
        statistic=float(_score_statistic(xr, nr, xb, nb, 0.0)),
        p_value=p(0.0),
        how=(
            "exact unconditional score interval, small counts"
            if exact
            else "Miettinen-Nurminen score interval"
        ),
        **common,
    )
