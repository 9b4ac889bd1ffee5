"""Statistical evidence that a KPI really changed between the baseline and the review.

The test depends on the KPI's ``kind`` and is looked up in :data:`TESTS`:

============  =================================================================
kind          test
============  =================================================================
proportion    two-proportion z test (statsmodels ``proportions_ztest``), with a
              Newcombe interval of the difference in percentage points
duration      Mann-Whitney U test (scipy), with a percentile bootstrap interval
              of the difference in medians (or in the KPI's own statistic:
              mean or a percentile, see ``agg``), in hours, fixed seed; above
              :data:`BOOTSTRAP_MAX_N` observations a large-sample interval from
              order statistics (Price & Bonett) or variances (mean), in O(n)
score         Mann-Whitney U test, with a Welch t interval of the difference in
              means
count         score test of two Poisson rates over exposures of different
              lengths (statsmodels ``test_poisson_2indep``), rates per day
ratio         no test: read the process-behaviour chart instead
============  =================================================================

Every comparison is *review minus baseline*. The result is an
:class:`Evidence` whose ``wording`` is one sentence a service manager
understands. Too little data gives an :class:`Evidence` whose test is
``"not enough data"``, never an exception.

The observations are the per-request values of the KPI over its population
(``csi_lib.kpis.observations``): hours for durations, scores for scores,
True/False (or 1/0) for proportions, and for counts one row per request
counted (True/1; a count KPI's total is the sum of a numeric or boolean
series, or the number of non-missing rows of any other series).

Examples
--------
>>> import pandas as pd
>>> before = pd.Series([30.0, 41, 35, 52, 38, 45, 33, 48])
>>> after = pd.Series([20.0, 22, 25, 18, 27, 21, 24, 19])
>>> ev = compare(before, after, kind="duration", better="lower")
>>> ev.direction, ev.significant
('improved', True)
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from csi_lib.errors import ConfigError, InputError

# scipy and statsmodels are imported inside the tests that use them: importing this module
# costs no seconds of start-up

#: Fewest observations per period for a test (proportion, duration, score).
MIN_N = 5
#: Bootstrap resamples for the interval of the difference in medians.
N_RESAMPLES = 999
#: Larger samples (observations in either period) get the large-sample interval of
#: :func:`_large_sample_ci` instead of the bootstrap, whose cost grows with 999 x n.
BOOTSTRAP_MAX_N = 20_000
SEED = 20250101
NO_DATA = "not enough data"
NO_TEST = "no test"
BETTER = ("higher", "lower", "neither")


@dataclass(frozen=True)
class Evidence:
    """Outcome of a baseline-versus-review comparison of one KPI.

    Attributes
    ----------
    test:
        Name of the test (``"Mann-Whitney test"``, ``"two-proportion z test"``,
        ``"Poisson rate test"``, ``"no test"`` or ``"not enough data"``).
    statistic, p_value:
        The test statistic and its two-sided p-value (NaN without a test).
    ci_low, ci_high:
        Interval of the difference review - baseline, at level 1 - alpha, in
        ``unit``.
    effect:
        The difference review - baseline in ``unit`` (hours, percentage
        points, requests per day, score points).
    direction:
        ``"improved"``, ``"worsened"``, ``"no change"`` (not significant) or
        ``"n/a"`` (no test, not enough data, or a KPI with no better direction).
    significant:
        p_value < alpha.
    n_baseline, n_review:
        Observations used (requests; for counts the number counted).
    wording:
        One plain-language sentence.
    kind, measure, unit:
        The KPI kind, what is compared (``"the median"``...) and the unit of
        ``effect``.
    baseline_value, review_value:
        The compared quantity in each period (median hours, % share, rate per
        day, mean score).
    alpha:
        Significance level used.
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

    def to_dict(self) -> dict:
        """The fields as a plain dict (for tables and JSON)."""
        return asdict(self)


@dataclass(frozen=True)
class TestInput:
    """What a registered test receives (observations already cleaned of NaN)."""

    baseline: pd.Series
    review: pd.Series
    alpha: float
    baseline_days: float | None
    review_days: float | None
    min_n: int
    seed: int
    agg: str | None = None


@dataclass(frozen=True)
class TestOutcome:
    """What a registered test returns; :func:`compare` adds direction and wording."""

    test: str
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    effect: float
    baseline_value: float
    review_value: float
    n_baseline: int
    n_review: int
    measure: str
    unit: str
    decimals: int


class NotEnoughData(Exception):
    """Raised by a registered test when the samples are too small; the message says why."""


def _need(inp: TestInput) -> None:
    nb, nr = len(inp.baseline), len(inp.review)
    if nb < inp.min_n or nr < inp.min_n:
        raise NotEnoughData(
            f"the baseline has {nb} observation{'s' * (nb != 1)} and the review {nr}; "
            f"at least {inp.min_n} are needed in each"
        )


def _as_bool(obs: pd.Series) -> pd.Series:
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


def _proportion(inp: TestInput) -> TestOutcome:
    _need(inp)
    b, r = _as_bool(inp.baseline), _as_bool(inp.review)
    xb, nb, xr, nr = int(b.sum()), len(b), int(r.sum()), len(r)
    pooled = (xb + xr) / (nb + nr)
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    if pooled in (0.0, 1.0):  # both periods all-no or all-yes: no difference at all
        stat, p = 0.0, 1.0
    else:
        stat, p = proportions_ztest([xr, xb], [nr, nb])
    low, high = confint_proportions_2indep(xr, nr, xb, nb, compare="diff", alpha=inp.alpha)
    return TestOutcome(
        test="two-proportion z test",
        statistic=float(stat),
        p_value=float(p),
        ci_low=100 * float(low),
        ci_high=100 * float(high),
        effect=100 * (xr / nr - xb / nb),
        baseline_value=100 * xb / nb,
        review_value=100 * xr / nr,
        n_baseline=nb,
        n_review=nr,
        measure="the share",
        unit=" percentage points",
        decimals=1,
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _location(agg: str | None) -> tuple[str, Callable[..., np.ndarray]]:
    """What a duration comparison measures: ("the median", statistic(a, axis))."""
    if agg in (None, "median"):
        return "the median", np.median
    if agg == "mean":
        return "the mean", np.mean
    match = re.fullmatch(r"p(\d{1,2})", agg)
    if match:
        q = int(match.group(1))
        return f"the {_ordinal(q)} percentile", lambda a, axis=-1: np.quantile(
            a, q / 100, axis=axis
        )
    raise ConfigError(
        f"cannot compare durations by {agg!r}",
        column="agg",
        hint="use 'median', 'mean' or a percentile such as 'p90'",
    )


def _bootstrap_ci(
    r: np.ndarray, b: np.ndarray, alpha: float, seed: int, location: Callable[..., np.ndarray]
) -> tuple[float, float]:
    def difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return location(x, axis=axis) - location(y, axis=axis)

    batch = max(1, int(2_000_000 // max(len(r), len(b))))
    kwargs = {
        "statistic": difference,
        "n_resamples": N_RESAMPLES,
        "confidence_level": 1 - alpha,
        "method": "percentile",
        "vectorized": True,
        "batch": batch,
    }
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate samples (all equal) give (0, 0)
        try:
            res = stats.bootstrap((r, b), rng=np.random.default_rng(seed), **kwargs)
        except TypeError:  # scipy < 1.15
            res = stats.bootstrap((r, b), random_state=np.random.default_rng(seed), **kwargs)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _quantile_se(x: np.ndarray, q: float, z: float) -> float:
    """Standard error of the ``q`` quantile of ``x`` from the order statistics of its
    distribution-free confidence interval (Price & Bonett 2002 for the median): half the
    width of the interval between the order statistics ranked ``n q -/+ z sqrt(n q (1 - q))``,
    divided by ``z``. Two order statistics, selected in O(n) (``np.partition``)."""
    n = len(x)
    half = z * math.sqrt(n * q * (1 - q))
    lo = min(max(math.floor(n * q - half), 0), n - 1)
    hi = min(max(math.ceil(n * q + half), 0), n - 1)
    part = np.partition(x, (lo, hi))
    return float(part[hi] - part[lo]) / (2 * z)


def _large_sample_ci(
    r: np.ndarray, b: np.ndarray, alpha: float, agg: str | None
) -> tuple[float, float]:
    """Interval of the difference review - baseline of a median, percentile or mean for
    large samples (normal approximation): the quantile's standard error from order
    statistics (:func:`_quantile_se`), the mean's from the variances (Welch)."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha / 2)
    measure, location = _location(agg)
    if measure == "the mean":
        se = math.sqrt(np.var(r, ddof=1) / len(r) + np.var(b, ddof=1) / len(b))
    else:
        q = 0.5 if agg in (None, "median") else int(str(agg)[1:]) / 100
        se = math.hypot(_quantile_se(r, q, z), _quantile_se(b, q, z))
    diff = float(location(r)) - float(location(b))
    return diff - z * se, diff + z * se


def _mann_whitney(inp: TestInput) -> tuple[np.ndarray, np.ndarray, float, float]:
    from scipy import stats

    _need(inp)
    b = inp.baseline.to_numpy(dtype="float64")
    r = inp.review.to_numpy(dtype="float64")
    res = stats.mannwhitneyu(r, b, alternative="two-sided")
    p = float(res.pvalue) if not np.isnan(res.pvalue) else 1.0
    return b, r, float(res.statistic), p


def _duration(inp: TestInput) -> TestOutcome:
    measure, location = _location(inp.agg)
    b, r, stat, p = _mann_whitney(inp)
    if max(len(r), len(b)) <= BOOTSTRAP_MAX_N:
        low, high = _bootstrap_ci(r, b, inp.alpha, inp.seed, location)
    else:  # the same interval, to a good approximation, in O(n) instead of 999 x O(n)
        low, high = _large_sample_ci(r, b, inp.alpha, inp.agg)
    vb, vr = float(location(b)), float(location(r))
    return TestOutcome(
        test="Mann-Whitney test",
        statistic=stat,
        p_value=p,
        ci_low=low,
        ci_high=high,
        effect=vr - vb,
        baseline_value=vb,
        review_value=vr,
        n_baseline=len(b),
        n_review=len(r),
        measure=measure,
        unit=" h",
        decimals=1,
    )


def _score(inp: TestInput) -> TestOutcome:
    b, r, stat, p = _mann_whitney(inp)
    effect = float(r.mean() - b.mean())
    if np.var(r) == 0 and np.var(b) == 0:
        low = high = effect
    else:
        from scipy import stats

        ci = stats.ttest_ind(r, b, equal_var=False).confidence_interval(1 - inp.alpha)
        low, high = float(ci.low), float(ci.high)
    return TestOutcome(
        test="Mann-Whitney test",
        statistic=stat,
        p_value=p,
        ci_low=low,
        ci_high=high,
        effect=effect,
        baseline_value=float(b.mean()),
        review_value=float(r.mean()),
        n_baseline=len(b),
        n_review=len(r),
        measure="the mean score",
        unit="",
        decimals=2,
    )


def _count_of(obs: pd.Series) -> int:
    if pd.api.types.is_bool_dtype(obs) or pd.api.types.is_numeric_dtype(obs):
        return int(pd.to_numeric(obs).astype("float64").sum())
    return len(obs)


def _count(inp: TestInput) -> TestOutcome:
    days = {"baseline_days": inp.baseline_days, "review_days": inp.review_days}
    for name, value in days.items():
        if value is None or not value > 0:
            raise ConfigError(
                f"a count KPI needs the length of both periods in days ({name} is {value!r})",
                column=name,
                hint="pass baseline_days= and review_days= (e.g. Period.days)",
            )
    cb, cr = _count_of(inp.baseline), _count_of(inp.review)
    if cb + cr == 0:
        raise NotEnoughData("nothing was counted in either period")
    eb, er = float(inp.baseline_days), float(inp.review_days)
    from statsmodels.stats.rates import confint_poisson_2indep, test_poisson_2indep

    res = test_poisson_2indep(cr, er, cb, eb, compare="diff", method="score")
    low, high = confint_poisson_2indep(
        cr, er, cb, eb, compare="diff", method="score", alpha=inp.alpha
    )
    return TestOutcome(
        test="Poisson rate test",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        ci_low=float(low),
        ci_high=float(high),
        effect=cr / er - cb / eb,
        baseline_value=cb / eb,
        review_value=cr / er,
        n_baseline=cb,
        n_review=cr,
        measure="the rate",
        unit=" requests a day",
        decimals=2,
    )


def _ratio(inp: TestInput) -> TestOutcome | None:
    return None  # no test: the process-behaviour chart is the evidence


#: The test for each KPI kind. Add an entry to support a new kind; a test
#: returns a :class:`TestOutcome`, ``None`` for "no test", or raises
#: :class:`NotEnoughData`.
TESTS: dict[str, Callable[[TestInput], TestOutcome | None]] = {
    "proportion": _proportion,
    "duration": _duration,
    "score": _score,
    "count": _count,
    "ratio": _ratio,
}


def format_p(p: float) -> str:
    """``"p < 0.001"`` or ``"p = 0.041"`` (two significant digits).

    >>> format_p(0.0004), format_p(0.41234), format_p(0.0123)
    ('p < 0.001', 'p = 0.41', 'p = 0.012')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def chance_phrase(p: float) -> str:
    """How often chance alone gives a change this large, in words.

    >>> chance_phrase(0.0002), chance_phrase(0.04), chance_phrase(0.0032)
    ('less than 1 time in 1,000', 'about 1 time in 25', 'about 1 time in 310')
    """
    if p < 0.001:
        return "less than 1 time in 1,000"
    n = 1 / p
    n = round(n) if n < 100 else int(float(f"{n:.2g}"))
    return f"about 1 time in {n:,}"


def _num(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def change_phrase(o: TestOutcome, alpha: float) -> str:
    """e.g. "the median fell by 13.5 h (95% interval 11.2 to 15.9 h)"."""
    d, u = o.decimals, o.unit
    level = f"{(1 - alpha) * 100:.3g}% interval"
    if round(o.effect, d) == 0:
        head = f"{o.measure} did not change"
        low, high = o.ci_low, o.ci_high
    else:
        verb = "rose" if o.effect > 0 else "fell"
        head = f"{o.measure} {verb} by {_num(abs(o.effect), d)}{u}"
        same_side = np.sign(o.ci_low) == np.sign(o.effect) == np.sign(o.ci_high)
        if same_side:  # magnitudes, smallest first
            low, high = sorted((abs(o.ci_low), abs(o.ci_high)))
        else:
            low, high = o.ci_low, o.ci_high
    if np.isnan(low) or np.isnan(high):
        return head
    return f"{head} ({level} {_num(low, d)} to {_num(high, d)}{u})"


_VERDICT = {"improved": ": an improvement", "worsened": ": a worsening", "n/a": ""}


def _direction(effect: float, significant: bool, better: str) -> str:
    if better == "neither":
        return "n/a"
    if not significant or effect == 0:
        return "no change"
    return "improved" if (effect > 0) == (better == "higher") else "worsened"


def _without_result(test: str, wording: str, inp: TestInput, kind: str) -> Evidence:
    """Evidence with no numbers: no test fits the KPI, or there is too little data."""
    return Evidence(
        test=test,
        statistic=math.nan,
        p_value=math.nan,
        ci_low=math.nan,
        ci_high=math.nan,
        effect=math.nan,
        direction="n/a",
        significant=False,
        n_baseline=len(inp.baseline),
        n_review=len(inp.review),
        wording=wording,
        kind=kind,
        alpha=inp.alpha,
    )


def compare(
    baseline_obs: pd.Series,
    review_obs: pd.Series,
    *,
    kind: str,
    better: str,
    baseline_days: float | None = None,
    review_days: float | None = None,
    alpha: float = 0.05,
    min_n: int = MIN_N,
    seed: int = SEED,
    agg: str | None = None,
) -> Evidence:
    """Is the change of a KPI between the baseline and the review real?

    Parameters
    ----------
    baseline_obs, review_obs:
        Per-request observations of the KPI in each period
        (``csi_lib.kpis.observations``): hours, scores, booleans, or one
        row per counted request. NaN observations are left out.
    kind:
        The KPI's kind: ``"proportion"``, ``"duration"``, ``"score"``,
        ``"count"`` or ``"ratio"`` (a key of :data:`TESTS`).
    better:
        ``"higher"``, ``"lower"`` or ``"neither"``.
    baseline_days, review_days:
        Lengths of the two periods in days; required for count KPIs (the
        rates are per day).
    alpha:
        Significance level (0.05: a 95% interval).
    min_n:
        Fewest observations per period for a test (not used for counts).
    seed:
        Seed of the bootstrap (durations), so results are reproducible.
    agg:
        For durations, the statistic whose change is estimated: ``"median"``
        (default), ``"mean"`` or a percentile ``"pNN"`` (pass the KPI's
        ``agg``; the test stays Mann-Whitney). Ignored for other kinds.

    Returns
    -------
    Evidence
        Test, p-value, interval, effect (review - baseline), direction and a
        one-sentence ``wording``.

    Raises
    ------
    ConfigError
        Unknown kind or better direction, alpha outside (0, 1), a count KPI
        without the period lengths, or a duration ``agg`` that is not a
        median, mean or percentile.

    Examples
    --------
    >>> ev = compare(pd.Series([True] * 60 + [False] * 40), pd.Series([True] * 85 + [False] * 15),
    ...              kind="proportion", better="higher")
    >>> ev.direction, round(ev.effect, 1)
    ('improved', 25.0)
    """
    if kind not in TESTS:
        raise ConfigError(
            f"no statistical test for KPI kind {kind!r}",
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
    base = pd.Series(baseline_obs).dropna()
    rev = pd.Series(review_obs).dropna()
    inp = TestInput(base, rev, alpha, baseline_days, review_days, min_n, seed, agg)
    common = {"kind": kind, "alpha": alpha}
    try:
        outcome = TESTS[kind](inp)
    except NotEnoughData as reason:
        return _without_result(NO_DATA, f"Not enough data to test the change: {reason}.", inp, kind)
    if outcome is None:
        return _without_result(
            NO_TEST,
            f"No statistical test for a {kind} KPI: read its process-behaviour chart "
            "for signals of a real change.",
            inp,
            kind,
        )
    significant = bool(outcome.p_value < alpha)
    direction = _direction(outcome.effect, significant, better)
    change = change_phrase(outcome, alpha)
    where = f"{outcome.test}, {format_p(outcome.p_value)}"
    if significant:
        wording = (
            f"A change this large would happen by chance {chance_phrase(outcome.p_value)} "
            f"({where}); {change}{_VERDICT.get(direction, '')}."
        )
    else:
        wording = (
            f"This difference is within what chance alone produces ({where}): "
            f"no evidence of a real change; {change}."
        )
    return Evidence(
        test=outcome.test,
        statistic=outcome.statistic,
        p_value=outcome.p_value,
        ci_low=outcome.ci_low,
        ci_high=outcome.ci_high,
        effect=outcome.effect,
        direction=direction,
        significant=significant,
        n_baseline=outcome.n_baseline,
        n_review=outcome.n_review,
        wording=wording,
        measure=outcome.measure,
        unit=outcome.unit.strip(),
        baseline_value=outcome.baseline_value,
        review_value=outcome.review_value,
        **common,
    )
