"""The sentences of the evidence: each names the method, the estimate, the interval and
the decision, and nothing the method did not compute."""

from __future__ import annotations

import math

from .base import TestOutcome

#: How a unit is written after a number in a sentence.
_SUFFIX = {"h": " h", "percentage points": " percentage points", "requests a day": " a day"}


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


def suffix(unit: str) -> str:
    """The unit as written after a number (``" h"``, ``" a day"``, ``""``)."""
    return _SUFFIX.get(unit, f" {unit}" if unit else "")


#: Decimals beyond the KPI's that an interval may need to show its width; ends alike
#: that far are as good as tied (:func:`csi_lib.evidence.compare` gives no interval).
EXTRA_DECIMALS = 3


def interval_decimals(low: float, high: float, decimals: int) -> int | None:
    """Decimals that print the two ends of an interval as different numbers, neither
    rounded to zero unless it is zero (up to three more than ``decimals``), else the
    fewest that print them apart (up to 12); None when even those print them alike (no
    width to show).

    >>> interval_decimals(2.03, 2.04, 1), interval_decimals(1.0, 3.0, 1), interval_decimals(-0.02, 0.03, 1)
    (2, 1, 2)
    >>> interval_decimals(0.1231, 0.1234, 0), interval_decimals(2.0, 2.0 + 1e-13, 1) is None
    (4, True)
    """
    for d in range(decimals, decimals + EXTRA_DECIMALS + 1):
        lo, hi = round(low, d), round(high, d)
        if lo != hi and (lo != 0 or low == 0) and (hi != 0 or high == 0):
            return d
    for d in range(decimals, max(decimals, 12) + 1):
        if round(low, d) != round(high, d):
            return d
    return None


def shown_decimals(kind: str, kpi_decimals: int) -> int:
    """Decimals of a change in the sentences and tables: two for a count (compared per
    day, a fraction of the KPI's count per period), else the KPI's.

    >>> shown_decimals("count", 0), shown_decimals("duration", 1)
    (2, 1)
    """
    return 2 if kind == "count" else kpi_decimals


def _num(value: float, decimals: int, signed: bool = False) -> str:
    return f"{value:+,.{decimals}f}" if signed else f"{value:,.{decimals}f}"


def change_phrase(o: TestOutcome, alpha: float) -> str:
    """The estimate and its interval, e.g. "the median fell by 13.5 h (95% interval 11.2
    to 15.9 h; bootstrap of each period's median)"."""
    d, u = o.decimals, suffix(o.unit)
    level = f"{(1 - alpha) * 100:.3g}% interval"
    shown = interval_decimals(o.ci_low, o.ci_high, d) or d
    if round(o.effect, shown) == 0:
        head = f"{o.measure} did not change"
    else:
        verb = "rose" if o.effect > 0 else "fell"
        head = f"{o.measure} {verb} by {_num(abs(o.effect), shown)}{u}"
    same_side = o.ci_low > 0 and o.ci_high > 0 or o.ci_low < 0 and o.ci_high < 0
    if same_side and (o.ci_low > 0) == (o.effect > 0):  # magnitudes, smallest first
        low, high = sorted((abs(o.ci_low), abs(o.ci_high)))
        ends = f"{_num(low, shown)} to {_num(high, shown)}{u}"
    else:
        ends = f"{_num(o.ci_low, shown, True)} to {_num(o.ci_high, shown, True)}{u}"
    p = f", {format_p(o.p_value)}" if not math.isnan(o.p_value) else ""
    return f"{head} ({level} {ends}; {o.how}{p})"


def decision_phrase(o: TestOutcome, real: bool, verdict: str) -> str:
    """What the interval says: the change is real in the method's sense, or not."""
    if not real:
        return "the interval includes no change, so this is no evidence of a real change"
    move = "rise" if o.effect > 0 else "fall"
    return f"the whole interval is a {move}, so the {move} is not chance{verdict}"


def sentence(o: TestOutcome, alpha: float, real: bool, verdict: str = "") -> str:
    """One sentence: the estimate, its interval, the method and the decision."""
    text = f"{change_phrase(o, alpha)}: {decision_phrase(o, real, verdict)}."
    return text[0].upper() + text[1:]
