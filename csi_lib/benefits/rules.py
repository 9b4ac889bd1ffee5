"""Which benefit a KPI's change is worth, from the catalogue's metadata (DESIGN.md "Benefits").

A rule is data: when it applies (a KPI's kind, unit and population), what it counts
and in what words. No KPI is named here: a custom KPI of the same kind, unit and
population gets the same rule, and one of another kind (a score, a stock such as the
backlog, a ratio, a KPI with no better direction) gets none, said in words.

==========  =============================================  ================================
rule        KPIs (catalogue metadata)                      benefit over the compared period
==========  =============================================  ================================
waiting     kind ``duration`` in hours                     hours of waiting saved: (baseline
                                                           mean - review mean) x the review's
                                                           requests with a duration
avoided     kind ``proportion`` over closed requests       requests avoided: (baseline share -
                                                           review share) x the review's closed
                                                           requests (of the KPI's population)
per_day     kind ``count`` over received, closed or        requests avoided (or more requests):
            assessed requests                              the difference per day x the days
==========  =============================================  ================================

The sign follows the KPI's better direction: a gain is a fall of a KPI for which lower
is better and a rise of one for which higher is better.

>>> from csi_lib.kpis import get_kpi
>>> rule_for(get_kpi("fulfil_median_h")).unit, rule_for(get_kpi("pct_declined")).unit
('hours of waiting saved', 'requests avoided')
>>> rule_for(get_kpi("csat_mean")) is None, no_rule_reason(get_kpi("backlog"))
(True, 'no benefit is defined for a stock counted at one instant')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["RULES", "Rule", "gain_sign", "no_rule_reason", "rule_for"]


@dataclass(frozen=True)
class Rule:
    """How a KPI's change becomes a benefit.

    Attributes
    ----------
    key:
        ``"waiting"``, ``"avoided"`` or ``"per_day"``.
    applies:
        ``applies(kpi)``: the rule fits the KPI's metadata.
    unit, unit_higher:
        The benefit's unit in words (``"hours of waiting saved"``); ``unit_higher`` when
        the KPI's better direction is higher and the words differ (a count: "more
        requests").
    short:
        The unit after a number in a table ("h", "requests").
    default_value:
        The amount of ``cycle.yaml``'s ``value:`` a unit is worth when the plan gives none
        (``customer_hour`` for hours of waiting), or None.
    change_words:
        What an expected change is in (for messages): "hours (of the mean)"...
    """

    key: str
    applies: Callable[[Any], bool]
    unit: str
    short: str
    change_words: str
    unit_higher: str | None = None
    default_value: str | None = None

    def unit_for(self, kpi: Any) -> str:
        """The unit in words for ``kpi`` (its better direction)."""
        return self.unit_higher if self.unit_higher and kpi.better == "higher" else self.unit


def _rated(kpi: Any) -> bool:
    return kpi.better in ("higher", "lower") and kpi.func is None


#: The rules, first match wins.
RULES: tuple[Rule, ...] = (
    Rule(
        "waiting",
        lambda k: _rated(k) and k.kind == "duration" and k.unit == "hours"
        and k.population != "open_at_end",
        "hours of waiting saved",
        "h",
        "hours of the mean duration",
        default_value="customer_hour",
    ),
    Rule(
        "avoided",
        lambda k: _rated(k) and k.kind == "proportion" and k.population == "closed",
        "requests avoided",
        "requests",
        "percentage points",
    ),
    Rule(
        "per_day",
        lambda k: _rated(k) and k.kind == "count"
        and k.population in ("received", "closed", "assessed"),
        "requests avoided",
        "requests",
        "requests per month (or per week in a weekly cycle)",
        unit_higher="more requests",
    ),
)  # fmt: skip

#: Why a KPI of each kind has no benefit, in words.
_NO_RULE: dict[str, str] = {
    "score": "a score",
    "stock": "a stock counted at one instant",
    "ratio": "a ratio of two populations",
}


def rule_for(kpi: Any) -> Rule | None:
    """The :class:`Rule` of ``kpi`` (a :class:`csi_lib.kpis.KPI`), or None when DESIGN.md
    defines no benefit for it (:func:`no_rule_reason` says why)."""
    return next((r for r in RULES if r.applies(kpi)), None)


def no_rule_reason(kpi: Any) -> str:
    """Why no benefit is defined for ``kpi``, in one clause."""
    if kpi.better not in ("higher", "lower"):
        what = "a KPI with no better direction"
    elif kpi.population == "open_at_end":
        what = _NO_RULE["stock"]
    elif kpi.func is not None:
        what = _NO_RULE["ratio"]
    elif kpi.kind == "proportion":
        what = "a share of requests other than closed ones"
    else:
        what = _NO_RULE.get(kpi.kind, f"a KPI of kind {kpi.kind}")
    return f"no benefit is defined for {what}"


def gain_sign(kpi: Any) -> int:
    """+1 when a rise of the KPI is a gain (higher is better), -1 when a fall is.

    >>> from csi_lib.kpis import get_kpi
    >>> gain_sign(get_kpi("pct_within_sla")), gain_sign(get_kpi("fulfil_mean_h"))
    (1, -1)
    """
    return 1 if kpi.better == "higher" else -1
