"""Tests of csi_lib.evidence: the test per KPI kind, p-values against scipy/statsmodels, wording."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import rates
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from csi_lib import evidence
from csi_lib.errors import ConfigError, InputError
from csi_lib.evidence import TESTS, Evidence, chance_phrase, compare, format_p

# Durations (hours): every review value is below every baseline value.
BEFORE_H = pd.Series([30.0, 41, 35, 52, 38, 45, 33, 48])
AFTER_H = pd.Series([20.0, 22, 25, 18, 27, 21, 24, 19])


# ---------------------------------------------------------------- proportion


def test_proportion_z_test_against_statsmodels_and_by_hand():
    before = pd.Series([True] * 60 + [False] * 40)  # 60 %
    after = pd.Series([True] * 85 + [False] * 15)  # 85 %
    ev = compare(before, after, kind="proportion", better="higher")
    z, p = proportions_ztest([85, 60], [100, 100])
    assert ev.p_value == pytest.approx(p, rel=1e-12)
    # by hand: pooled 145 / 200 = 0.725; se = sqrt(0.725 * 0.275 * (1/100 + 1/100)) = 0.063147
    # z = (0.85 - 0.60) / 0.063147 = 3.959
    assert ev.statistic == pytest.approx(3.959, abs=5e-4)
    low, high = confint_proportions_2indep(85, 100, 60, 100, compare="diff")
    assert (ev.ci_low, ev.ci_high) == pytest.approx((100 * low, 100 * high))
    assert ev.effect == pytest.approx(25.0)  # 85 % - 60 %, percentage points
    assert (ev.baseline_value, ev.review_value) == pytest.approx((60.0, 85.0))
    assert (ev.n_baseline, ev.n_review) == (100, 100)
    assert ev.test == "two-proportion z test"
    assert ev.significant and ev.direction == "improved"
    assert ev.wording.startswith(
        "A change this large would happen by chance less than 1 time in 1,000 "
        "(two-proportion z test, p < 0.001); the share rose by 25.0 percentage points (95% interval "
    )
    assert ev.wording.endswith(": an improvement.")


def test_proportion_accepts_ones_and_zeros_and_drops_missing():
    before = pd.Series([1, 0] * 10 + [np.nan] * 3)  # 10 of 20
    after = pd.Series([1, 1, 1, 0] * 5)  # 15 of 20
    ev = compare(before, after, kind="proportion", better="higher")
    assert (ev.n_baseline, ev.n_review) == (20, 20)
    assert ev.p_value == pytest.approx(proportions_ztest([15, 10], [20, 20])[1])
    with pytest.raises(InputError, match="True/False"):
        compare(pd.Series([0.3] * 10), after, kind="proportion", better="higher")


def test_proportion_identical_all_yes_is_no_change():
    ev = compare(pd.Series([True] * 10), pd.Series([True] * 12), kind="proportion", better="higher")
    assert ev.p_value == 1.0 and ev.direction == "no change" and ev.effect == 0


# ---------------------------------------------------------------- duration


def test_duration_mann_whitney_against_scipy_and_by_hand():
    ev = compare(BEFORE_H, AFTER_H, kind="duration", better="lower")
    direct = stats.mannwhitneyu(AFTER_H, BEFORE_H, alternative="two-sided")
    assert ev.p_value == pytest.approx(direct.pvalue, rel=1e-12)
    # no review value beats a baseline value: U = 0; exact two-sided p = 2 / C(16, 8) = 2 / 12870
    assert ev.statistic == 0
    assert ev.p_value == pytest.approx(2 / 12870)
    # medians: baseline (38 + 41) / 2 = 39.5, review (21 + 22) / 2 = 21.5 -> -18.0 h
    assert ev.effect == pytest.approx(-18.0)
    assert (ev.baseline_value, ev.review_value) == (39.5, 21.5)
    assert ev.ci_low <= ev.effect <= ev.ci_high and ev.ci_high < 0
    assert ev.direction == "improved" and ev.significant
    assert re.fullmatch(
        r"A change this large would happen by chance less than 1 time in 1,000 "
        r"\(Mann-Whitney test, p < 0\.001\); the median fell by 18\.0 h "
        r"\(95% interval \d+\.\d to \d+\.\d h\): an improvement\.",
        ev.wording,
    )


def test_duration_bootstrap_interval_is_reproducible_and_matches_scipy():
    rng = np.random.default_rng(7)
    before = pd.Series(rng.exponential(40, 200))
    after = pd.Series(rng.exponential(30, 200))
    one = compare(before, after, kind="duration", better="lower")
    two = compare(before, after, kind="duration", better="lower")
    assert (one.ci_low, one.ci_high) == (two.ci_low, two.ci_high)
    direct = stats.bootstrap(
        (after.to_numpy(), before.to_numpy()),
        lambda a, b, axis: np.median(a, axis=axis) - np.median(b, axis=axis),
        n_resamples=evidence.N_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(evidence.SEED),
    )
    assert one.ci_low == pytest.approx(direct.confidence_interval.low)
    assert one.ci_high == pytest.approx(direct.confidence_interval.high)


def test_significant_worsening_wording():
    ev = compare(AFTER_H, BEFORE_H, kind="duration", better="lower")  # times went up
    assert ev.direction == "worsened"
    assert "the median rose by 18.0 h" in ev.wording
    assert ev.wording.endswith(": a worsening.")


def test_not_significant_wording():
    before = pd.Series([10.0, 12, 14, 16, 18, 20])
    after = pd.Series([11.0, 13, 15, 17, 19, 21])
    ev = compare(before, after, kind="duration", better="lower")
    p = stats.mannwhitneyu(after, before, alternative="two-sided").pvalue
    assert ev.p_value == pytest.approx(p)
    assert not ev.significant and ev.direction == "no change"
    # medians 15 -> 16: +1.0 h
    assert ev.wording.startswith(
        f"This difference is within what chance alone produces (Mann-Whitney test, p = {p:.2g}): "
        "no evidence of a real change; the median rose by 1.0 h (95% interval -"
    )


# ---------------------------------------------------------------- score


def test_score_mann_whitney_and_welch_interval():
    before = pd.Series([3.0, 4, 2, 3, 4, 3, 5, 3, 2, 4])  # mean 33 / 10 = 3.3
    after = pd.Series([4.0, 5, 4, 5, 3, 5, 4, 5, 4, 5])  # mean 44 / 10 = 4.4
    ev = compare(before, after, kind="score", better="higher")
    assert ev.p_value == pytest.approx(
        stats.mannwhitneyu(after, before, alternative="two-sided").pvalue
    )
    ci = stats.ttest_ind(after, before, equal_var=False).confidence_interval(0.95)
    assert (ev.ci_low, ev.ci_high) == pytest.approx((ci.low, ci.high))
    assert ev.effect == pytest.approx(1.1)
    assert ev.direction == "improved"
    assert "the mean score rose by 1.10 (95% interval" in ev.wording


# ---------------------------------------------------------------- count


def test_count_poisson_rates_per_day():
    before = pd.Series([True] * 90)  # 90 requests in 90 days: 1 a day
    after = pd.Series([True] * 60)  # 60 requests in 30 days: 2 a day
    ev = compare(before, after, kind="count", better="lower", baseline_days=90, review_days=30)
    direct = rates.test_poisson_2indep(60, 30, 90, 90, compare="diff", method="score")
    assert ev.p_value == pytest.approx(direct.pvalue)
    # by hand: pooled rate 150 / 120 = 1.25; se = sqrt(1.25/30 + 1.25/90) = 0.23570
    # z = (2 - 1) / 0.23570 = 4.243
    assert ev.statistic == pytest.approx(4.243, abs=5e-4)
    low, high = rates.confint_poisson_2indep(60, 30, 90, 90, compare="diff", method="score")
    assert (ev.ci_low, ev.ci_high) == pytest.approx((low, high))
    assert ev.effect == pytest.approx(1.0)
    assert (ev.baseline_value, ev.review_value) == (1.0, 2.0)
    assert ev.direction == "worsened"  # more cancellations a day, lower is better
    assert "the rate rose by 1.00 requests a day" in ev.wording


def test_count_needs_period_lengths():
    with pytest.raises(ConfigError, match="review_days"):
        compare(
            pd.Series([1] * 5), pd.Series([1] * 5), kind="count", better="lower", baseline_days=30
        )


# ---------------------------------------------------------------- registry, empty, no test


def test_registry_covers_every_kind_and_dispatches(monkeypatch):
    assert set(TESTS) == {"proportion", "duration", "score", "count", "ratio"}
    calls = []

    def fake(inp):
        calls.append((len(inp.baseline), len(inp.review)))
        return None

    monkeypatch.setitem(TESTS, "duration", fake)
    ev = compare(BEFORE_H, AFTER_H, kind="duration", better="lower")
    assert calls == [(8, 8)] and ev.test == "no test"
    with pytest.raises(ConfigError, match="kind"):
        compare(BEFORE_H, AFTER_H, kind="median", better="lower")
    with pytest.raises(ConfigError, match="better"):
        compare(BEFORE_H, AFTER_H, kind="duration", better="up")


@pytest.mark.parametrize("kind", ["proportion", "duration", "score", "count"])
def test_empty_inputs_give_not_enough_data(kind):
    empty = pd.Series([], dtype=float)
    ev = compare(empty, empty, kind=kind, better="lower", baseline_days=30, review_days=30)
    assert isinstance(ev, Evidence)
    assert ev.test == "not enough data"
    assert ev.direction == "n/a" and not ev.significant
    assert math.isnan(ev.p_value)
    assert ev.wording.startswith("Not enough data to test the change")


def test_too_small_sample():
    ev = compare(BEFORE_H.iloc[:3], AFTER_H, kind="duration", better="lower")
    assert ev.test == "not enough data"
    assert "baseline has 3 observations and the review 8" in ev.wording


def test_ratio_has_no_test():
    ev = compare(BEFORE_H, AFTER_H, kind="ratio", better="higher")
    assert ev.test == "no test" and ev.direction == "n/a"
    assert "process-behaviour chart" in ev.wording


def test_neither_direction_and_alpha():
    ev = compare(BEFORE_H, AFTER_H, kind="duration", better="neither", alpha=0.1)
    assert ev.significant and ev.direction == "n/a"
    assert "(90% interval" in ev.wording and ev.wording.endswith("h).")
    with pytest.raises(ConfigError, match="alpha"):
        compare(BEFORE_H, AFTER_H, kind="duration", better="lower", alpha=5)


def test_p_value_phrases():
    assert format_p(0.0004) == "p < 0.001"
    assert format_p(0.41234) == "p = 0.41"
    assert chance_phrase(0.0009) == "less than 1 time in 1,000"
    assert chance_phrase(0.04) == "about 1 time in 25"  # 1 / 0.04 = 25
    assert chance_phrase(0.0032) == "about 1 time in 310"  # 1 / 0.0032 = 312.5 -> 2 digits


def test_duration_by_the_kpis_own_statistic():
    # baseline sorted 30 33 35 38 41 45 48 52: mean 322 / 8 = 40.25
    # review sorted 18 19 20 21 22 24 25 27: mean 176 / 8 = 22.0 -> -18.25 h
    mean = compare(BEFORE_H, AFTER_H, kind="duration", better="lower", agg="mean")
    assert mean.effect == pytest.approx(-18.25)
    assert "the mean fell by 18.2" in mean.wording  # 18.25 rounds half to even
    # 90th percentile, linear: position 0.9 * 7 = 6.3 -> baseline 48 + 0.3 * 4 = 49.2,
    # review 25 + 0.3 * 2 = 25.6 -> -23.6 h
    p90 = compare(BEFORE_H, AFTER_H, kind="duration", better="lower", agg="p90")
    assert p90.effect == pytest.approx(-23.6)
    assert "the 90th percentile fell by 23.6 h" in p90.wording
    assert p90.p_value == mean.p_value  # the test is Mann-Whitney whatever the statistic
    with pytest.raises(ConfigError, match="agg"):
        compare(BEFORE_H, AFTER_H, kind="duration", better="lower", agg="mode")
