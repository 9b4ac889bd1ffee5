"""Benefits computed from the data (DESIGN.md "Benefits"): per target, per initiative, in total.

A target's benefit is what its change was worth over the period stage 5 compares with
the baseline (the review period's complete months; before the review has one, the
action period's so far, a *provisional* reading, as stage 5's verdict):

* a duration KPI: hours of waiting saved = (baseline mean of the durations behind the
  KPI - their mean over the compared period) x the compared period's number of those
  requests; the mean, not the median, because hours add up. Its interval: Welch's
  interval of the difference of the means (:mod:`csi_lib.evidence.mean`), the same
  method stage 5 uses for a KPI aggregated by its mean;
* a share of closed requests: requests avoided = (baseline share - compared share) x
  the compared period's requests of the KPI's population; its interval: the score
  interval of stage 5 (:mod:`csi_lib.evidence.proportion`);
* a count per day: the difference per day x the compared period's days; its interval:
  the count method of stage 5 (:mod:`csi_lib.evidence.count`).

The sign follows the KPI's better direction (:mod:`.rules`). A benefit is *realised*
only when stage 5's verdict is a real improvement and its own interval lies wholly on
the gain side; a real deterioration whose interval lies wholly on the loss side is a
*loss*; any other verdict (likely, no evidence, mixed, not enough data) leaves it *not
established*, shown without a number, never as a gain. Money = units x the value of a
unit (``plan.yaml``'s ``value:`` for the target, else ``cycle.yaml``'s amount for the
rule, e.g. ``customer_hour`` for hours of waiting).

An initiative's realised benefit is the sum over the targets it serves (and the KPIs
its benefits name), each target's benefit shared equally among the initiatives serving
it. Intervals of a sum add their ends: a conservative interval (at least 95 %).

Expected benefits: the plan's expected change (in the KPI's unit) x the baseline's
volume per day (its requests with a duration, its closed requests) x the days of the
period compared, or for a count x its months (or weeks); so the expected and the
realised benefit cover the same days.

Examples
--------
>>> from csi_lib import benefits
>>> table = benefits.target_benefits(rv)   # rv: the sample cycle's review as of 2026-04-15
>>> table[["target", "status"]].values.tolist()
[['T1', 'realised'], ['T2', 'realised'], ['T3', 'realised'], ['T4', 'no rule'], ['T5', 'not established'], ['pct_reopened', 'not established']]
>>> print(table["sentence"].iloc[0])
Median time to fulfil (Laptop): 24,550 hours of waiting saved (95 % interval 19,940 to
29,160), worth EUR 736,505 at EUR 30 (an hour a customer waits); the mean fell from 62.4 h
to 41.6 h over 1,182 requests of the review period (January to March 2026); expected 19,850.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..evidence import Evidence, compare, observations_for
from ..kpis import get_kpi
from ..periods import Period, period_edges
from ..words import join_words, plural
from .model import VALUE_WORDS, Benefit
from .rules import Rule, gain_sign, no_rule_reason, rule_for

__all__ = [
    "STATUS_WORDS",
    "CycleBenefits",
    "TargetBenefit",
    "assess_benefits",
    "expected_benefits",
    "initiative_benefits",
    "initiative_totals",
    "target_benefits",
    "totals",
]

#: Status of a benefit -> words for readers.
STATUS_WORDS: dict[str, str] = {
    "realised": "realised",
    "loss": "a loss",
    "not established": "not established",
    "no rule": "no benefit defined for this KPI",
    "not yet": "nothing to compare yet",
    "not measured": "not measured",
}

_DAY = pd.Timedelta(days=1)

#: The statuses of a benefit that stage 5's verdict establishes (counted in the sums).
ESTABLISHED: tuple[str, ...] = ("realised", "loss")


def _days(period: Period | None) -> float:
    return math.nan if period is None else (period.end - period.start) / _DAY


def _bins(period: Period | None, freq: str) -> int:
    return 0 if period is None else len(period_edges(period, freq)) - 1


def _num(value: float) -> str:
    """A benefit in a sentence: whole units with thousands separators, one decimal below 10."""
    if pd.isna(value):
        return "—"
    if abs(value) < 10 and round(value, 1) != round(value):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def money_text(amount: float, currency: str | None) -> str:
    """``"EUR 37,020"`` (or the amount alone without a currency).

    >>> money_text(37020.4, "EUR"), money_text(-5.0, "€")
    ('EUR 37,020', '€ -5')
    """
    if pd.isna(amount):
        return "—"
    return f"{currency} {amount:,.0f}" if currency else f"{amount:,.0f}"


@dataclass
class TargetBenefit:
    """The benefit of one target (or of a KPI an initiative's benefits name).

    Units are the rule's (:attr:`unit`: hours of waiting saved, requests avoided);
    ``estimate`` and its interval ``ci_low`` .. ``ci_high`` are gains (positive = better);
    ``realised`` is the estimate when the benefit is established (realised or a loss),
    else NaN.
    """

    id: str
    label: str
    kpi: str
    rule: Rule | None
    unit: str
    status: str
    reason: str = ""
    verdict: str = ""
    estimate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    baseline_mean: float = math.nan
    compared_mean: float = math.nan
    multiplier: float = math.nan
    multiplier_words: str = ""
    expected: float = math.nan
    value: float | None = None
    value_words: str = ""
    initiatives: list[str] = field(default_factory=list)
    provisional: bool = False
    window: str = ""
    is_target: bool = True
    evidence: Evidence | None = field(default=None, repr=False)

    @property
    def established(self) -> bool:
        return self.status in ESTABLISHED

    @property
    def realised(self) -> float:
        return self.estimate if self.established else math.nan

    def money(self, amount: float) -> float:
        return math.nan if self.value is None or pd.isna(amount) else amount * self.value


# --------------------------------------------------------------------------- per target


def _benefit_evidence(tr: Any, rule: Rule) -> Evidence | None:
    """The interval the benefit multiplies: stage 5's own for a share, a count or a duration
    aggregated by its mean; Welch's interval of the means for a median or percentile."""
    if rule.key != "waiting" or tr.kpi.agg == "mean":
        return tr.evidence
    base, window = tr.periods.get("baseline"), tr.compared_period
    if base is None or window is None or tr.data is None:
        return None

    def compute() -> Evidence:
        return compare(
            observations_for(tr.data, base, tr.kpi),
            observations_for(tr.data, window, tr.kpi),
            kind="duration",
            better=tr.kpi.better,
            agg="mean",
        )

    if tr.data_key is None or tr.run is None:
        return compute()
    from .. import evidence as ev

    question = {
        "data": tr.data_key,
        "benefit": [tr.kpi.key, "mean", tr.kpi.better],
        "scope": tr.target.scope,
        "periods": [[p.start.isoformat(), p.end.isoformat()] for p in (base, window)],
        "method": [ev.METHOD_VERSION],
    }
    return tr.run.shared(
        "evidence", question, compute, lambda e: e.to_dict(), lambda d: Evidence(**d)
    )


def _window_words(rv: Any) -> str:
    from ..review.standing import rests_on

    if rv.compared is None:
        return ""
    judged = rv.periods[rv.compared]
    whole = judged == rv.planned(rv.compared) and not rv.phase.provisional
    return rests_on(judged, rv.compared, rv.freq, whole=whole) or ""


def _measure(tr: Any, rule: Rule, provisional: bool, window: str) -> TargetBenefit:
    kpi = tr.kpi
    out = TargetBenefit(
        id=tr.id, label=tr.label, kpi=kpi.key, rule=rule, unit=rule.unit_for(kpi),
        status="not yet", provisional=provisional, window=window,
    )  # fmt: skip
    if tr.problem or tr.not_measured:
        out.status, out.reason = "not measured", tr.problem or tr.not_measured
        return out
    if tr.compared_period is None:
        from ..periods import period_word

        out.reason = f"the action period has no complete {period_word(tr.freq)} yet"
        return out
    out.verdict = tr.verdict
    ev = _benefit_evidence(tr, rule)
    out.evidence = ev
    if ev is None or pd.isna(ev.effect):
        out.status = "not established"
        out.reason = verdict_words(tr.verdict) + (f": {ev.reason}" if ev is not None else "")
        return out
    sign = gain_sign(kpi)
    if rule.key == "waiting":
        mult, words = float(ev.n_review), plural(ev.n_review, "request")
        out.baseline_mean, out.compared_mean = ev.baseline_value, ev.review_value
    elif rule.key == "avoided":
        mult, words = ev.n_review / 100.0, plural(ev.n_review, "request")
        out.baseline_mean, out.compared_mean = ev.baseline_value, ev.review_value
    else:
        days = _days(tr.compared_period)
        mult, words = days, plural(round(days), "day")
    out.multiplier, out.multiplier_words = mult, words
    out.estimate = sign * ev.effect * mult
    ends = sorted((sign * ev.ci_low * mult, sign * ev.ci_high * mult))
    out.ci_low, out.ci_high = ends
    out.status = _status(tr.verdict, out.ci_low, out.ci_high)
    if out.status == "not established":
        out.reason = _not_established_reason(tr, ev, rule)
    return out


def _status(verdict: str, low: float, high: float) -> str:
    if verdict == "real improvement" and low > 0:
        return "realised"
    if verdict == "real deterioration" and high < 0:
        return "loss"
    return "not established"


def verdict_words(verdict: str) -> str:
    """Why stage 5's verdict establishes no benefit, in words.

    >>> verdict_words("no evidence of change"), verdict_words("likely improvement")
    ('stage 5 finds no evidence of change', 'stage 5 finds only a likely improvement (the chart or the interval shows it, not both)')
    """
    if verdict.startswith("likely"):
        return f"stage 5 finds only a {verdict} (the chart or the interval shows it, not both)"
    if verdict == "not enough data":
        return "stage 5 has not enough data to judge"
    if verdict.startswith("real"):
        return f"stage 5 finds a {verdict}"
    return f"stage 5 finds {verdict}"


def _not_established_reason(tr: Any, ev: Evidence, rule: Rule) -> str:
    if tr.verdict not in ("real improvement", "real deterioration"):
        return verdict_words(tr.verdict)
    # stage 5 finds a real change of the median, the mean of the hours does not show one
    return (
        f"stage 5 finds a {tr.verdict}, but the interval of the change in the mean "
        f"({ev.ci_low:+,.1f} to {ev.ci_high:+,.1f} h), which hours of waiting rest on, "
        "includes no change"
    )


def _pseudo_target(stmt: Benefit) -> Any:
    """A target standing for a KPI an initiative's benefit names (for its chart and evidence)."""
    from ..targets import Target

    kpi = get_kpi(stmt.kpi)
    kind = "maximize" if kpi.better == "higher" else "minimize"
    return Target(id=stmt.kpi, kpi=stmt.kpi, scope=stmt.scope, kind=kind, change="+0%")


def _per_unit(rule: Rule | None) -> str:
    """After an amount: what it is the value of ("EUR 25 a request avoided")."""
    return {"waiting": " an hour of waiting", "avoided": " a request avoided"}.get(
        rule.key if rule else "", " a unit"
    )


def _key(stmt: Benefit) -> str:
    return stmt.tied_to


# --------------------------------------------------------------------------- per cycle


class CycleBenefits:
    """Every benefit of a cycle, computed once (build it with :func:`assess_benefits`)."""

    def __init__(self, rv: Any) -> None:
        self.rv = rv
        self.plan = rv.cycle.plan
        self.settings = getattr(rv.cycle.config, "value", None)
        self.currency = self.settings.currency if self.settings is not None else None
        self.provisional = bool(rv.phase.provisional or rv.compared == "action")
        self.window = _window_words(rv)
        self.compared = rv.compared

    # ---- the plan's statements
    @functools.cached_property
    def statements(self) -> list[tuple[Any, Benefit]]:
        """``(initiative, benefit)`` for every benefit of the plan, in the plan's order."""
        return [(i, b) for i in self.plan.initiatives for b in getattr(i, "benefits", [])]

    def serving(self, key: str, is_target: bool) -> list[str]:
        """Ids of the initiatives a target (or a KPI of the benefits) is shared among."""
        if is_target:
            return [i.id for i in self.plan.initiatives if key in i.targets]
        return list(dict.fromkeys(i.id for i, b in self.statements if b.kpi and _key(b) == key))

    def value_of(self, key: str, rule: Rule | None) -> tuple[float | None, str]:
        """What a unit of the benefit of ``key`` is worth, and where it comes from in words."""
        given = [b.value for _, b in self.statements if _key(b) == key and b.value is not None]
        chosen = given[0] if given else (rule.default_value if rule is not None else None)
        if chosen is None:
            return None, ""
        if isinstance(chosen, str):
            amount = self.settings.of(chosen) if self.settings is not None else None
            if amount is None:
                return None, ""
            return amount, f"{money_text(amount, self.currency)} ({VALUE_WORDS[chosen]})"
        return float(chosen), money_text(float(chosen), self.currency) + _per_unit(rule)

    # ---- benefits
    @functools.cached_property
    def targets(self) -> list[TargetBenefit]:
        """One :class:`TargetBenefit` per target, then per KPI named by a benefit."""
        out = []
        reviews = [(tr.id, tr, True) for tr in self.rv]
        reviews += [(key, tr, False) for key, tr in self.kpi_reviews.items()]
        for key, tr, is_target in reviews:
            rule = rule_for(tr.kpi)
            if rule is None:
                b = TargetBenefit(
                    id=key, label=tr.label, kpi=tr.kpi.key, rule=None, unit="",
                    status="no rule", reason=no_rule_reason(tr.kpi),
                    provisional=self.provisional, window=self.window,
                )  # fmt: skip
            else:
                b = _measure(tr, rule, self.provisional, self.window)
                b.id = key
            b.is_target = is_target
            b.initiatives = self.serving(key, is_target)
            b.value, b.value_words = self.value_of(key, rule)
            b.expected = self._expected_total(key, tr, rule)
            out.append(b)
        return out

    @functools.cached_property
    def kpi_reviews(self) -> dict[str, Any]:
        """Each KPI (with its scope) a benefit of the plan names, measured as a target is
        (its chart, evidence and verdict), keyed as :attr:`Benefit.tied_to`."""
        from ..review.assess import _assess_target

        out: dict[str, Any] = {}
        for _, stmt in self.statements:
            if stmt.kpi is not None and _key(stmt) not in out:
                out[_key(stmt)] = _assess_target(_pseudo_target(stmt), self.rv)
        return out

    def _expected_total(self, key: str, tr: Any, rule: Rule | None) -> float:
        stmts = [b for _, b in self.statements if _key(b) == key]
        if not stmts or rule is None:
            return math.nan
        window = tr.compared_period or self.rv.planned("review")
        return sum(expected_units(b.change, tr, rule, window, self.rv.freq) for b in stmts)

    def target(self, key: str) -> TargetBenefit:
        return next(b for b in self.targets if b.id == key)


def expected_units(change: float, tr: Any, rule: Rule, window: Period, freq: str) -> float:
    """The benefit an expected ``change`` (in the KPI's unit) is worth over ``window``:
    the change x the baseline's volume per day x the window's days (a count: x its months
    or weeks), as a gain (positive = better)."""
    sign = gain_sign(tr.kpi)
    if rule.key == "per_day":
        return sign * change * _bins(window, freq)
    base = tr.periods.get("baseline")
    if base is None or tr.data is None:
        return math.nan
    n = int(observations_for(tr.data, base, tr.kpi).dropna().shape[0])
    per_day = n / _days(base) if _days(base) else math.nan
    volume = per_day * _days(window)
    return sign * change * volume / (100.0 if rule.key == "avoided" else 1.0)


def assess_benefits(cycle: Any) -> CycleBenefits:
    """The benefits of ``cycle`` (a :class:`~csi_lib.cycle.Cycle` or a stage-5
    :class:`~csi_lib.review.CycleReview`), computed once per review."""
    from ..review import assess

    if isinstance(cycle, CycleBenefits):
        return cycle
    rv = assess(cycle)
    found = getattr(rv, "_benefits", None)
    if found is None:
        found = CycleBenefits(rv)
        rv._benefits = found
    return found


# --------------------------------------------------------------------------- tables

_TARGET_COLUMNS = [
    "target", "label", "kpi", "rule", "unit", "status", "verdict", "expected", "estimate",
    "ci_low", "ci_high", "realised", "multiplier", "baseline_mean", "compared_mean",
    "value", "currency", "expected_money", "money", "money_low", "money_high",
    "initiatives", "provisional", "reason", "sentence",
]  # fmt: skip


def target_benefits(cycle: Any) -> pd.DataFrame:
    """One row per target (then per KPI named by a plan's benefit): its benefit.

    Columns: ``target`` (id, or the KPI key), ``label``, ``kpi``, ``rule`` (waiting,
    avoided, per_day, or None), ``unit`` (words), ``status`` (realised, loss, not
    established, no rule, not yet, not measured), ``verdict`` (stage 5's), ``expected``
    (the plan's expected benefit over the same days; NaN without one), ``estimate``
    and ``ci_low``/``ci_high`` (the gain and its 95 % interval, whatever the status),
    ``realised`` (the estimate when established, else NaN), ``multiplier`` (requests or
    days the difference is multiplied by; for a share the requests / 100),
    ``baseline_mean``/``compared_mean`` (hours for a duration, % for a share), ``value`` (a unit's
    worth), ``currency``, ``expected_money``, ``money``/``money_low``/``money_high``
    (NaN unless established and valued), ``initiatives`` (the ids it is shared
    among), ``provisional``, ``reason`` (why not established or not defined) and
    ``sentence`` (for readers). ``attrs["window"]`` names the period compared.
    """
    cb = assess_benefits(cycle)
    rows = []
    for b in cb.targets:
        rows.append(
            {
                "target": b.id,
                "label": b.label,
                "kpi": b.kpi,
                "rule": b.rule.key if b.rule else None,
                "unit": b.unit,
                "status": b.status,
                "verdict": b.verdict,
                "expected": b.expected,
                "estimate": b.estimate,
                "ci_low": b.ci_low,
                "ci_high": b.ci_high,
                "realised": b.realised,
                "multiplier": b.multiplier,
                "baseline_mean": b.baseline_mean,
                "compared_mean": b.compared_mean,
                "value": math.nan if b.value is None else b.value,
                "currency": cb.currency,
                "expected_money": b.money(b.expected),
                "money": b.money(b.realised),
                "money_low": b.money(b.ci_low) if b.established else math.nan,
                "money_high": b.money(b.ci_high) if b.established else math.nan,
                "initiatives": list(b.initiatives),
                "provisional": b.provisional,
                "reason": b.reason,
                "sentence": target_sentence(b, cb.currency),
            }
        )
    table = pd.DataFrame(rows, columns=_TARGET_COLUMNS)
    table.attrs["window"] = cb.window
    table.attrs["provisional"] = cb.provisional
    window = cb.rv.periods[cb.compared] if cb.compared else None
    table.attrs["dates"] = f"{window.first_date} to {window.last_date}" if window else ""
    return table


_INITIATIVE_COLUMNS = [
    "initiative", "title", "target", "label", "unit", "share", "status", "expected",
    "realised", "ci_low", "ci_high", "expected_money", "money", "money_low", "money_high",
    "currency", "provisional",
]  # fmt: skip


def initiative_benefits(cycle: Any) -> pd.DataFrame:
    """One row per initiative and target (or KPI) it serves: its share of the benefit.

    ``share`` is 1 / the number of initiatives serving the target; ``realised``,
    ``ci_low``, ``ci_high`` and the money columns are the target's times the share (NaN
    unless established); ``expected`` is what this initiative's own benefits expect for
    the target (NaN when it states none).
    """
    cb = assess_benefits(cycle)
    rows = []
    by_key = {b.id: b for b in cb.targets}
    for ini in cb.plan.initiatives:
        keys = list(ini.targets) + [
            _key(s) for s in getattr(ini, "benefits", []) if s.kpi is not None
        ]
        for key in dict.fromkeys(keys):
            b = by_key.get(key)
            if b is None:
                continue
            share = 1.0 / max(len(b.initiatives), 1)
            own = [s for s in getattr(ini, "benefits", []) if _key(s) == key]
            tr = _review_of(cb, b)
            window = tr.compared_period or cb.rv.planned("review") if tr is not None else None
            expected = (
                sum(expected_units(s.change, tr, b.rule, window, cb.rv.freq) for s in own)
                if own and b.rule is not None and tr is not None
                else math.nan
            )
            est = b.established
            rows.append(
                {
                    "initiative": ini.id,
                    "title": ini.title,
                    "target": key,
                    "label": b.label,
                    "unit": b.unit,
                    "share": share,
                    "status": b.status,
                    "expected": expected,
                    "realised": b.realised * share,
                    "ci_low": b.ci_low * share if est else math.nan,
                    "ci_high": b.ci_high * share if est else math.nan,
                    "expected_money": b.money(expected),
                    "money": b.money(b.realised * share),
                    "money_low": b.money(b.ci_low * share) if est else math.nan,
                    "money_high": b.money(b.ci_high * share) if est else math.nan,
                    "currency": cb.currency,
                    "provisional": b.provisional,
                }
            )
    table = pd.DataFrame(rows, columns=_INITIATIVE_COLUMNS)
    table.attrs["window"] = cb.window
    return table


def _review_of(cb: CycleBenefits, b: TargetBenefit) -> Any:
    return cb.rv.target(b.id) if b.is_target else cb.kpi_reviews[b.id]


def initiative_totals(cycle: Any) -> pd.DataFrame:
    """One row per initiative and unit: the sums of :func:`initiative_benefits`
    (intervals: their ends added, a conservative interval), with ``established`` and
    ``not_established`` (the targets of each kind) and a ``sentence``."""
    cb = assess_benefits(cycle)
    parts = initiative_benefits(cb)
    rows = []
    for ini in cb.plan.initiatives:
        mine = parts[parts["initiative"] == ini.id]
        if mine.empty:
            rows.append(_initiative_row(ini, "", mine, cb))
            continue
        for unit, part in mine.groupby("unit", sort=False):
            rows.append(_initiative_row(ini, unit, part, cb))
    cols = ["initiative", "title", "unit", "expected", "realised", "ci_low", "ci_high",
            "expected_money", "money", "money_low", "money_high", "established",
            "not_established", "not_established_labels", "sentence"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _sum(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.sum()) if len(values) else math.nan


def _established_sums(est: pd.DataFrame) -> dict[str, float]:
    """The sums of established benefits: realised units, the interval's ends added (a
    conservative interval) and the money with its ends."""
    columns = ("realised", "ci_low", "ci_high", "money", "money_low", "money_high")
    return {c: _sum(est[c]) for c in columns}


def _initiative_row(ini: Any, unit: str, part: pd.DataFrame, cb: CycleBenefits) -> dict:
    est = part[part["status"].isin(ESTABLISHED)]
    row = {
        "initiative": ini.id,
        "title": ini.title,
        "unit": unit,
        "expected": _sum(part["expected"]),
        "expected_money": _sum(part["expected_money"]),
        **_established_sums(est),
        "established": est["target"].tolist(),
        "not_established": part.loc[part["status"] == "not established", "target"].tolist(),
        "not_established_labels": part.loc[part["status"] == "not established", "label"].tolist(),
    }
    row["sentence"] = _initiative_sentence(ini, unit, part, row, cb)
    return row


def totals(cycle: Any) -> pd.DataFrame:
    """The cycle's realised benefits per unit (established targets only; each target once),
    with the conservative interval (ends added) and the money."""
    cb = assess_benefits(cycle)
    t = target_benefits(cb)
    est = t[t["status"].isin(ESTABLISHED)]
    rows = [
        {"unit": unit, **_established_sums(part), "targets": part["target"].tolist()}
        for unit, part in est.groupby("unit", sort=False)
    ]
    cols = ["unit", "realised", "ci_low", "ci_high", "money", "money_low", "money_high", "targets"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- expected (stage 3)


def expected_benefits(cycle: Any) -> pd.DataFrame:
    """Stage 3: the plan's expected benefits, one row per initiative and benefit, over the
    whole review period at the baseline's volume (a plan figure: it needs no review data).

    Columns: ``initiative``, ``title``, ``tied_to`` (target id or KPI), ``label``,
    ``change`` (in the KPI's unit), ``change_words``, ``unit`` (of the benefit),
    ``expected`` (units over the review period), ``value``, ``value_words``,
    ``expected_money``, ``currency``, ``reason`` (why there is no figure) and ``sentence``.
    """
    cb = assess_benefits(cycle)
    rv = cb.rv
    window = rv.planned("review")
    rows = []
    for ini, stmt in cb.statements:
        key = _key(stmt)
        # the target's (or KPI's) measurements only: no evidence is needed for a plan figure
        if stmt.target is not None:
            tr = cb.rv.target(key) if key in cb.rv.target_ids else None
        else:
            tr = cb.kpi_reviews.get(key)
        rule = rule_for(tr.kpi) if tr is not None else None
        units = (
            expected_units(stmt.change, tr, rule, window, rv.freq) if rule is not None else math.nan
        )
        value, value_words = cb.value_of(key, rule)
        if stmt.value is not None and not isinstance(stmt.value, str):
            value = float(stmt.value)
            value_words = money_text(value, cb.currency) + _per_unit(rule)
        elif isinstance(stmt.value, str):
            amount = cb.settings.of(stmt.value) if cb.settings is not None else None
            value = amount
            value_words = (
                f"{money_text(amount, cb.currency)} ({VALUE_WORDS[stmt.value]})" if amount else ""
            )
        money = units * value if value is not None and not pd.isna(units) else math.nan
        label = tr.label if tr is not None else key
        kpi = tr.kpi if tr is not None else None
        reason = "" if rule is not None else (no_rule_reason(kpi) if kpi is not None else "")
        if rule is not None and pd.isna(units):
            reason = "the baseline has no data yet to tell the volume"
        unit = rule.unit_for(kpi) if rule is not None else ""
        rows.append(
            {
                "initiative": ini.id,
                "title": ini.title,
                "tied_to": key,
                "label": label,
                "change": stmt.change,
                "change_words": _change_words(stmt.change, kpi, rule, rv.freq),
                "unit": unit,
                "expected": units,
                "value": math.nan if value is None else value,
                "value_words": value_words,
                "expected_money": money,
                "currency": cb.currency,
                "reason": reason,
                "sentence": _expected_sentence(label, units, unit, money, cb.currency, reason),
            }
        )
    cols = ["initiative", "title", "tied_to", "label", "change", "change_words", "unit",
            "expected", "value", "value_words", "expected_money", "currency", "reason",
            "sentence"]  # fmt: skip
    table = pd.DataFrame(rows, columns=cols)
    from ..review.standing import span_words

    table.attrs["window"] = f"the review period ({span_words(window, rv.freq)})"
    return table


def _change_words(change: float, kpi: Any, rule: Rule | None, freq: str) -> str:
    if kpi is None:
        return f"{change:+g}"
    if rule is None:
        return f"{change:+g} {kpi.unit}".strip()
    if rule.key == "waiting":
        return f"{change:+,.1f} h on the mean {kpi.label.split(' ', 1)[-1].lower()}"
    if rule.key == "avoided":
        return f"{change:+,.1f} percentage points"
    from ..periods import period_word

    return f"{change:+,.1f} requests a {period_word(freq)}"


# --------------------------------------------------------------------------- sentences


def _interval(low: float, high: float) -> str:
    return f"95 % interval {_num(low)} to {_num(high)}"


def target_sentence(b: TargetBenefit, currency: str | None) -> str:
    """The benefit of one target for readers, agreeing with stage 5's verdict."""
    head = f"{b.label}: "
    if b.status == "no rule":
        return head + b.reason + "."
    if b.status in ("not yet", "not measured"):
        return head + f"{STATUS_WORDS[b.status]} ({b.reason})."
    if b.status == "not established":
        return head + f"not established: {b.reason}."
    shown = b.estimate if b.status == "realised" else -b.estimate
    lo, hi = (b.ci_low, b.ci_high) if b.status == "realised" else (-b.ci_high, -b.ci_low)
    unit = b.unit if b.status == "realised" else _loss_unit(b.unit)
    text = f"{_num(shown)} {unit} ({_interval(lo, hi)})"
    if b.value is not None:
        text += f", worth {money_text(b.money(shown), currency)} at {b.value_words}"
    basis = _basis(b)
    if basis:
        text += f"; {basis}"
    if not pd.isna(b.expected):
        text += f"; expected {_num(b.expected)}"
    prefix = "so far (provisional) " if b.provisional else ""
    return head + prefix + text + "."


def _loss_unit(unit: str) -> str:
    return {
        "hours of waiting saved": "hours of waiting added",
        "requests avoided": "requests more",
        "more requests": "requests fewer",
    }.get(unit, f"{unit} lost")


def _basis(b: TargetBenefit) -> str:
    if b.rule is None or pd.isna(b.multiplier):
        return ""
    if b.rule.key == "waiting":
        return (
            f"the mean fell from {b.baseline_mean:,.1f} h to {b.compared_mean:,.1f} h over "
            f"{b.multiplier_words} of {b.window}"
            if b.compared_mean < b.baseline_mean
            else f"the mean rose from {b.baseline_mean:,.1f} h to {b.compared_mean:,.1f} h over "
            f"{b.multiplier_words} of {b.window}"
        )
    if b.rule.key == "avoided" and not pd.isna(b.compared_mean):
        # which requests: a share where lower is better counts them, one where higher is
        # better counts the others (within SLA: the requests avoided are those outside it)
        which = "outside" if get_kpi(b.kpi).better == "higher" else "in"
        moved = "rose" if b.compared_mean > b.baseline_mean else "fell"
        return (
            f"they are requests {which} the share, which {moved} from {b.baseline_mean:.1f} % "
            f"to {b.compared_mean:.1f} % over {b.multiplier_words} of {b.window}"
        )
    return f"over {b.multiplier_words} of {b.window}"


def _expected_sentence(
    label: str, units: float, unit: str, money: float, currency: str | None, reason: str
) -> str:
    if reason:
        return f"{label}: {reason}."
    text = f"{label}: {_num(units)} {unit} expected"
    if not pd.isna(money):
        text += f", worth {money_text(money, currency)}"
    return text + "."


def _initiative_sentence(
    ini: Any, unit: str, part: pd.DataFrame, row: dict, cb: CycleBenefits
) -> str:
    if not unit:
        if not len(part):
            return f"{ini.title}: serves no target."
        return f"{ini.title}: no benefit defined for {join_words(part['label'])}."
    est, not_est = row["established"], row["not_established"]
    shared = part.loc[part["share"] < 1, "label"].tolist()
    bits = []
    if est:
        bits.append(f"{_num(row['realised'])} {unit} ({_interval(row['ci_low'], row['ci_high'])})")
        if not pd.isna(row["money"]):
            bits[-1] += f", worth {money_text(row['money'], cb.currency)}"
    if not_est:
        bits.append(f"not established for {join_words(row['not_established_labels'])}")
    if not bits:
        bits.append("nothing to compare yet")
    text = f"{ini.title}: " + "; ".join(bits)
    if shared:
        text += f" (its equal share of {join_words(shared)}, served by other initiatives too)"
    if not pd.isna(row["expected"]):
        text += f"; expected {_num(row['expected'])} {unit}"
    return text + "."
