"""Process-behaviour (XmR) charts, as in NHS England's "Making Data Count".

An XmR chart plots a KPI's values (X) over time with a centre line at their
mean and natural process limits at ``mean +/- 2.66 * mean moving range``. A
point is a *special cause* signal when one of four rules fires:

``beyond_limits``
    the point is above the upper or below the lower limit;
``run_7``
    it is part of a run of 7 or more points on the same side of the centre
    line (a point exactly on the centre line breaks the run);
``trend_6``
    it is part of 6 or more consecutive points all rising or all falling
    (two equal consecutive values break the trend);
``two_of_three``
    two of three consecutive points lie beyond 2 sigma on one side of the
    centre line and all three lie on that side (a point on the line breaks
    it); the points beyond 2 sigma, those beyond a limit included, are
    flagged.

The run and trend lengths (7 and 6) can be set per chart (``run=``, ``trend=``)
and per cycle (``spc: {run: 7, trend: 6}`` in ``cycle.yaml``).

Each signal is classified from the KPI's better direction as
``"improvement"`` or ``"concern"`` (``"neither"`` when the KPI has no better
direction); a point without signal is ``"common cause"``.

Missing values (NaN) are *skipped*: they get no moving range, and the point
after a gap gets none either (no moving range is taken across a gap, because
the two values are not consecutive). For the run, trend and two-of-three
rules the gap is ignored: the points on either side of it are treated as
neighbours, so a gap neither breaks a run nor counts in it. Rules are
evaluated within a segment (see ``recalc_from``): a recalculation starts the
rules afresh, and no moving range is taken across a segment boundary.

Modules: ``chart`` (:func:`xmr`, :func:`assurance`), ``inputs`` (the
arguments checked and placed on the series), ``limits`` (moving ranges,
centre line and limits per segment), ``rules`` (the four rules and the
classification), ``episodes`` (:func:`episodes`: each
stretch of points one rule flags), ``describe`` (:func:`summary`: the chart in words).

Examples
--------
>>> import pandas as pd
>>> s = pd.Series([5.0, 6, 5, 7, 6, 5, 6, 14],
...               index=pd.date_range("2025-01-01", periods=8, freq="MS"))
>>> chart = xmr(s, better="lower", baseline=("2025-01", "2025-07"))
>>> float(round(chart["upper"].iloc[0], 2))  # 40/7 + 2.66 * 7/6
8.82
>>> chart["variation"].iloc[-1]
'concern'
"""

from __future__ import annotations

from .chart import COLUMNS, assurance, xmr
from .describe import summary
from .episodes import episodes
from .limits import D2, FIRM_LIMIT_POINTS, LIMIT_FACTOR, SCREEN_FACTOR, limits_caveat
from .rules import (
    BETTER,
    LENGTH_RANGE,
    RULE_LABELS,
    RULES,
    RUN_LENGTH,
    TREND_LENGTH,
    check_lengths,
    rule_labels,
)

__all__ = [
    "xmr",
    "episodes",
    "limits_caveat",
    "FIRM_LIMIT_POINTS",
    "assurance",
    "summary",
    "BETTER",
    "COLUMNS",
    "D2",
    "LIMIT_FACTOR",
    "RULES",
    "RULE_LABELS",
    "RUN_LENGTH",
    "SCREEN_FACTOR",
    "TREND_LENGTH",
    "LENGTH_RANGE",
    "check_lengths",
    "rule_labels",
]
