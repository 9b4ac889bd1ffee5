"""Readable KPI tables: units, rounding, better/worse arrows.

The functions return plain DataFrames of strings, ready to display (pandas
escapes their HTML) or to export; they never change the numbers they are
given, only how they are shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from .kpis import get_kpi

#: Arrow showing which direction is better, by the KPI's ``better`` metadata.
BETTER_ARROW: dict[str, str] = {
    "higher": "↑ higher is better",
    "lower": "↓ lower is better",
    "neither": "– demand",
}

_UNIT_FORMAT: dict[str, str] = {
    "%": "{:,.{d}f} %",
    "hours": "{:,.{d}f} h",
    "requests": "{:,.0f}",
    "ratio": "{:,.{d}f}",
    "score": "{:,.{d}f}",
}


def format_value(value: float | None, unit: str, decimals: int = 1) -> str:
    """``value`` with its unit and rounding; an em dash for a missing value.

    Examples
    --------
    >>> format_value(31.24, "hours")
    '31.2 h'
    >>> format_value(float("nan"), "%")
    '—'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    pattern = _UNIT_FORMAT.get(unit, "{:,.{d}f}")
    return pattern.format(value, d=decimals)


def change_arrow(before: float, after: float, better: str) -> str:
    """▲/▼ with "better"/"worse" for a change from ``before`` to ``after``."""
    if (
        any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (before, after))
        or before == after
    ):
        return "→ no change" if before == after else ""
    up = after > before
    arrow = "▲" if up else "▼"
    if better == "neither":
        return arrow
    good = up == (better == "higher")
    return f"{arrow} {'better' if good else 'worse'}"


#: Verdicts whose evidence says a change is real (the only ones coloured better or worse).
REAL_VERDICTS = frozenset({"real improvement", "real deterioration", "real change"})


def evidence_arrow(before: float, after: float, better: str, verdict: str | None) -> str:
    """The change from ``before`` to ``after`` in words that follow the evidence: "▼ better"
    or "▲ worse" only when ``verdict`` says the change is real (:data:`REAL_VERDICTS`);
    "likely better" / "likely worse" (uncoloured) when only one piece of evidence shows it;
    "mixed" when the evidence and the values point in opposite directions;
    otherwise the arrow with a neutral "within noise", so no colour and no word claims
    what the evidence does not.

    Examples
    --------
    >>> evidence_arrow(41.8, 26.6, "lower", "real improvement")
    '▼ better'
    >>> evidence_arrow(4.9, 4.8, "lower", "no evidence of change")
    '▼ within noise'

    A backlog whose chart shows an improvement while its end value rose is "mixed", never
    "▲ better":

    >>> evidence_arrow(49, 111, "lower", "likely improvement")
    '▲ mixed'
    """
    arrow = change_arrow(before, after, "neither")
    if arrow[:1] not in ("▲", "▼"):
        return arrow
    words = change_arrow(before, after, better)  # "▼ better": what the values alone say
    claimed = {
        "real improvement": "better",
        "likely improvement": "better",
        "real deterioration": "worse",
        "likely deterioration": "worse",
    }.get(verdict or "")
    if claimed is not None and not words.endswith(claimed):
        return f"{arrow} mixed"  # the evidence and the values point in opposite directions
    if verdict in REAL_VERDICTS:
        return words
    likely = {"likely improvement": "likely better", "likely deterioration": "likely worse"}
    return f"{arrow} {likely.get(verdict or '', 'within noise')}"


def scorecard(
    values: pd.Series,
    *,
    compare: pd.Series | None = None,
    compare_label: str = "before",
    not_measured: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A KPI scorecard for readers: one row per KPI with label, formatted value and direction.

    A KPI without data in its population reads "not measured". The frame is a
    table of :func:`csi_lib.present.present` (strings, headers in words, no index).

    Parameters
    ----------
    values:
        KPI values indexed by KPI key (as :func:`csi_lib.kpis.kpi_values` returns).
    compare:
        Optional values of an earlier period; adds the earlier value and a change arrow.
    not_measured:
        KPI key -> why the data cannot measure it (:func:`csi_lib.kpis.not_measured`): those
        read "not measured (why)", and another KPI without a value "no data in the period".
    """
    from .present import NOT_MEASURED, present

    rows = []
    for key, value in values.items():
        kpi = get_kpi(str(key))
        missing = NOT_MEASURED
        if not_measured is not None:
            why = not_measured.get(str(key))
            missing = f"{NOT_MEASURED} ({why})" if why else "no data in the period"
        row = {
            "KPI": kpi.label,
            "Value": _or_not_measured(format_value(value, kpi.unit, kpi.decimals), missing),
            "Better": BETTER_ARROW.get(kpi.better, kpi.better),
        }
        if compare is not None:
            before = compare.get(key, float("nan"))
            row[compare_label[:1].upper() + compare_label[1:]] = _or_not_measured(
                format_value(before, kpi.unit, kpi.decimals), NOT_MEASURED
            )
            row["Change"] = change_arrow(before, value, kpi.better)
        rows.append(row)
    return present(pd.DataFrame(rows))


def _or_not_measured(text: str, word: str) -> str:
    return word if text == "—" else text
