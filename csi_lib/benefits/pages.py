"""What the stages show of the benefits: reader tables, sentences, the cover's line and
``summary.json``'s ``benefits`` object. Every number comes from :mod:`.realised`.

Examples
--------
>>> from csi_lib import benefits
>>> print(benefits.cover_line(rv))   # rv: the sample cycle's review as of 2026-04-15
Benefits realised over the review period (January to March 2026): 30,970 hours of waiting
saved (95 % interval 24,022 to 37,917) and 232 requests avoided (95 % interval 174 to 288),
worth EUR 934,882 (95 % interval EUR 725,000 to 1,144,729); not established for 2 (Declined
share of closed and Reopened).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..safe import markdown_text
from ..words import join_words, plural
from .realised import (
    ESTABLISHED,
    STATUS_WORDS,
    _num,
    assess_benefits,
    expected_benefits,
    initiative_benefits,
    initiative_totals,
    money_text,
    target_benefits,
    totals,
)

__all__ = [
    "benefits_note",
    "benefits_summary",
    "benefits_table",
    "cover_line",
    "expected_table",
    "expected_text",
    "initiative_sentences",
    "target_sentences",
]


def _json(value: Any) -> Any:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return None if math.isnan(number) else number


def _range(low: float, high: float) -> list[float] | None:
    return None if pd.isna(low) or pd.isna(high) else [float(low), float(high)]


def _interval_text(low: float, high: float) -> str:
    return f"95 % interval {_num(low)} to {_num(high)}"


def _money_range(low: float, high: float, currency: str | None) -> str:
    amount = money_text(low, currency)
    return f"95 % interval {amount} to {money_text(high, currency).removeprefix(f'{currency} ')}"


# --------------------------------------------------------------------------- stage 5


def cover_line(cycle: Any) -> str:
    """One line for the report's cover: the realised benefits in total, with intervals and
    money, and the targets whose benefit is not established."""
    cb = assess_benefits(cycle)
    t = target_benefits(cb)
    if cb.compared is None:
        return "Benefits: nothing to compare yet (no complete month or week after the baseline)."
    tot = totals(cb)
    so_far = " so far (provisional)" if cb.provisional else ""
    parts = [
        f"{_num(r.realised)} {r.unit} ({_interval_text(r.ci_low, r.ci_high)})"
        for r in tot.itertuples()
    ]
    not_est = t[t["status"] == "not established"]
    tail = (
        f"; not established for {len(not_est)} ({join_words(not_est['label'])})"
        if len(not_est)
        else ""
    )
    if not parts:
        return (
            f"Benefits over {cb.window}{so_far}: none established yet" + tail.replace(";", ":", 1)
        ) + "."
    money = tot["money"].dropna()
    worth = ""
    if len(money):
        worth = (
            f", worth {money_text(money.sum(), cb.currency)} "
            f"({_money_range(tot['money_low'].sum(), tot['money_high'].sum(), cb.currency)})"
        )
    return f"Benefits realised over {cb.window}{so_far}: {join_words(parts)}{worth}{tail}."


def benefits_note(cycle: Any) -> str:
    """One markdown paragraph above stage 5's benefits: the period, how final, the method."""
    cb = assess_benefits(cycle)
    if cb.compared is None:
        return (
            "**No benefits to compute yet.** A benefit compares the baseline with the review "
            "period (before it, the action period so far), which has no complete month or "
            "week yet."
        )
    head = (
        f"**Provisional: benefits so far, over {cb.window}.** They move until the review "
        "period ends, as the verdicts do."
        if cb.provisional
        else f"Benefits over {cb.window}."
    )
    return (
        f"{head} A time's benefit is the hours of waiting saved: the fall of the *mean* "
        "time (hours add up, a median does not) times the requests of the period compared; "
        "a share's is the requests avoided: the fall of the share times the requests of the "
        "period, or where higher is better its rise (the requests avoided are then those "
        "outside the share, e.g. closed outside the SLA). The 95 % interval is that of the "
        "change it multiplies (Welch's for a mean, stage 5's for a share or a count). A "
        "benefit is **not established**, and counted nowhere, unless stage 5 finds a real "
        "change; a score, a stock such as the backlog and a ratio have no benefit defined. "
        "A target's benefit is shared equally among the initiatives serving it; the "
        "intervals of a sum add their ends (a conservative interval). The expected benefit "
        "is the plan's change times the baseline's volume over the same days."
    )


def target_sentences(cycle: Any) -> str:
    """The benefit of each target, one markdown bullet each (the sentences quote labels
    and scopes from the data: shown as written, never as markup or links)."""
    return "\n".join(f"- {markdown_text(s)}" for s in target_benefits(cycle)["sentence"])


def initiative_sentences(cycle: Any) -> str:
    """The benefit of each initiative, one markdown bullet per initiative and unit (titles
    and labels shown as written)."""
    return "\n".join(f"- {markdown_text(s)}" for s in initiative_totals(cycle)["sentence"])


def cover_markdown(cycle: Any) -> str:
    """:func:`cover_line` in bold, as stage 5 shows it (its labels shown as written)."""
    return f"**{markdown_text(cover_line(cycle))}**"


def _units(value: float, unit: str) -> str:
    return "—" if pd.isna(value) else f"{_num(value)} {unit}"


def benefits_table(cycle: Any) -> pd.DataFrame:
    """Stage 5's table for readers: per initiative and target it serves, the expected and
    the realised benefit (its share), the interval, the money and the status in words."""
    from ..present import present

    cb = assess_benefits(cycle)
    parts = initiative_benefits(cb)
    rows = []
    for r in parts.itertuples():
        status = STATUS_WORDS[r.status]
        if r.share < 1:
            status += f" (an equal share: {round(1 / r.share)} initiatives serve it)"
        if r.status in ESTABLISHED:
            lo, hi = (r.ci_low, r.ci_high)
            interval = f"{_num(lo)} to {_num(hi)}"
            realised = _units(r.realised, r.unit)
            money = money_text(r.money, cb.currency) if not pd.isna(r.money) else "—"
        else:
            realised = "—" if r.status == "no rule" else STATUS_WORDS[r.status]
            interval, money = "—", "—"
        rows.append(
            {
                "Initiative": f"{r.initiative} {r.title}",
                "Benefit of": r.label,
                "Expected": _units(r.expected, r.unit),
                "Realised": realised,
                "95 % interval": interval,
                "Worth": money,
                "Expected worth": money_text(r.expected_money, cb.currency)
                if not pd.isna(r.expected_money)
                else "—",
                "Status": status,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=["Initiative", "Benefit of", "Expected", "Realised", "95 % interval", "Worth",
                 "Expected worth", "Status"],
    )  # fmt: skip
    note = (
        f"Over {cb.window}" + (" (provisional)" if cb.provisional else "") + ". "
        if cb.window
        else ""
    )
    return present(table, kpi_column=None, note=note + "— means no value.")


# --------------------------------------------------------------------------- stage 3


def expected_table(cycle: Any) -> pd.DataFrame:
    """Stage 3's table for readers: each initiative's expected benefits over the review
    period, at the baseline's volume."""
    from ..present import present

    e = expected_benefits(cycle)
    cb = assess_benefits(cycle)
    rows = [
        {
            "Initiative": f"{r.initiative} {r.title}",
            "Benefit of": r.label,
            "Expected change": r.change_words,
            "Expected benefit": _units(r.expected, r.unit) if not r.reason else r.reason,
            "Value of a unit": r.value_words or "—",
            "Expected worth": money_text(r.expected_money, cb.currency)
            if not pd.isna(r.expected_money)
            else "—",
        }
        for r in e.itertuples()
    ]
    table = pd.DataFrame(
        rows,
        columns=["Initiative", "Benefit of", "Expected change", "Expected benefit",
                 "Value of a unit", "Expected worth"],
    )  # fmt: skip
    return present(
        table,
        kpi_column=None,
        note=f"Over {e.attrs.get('window', 'the review period')}, at the baseline's volume per "
        "day. — means no value.",
    )


def expected_text(cycle: Any) -> str:
    """One markdown sentence under stage 3's initiatives: the plan's expected benefits."""
    e = expected_benefits(cycle)
    cb = assess_benefits(cycle)
    if e.empty:
        return (
            "No initiative states its expected benefits yet: add `benefits:` to an initiative "
            "of the plan (see the README) to compare them with the realised ones at the review."
        )
    rated = e[e["reason"] == ""]
    parts = [f"{_num(g['expected'].sum())} {unit}" for unit, g in rated.groupby("unit", sort=False)]
    money = rated["expected_money"].dropna()
    worth = f", worth {money_text(money.sum(), cb.currency)}" if len(money) else ""
    return (
        f"The plan expects {join_words(parts) or 'no computable benefit'}{worth} over "
        f"{e.attrs.get('window', 'the review period')}, from "
        f"{plural(e['initiative'].nunique(), 'initiative')}."
    )


# --------------------------------------------------------------------------- summary.json


def benefits_summary(cycle: Any) -> dict[str, Any]:
    """``summary.json``'s ``benefits`` object.

    Keys: ``text`` (the cover's line), ``provisional``, ``window`` (the period compared,
    in words), ``currency``, ``totals`` (per unit: ``unit``, ``realised``, ``interval``,
    ``money``, ``money_interval``, ``targets``), ``money`` (``realised``, ``interval``,
    ``expected``), ``targets`` (per target or KPI: ``id``, ``label``, ``unit``,
    ``status``, ``status_text``, ``verdict``, ``expected``, ``realised``, ``estimate``,
    ``interval``, ``value``, ``money``, ``money_interval``, ``initiatives``,
    ``sentence``) and ``initiatives`` (per initiative and unit: ``id``, ``title``,
    ``unit``, ``expected``, ``realised``, ``interval``, ``money``, ``sentence``).
    Numbers are in the benefit's unit (hours, requests) or the currency; null when none.
    """
    cb = assess_benefits(cycle)
    t = target_benefits(cb)
    tot = totals(cb)
    ini = initiative_totals(cb)
    return {
        "text": cover_line(cb),
        "provisional": cb.provisional,
        "window": cb.window or None,
        "currency": cb.currency,
        "totals": [
            {
                "unit": r.unit,
                "realised": _json(r.realised),
                "interval": _range(r.ci_low, r.ci_high),
                "money": _json(r.money),
                "money_interval": _range(r.money_low, r.money_high),
                "targets": list(r.targets),
            }
            for r in tot.itertuples()
        ],
        "money": {
            "realised": _json(tot["money"].sum(min_count=1)),
            "interval": _range(
                tot["money_low"].sum(min_count=1), tot["money_high"].sum(min_count=1)
            ),
            "expected": _json(t["expected_money"].sum(min_count=1)),
        },
        "targets": [
            {
                "id": r.target,
                "label": r.label,
                "unit": r.unit or None,
                "status": r.status,
                "status_text": STATUS_WORDS[r.status],
                "verdict": r.verdict or None,
                "expected": _json(r.expected),
                "realised": _json(r.realised),
                "estimate": _json(r.estimate) if r.status in ESTABLISHED else None,
                "interval": _range(r.ci_low, r.ci_high) if r.status in ESTABLISHED else None,
                "value": _json(r.value),
                "money": _json(r.money),
                "money_interval": _range(r.money_low, r.money_high),
                "initiatives": list(r.initiatives),
                "sentence": r.sentence,
            }
            for r in t.itertuples()
        ],
        "initiatives": [
            {
                "id": r.initiative,
                "title": r.title,
                "unit": r.unit or None,
                "expected": _json(r.expected),
                "realised": _json(r.realised),
                "interval": _range(r.ci_low, r.ci_high),
                "money": _json(r.money),
                "sentence": r.sentence,
            }
            for r in ini.itertuples()
        ],
    }
