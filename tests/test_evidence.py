"""csi_lib.evidence: one statistic per KPI kind, checked against scipy/statsmodels and by hand.

Every method gives the estimate, the 95 % interval and the decision from one quantity;
the decision is "the interval excludes no change". Edges (n = 0, 1, 2, ties, 5 against
30,000) never raise. Calibration by simulation: tests/test_evidence_calibration.py.
"""

from __future__ import annotations

import math
import re
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from statsmodels.stats.proportion import test_proportions_2indep as statsmodels_score_test

from csi_lib import evidence
from csi_lib.errors import ConfigError, InputError
from csi_lib.evidence import TESTS, Evidence, compare, count_frame, format_p
from csi_lib.evidence.proportion import restricted_shares
from csi_lib.periods import Period

BEFORE_H = pd.Series([30.0, 41, 35, 52, 38, 45, 33, 48])
AFTER_H = pd.Series([20.0, 22, 25, 18, 27, 21, 24, 19])
Z = NormalDist().inv_cdf(0.975)


def shares(yes: int, n: int) -> pd.Series:
    return pd.Series([True] * yes + [False] * (n - yes))


# ---------------------------------------------------------------- durations: quantiles


def test_median_bootstrap_interval_equals_scipy_replicates():
    rng = np.random.default_rng(7)
    before, after = pd.Series(rng.exponential(40, 200)), pd.Series(rng.exponential(30, 150))
    ev = compare(before, after, kind="duration", better="lower", seed=11)
    # the same replicates by hand: scipy's bootstrap of each period's median, seeded per period
    reps = []
    for part, x in enumerate((after, before)):
        res = stats.bootstrap(
            (x.to_numpy(),), lambda a, axis: np.quantile(a, 0.5, axis=axis),
            n_resamples=evidence.N_RESAMPLES, method="percentile",
            rng=np.random.default_rng([11, part]),
        )  # fmt: skip
        reps.append(res.bootstrap_distribution)
    low, high = np.quantile(reps[0] - reps[1], [0.025, 0.975])
    assert (ev.ci_low, ev.ci_high) == pytest.approx((low, high))
    assert ev.effect == pytest.approx(after.median() - before.median())
    assert math.isnan(ev.p_value)  # a bootstrap interval has no p-value
    assert ev.test == "bootstrap interval of the difference in medians"
    again = compare(before, after, kind="duration", better="lower", seed=11)
    assert (again.ci_low, again.ci_high) == (ev.ci_low, ev.ci_high)


def test_large_periods_use_order_statistics_and_a_normal_interval():
    rng = np.random.default_rng(3)
    b, r = rng.lognormal(3, 1, 30_000), rng.lognormal(2.9, 1, 20_000)
    ev = compare(pd.Series(b), pd.Series(r), kind="duration", better="lower", agg="p90")

    def se(x):  # half the width of the distribution-free interval of the 90th percentile / z
        ci = stats.quantile_test(x, q=np.quantile(x, 0.9), p=0.9).confidence_interval()
        return (ci.high - ci.low) / (2 * Z)

    d = np.quantile(r, 0.9) - np.quantile(b, 0.9)
    s = math.hypot(se(r), se(b))
    assert (ev.ci_low, ev.ci_high) == pytest.approx((d - Z * s, d + Z * s))
    assert ev.p_value == pytest.approx(2 * NormalDist().cdf(-abs(d / s)))
    assert ev.test == "order-statistics interval of the difference in 90th percentiles"
    assert ev.significant == (ev.p_value < 0.05)


def test_the_switch_is_decided_per_period():
    rng = np.random.default_rng(5)
    small, large = pd.Series(rng.exponential(10, 40)), pd.Series(rng.exponential(10, 30_000))
    ev = compare(small, large, kind="duration", better="lower")
    assert "bootstrap of the baseline's median, order statistics of the review period's" in (
        ev.wording
    )
    assert ev.has_interval and math.isnan(ev.p_value)


def test_equal_medians_with_changed_shape_are_no_evidence():
    # the issue's case: both medians 10 h, 1,000 requests a period, other spreads.
    # Mann-Whitney called 87 % of such cycles significant; the medians' interval does not.
    rng = np.random.default_rng(1)
    base = np.exp(np.log(10) + rng.normal(0, 1.0, 1000))
    review = np.exp(np.log(10) + rng.normal(0, 0.4, 1000))
    base += 10 - np.median(base)  # exactly equal medians
    review += 10 - np.median(review)
    ev = compare(pd.Series(base), pd.Series(review), kind="duration", better="lower")
    assert ev.effect == pytest.approx(0, abs=1e-9)
    assert not ev.significant and ev.direction == "no change"
    assert "the interval includes no change" in ev.wording


def test_a_median_that_hides_a_split_is_not_an_improvement():
    # the issue's case: the median fell by about 1 h while half of the requests moved to
    # about 100 h: the interval of the median reaches far into a rise, so no evidence
    rng = np.random.default_rng(2)
    base = pd.Series(rng.normal(10, 0.5, 200))
    review = pd.Series(np.r_[rng.normal(8, 0.3, 102), rng.normal(100, 5, 98)])
    ev = compare(base, review, kind="duration", better="lower")
    assert ev.effect < 0 and not ev.significant
    assert ev.ci_high > 50
    assert "improvement" not in ev.wording


def test_the_kpis_own_statistic():
    # baseline sorted 30 33 35 38 41 45 48 52, review 18 19 20 21 22 24 25 27
    mean = compare(BEFORE_H, AFTER_H, kind="duration", better="lower", agg="mean")
    welch = stats.ttest_ind(AFTER_H, BEFORE_H, equal_var=False)
    assert mean.effect == pytest.approx(-18.25) and mean.p_value == pytest.approx(welch.pvalue)
    assert mean.test == "Welch t test" and "The mean fell by 18.2" in mean.wording
    with pytest.raises(ConfigError, match="agg"):
        compare(BEFORE_H, AFTER_H, kind="duration", better="lower", agg="mode")


def test_fewest_values_for_a_quantile():
    # a median's distribution-free 95 % interval needs 6 values, a 90th percentile's 36
    assert (evidence.min_n(0.5), evidence.min_n(0.9)) == (6, 36)
    five = compare(BEFORE_H.iloc[:5], AFTER_H, kind="duration", better="lower")
    assert five.test == "not enough data"
    assert "the baseline has 5 values and the review period 8" in five.wording
    assert compare(BEFORE_H.iloc[:6], AFTER_H, kind="duration", better="lower").has_interval
    rng = np.random.default_rng(0)
    p90 = [compare(pd.Series(rng.exponential(9, n)), pd.Series(rng.exponential(9, 50)),
                   kind="duration", better="lower", agg="p90") for n in (35, 36)]  # fmt: skip
    assert [e.has_interval for e in p90] == [False, True]


@pytest.mark.parametrize(
    ("before", "after", "why"),
    [
        ([2.0] * 40, [2.0] * 40, "every value in both periods is 2.0 h"),
        ([2.0] * 45 + [3.0] * 5, [2.0] * 40 + [5.0] * 10, "of the values are 2.0 h"),
    ],
)
def test_tied_durations_give_no_interval_in_words(before, after, why):
    ev = compare(pd.Series(before), pd.Series(after), kind="duration", better="lower")
    assert ev.test == "no interval" and not ev.has_interval and not ev.significant
    assert why in ev.wording and "no evidence of a change" in ev.wording
    assert not re.search(r"interval -?\d", ev.wording)  # no zero-width interval printed


# ---------------------------------------------------------------- scores: Welch


def test_score_is_welch_test_and_interval():
    # the issue's case was Mann-Whitney p = 0.012 beside a Welch interval: now one Welch
    before = pd.Series([3.0, 4, 2, 3, 4, 3, 5, 3, 2, 4])  # mean 3.3
    after = pd.Series([4.0, 5, 4, 5, 3, 5, 4, 5, 4, 5])  # mean 4.4
    ev = compare(before, after, kind="score", better="higher")
    res = stats.ttest_ind(after, before, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert (ev.p_value, ev.ci_low, ev.ci_high) == pytest.approx((res.pvalue, ci.low, ci.high))
    assert ev.effect == pytest.approx(1.1) and ev.direction == "improved"
    assert ev.wording.startswith(
        "The mean score rose by 1.10 (95% interval 0.31 to 1.89; Welch t interval, p = 0.0091)"
    )


def test_score_decision_equals_the_p_value():
    rng = np.random.default_rng(4)
    for _ in range(50):
        b = pd.Series(rng.integers(1, 6, rng.integers(2, 60)).astype(float))
        r = pd.Series(rng.integers(1, 6, rng.integers(2, 60)).astype(float) + rng.normal(0, 0.5))
        ev = compare(b, r, kind="score", better="higher")
        if ev.has_interval:
            assert ev.significant == (ev.p_value < 0.05)


# ---------------------------------------------------------------- proportions


def test_restricted_shares_maximise_the_likelihood():
    # statsmodels' own constrained estimate is wrong for value != 0 (its issue #10269)
    rng = np.random.default_rng(0)
    for _ in range(200):
        n1, n2 = (int(v) for v in rng.integers(1, 200, 2))
        x1, x2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        d = float(rng.uniform(-0.98, 0.98))
        _, p2 = restricted_shares(x1, n1, x2, n2, d)

        def nll(q, x1=x1, n1=n1, x2=x2, n2=n2, d=d):
            return -(stats.binom.logpmf(x1, n1, q + d) + stats.binom.logpmf(x2, n2, q))

        best = optimize.minimize_scalar(
            nll, bounds=(max(0, -d), min(1, 1 - d)), method="bounded", options={"xatol": 1e-10}
        )
        assert nll(float(p2)) <= best.fun + 1e-7


def test_score_test_at_no_change_is_statsmodels():
    ev = compare(shares(60, 100), shares(85, 100), kind="proportion", better="higher")
    res = statsmodels_score_test(85, 100, 60, 100, method="score", compare="diff")
    assert ev.p_value == pytest.approx(res.pvalue, rel=1e-9)
    assert ev.test == "Miettinen-Nurminen score interval"
    assert ev.effect == pytest.approx(25.0) and (ev.n_baseline, ev.n_review) == (100, 100)
    assert ev.significant and ev.direction == "improved"


def test_score_interval_ends_are_where_the_score_test_rejects():
    ev = compare(shares(60, 100), shares(85, 100), kind="proportion", better="higher")
    for end in (ev.ci_low, ev.ci_high):  # the two-sided score p-value is 0.05 at each end
        d = end / 100
        _, pb = restricted_shares(85, 100, 60, 100, d)
        pr = pb + d
        var = (pr * (1 - pr) / 100 + pb * (1 - pb) / 100) * 200 / 199
        z = (0.85 - 0.60 - d) / math.sqrt(var)
        assert 2 * NormalDist().cdf(-abs(z)) == pytest.approx(0.05, abs=2e-4)


def test_the_issues_small_case_test_and_interval_agree():
    # 0/20 -> 4/20: the issue's z test said p = 0.035 beside an interval from -0.1 points
    ev = compare(shares(0, 20), shares(4, 20), kind="proportion", better="lower")
    assert ev.test == "exact unconditional score interval"
    assert ev.p_value == pytest.approx(
        stats.barnard_exact([[4, 0], [16, 20]], pooled=True).pvalue, abs=5e-4
    )
    assert ev.significant == (ev.p_value < 0.05) == (ev.ci_low > 0)


@pytest.mark.parametrize("seed", [1, 2])
def test_proportion_decision_equals_its_p_value(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        nb, nr = (int(v) for v in rng.integers(3, 60, 2))
        pb, pr = rng.uniform(0, 0.4, 2)
        xb, xr = int(rng.binomial(nb, pb)), int(rng.binomial(nr, pr))
        ev = compare(shares(xb, nb), shares(xr, nr), kind="proportion", better="lower")
        if not ev.has_interval:
            continue
        assert ev.ci_low <= ev.effect <= ev.ci_high
        if abs(ev.p_value - 0.05) > 1e-3:
            assert ev.significant == (ev.p_value < 0.05), (xb, nb, xr, nr)


def test_exact_p_value_is_barnards():
    for xb, nb, xr, nr in ((5, 11, 4, 33), (1, 6, 3, 8), (3, 19, 4, 20), (0, 15, 3, 12)):
        ev = compare(shares(xb, nb), shares(xr, nr), kind="proportion", better="lower")
        barnard = stats.barnard_exact([[xr, xb], [nr - xr, nb - xb]], pooled=True).pvalue
        assert ev.p_value == pytest.approx(barnard, abs=5e-4)


def test_proportion_inputs_and_no_variation():
    ev = compare(pd.Series([1, 0] * 10 + [np.nan] * 3), pd.Series([1, 1, 1, 0] * 5),
                 kind="proportion", better="higher")  # fmt: skip
    assert (ev.n_baseline, ev.n_review) == (20, 20)
    with pytest.raises(InputError, match="True/False"):
        compare(pd.Series([0.3] * 10), shares(3, 10), kind="proportion", better="higher")
    same = compare(shares(10, 10), shares(12, 12), kind="proportion", better="higher")
    assert same.test == "no interval" and "the share is 100 % in both periods" in same.wording


# ---------------------------------------------------------------- counts per day


def _period(start: str, days: int) -> Period:
    s = pd.Timestamp(start, tz="UTC")
    return Period(s, s + pd.Timedelta(days=days))


def _daily(period: Period, per_day: list[float], lag_days: int = 0) -> pd.DataFrame:
    days = pd.date_range(period.start, periods=len(per_day), freq="D") + pd.Timedelta(hours=9)
    return count_frame(days, pd.Series(per_day), days - pd.Timedelta(days=lag_days))


def test_counts_per_day_on_weekly_blocks_by_hand():
    base_p, review_p = _period("2025-01-06", 28), _period("2025-03-03", 21)
    rng = np.random.default_rng(9)
    base_days = rng.poisson(20, 28).astype(float)
    review_days = rng.poisson(26, 21).astype(float)
    ev = compare(_daily(base_p, base_days), _daily(review_p, review_days), kind="count",
                 better="higher", baseline_period=base_p, review_period=review_p)  # fmt: skip
    weekly_b = base_days.reshape(4, 7).sum(1) / 7
    weekly_r = review_days.reshape(3, 7).sum(1) / 7
    res = stats.ttest_ind(weekly_r, weekly_b, equal_var=False)  # whole weeks: as by hand
    ci = res.confidence_interval()
    assert ev.effect == pytest.approx(review_days.mean() - base_days.mean())
    assert (ev.p_value, ev.ci_low, ev.ci_high) == pytest.approx((res.pvalue, ci.low, ci.high))
    assert (ev.n_baseline, ev.n_review) == (base_days.sum(), review_days.sum())
    assert ev.unit == "requests a day" and "the counts of 4 and 3 whole weeks" in ev.wording


def test_days_after_the_last_whole_week_are_left_out():
    # 30 and 23 days: the 2 last days of each are not a whole week; a period ending on other
    # weekdays must not differ by its calendar alone
    base_p, review_p = _period("2025-01-06", 30), _period("2025-03-03", 23)
    week = np.array([30.0, 30, 30, 30, 30, 5, 5])
    base_days = np.r_[week, week + 1, week - 1, week, week + 9][:30]  # +9: left out
    review_days = np.r_[week + 1, week - 1, week, week - 9][:23]
    ev = compare(_daily(base_p, base_days), _daily(review_p, review_days), kind="count",
                 better="higher", baseline_period=base_p, review_period=review_p)  # fmt: skip
    assert ev.effect == pytest.approx(0.0)  # whole weeks: 160 / 7 a day in both
    assert "the last 2 days of the baseline and 2 days of the review period" in ev.wording


def test_closures_that_lag_arrivals_widen_the_interval():
    base_p, review_p = _period("2025-01-06", 56), _period("2025-04-07", 56)
    rng = np.random.default_rng(2)
    b, r = rng.poisson(30, 56).astype(float), rng.poisson(33, 56).astype(float)
    same_day = compare(_daily(base_p, b), _daily(review_p, r), kind="count", better="higher",
                       baseline_period=base_p, review_period=review_p)  # fmt: skip
    lagged = compare(_daily(base_p, b, 4), _daily(review_p, r, 4), kind="count",
                     better="higher", baseline_period=base_p, review_period=review_p)  # fmt: skip
    assert lagged.effect == same_day.effect
    # a fixed 4-day delay does not smooth a count, it only shifts it: the same factor 1
    assert lagged.ci_high - lagged.ci_low == pytest.approx(same_day.ci_high - same_day.ci_low)
    spread = evidence.delay_factor(np.array([0, 1, 2, 3, 4, 5, 6, 7]), np.ones(8))
    assert spread > 1.5  # 7 / sum(g ** 2) for a delay spread evenly over 8 days


def test_counts_need_two_whole_weeks_and_their_periods():
    base_p, short = _period("2025-01-06", 28), _period("2025-03-03", 13)
    ev = compare(_daily(base_p, [5.0] * 28), _daily(short, [5.0] * 13), kind="count",
                 better="higher", baseline_period=base_p, review_period=short)  # fmt: skip
    assert ev.test == "not enough data" and "the review period has 13 days" in ev.wording
    with pytest.raises(ConfigError, match="period"):
        compare(_daily(base_p, [5.0] * 28), _daily(base_p, [5.0] * 28), kind="count",
                better="higher")  # fmt: skip


def test_a_series_indexed_by_time_is_a_count():
    base_p, review_p = _period("2025-01-06", 28), _period("2025-03-03", 28)
    t_b = pd.date_range(base_p.start, base_p.end, freq="5h", inclusive="left")
    t_r = pd.date_range(review_p.start, review_p.end, freq="4h", inclusive="left")
    ev = compare(pd.Series(1.0, index=t_b), pd.Series(1.0, index=t_r), kind="count",
                 better="higher", baseline_period=base_p, review_period=review_p)  # fmt: skip
    assert ev.effect == pytest.approx(len(t_r) / 28 - len(t_b) / 28)


# ---------------------------------------------------------------- stocks and ratios


def test_a_stock_has_no_two_sample_test_and_says_why():
    ev = compare(pd.Series([1.0] * 50), pd.Series([1.0] * 30), kind="count", better="lower",
                 population="open_at_end")  # fmt: skip
    assert ev.kind == "stock" and ev.test == "process-behaviour chart"
    assert not ev.has_interval and not ev.significant and ev.direction == "n/a"
    assert "a stock is counted at one instant" in ev.wording and "chart" in ev.wording
    ratio = compare(pd.Series(dtype=float), pd.Series(dtype=float), kind="ratio", better="higher")
    assert "a ratio of two populations" in ratio.wording


def test_every_kind_routes_to_one_method():
    from csi_lib.kpis import KINDS

    assert set(KINDS) <= set(TESTS)
    assert evidence.method_kind("count", "open_at_end") == "stock"
    with pytest.raises(ConfigError, match="kind"):
        compare(BEFORE_H, AFTER_H, kind="median", better="lower")
    with pytest.raises(ConfigError, match="better"):
        compare(BEFORE_H, AFTER_H, kind="duration", better="up")
    with pytest.raises(ConfigError, match="alpha"):
        compare(BEFORE_H, AFTER_H, kind="duration", better="lower", alpha=5)


# ---------------------------------------------------------------- edges: never an exception


@pytest.mark.parametrize("kind", ["duration", "score", "proportion", "count", "stock", "ratio"])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_samples_never_raise(kind, n):
    base_p, review_p = _period("2025-01-06", 28), _period("2025-03-03", 28)
    if kind == "count":
        t = pd.date_range(base_p.start, periods=n, freq="D")
        obs_b = pd.Series(1.0, index=t)
        obs_r = pd.Series(1.0, index=pd.date_range(review_p.start, periods=n, freq="D"))
    elif kind == "proportion":
        obs_b = obs_r = pd.Series([True, False][:n] if n else [], dtype=bool)
    else:
        obs_b = obs_r = pd.Series([3.0, 4.0][:n], dtype=float)
    ev = compare(obs_b, obs_r, kind=kind, better="lower", baseline_period=base_p,
                 review_period=review_p)  # fmt: skip
    assert isinstance(ev, Evidence) and not ev.significant and ev.wording


@pytest.mark.parametrize(
    ("kind", "before", "after", "why"),
    [
        ("duration", [2.0] * 40, [2.0] * 40, "every value in both periods is 2.0 h"),
        ("score", [4.0] * 40, [4.0] * 30, "the values are tied"),
        ("score", [4.0] * 40, [5.0] * 30, "the values are tied"),
        ("proportion", [True] * 40, [True] * 30, "the share is 100 % in both periods"),
        ("proportion", [False] * 40, [False] * 30, "the share is 0 % in both periods"),
        ("count", [3.0] * 28, [5.0] * 21, "the weeks have no spread"),
    ],
)
def test_all_values_tied_say_so_in_words(kind, before, after, why):
    base_p, review_p = _period("2025-01-06", 28), _period("2025-03-03", 21)
    if kind == "count":
        before, after = _daily(base_p, before), _daily(review_p, after)
    else:
        before, after = pd.Series(before), pd.Series(after)
    ev = compare(before, after, kind=kind, better="higher", baseline_period=base_p,
                 review_period=review_p)  # fmt: skip
    assert ev.test == "no interval" and not ev.has_interval and not ev.significant
    assert why in ev.wording and "no evidence of a change" in ev.wording
    assert not re.search(r"interval -?\d", ev.wording)


def test_five_against_thirty_thousand_and_a_million():
    rng = np.random.default_rng(0)
    big = pd.Series(rng.exponential(10, 30_000))
    for kind in ("duration", "score"):
        ev = compare(pd.Series(rng.exponential(10, 5)), big, kind=kind, better="lower")
        assert isinstance(ev, Evidence)
    ev = compare(shares(5, 5), shares(0, 30_000), kind="proportion", better="lower")
    assert ev.has_interval and -100 <= ev.ci_low < ev.ci_high <= 100
    million = compare(pd.Series(rng.exponential(10, 1_000_000)),
                      pd.Series(rng.exponential(10, 1_000_000)), kind="duration", better="lower")  # fmt: skip
    assert million.has_interval and million.ci_high - million.ci_low < 0.2


# ---------------------------------------------------------------- words


def test_interval_printed_with_enough_decimals_never_as_zero_width():
    assert evidence.interval_decimals(2.03, 2.04, 1) == 2
    assert evidence.interval_decimals(-0.02, 0.03, 1) == 2
    rng = np.random.default_rng(1)
    ev = compare(pd.Series(rng.random(1_000_000) * 5), pd.Series(rng.random(1_000_000) * 5),
                 kind="score", better="higher")  # fmt: skip
    low, high = re.search(r"95% interval (\S+) to (\S+);", ev.wording).groups()
    assert low != high and float(low) != 0 and float(high) != 0


def test_an_interval_too_narrow_to_print_is_no_interval():
    # near-tied periods (2 h and 7 h, give or take a millionth of a second): the ends
    # print alike even at four decimals; the page read "95% interval 5.0 to 5.0 h" as
    # evidence, and a score's millionth-of-a-point rise "did not change (95% interval
    # 0.00 to 0.00): the whole interval is a rise ... an improvement"
    rng = np.random.default_rng(0)
    before = pd.Series(2.0 + rng.random(20_000) * 1e-7)
    after = pd.Series(7.0 + rng.random(20_000) * 1e-7)
    score = pd.Series(3.0 + rng.normal(0, 1e-6, 200_000))
    cases = [
        compare(before, after, kind="duration", better="lower"),
        compare(before, after, kind="duration", better="lower", agg="mean"),
        compare(score, score + 1e-6, kind="score", better="higher"),
    ]
    for ev in cases:
        assert ev.test == "no interval" and not ev.has_interval and not ev.significant
        assert "as good as tied" in ev.wording and "no evidence of a change" in ev.wording
        assert not re.search(r"interval -?\d", ev.wording), ev.wording
    # a narrow interval whose ends print apart is still evidence, with the decimals it needs
    narrow = compare(before, after + rng.random(20_000), kind="duration", better="lower",
                     agg="mean")  # fmt: skip
    assert narrow.significant
    low, high = re.search(r"95% interval (\S+) to (\S+) h", narrow.wording).groups()
    assert low != high


def test_sentences_name_the_method_and_the_decision():
    real = compare(BEFORE_H, AFTER_H, kind="duration", better="lower")
    assert real.wording == (
        f"The median fell by 18.0 h (95% interval {abs(real.ci_high):.1f} to "
        f"{abs(real.ci_low):.1f} h; bootstrap of each period's median): the whole interval is "
        "a fall, so the fall is not chance: an improvement."
    )
    none = compare(pd.Series([10.0, 12, 14, 16, 18, 20]), pd.Series([11.0, 13, 15, 17, 19, 21]),
                   kind="duration", better="lower")  # fmt: skip
    assert none.wording.startswith("The median rose by 1.0 h (95% interval -")
    assert none.wording.endswith(
        "the interval includes no change, so this is no evidence of a real change."
    )
    assert format_p(0.0004) == "p < 0.001"
    neither = compare(BEFORE_H, AFTER_H, kind="duration", better="neither", alpha=0.1)
    assert neither.significant and neither.direction == "n/a" and "(90% interval" in neither.wording
