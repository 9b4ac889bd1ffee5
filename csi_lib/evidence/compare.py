""":func:`compare`: the method of each KPI kind, and the :class:`Evidence` it gives."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from . import chart_only, count, mean, proportion, quantile
from .base import (
    BETTER,
    NO_DATA,
    NO_TEST,
    NOT_ESTIMABLE,
    SEED,
    Evidence,
    NotEnoughData,
    TestInput,
    TestOutcome,
)
from .words import EXTRA_DECIMALS, sentence, suffix


def _duration(inp: TestInput) -> TestOutcome:
    if inp.agg == "mean":
        return mean.duration_mean(inp)
    return quantile.quantile_difference(inp)


def _score(inp: TestInput) -> TestOutcome:
    if inp.agg not in (None, "mean"):
        raise ConfigError(
            f"a score KPI is compared by its mean, not by {inp.agg!r}",
            column="agg",
            hint="declare a KPI aggregated by a median or percentile as kind 'duration'",
        )
    return mean.score_mean(inp)


#: The method of each KPI kind (the KPI's ``kind``; the backlog and any KPI over the
#: requests open at a period's end are stocks). A method takes a :class:`TestInput`
#: and returns a :class:`TestOutcome`, or raises :class:`NotEnoughData`.
TESTS: dict[str, Callable[[TestInput], TestOutcome]] = {
    "duration": _duration,
    "score": _score,
    "proportion": proportion.proportion_difference,
    "count": count.count_rate,
    "stock": chart_only.stock,
    "ratio": chart_only.ratio,
}

#: The method's name per kind, for tables and docs.
METHODS: dict[str, str] = {
    "duration": "bootstrap or order-statistics interval of the difference in the quantile; "
    "Welch t test for a mean",
    "score": "Welch t test of the difference in means",
    "proportion": "Miettinen-Nurminen score interval (exact unconditional when counts are small)",
    "count": "Welch t interval on weekly counts per day",
    "stock": "process-behaviour chart (no two-sample test)",
    "ratio": "process-behaviour chart (no two-sample test)",
}


def method_kind(kind: str, population: str | None = None) -> str:
    """The key of :data:`TESTS` for a KPI of ``kind`` over ``population``: a KPI over
    the requests open at a period's end (the backlog) is a stock, whatever its kind.

    >>> method_kind("count", "open_at_end"), method_kind("count", "received")
    ('stock', 'count')
    """
    return "stock" if population == "open_at_end" else kind


def _direction(effect: float, real: bool, better: str) -> str:
    if better == "neither":
        return "n/a"
    if not real or effect == 0:
        return "no change"
    return "improved" if (effect > 0) == (better == "higher") else "worsened"


_VERDICT = {"improved": ": an improvement", "worsened": ": a worsening"}


def _without_interval(outcome: TestOutcome | None, why: str, test: str, alpha: float,
                      kind: str, n: tuple[int, int]) -> Evidence:  # fmt: skip
    """Evidence with no interval: too little data, tied values, or a chart-only KPI."""
    if test == NO_DATA:
        wording = f"Not enough data for an interval of the change: {why}."
    elif test == NOT_ESTIMABLE:
        wording = f"No interval of the change: {why}; this is no evidence of a change."
    else:
        wording = f"No two-sample test: {why}."
    effect = outcome.effect if outcome is not None else math.nan
    return Evidence(
        test=test,
        statistic=math.nan,
        p_value=math.nan,
        ci_low=math.nan,
        ci_high=math.nan,
        effect=effect,
        direction="n/a",
        significant=False,
        n_baseline=n[0],
        n_review=n[1],
        wording=wording,
        kind=kind,
        measure=outcome.measure if outcome is not None else "",
        unit=outcome.unit if outcome is not None else "",
        baseline_value=outcome.baseline_value if outcome is not None else math.nan,
        review_value=outcome.review_value if outcome is not None else math.nan,
        alpha=alpha,
        reason=why,
    )


def _clean(obs: Any, kind: str) -> pd.Series | pd.DataFrame:
    if kind == "count" and isinstance(obs, pd.DataFrame):
        return obs.dropna(subset=["at"])
    series = pd.Series(obs)
    if kind == "count":  # a Series of counted requests indexed by their event time
        return count.count_frame(series.index, series.fillna(0))
    return series.dropna()


def compare(
    baseline_obs: pd.Series | pd.DataFrame,
    review_obs: pd.Series | pd.DataFrame,
    *,
    kind: str,
    better: str,
    alpha: float = 0.05,
    seed: int = SEED,
    agg: str | None = None,
    baseline_period: Any = None,
    review_period: Any = None,
    population: str | None = None,
) -> Evidence:
    """Did a KPI really change between the baseline and the review? One method per KPI
    kind gives the estimate, the 95 % interval and the decision (see the package).

    Parameters
    ----------
    baseline_obs, review_obs:
        The KPI's values per request in each period (``csi_lib.kpis.observations``):
        hours, scores, True/False; NaN is left out. For a count, a frame of
        :func:`csi_lib.evidence.count_frame` (``at``, ``opened_at``, ``value``), or a
        Series of the counted requests (1/0) indexed by the counted event's time.
    kind:
        The KPI's kind: a key of :data:`TESTS` (``"duration"``, ``"score"``,
        ``"proportion"``, ``"count"``, ``"stock"``, ``"ratio"``).
    better:
        ``"higher"``, ``"lower"`` or ``"neither"``.
    alpha:
        1 - the interval's level (0.05: a 95 % interval).
    seed:
        Seed of the bootstrap (durations), for reproducible intervals.
    agg:
        For durations, the KPI's aggregation: ``"median"`` (default), ``"pNN"`` (a
        percentile) or ``"mean"`` (Welch).
    baseline_period, review_period:
        The two periods (:class:`csi_lib.periods.Period` or ``(start, end)``); needed
        for a count (its weekly blocks start on each period's first day).
    population:
        The KPI's population; ``"open_at_end"`` makes it a stock (no two-sample test).

    Returns
    -------
    Evidence
        Never raises for small, empty or tied data: they give an :class:`Evidence`
        without an interval that says why.

    Raises
    ------
    ConfigError
        Unknown kind or better direction, alpha outside (0, 1), a count without its
        periods, a duration ``agg`` that is not a median, percentile or mean.

    Examples
    --------
    >>> ev = compare(pd.Series([True] * 60 + [False] * 40), pd.Series([True] * 85 + [False] * 15),
    ...              kind="proportion", better="higher")
    >>> ev.direction, round(ev.effect, 1), ev.test
    ('improved', 25.0, 'Miettinen-Nurminen score interval')
    """
    method = method_kind(kind, population)
    if method not in TESTS:
        raise ConfigError(
            f"no statistical method for KPI kind {kind!r}",
            column="kind",
            hint="use one of " + ", ".join(repr(k) for k in TESTS),
        )
    if better not in BETTER:
        raise ConfigError(
            f"unknown better direction {better!r}",
            column="better",
            hint="use one of " + ", ".join(repr(b) for b in BETTER),
        )
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1, not {alpha!r}", column="alpha")
    inp = TestInput(
        _clean(baseline_obs, method), _clean(review_obs, method), alpha, seed, agg,
        baseline_period, review_period,
    )  # fmt: skip
    n = tuple(  # values, or for a count the requests counted
        round(float(x["value"].sum())) if isinstance(x, pd.DataFrame) else len(x)
        for x in (inp.baseline, inp.review)
    )
    try:
        outcome = TESTS[method](inp)
    except NotEnoughData as reason:
        return _without_interval(None, str(reason), NO_DATA, alpha, method, n)
    n = (outcome.n_baseline, outcome.n_review)
    if outcome.test == NO_TEST:
        return _without_interval(outcome, outcome.reason, NO_TEST, alpha, method, n)
    if np.isnan(outcome.ci_low) or np.isnan(outcome.ci_high) or outcome.ci_high <= outcome.ci_low:
        why = outcome.reason or "the interval has no width"
        return _without_interval(outcome, why, NOT_ESTIMABLE, alpha, method, n)
    d = outcome.decimals + EXTRA_DECIMALS
    if round(outcome.ci_low, d) == round(outcome.ci_high, d):
        # ends alike even at three more decimals than the KPI's: all but tied, and an
        # interval printed as "5.0 to 5.0 h" is no evidence (the tied case's words)
        why = (
            "the values are as good as tied: the interval's ends are equal to "
            f"{d} decimals ({outcome.ci_low:+,.{d}f}{suffix(outcome.unit)})"
        )
        return _without_interval(outcome, why, NOT_ESTIMABLE, alpha, method, n)
    # real: the interval excludes no change, on the side of the estimate (a percentile
    # interval may leave a tied estimate at its edge: then it is not evidence)
    real = bool(outcome.ci_low > 0 < outcome.effect or outcome.ci_high < 0 > outcome.effect)
    direction = _direction(outcome.effect, real, better)
    return Evidence(
        test=outcome.test,
        statistic=outcome.statistic,
        p_value=outcome.p_value,
        ci_low=outcome.ci_low,
        ci_high=outcome.ci_high,
        effect=outcome.effect,
        direction=direction,
        significant=real,
        n_baseline=outcome.n_baseline,
        n_review=outcome.n_review,
        wording=sentence(outcome, alpha, real, _VERDICT.get(direction, "")),
        kind=method,
        measure=outcome.measure,
        unit=outcome.unit,
        baseline_value=outcome.baseline_value,
        review_value=outcome.review_value,
        alpha=alpha,
    )
