"""The SMART check: one verdict and one reason per target and letter (S, M, A, R, T), and the tables of stage 2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..kinds import KINDS
from ..kpis import not_measured
from ..periods import Period, period_when, period_word
from ..spc import limits_caveat
from ..tables import format_value
from .context import TargetContext, _Evaluator, _wanted_direction
from .model import (
    _BETTER_DIRECTION,
    _COVERAGE,
    _KIND_DIRECTION,
    _NOT_DIMENSIONS,
    LETTERS,
    MIN_SCOPE_REQUESTS,
    SEVERITY,
    Target,
    TargetsFile,
    _closest,
    _column_words,
    _get_kpi,
    _unknown_kpi_message,
    complete_bins,
    per_bin,
    target_met,
    value_unit,
)

# --------------------------------------------------------------------------- SMART letters


def _fmt(value: float, kpi: Any, freq: str = "month", *, unit: bool = True) -> str:
    """A value of the SMART reasons with the KPI's unit ("41.8 h", "4.9%"); a count per
    month or week with one decimal ("80.2 requests a month", :func:`.model.per_bin`);
    without the unit when ``unit`` is False (the lower of two limits)."""
    if value is None or pd.isna(value):
        return "n/a"
    counted = per_bin(kpi)
    decimals = 1 if counted else int(getattr(kpi, "decimals", 1))
    if abs(value) < 3:  # small values (1.7 h) need a second decimal to tell them apart
        decimals = max(decimals, 2)
    text = f"{value:,.{decimals}f}"
    if not unit:
        return text
    if counted:
        return f"{text} {value_unit(kpi, freq)}"
    return {"hours": f"{text} h", "%": f"{text}%"}.get(getattr(kpi, "unit", ""), text)


def _month(ts: pd.Timestamp | None) -> str:
    return "?" if ts is None or pd.isna(ts) else f"{pd.Timestamp(ts):%Y-%m}"


@dataclass
class _Run:
    """What the letter checks share: the data, the cycle's dates and a cache."""

    evaluator: _Evaluator
    cycle_end: dt.date
    objectives: set[str]
    min_coverage: float
    action_start: dt.date
    _s_ok: dict[str, bool] = field(default_factory=dict)
    #: The load's canonical column -> source column (tells an absent column from an empty one).
    columns_used: dict[str, str] | None = None

    @property
    def df(self) -> pd.DataFrame:
        return self.evaluator.df

    @property
    def baseline_period(self) -> Period:
        return self.evaluator.baseline_period


def _dimensions(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in _NOT_DIMENSIONS]


def _check_scope(target: Target, run: _Run) -> tuple[str, str] | None:
    """A failing verdict for an unknown dimension or value, else None."""
    df = run.df
    dims = _dimensions(df)
    for dim, val in (target.scope or {}).items():
        if dim not in dims:
            close = _closest(dim, dims)
            hint = (
                f"did you mean '{close}'?" if close else "the data's dimensions: " + ", ".join(dims)
            )
            return (
                "fail",
                f"the scope names the dimension '{dim}', which is not in the data; {hint}",
            )
        present = {str(v) for v in pd.unique(df[dim].dropna())}
        missing = [v for v in (val if isinstance(val, list) else [val]) if v not in present]
        if missing:
            close = _closest(missing[0], present)
            hint = f" (did you mean '{close}'?)" if close else ""
            return "fail", f"{dim} = '{missing[0]}' does not occur in the data{hint}"
    return None


def _letter_s(target: Target, run: _Run) -> tuple[str, str]:
    kpi = _get_kpi(target.kpi)
    if kpi is None:
        run._s_ok[target.id] = False
        return "fail", _unknown_kpi_message(target.kpi)
    bad = _check_scope(target, run)
    if bad is not None:
        run._s_ok[target.id] = False
        return bad
    n = run.evaluator.received_in_baseline(target.scope)
    where = target.scope_text
    if n == 0:
        run._s_ok[target.id] = False
        return "fail", f"the scope ({where}) selects no request received in the baseline"
    run._s_ok[target.id] = True
    warnings = []
    if n < MIN_SCOPE_REQUESTS:
        warnings.append(
            f"the scope ({where}) selects only {n} requests in the baseline (fewer than "
            f"{MIN_SCOPE_REQUESTS}), so the KPI will be noisy"
        )
    better = getattr(kpi, "better", "neither")
    wanted = _KIND_DIRECTION[target.kind]
    if wanted and _BETTER_DIRECTION.get(better, 0) == -wanted:
        warnings.append(
            f"kind '{target.kind}' goes against the KPI's direction ({better} is better): "
            "check the kind"
        )
    if warnings:
        return "warn", "; ".join(warnings)
    return "pass", f"{kpi.label} on {where}: {n:,} requests in the baseline"


def _not_checked(target: Target, run: _Run) -> tuple[str, str] | None:
    if not run._s_ok.get(target.id, False):
        return "fail", "not checked: fix the KPI or the scope first (see S)"
    return None


def _letter_m(target: Target, run: _Run) -> tuple[str, str]:
    skipped = _not_checked(target, run)
    if skipped:
        return skipped
    kpi = _get_kpi(target.kpi)
    cov = _COVERAGE.get(target.kpi)
    column = getattr(kpi, "column", None) or (cov.column if cov else None)
    what = _column_words(column) if column is not None else ""
    who = cov.who if cov else f"the requests with {what}"
    coverage_text = ""
    share = 1.0
    why = not_measured(run.df, kpi, columns_used=run.columns_used)
    if why:  # the same words as every other stage (csi_lib.kpis.not_measured)
        return "fail", f"not measured: {why}, so {kpi.label} cannot be computed"
    if column is not None:
        if column not in run.df.columns or run.df[column].isna().all():
            return "fail", f"the data has no values of {what}, so {kpi.label} cannot be computed"
        closed = run.evaluator.closed_in_baseline(target.scope)
        if closed.empty:
            return (
                "fail",
                f"no request of the scope was closed in the baseline, so {what} cannot be checked",
            )
        share = float(closed[column].notna().mean())
        coverage_text = f"{what} is known for {share:.0%} of closed requests"
    st = run.evaluator.stats(target.kpi, target.scope)
    baseline = run.evaluator.baseline_period
    if (
        st.n > 0
        and pd.isna(st.value)
        and per_bin(kpi)
        and complete_bins(baseline, run.evaluator.freq)[1] == 0
    ):
        word = period_word(run.evaluator.freq)
        return "fail", (
            f"{kpi.label} is a count per {word}, and the baseline ({baseline.label}) holds no "
            f"complete {word} to count it over; make the baseline "
            f"whole {word}s"
        )
    if st.n == 0 or pd.isna(st.value):
        return (
            "fail",
            f"{kpi.label} has no data in the baseline ({target.scope_text}): its population is empty",
        )
    if column is not None and share < run.min_coverage:
        return "warn", (
            f"{what[:1].upper()}{what[1:]} is missing for {1 - share:.0%} of closed requests; "
            f"{kpi.label} rests on the {share:.0%} that have it (below {run.min_coverage:.0%} "
            "coverage), so "
            f"the result rests on {who} only"
        )
    tail = f"; {coverage_text}" if coverage_text else ""
    return "pass", f"computable on the baseline: {st.n:,} requests in its population{tail}"


def _letter_a(target: Target, run: _Run) -> tuple[str, str]:
    """A, with the caveat limits from few baseline points carry wherever they are cited."""
    skipped = _not_checked(target, run)
    if skipped:
        return skipped
    ctx = run.evaluator.context(target)
    if ctx.not_measured:
        return "fail", f"not checked: not measured ({ctx.not_measured}; see M)"
    verdict, reason = _achievable(target, ctx)
    if ctx.has_limits and "limits (" in reason:
        points = int(ctx.chart["baseline"].sum()) if ctx.chart is not None else 0
        caveat = limits_caveat(points, period_word(ctx.freq))
        if caveat:
            reason += f"; {caveat}"
    return verdict, reason


def _achievable(target: Target, ctx: Any) -> tuple[str, str]:
    kpi = ctx.kpi
    base, tv = ctx.baseline_value, ctx.target_value
    if pd.isna(base) or pd.isna(tv):
        return "fail", "no baseline value to judge the target against"
    f = lambda v: _fmt(v, kpi, ctx.freq)  # noqa: E731
    word = period_word(ctx.freq)
    when = period_when(ctx.best_period, ctx.freq)
    low = _fmt(ctx.lower, kpi, ctx.freq, unit=not per_bin(kpi))  # "40.3 to 120.1 requests a month"
    limits = f"{low} to {f(ctx.upper)}" if ctx.has_limits else None
    tol = target.tolerance
    if target_met(target.kind, base, tv, tol):
        if KINDS[target.kind].holds:
            # a target to hold: does the whole band of routine variation stay on the right side?
            if ctx.has_limits and all(
                target_met(target.kind, v, tv, tol) for v in (ctx.lower, ctx.upper)
            ):
                return "pass", (
                    f"the baseline ({f(base)}) meets it and its natural process limits ({limits}) "
                    "stay on the right side: the process holds it as it is"
                )
            return "pass", (
                f"the baseline ({f(base)}) meets it"
                + (
                    f", but its natural process limits ({limits}) cross it, so some {word}s may miss"
                    if limits
                    else ""
                )
            )
        return "warn", f"already met by the baseline ({f(base)}): not an improvement"
    direction = _wanted_direction(target, base, tv)
    goal = (
        tv if tol is None else tv - direction * tol
    )  # edge of a 'within' band nearest the baseline
    if ctx.has_limits:
        inside = goal >= ctx.lower if direction < 0 else goal <= ctx.upper
        if inside:
            # a count names its target, so the unit it is judged in shows (per month or week)
            what = f"the target ({f(tv)}) is inside" if per_bin(kpi) else "inside"
            return "pass", (
                f"{what} the natural process limits ({limits}): achievable without changing the process"
            )
    best = ctx.best_value
    reached = not pd.isna(best) and (best <= goal if direction < 0 else best >= goal)
    beyond = (
        f"beyond the natural process limits ({limits})"
        if limits
        else "with too few baseline values for natural process limits"
    )
    if reached:
        # reached before: plausible, so a pass; the reason says holding it needs a change
        return "pass", (
            f"{beyond} but within the best {word} observed ({f(best)} in {when}): "
            "done before, though holding it needs a change to the process"
        )
    best_text = f"best {word} {f(best)} in {when}" if not pd.isna(best) else f"no {word} observed"
    limit_text = (
        f"natural process limits {limits}" if limits else f"too few {word}s for process limits"
    )
    return "warn", (
        f"beyond anything observed ({best_text}, {limit_text}): "
        "a stretch target that needs a change to the process"
    )


def _letter_r(target: Target, run: _Run) -> tuple[str, str]:
    if not target.objective:
        return "fail", "the target names no objective; link it to one of the vision's objectives"
    if target.objective not in run.objectives:
        known = ", ".join(sorted(run.objectives)) or "none"
        return (
            "fail",
            f"its objective '{target.objective}' is not in the vision (objectives: {known})",
        )
    return "pass", f"serves objective {target.objective} of the vision"


def _letter_t(target: Target, run: _Run) -> tuple[str, str]:
    due = target.due
    last = run.baseline_period.last_date
    if due is None:
        return "fail", "no due date; add 'due: YYYY-MM-DD' inside the cycle"
    if due <= last:
        return "fail", f"due {due} is not after the baseline ends ({last})"
    if due > run.cycle_end:
        return "fail", f"due {due} is after the cycle ends ({run.cycle_end})"
    one_month = (pd.Timestamp(run.action_start) + pd.DateOffset(months=1)).date()
    if due < one_month:
        return "warn", (
            f"due {due} is less than a month after the action period starts ({run.action_start}): "
            "too little time to act and see the effect"
        )
    return (
        "pass",
        f"due {due}: after the baseline ({last}) and inside the cycle (ends {run.cycle_end})",
    )


#: The letter checks, in order; each returns (verdict, reason).
LETTER_CHECKS: dict[str, Callable[[Target, _Run], tuple[str, str]]] = {
    "S": _letter_s,
    "M": _letter_m,
    "A": _letter_a,
    "R": _letter_r,
    "T": _letter_t,
}


def _as_date(value: Any, name: str) -> dt.date:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{name} '{value}' is not a date", hint="write dates as YYYY-MM-DD"
        ) from exc
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.date()


def _target_list(targets: Any) -> list[Target]:
    if isinstance(targets, TargetsFile):
        return list(targets.targets)
    if isinstance(targets, Target):
        return [targets]
    items = getattr(targets, "targets", targets)
    return [t if isinstance(t, Target) else Target.model_validate(t) for t in items]


def _make_run(
    df: pd.DataFrame,
    *,
    baseline_period: Period,
    cycle_end: Any,
    objectives: Iterable[str],
    freq: str,
    min_coverage: float,
    action_start: Any,
    evaluator: _Evaluator | None = None,
) -> _Run:
    if evaluator is None:
        evaluator = _Evaluator(df, baseline_period=baseline_period, freq=freq)
    start = (
        _as_date(action_start, "action start")
        if action_start is not None
        else baseline_period.last_date + dt.timedelta(days=1)
    )
    return _Run(
        evaluator=evaluator,
        cycle_end=_as_date(cycle_end, "cycle end"),
        objectives={str(o) for o in objectives},
        min_coverage=float(min_coverage),
        action_start=start,
    )


def _check(targets: list[Target], run: _Run) -> pd.DataFrame:
    rows = []
    for target in targets:
        for letter, check in LETTER_CHECKS.items():
            verdict, reason = check(target, run)
            rows.append(
                {
                    "target": target.id,
                    "kpi": target.kpi,
                    "letter": letter,
                    "verdict": verdict,
                    "reason": reason[:1].upper()
                    + reason[1:]
                    + ("" if reason.endswith(".") else "."),
                }
            )
    frame = pd.DataFrame(rows, columns=["target", "kpi", "letter", "verdict", "reason"])
    return frame.astype("string")


def smart_check(
    targets: Any,
    *,
    df: pd.DataFrame,
    baseline_period: Period,
    cycle_end: dt.date | str,
    objectives: Iterable[str],
    freq: str = "month",
    min_coverage: float = 0.8,
    action_start: dt.date | str | None = None,
) -> pd.DataFrame:
    """The SMART check: one row per target and letter with a verdict and a reason.

    Parameters
    ----------
    targets:
        A :class:`TargetsFile`, a list of :class:`Target` (or dicts), or one target.
    df:
        The canonical request frame (all the data loaded for the cycle).
    baseline_period:
        The baseline :class:`~csi_lib.periods.Period`.
    cycle_end:
        The last day of the cycle (the end of its review period), inclusive.
    objectives:
        The ids of the vision's objectives.
    freq:
        Frequency of the baseline series used for the natural process limits.
    min_coverage:
        Share (0..1) of the baseline's closed requests that must have the KPI's
        column (csat, sla_met...) for M to pass.
    action_start:
        First day of the action period; defaults to the day after the baseline.
        T warns when a target is due less than a month after it.

    Returns
    -------
    pd.DataFrame
        Columns ``target``, ``kpi``, ``letter`` (S, M, A, R, T), ``verdict``
        (``pass`` / ``warn`` / ``fail``) and ``reason`` (one sentence).

    Examples
    --------
    >>> smart = smart_check(cycle.targets, df=cycle.data, baseline_period=cycle.periods["baseline"],
    ...                     cycle_end="2026-03-31", objectives={"O1", "O2"})
    >>> smart.query("target == 'T1'")[["letter", "verdict"]].values.tolist()
    [['S', 'pass'], ['M', 'pass'], ['A', 'warn'], ['R', 'pass'], ['T', 'pass']]
    """
    run = _make_run(
        df,
        baseline_period=baseline_period,
        cycle_end=cycle_end,
        objectives=objectives,
        freq=freq,
        min_coverage=min_coverage,
        action_start=action_start,
    )
    return _check(_target_list(targets), run)


def smart_table(smart: pd.DataFrame, *, reasons: bool = False) -> pd.DataFrame:
    """Wide form of :func:`smart_check` for display: one row per target.

    Parameters
    ----------
    smart:
        The frame returned by :func:`smart_check`.
    reasons:
        Add one ``<letter> reason`` column per letter.

    Returns
    -------
    pd.DataFrame
        Index ``target`` (in the order of the file); columns ``kpi``, ``S``,
        ``M``, ``A``, ``R``, ``T`` (verdicts), ``overall`` (the worst verdict)
        and, with ``reasons=True``, ``S reason`` ... ``T reason``.

    Examples
    --------
    >>> smart_table(cycle_smart_check(cycle)).loc["T1", ["S", "A", "overall"]].tolist()
    ['pass', 'warn', 'warn']
    """
    order = list(dict.fromkeys(smart["target"]))
    wide = smart.pivot(index="target", columns="letter", values="verdict")
    wide = wide.reindex(index=order, columns=list(LETTERS))
    kpi = smart.drop_duplicates("target").set_index("target")["kpi"]
    wide.insert(0, "kpi", kpi.reindex(order))
    severity = wide[list(LETTERS)].apply(lambda col: col.map(SEVERITY)).max(axis=1)
    inverse = {v: k for k, v in SEVERITY.items()}
    wide["overall"] = severity.map(inverse)
    if reasons:
        why = smart.pivot(index="target", columns="letter", values="reason").reindex(
            index=order, columns=list(LETTERS)
        )
        for letter in LETTERS:
            wide[f"{letter} reason"] = why[letter]
    wide.columns.name = None
    return wide


# --------------------------------------------------------------------------- cycle helpers


def _cycle_arguments(cycle: Any) -> dict[str, Any]:
    """smart_check keywords from a :class:`csi_lib.cycle.Cycle`."""
    config = cycle.config
    return {
        "df": cycle.data,
        "baseline_period": cycle.planned_periods["baseline"],
        "cycle_end": config.review.to,
        "objectives": list(cycle.vision.objective_ids),
        "freq": config.freq,
        "action_start": config.action.from_,
    }


def _cycle_evaluator(cycle: Any, args: dict[str, Any]) -> _Evaluator:
    """The cycle's one :class:`_Evaluator` for its data, baseline and frequency.

    The SMART check and the target contexts of a stage ask for the same baseline
    statistics (a KPI table and series per target); kept on the cycle object, they
    are computed once per kernel instead of once per caller.
    """
    key = (id(args["df"]), args["baseline_period"], args["freq"])
    cache = cycle.__dict__.setdefault("_target_evaluators", {})
    if key not in cache:
        cache[key] = _Evaluator(
            args["df"], baseline_period=args["baseline_period"], freq=args["freq"]
        )
        cache[key].prefetch(_target_list(cycle.targets))
    return cache[key]


def cycle_smart_check(cycle: Any, *, min_coverage: float = 0.8) -> pd.DataFrame:
    """:func:`smart_check` of a cycle's targets with the cycle's data, periods and objectives.

    The baseline is the cycle's (planned) baseline period, the cycle ends with
    its review period and the action period's first day is the T letter's
    reference.

    Examples
    --------
    >>> sorted(set(cycle_smart_check(cycle)["verdict"]))
    ['pass', 'warn']
    """
    args = _cycle_arguments(cycle)
    run = _make_run(min_coverage=min_coverage, evaluator=_cycle_evaluator(cycle, args), **args)
    run.columns_used = getattr(cycle.load, "columns_used", None)
    run.evaluator.columns_used = run.columns_used
    return _check(_target_list(cycle.targets), run)


def cycle_target_contexts(cycle: Any) -> list[TargetContext]:
    """A :class:`TargetContext` per target of the cycle whose KPI is registered (file order).

    Examples
    --------
    >>> [c.target.id for c in cycle_target_contexts(cycle)]
    ['T1', 'T2', 'T3', 'T4', 'T5']
    """
    evaluator = _cycle_evaluator(cycle, _cycle_arguments(cycle))
    return [
        evaluator.context(t) for t in _target_list(cycle.targets) if _get_kpi(t.kpi) is not None
    ]


def _as_written(value: float, kpi: Any, freq: str = "month") -> str:
    """A value of targets.yaml with the decimals it was written with and the KPI's unit
    (``28`` of a KPI in hours: "28 h"; ``56`` of a count: "56 requests a month"); bare for
    an unknown KPI."""
    written = f"{value:g}"
    decimals = 2 if "e" in written else len(written.partition(".")[2])
    if per_bin(kpi):
        return f"{value:,.{decimals}f} {value_unit(kpi, freq)}"
    return format_value(value, getattr(kpi, "unit", ""), decimals)


def targets_table(targets: Any, freq: str | None = None) -> pd.DataFrame:
    """The targets as a table for display, one row per target in file order.

    Returns
    -------
    pd.DataFrame
        Columns ``id``, ``kpi``, ``scope`` (in words), ``kind``, ``target``
        (the value with the KPI's unit, a count's per month or week of ``freq``, or the
        relative change such as ``-20%``, with the band of a ``within`` target), ``due``, ``objective``, ``owner``, ``note``.

    Examples
    --------
    >>> targets_table([Target(id="T3", kpi="assess_median_h", kind="minimize", change="-20%"),
    ...                Target(id="T1", kpi="fulfil_median_h", kind="minimize", value=28),
    ...                Target(id="T4", kpi="csat_mean", kind="maximize", value=4.3)])["target"].tolist()
    ['-20% on the baseline', '28 h', '4.3']
    """
    freq = freq or getattr(getattr(targets, "config", None), "freq", None) or "month"
    rows = []
    for t in _target_list(targets):
        kpi = _get_kpi(t.kpi)
        wanted = (
            _as_written(t.value, kpi, freq)
            if t.value is not None
            else f"{t.change} on the baseline"
        )
        if t.tolerance is not None:
            wanted += f" +/- {_as_written(t.tolerance, kpi, freq)}"
        rows.append(
            {
                "id": t.id,
                "kpi": t.kpi,
                "scope": t.scope_text,
                "kind": t.kind,
                "target": wanted,
                "due": t.due,
                "objective": t.objective,
                "owner": t.owner,
                "note": t.note,
            }
        )
    columns = ["id", "kpi", "scope", "kind", "target", "due", "objective", "owner", "note"]
    return pd.DataFrame(rows, columns=columns)
