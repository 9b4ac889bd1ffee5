"""The four special-cause rules (beyond limits, run of 7, trend of 6, 2 of 3 beyond 2 sigma),
evaluated segment by segment, and the classification of signals into improvement and concern."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

RUN_LENGTH = 7
TREND_LENGTH = 6

BETTER = ("higher", "lower", "neither")
RULES = ("beyond_limits", "run_7", "trend_6", "two_of_three")

#: Plain-language names of the rules, for hover text and summaries.
RULE_LABELS: dict[str, str] = {
    "beyond_limits": "beyond a process limit",
    "run_7": f"run of {RUN_LENGTH} on one side of the centre line",
    "trend_6": f"trend of {TREND_LENGTH} rising or falling",
    "two_of_three": "2 of 3 points beyond 2 sigma",
}

#: Side of a signal (+1 high, -1 low) -> variation, per better direction.
_VARIATION: dict[str, dict[int, str]] = {
    "higher": {1: "improvement", -1: "concern"},
    "lower": {1: "concern", -1: "improvement"},
    "neither": {1: "neither", -1: "neither"},
}


def _run_groups(sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group id and group length of runs of equal consecutive values."""
    s = pd.Series(sign)
    group = s.ne(s.shift()).cumsum()
    length = s.groupby(group).transform("size")
    return group.to_numpy(), length.to_numpy()


def _rules_for(x: np.ndarray, centre: np.ndarray, sigma: np.ndarray, lower, upper) -> dict:
    """Evaluate the four rules on the non-missing points of one segment.

    Returns, per rule, a signed int array: +1 high/rising, -1 low/falling, 0 none.
    """
    n = len(x)
    out = {rule: np.zeros(n, dtype=int) for rule in RULES}
    if n == 0:
        return out
    side = np.sign(np.nan_to_num(x - centre, nan=0.0)).astype(int)
    out["beyond_limits"] = np.where(x > upper, 1, np.where(x < lower, -1, 0))

    _, length = _run_groups(side)
    out["run_7"] = np.where((side != 0) & (length >= RUN_LENGTH), side, 0)

    if n >= TREND_LENGTH:
        step = np.sign(np.diff(x)).astype(int)  # step[k]: from point k to k+1
        _, slen = _run_groups(step)
        in_trend = (step != 0) & (slen >= TREND_LENGTH - 1)
        trend = np.zeros(n, dtype=int)
        for k in np.flatnonzero(in_trend):  # a rising step flags both of its points
            trend[k] = trend[k + 1] = step[k]
        out["trend_6"] = trend

    with np.errstate(invalid="ignore"):
        beyond2 = np.where(x > centre + 2 * sigma, 1, np.where(x < centre - 2 * sigma, -1, 0))
    two = np.zeros(n, dtype=int)
    for start in range(n - 2):
        window = beyond2[start : start + 3]
        for s in (1, -1):
            if (window == s).sum() >= 2:
                hits = start + np.flatnonzero(window == s)
                two[hits] = s
    out["two_of_three"] = two
    return out


def _signals(
    x: np.ndarray,
    segment: np.ndarray,
    centre: np.ndarray,
    mean_mr: np.ndarray,
    sigma: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per rule, +1 / -1 / 0 for each point (high, low, not fired), segment by segment.

    A segment with fewer than 2 usable points (no moving range) raises no signal.
    """
    flags = {rule: np.zeros(len(x), dtype=int) for rule in RULES}
    present = ~np.isnan(x)
    for seg in np.unique(segment):
        pos = np.flatnonzero((segment == seg) & present)
        if len(pos) == 0 or np.isnan(centre[pos[0]]) or np.isnan(mean_mr[pos[0]]):
            continue
        found = _rules_for(x[pos], centre[pos], sigma[pos], lower[pos], upper[pos])
        for rule in RULES:
            flags[rule][pos] = found[rule]
    return flags


def _classify(flags: dict[str, np.ndarray], *, present: np.ndarray, better: str) -> dict[str, Any]:
    """The ``signal``, ``side``, ``rules`` and ``variation`` columns from the rule flags."""
    side = np.zeros(len(present), dtype=int)
    for rule in RULES[:1] + ("two_of_three", "run_7", "trend_6"):
        side = np.where(side == 0, flags[rule], side)
    signal = side != 0
    sides = np.where(side > 0, "high", np.where(side < 0, "low", None))
    variation = np.where(
        ~present,
        None,
        np.where(
            signal,
            np.where(side > 0, _VARIATION[better][1], _VARIATION[better][-1]),
            "common cause",
        ),
    )
    return {
        "signal": signal,
        "side": list(sides),
        "rules": [", ".join(r for r in RULES if flags[r][i] != 0) for i in range(len(present))],
        "variation": list(variation),
    }
