"""XmR limits: moving ranges, and the centre line and natural process limits of each segment.

The limits are ``centre +/- 2.66 * mean moving range``; a segment's first
limits may be frozen on its baseline points.
"""

from __future__ import annotations

import numpy as np

#: Scaling constant from the mean moving range to the 3-sigma limits.
LIMIT_FACTOR = 2.66
#: d2 for moving ranges of two points: sigma = mean moving range / 1.128.
D2 = 1.128
#: Moving ranges above this multiple of the mean are screened out (if asked).
SCREEN_FACTOR = 3.267
#: Fewest points whose limits are more than rough (NHS England's "Making Data Count"
#: advises limits from at least 12 points and accepts fewer only with a caveat).
FIRM_LIMIT_POINTS = 6


def limits_caveat(points: int, unit: str = "point") -> str | None:
    """The caveat limits computed from few points carry, in words, or None from
    :data:`FIRM_LIMIT_POINTS` on (``unit``: what a point is, "month", "week").

    Examples
    --------
    >>> limits_caveat(2, "month")
    'the limits rest on only 2 months, fewer than 6: they are rough, and a point near them is no firm signal'
    >>> limits_caveat(6) is None
    True
    """
    if points >= FIRM_LIMIT_POINTS:
        return None
    word = unit if points == 1 else f"{unit}s"
    return (
        f"the limits rest on only {points} {word}, fewer than {FIRM_LIMIT_POINTS}: they are "
        "rough, and a point near them is no firm signal"
    )


def _moving_ranges(x: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """|x[i] - x[i-1]| where both are present and in the same segment, else NaN."""
    mr = np.full(len(x), np.nan)
    if len(x) > 1:
        diff = np.abs(np.diff(x))  # NaN wherever either neighbour is missing
        same = segment[1:] == segment[:-1]
        mr[1:] = np.where(same, diff, np.nan)
    return mr


def _limits(
    x: np.ndarray, mr: np.ndarray, use: np.ndarray, screen_mr: bool
) -> tuple[float, float, int]:
    """Centre, mean moving range and usable point count from the points in ``use``."""
    xs = x[use & ~np.isnan(x)]
    if len(xs) < 2:
        return (float(xs.mean()) if len(xs) else np.nan), np.nan, len(xs)
    # a moving range counts only if both of its points are in ``use``
    mr_use = np.zeros(len(x), dtype=bool)
    mr_use[1:] = use[1:] & use[:-1]
    mrs = mr[mr_use & ~np.isnan(mr)]
    mean_mr = float(mrs.mean()) if len(mrs) else np.nan
    if screen_mr and len(mrs):
        kept = mrs[mrs <= SCREEN_FACTOR * mean_mr]
        mean_mr = float(kept.mean()) if len(kept) else mean_mr
    return float(xs.mean()), mean_mr, len(xs)


def _segment_limits(
    x: np.ndarray, mr: np.ndarray, segment: np.ndarray, in_base: np.ndarray, screen_mr: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre line and mean moving range of each point's segment, and the points used for them.

    The first segment's limits are frozen on its baseline points (all its points when
    the baseline lies in a later segment); later segments use all their own points.
    """
    n = len(x)
    centre = np.full(n, np.nan)
    mean_mr = np.full(n, np.nan)
    used = np.zeros(n, dtype=bool)
    for seg in np.unique(segment):
        here = segment == seg
        use = here & in_base if seg == 0 else here
        if seg == 0 and not use.any():
            use = here  # the baseline lies in a later segment: not frozen here
        c, m, _ = _limits(x, mr, use, screen_mr)
        centre[here] = c
        mean_mr[here] = m
        used |= use & ~np.isnan(x)
    return centre, mean_mr, used
