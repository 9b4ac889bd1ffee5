"""The four special-cause rules (beyond limits, run of 7, trend of 6, 2 of 3 beyond 2 sigma),
evaluated segment by segment, and the classification of signals into improvement and concern.

The run and trend lengths can be set (:func:`check_lengths`; a cycle sets them in
``cycle.yaml`` as ``spc: {run: 7, trend: 6}``). The rule columns keep their names
``run_7`` and ``trend_6`` whatever the lengths: they name the rule, and the lengths
used are in the chart's ``attrs`` (``run``, ``trend``) and in :func:`rule_labels`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Points in a run on one side of the centre line that make a signal (DESIGN.md: 7).
RUN_LENGTH = 7
#: Points rising or falling in a row that make a signal (DESIGN.md: 6).
TREND_LENGTH = 6
#: The lengths a run or a trend may be set to: shorter ones fire on noise too often
#: (a run of 4 comes by chance in about 1 of 8 stretches of 4 points), longer ones
#: hardly ever fire.
LENGTH_RANGE = (5, 12)

BETTER = ("higher", "lower", "neither")
RULES = ("beyond_limits", "run_7", "trend_6", "two_of_three")


def rule_labels(run: int = RUN_LENGTH, trend: int = TREND_LENGTH) -> dict[str, str]:
    """Plain-language names of the rules with the run and trend lengths used.

    >>> rule_labels(run=8)["run_7"]
    'run of 8 on one side of the centre line'
    """
    return {
        "beyond_limits": "beyond a process limit",
        "run_7": f"run of {run} on one side of the centre line",
        "trend_6": f"trend of {trend} rising or falling",
        "two_of_three": "2 of 3 points beyond 2 sigma on the same side",
    }


#: Plain-language names of the rules at the default lengths, for hover text and summaries.
RULE_LABELS: dict[str, str] = rule_labels()


def check_lengths(run: int, trend: int) -> tuple[int, int]:
    """``(run, trend)`` when both are whole numbers in :data:`LENGTH_RANGE`, else a
    :class:`~csi_lib.errors.ConfigError` naming the setting."""
    from csi_lib.errors import ConfigError

    low, high = LENGTH_RANGE
    for name, value in (("run", run), ("trend", trend)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ConfigError(f"the {name} length must be a whole number, not {value!r}",
                              column=name, hint=f"for example {name}={RUN_LENGTH if name == 'run' else TREND_LENGTH}")  # fmt: skip
        if not low <= value <= high:
            raise ConfigError(
                f"the {name} length must be between {low} and {high} points, not {value}",
                column=name,
                hint=f"DESIGN.md's default is {RUN_LENGTH if name == 'run' else TREND_LENGTH}",
            )
    return int(run), int(trend)


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


def _rules_for(
    x: np.ndarray,
    centre: np.ndarray,
    sigma: np.ndarray,
    lower,
    upper,
    run: int = RUN_LENGTH,
    trend: int = TREND_LENGTH,
) -> dict:
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
    out["run_7"] = np.where((side != 0) & (length >= run), side, 0)

    if n >= trend:
        step = np.sign(np.diff(x)).astype(int)  # step[k]: from point k to k+1
        _, slen = _run_groups(step)
        in_trend = (step != 0) & (slen >= trend - 1)
        flagged = np.zeros(n, dtype=int)
        for k in np.flatnonzero(in_trend):  # a rising step flags both of its points
            flagged[k] = flagged[k + 1] = step[k]
        out["trend_6"] = flagged

    out["two_of_three"] = _two_of_three(x, centre, sigma, side)
    return out


def _two_of_three(x: np.ndarray, centre: np.ndarray, sigma: np.ndarray, side: np.ndarray):
    """Two of three consecutive points beyond 2 sigma on one side, all three on that side
    of the centre line (a point on the line breaks it); the points beyond 2 sigma are
    flagged, those beyond a limit included (DESIGN.md)."""
    n = len(x)
    two = np.zeros(n, dtype=int)
    if n < 3:
        return two
    with np.errstate(invalid="ignore"):
        beyond2 = np.where(x > centre + 2 * sigma, 1, np.where(x < centre - 2 * sigma, -1, 0))
    windows = np.lib.stride_tricks.sliding_window_view(beyond2, 3)
    sides = np.lib.stride_tricks.sliding_window_view(side, 3)
    for s in (1, -1):
        fires = ((windows == s).sum(axis=1) >= 2) & (sides == s).all(axis=1)
        for start in np.flatnonzero(fires):
            hits = start + np.flatnonzero(windows[start] == s)
            two[hits] = s
    return two


def _signals(
    x: np.ndarray,
    segment: np.ndarray,
    centre: np.ndarray,
    mean_mr: np.ndarray,
    sigma: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    run: int = RUN_LENGTH,
    trend: int = TREND_LENGTH,
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
        found = _rules_for(
            x[pos], centre[pos], sigma[pos], lower[pos], upper[pos], run=run, trend=trend
        )
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
