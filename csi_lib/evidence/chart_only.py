"""KPIs with no two-sample method: the process-behaviour chart is the evidence.

* **Stocks** (the backlog, and any KPI over the requests open at a period's end): one
  number at one instant. The requests open at the end of the baseline and at the end of
  the review are not two samples of the periods: many are the same requests, the rest
  depend on what was open before, and one count at one instant carries no measure of
  its own spread. A two-sample test would treat a snapshot as a sample of a process.
  The chart of the stock at the end of every month (or week) shows whether it moved
  beyond what it did in the baseline.
* **Ratios of two populations** (``throughput_ratio`` = closed / received): no
  per-request values; the chart of the ratio per period is the evidence.

Both give an :class:`~csi_lib.evidence.Evidence` without an interval whose sentence
says why; the verdict then rests on the chart alone (at most "likely").
"""

from __future__ import annotations

import math

from .base import NO_TEST, TestInput, TestOutcome

STOCK_REASON = (
    "a stock is counted at one instant, the end of each period: the requests open at the "
    "end of the baseline and of the review are not samples of the two periods (many are "
    "the same requests) and one count has no spread of its own, so no two-sample test "
    "applies; the process-behaviour chart of its value at each period's end is the evidence"
)
RATIO_REASON = (
    "a ratio of two populations of the same period has no value per request, so no "
    "two-sample test applies; the process-behaviour chart of its value per period is the "
    "evidence"
)


def _chart_only(inp: TestInput, reason: str, kind: str) -> TestOutcome:
    return TestOutcome(
        test=NO_TEST,
        effect=math.nan,
        baseline_value=math.nan,
        review_value=math.nan,
        n_baseline=len(inp.baseline),
        n_review=len(inp.review),
        measure="",
        unit="",
        decimals=1,
        reason=reason,
        extra={"chart_only": kind},
    )


def stock(inp: TestInput) -> TestOutcome:
    """A stock: the chart decides (see the module)."""
    return _chart_only(inp, STOCK_REASON, "stock")


def ratio(inp: TestInput) -> TestOutcome:
    """A ratio of two populations: the chart decides (see the module)."""
    return _chart_only(inp, RATIO_REASON, "ratio")
