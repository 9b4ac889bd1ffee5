"""Simulated cycles for the calibration of :func:`csi_lib.evidence.compare`.

Each scenario draws a baseline and a review period from a stated process, with no change
(how often is the change called real? at most 5 % is allowed) or with a 20 % shift (how
often is it found: the power). The test suite runs a few hundred seeded cycles per
scenario; ```python -m csi_lib.evidence.simulate`` runs more and prints the table of
docs/statistics.md (a 20 % shift for the power).

Scenarios (sizes default to the bundled sample cycle's):

* durations: lognormal times (median 10 h, log-sd 1); *changed shape*: the review's
  log-sd is 0.4 with the same median (or the same 90th percentile);
* scores: answers 1..5 with the sample's shares; *changed shape*: more 3s and 5s, fewer
  4s, the same mean;
* shares: a share of 5 % (declined) and of 13.5 % (outside the SLA), and a small sample
  of 20 per period;
* counts: daily arrivals with a weekly pattern whose variance is 3 or 10 times the mean
  (negative binomial); closures are those arrivals closed after a lognormal delay
  (median 2 days), so neighbouring days share arrivals.

A 20 % shift: durations x 0.8; shares x 0.8; counts x 0.8; scores + 0.2 standard
deviations (a 1..5 score cannot move by 20 %).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .base import Evidence
from .compare import compare

#: The sample cycle's sizes: T1 (laptop fulfilment times), T3 (times to assess), T4
#: (scores), T2/T5 (closed requests), and days of the baseline and review periods.
SAMPLE_SIZES = {"duration": (1996, 1182), "score": (2865, 1666), "share": (9762, 5640)}
DAYS = (181, 90)
DAILY = 54.0  # requests received a day in the sample's baseline
_WEEKDAY = np.array([1.3, 1.2, 1.1, 1.0, 0.9, 0.3, 0.2])
_SCORES = np.array([1, 2, 3, 4, 5])
_SCORE_P = np.array([0.04, 0.06, 0.14, 0.40, 0.36])
_SCORE_P_SHAPE = np.array([0.04, 0.06, 0.30, 0.08, 0.52])  # same mean (3.98), other shape


@dataclass(frozen=True)
class Scenario:
    """A named way to draw one simulated cycle and compare its two periods."""

    name: str
    draw: Callable[[np.random.Generator, float], Evidence]


def _periods(days: tuple[int, int]):
    from ..periods import Period

    start = pd.Timestamp("2025-01-06", tz="UTC")  # a Monday
    base = Period(start, start + pd.Timedelta(days=days[0]))
    review = Period(base.end + pd.Timedelta(days=184), base.end + pd.Timedelta(days=184 + days[1]))
    return base, review


def _lognormal(rng, n, median, sigma):
    return pd.Series(rng.lognormal(math.log(median), sigma, n))


def durations(n=SAMPLE_SIZES["duration"], *, agg="median", shape=False) -> Callable:
    """Fulfilment-like times; ``shape``: the review's spread changes, its quantile not."""
    q = 0.5 if agg == "median" else 0.9
    z = {0.5: 0.0, 0.9: 1.2815515655446004}[q]

    def draw(rng, shift):
        base = _lognormal(rng, n[0], 10.0, 1.0)
        if shape:  # the same quantile: exp(log 10 + z * 1.0) = exp(mu + z * 0.4)
            review = _lognormal(rng, n[1], 10.0 * math.exp(z * 0.6), 0.4)
        else:
            review = _lognormal(rng, n[1], 10.0, 1.0)
        return compare(base, review * shift, kind="duration", better="lower", agg=agg,
                       seed=int(rng.integers(2**31)))  # fmt: skip

    return draw


def scores(n=SAMPLE_SIZES["score"], *, shape=False) -> Callable:
    """Survey answers 1..5; ``shape``: other shares of the answers, the same mean."""
    sd = float(np.sqrt(_SCORE_P @ (_SCORES - _SCORE_P @ _SCORES) ** 2))

    def draw(rng, shift):
        base = pd.Series(rng.choice(_SCORES, n[0], p=_SCORE_P).astype(float))
        review = pd.Series(
            rng.choice(_SCORES, n[1], p=_SCORE_P_SHAPE if shape else _SCORE_P).astype(float)
        )
        moved = review + (0.2 * sd if shift != 1 else 0.0)
        return compare(base, moved, kind="score", better="higher")

    return draw


def shares(p: float, n=SAMPLE_SIZES["share"]) -> Callable:
    """A share ``p`` of the closed requests (declined, outside the SLA)."""

    def draw(rng, shift):
        base = pd.Series(rng.random(n[0]) < p)
        review = pd.Series(rng.random(n[1]) < p * shift)
        return compare(base, review, kind="proportion", better="lower")

    return draw


def _daily(rng, days, mean, dispersion, start_weekday=0):
    mu = mean * _WEEKDAY[(np.arange(days) + start_weekday) % 7] / _WEEKDAY.mean()
    if dispersion <= 1:
        return rng.poisson(mu)
    return rng.negative_binomial(mu / (dispersion - 1), 1 / dispersion)


def _count_frame(rng, period, days, mean, dispersion, closures, lead=60):
    """Counted events of one period as weighted rows (day of the event, day opened)."""
    arrivals = _daily(rng, days + lead, mean, dispersion)
    if not closures:
        opened = np.arange(lead, lead + days)
        weight = arrivals[lead:]
        closed = opened
    else:
        day = np.repeat(np.arange(days + lead), arrivals)
        closed_day = np.floor(
            day + rng.random(len(day)) + rng.lognormal(math.log(2), 1.0, len(day))
        )
        keep = (closed_day >= lead) & (closed_day < lead + days)
        pairs = pd.DataFrame({"o": day[keep], "c": closed_day[keep].astype(int)})
        pairs = pairs.groupby(["o", "c"]).size().reset_index(name="w")
        opened, closed, weight = pairs["o"].to_numpy(), pairs["c"].to_numpy(), pairs["w"].to_numpy()
    noon = pd.Timedelta(hours=12)
    at = period.start + pd.to_timedelta(closed - lead, unit="D") + noon
    opened_at = period.start + pd.to_timedelta(opened - lead, unit="D") + noon
    return pd.DataFrame({"at": at, "opened_at": opened_at, "value": weight.astype(float)})


def counts(dispersion: float, *, closures: bool = False, days=DAYS, mean=DAILY) -> Callable:
    """Requests a day: arrivals (or their closures) with day-to-day variance
    ``dispersion`` times the mean."""
    base_p, review_p = _periods(days)

    def draw(rng, shift):
        base = _count_frame(rng, base_p, days[0], mean, dispersion, closures)
        review = _count_frame(rng, review_p, days[1], mean * shift, dispersion, closures)
        return compare(base, review, kind="count", better="higher",
                       baseline_period=base_p, review_period=review_p)  # fmt: skip

    return draw


def scenarios() -> list[Scenario]:
    """Every scenario of docs/statistics.md's table."""
    return [
        Scenario("durations, median, 1,996 / 1,182 (T1)", durations()),
        Scenario("durations, median, 1,996 / 1,182, changed shape", durations(shape=True)),
        Scenario("durations, median, 200 / 150 (bootstrap)", durations((200, 150))),
        Scenario("durations, median, 200 / 150, changed shape", durations((200, 150), shape=True)),
        Scenario("durations, median, 30 / 30, changed shape", durations((30, 30), shape=True)),
        Scenario("durations, 90th percentile, 1,996 / 1,182, changed shape",
                 durations(agg="p90", shape=True)),
        Scenario("durations, median, 9,932 / 5,704 (T3)", durations((9932, 5704))),
        Scenario("scores, mean, 2,865 / 1,666 (T4)", scores()),
        Scenario("scores, mean, changed shape", scores(shape=True)),
        Scenario("shares, 5 %, 9,762 / 5,640 (T5)", shares(0.05)),
        Scenario("shares, 13.5 %, 9,762 / 5,640 (T2)", shares(0.135)),
        Scenario("shares, 10 %, 20 / 20 (exact)", shares(0.10, (20, 20))),
        Scenario("arrivals a day, 3 x Poisson variance, 181 / 90 days", counts(3)),
        Scenario("arrivals a day, 10 x Poisson variance", counts(10)),
        Scenario("closures a day, 3 x Poisson variance", counts(3, closures=True)),
        Scenario("closures a day, 10 x Poisson variance", counts(10, closures=True)),
    ]  # fmt: skip


def cycle_verdicts(
    kind: str, reps: int, *, per_month: int = 400, seed: int = 1
) -> dict[str, float]:
    """Whole simulated cycles under no change: 6 baseline, 6 action and 3 review months of
    ``per_month`` requests each, the monthly KPI on an XmR chart frozen on the baseline and
    the interval of baseline against review, combined by :func:`csi_lib.review.verdict`
    as stage 5 does. Returns the share of each verdict (``kind``: "duration" for a median
    of lognormal times, "proportion" for a 5 % share)."""
    from ..review.assess import _test_evidence, verdict
    from ..spc import xmr

    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for _ in range(reps):
        months = [
            rng.lognormal(math.log(10), 1.0, per_month) if kind == "duration"
            else rng.random(per_month) < 0.05
            for _ in range(15)
        ]  # fmt: skip
        values = [float(np.median(m)) if kind == "duration" else 100 * m.mean() for m in months]
        chart = xmr(pd.Series(values), better="lower", baseline=(0, 5))
        found = chart.iloc[6:].loc[chart["signal"].iloc[6:], "variation"]
        chart_evidence = found.iloc[-1] if len(found) else "none"
        ev = compare(pd.Series(np.concatenate(months[:6])), pd.Series(np.concatenate(months[12:])),
                     kind=kind, better="lower", seed=int(rng.integers(2**31)))  # fmt: skip
        word = verdict(chart_evidence, _test_evidence(ev))
        counts[word] = counts.get(word, 0) + 1
    return {k: v / reps for k, v in sorted(counts.items())}


def rate_real(draw: Callable, reps: int, *, shift: float = 1.0, seed: int = 1) -> float:
    """Share of ``reps`` simulated cycles whose change is real in the method's sense."""
    rng = np.random.default_rng(seed)
    return sum(draw(rng, shift).significant for _ in range(reps)) / reps


def main(argv: list[str] | None = None) -> None:
    """Print the calibration and power table (markdown) of docs/statistics.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000, help="simulated cycles per scenario")
    parser.add_argument("--only", default="", help="run the scenarios whose name has this text")
    args = parser.parse_args(argv)
    print(
        f"| scenario | real under no change ({args.reps} cycles) | found at a 20 % shift | seconds |"
    )
    print("|---|---|---|---|")
    for sc in scenarios():
        if args.only not in sc.name:
            continue
        t0 = time.perf_counter()
        null = rate_real(sc.draw, args.reps, seed=1)
        if "shape" in sc.name:  # the shape changed, the KPI did not: no power to report
            power_text = "—"
        else:
            power = rate_real(sc.draw, max(args.reps // 4, 100), shift=0.8, seed=2)
            power_text = f"{power:.1%}"
        print(
            f"| {sc.name} | {null:.1%} | {power_text} | {time.perf_counter() - t0:.0f} |",
            flush=True,
        )
    if not args.only:
        print("\nWhole cycles under no change (chart and interval, as stage 5):")
        for kind in ("duration", "proportion"):
            shares = cycle_verdicts(kind, max(args.reps // 4, 100))
            print(f"- {kind}: " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))


if __name__ == "__main__":  # pragma: no cover
    main()
