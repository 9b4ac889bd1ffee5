"""Statistical evidence that a KPI really changed between the baseline and the review.

One method per KPI kind gives the estimate, the 95 % interval and the decision; the
sentence names them. The change is *real* in the method's sense when the interval
excludes no change, and its direction is the estimate's sign. Every comparison is
*review minus baseline*.

============  =========================================================================
kind          method (module)
============  =========================================================================
duration      median or percentile: interval of the difference of the quantile, from
              the bootstrap of a period of at most 1,000 values and from order
              statistics of a larger one, decided per period (:mod:`.quantile`);
              mean (``fulfil_mean_h``): Welch's t test (:mod:`.mean`)
score         Welch's t test and interval of the difference of the means (:mod:`.mean`)
proportion    Miettinen-Nurminen score interval of the difference of the shares, the
              test being the same score statistic; exact unconditional when counts are
              small (:mod:`.proportion`)
count         Welch t interval on weekly counts per day, allowing for overdispersion and
              for closures that lag arrivals (:mod:`.count`)
stock         no two-sample test: the process-behaviour chart decides (the backlog, any
              KPI over the requests open at a period's end; :mod:`.chart_only`)
ratio         no two-sample test: the chart decides (``throughput_ratio``)
============  =========================================================================

Too few values, tied values and empty periods give an :class:`Evidence` without an
interval that says why, never an exception. The methods, their assumptions, simulated
error rates and power: ``docs/statistics.md``.

Examples
--------
>>> import pandas as pd
>>> before = pd.Series([30.0, 41, 35, 52, 38, 45, 33, 48])
>>> after = pd.Series([20.0, 22, 25, 18, 27, 21, 24, 19])
>>> ev = compare(before, after, kind="duration", better="lower")
>>> ev.direction, ev.significant, ev.effect
('improved', True, -18.0)
"""

from __future__ import annotations

from .base import (
    BETTER,
    BLOCK_DAYS,
    BOOTSTRAP_MAX_N,
    METHOD_VERSION,
    N_RESAMPLES,
    NO_DATA,
    NO_TEST,
    NOT_ESTIMABLE,
    SEED,
    Evidence,
    NotEnoughData,
    TestInput,
    TestOutcome,
)
from .compare import METHODS, TESTS, compare, method_kind
from .count import count_frame, delay_factor
from .observe import EVENT_TIME, observations_for
from .proportion import as_bool
from .quantile import min_n, quantile_of
from .words import chance_phrase, change_phrase, format_p, interval_decimals

__all__ = [
    "BETTER",
    "BLOCK_DAYS",
    "BOOTSTRAP_MAX_N",
    "METHOD_VERSION",
    "METHODS",
    "N_RESAMPLES",
    "NO_DATA",
    "NO_TEST",
    "NOT_ESTIMABLE",
    "SEED",
    "TESTS",
    "Evidence",
    "NotEnoughData",
    "TestInput",
    "TestOutcome",
    "as_bool",
    "chance_phrase",
    "change_phrase",
    "compare",
    "count_frame",
    "EVENT_TIME",
    "observations_for",
    "delay_factor",
    "format_p",
    "interval_decimals",
    "method_kind",
    "min_n",
    "quantile_of",
]
