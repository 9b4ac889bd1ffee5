"""Stage 2, "Where do we want to be?": SMART targets on catalogue KPIs.

A cycle's ``targets.yaml`` lists the targets; each names a KPI of the catalogue
(or a registered custom one), an optional scope, a kind, the value to reach
(absolute, or a change relative to the baseline such as ``"-20%"``), the due
date, the objective it serves and an owner::

    targets:
      - id: T1
        kpi: fulfil_median_h          # a key of csi_lib.kpis.kpi_catalogue()
        scope: {category: Laptop}     # optional; any dimension: value or [values]
        kind: minimize                # minimize | maximize | maintain_above | maintain_below | within
        value: 28                     # absolute value in the KPI's unit (hours here) ...
        # change: "-20%"              # ... or a change relative to the baseline value
        due: 2025-12-31
        objective: O1
        owner: Head of End-User Services
        note: Laptops are the most requested item.

:func:`smart_check` gives, for every target and every letter, a verdict
(``pass`` / ``warn`` / ``fail``) and a one-sentence reason:

S (specific)
    the KPI and the scope exist and the scope selects data;
M (measurable)
    the KPI is computable on the data with enough coverage of its column;
A (achievable)
    the target against the baseline's natural process limits (XmR) and the
    best month ever observed up to the end of the baseline;
R (relevant)
    the target serves an objective of the vision;
T (time-bound)
    due after the baseline and on or before the end of the cycle.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .periods import Period
from .schema import CANONICAL_COLUMNS, CLOSED_OUTCOMES, DIMENSION_COLUMNS
from .yamlio import Problem, load_yaml, problems_error, require_unique_ids, validation_problems

__all__ = [
    "KINDS",
    "LETTERS",
    "Target",
    "TargetsFile",
    "TargetContext",
    "parse_change",
    "resolve_target_value",
    "target_met",
    "target_context",
    "smart_check",
    "smart_table",
    "check_targets_file",
    "load_targets",
    "cycle_smart_check",
    "targets_table",
    "cycle_target_contexts",
    "register_coverage_column",
]

Kind = Literal["minimize", "maximize", "maintain_above", "maintain_below", "within"]
Verdict = Literal["pass", "warn", "fail"]

#: The kinds of target, in the order they are offered.
KINDS: tuple[str, ...] = ("minimize", "maximize", "maintain_above", "maintain_below", "within")
#: The SMART letters, in order.
LETTERS: tuple[str, ...] = ("S", "M", "A", "R", "T")
#: Severity of a verdict (used to pick a target's overall verdict).
SEVERITY: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_CHANGE = re.compile(r"^([+-])(\d+(?:\.\d+)?)%$")
#: Requests in the baseline below which a scope is "thin" (S warns).
MIN_SCOPE_REQUESTS = 30

#: Direction each kind asks the KPI to move or stay: -1 down / below, +1 up / above, 0 a band.
_KIND_DIRECTION: dict[str, int] = {
    "minimize": -1,
    "maintain_below": -1,
    "maximize": 1,
    "maintain_above": 1,
    "within": 0,
}
_BETTER_DIRECTION: dict[str, int] = {"lower": -1, "higher": 1, "neither": 0}

#: ``value met target`` per kind; tolerance is only used by ``within``.
_MET: dict[str, Callable[[float, float, float], bool]] = {
    "minimize": lambda v, t, tol: v <= t,
    "maintain_below": lambda v, t, tol: v <= t,
    "maximize": lambda v, t, tol: v >= t,
    "maintain_above": lambda v, t, tol: v >= t,
    "within": lambda v, t, tol: abs(v - t) <= tol + 1e-9 * max(1.0, abs(t)),
}


@dataclass(frozen=True)
class _Coverage:
    column: str
    who: str  # the requests the KPI then rests on, e.g. "respondents"


#: KPI key -> the column whose coverage M checks, over the baseline's closed requests.
_COVERAGE: dict[str, _Coverage] = {
    "assess_median_h": _Coverage("assessed_at", "the requests with an assessment time"),
    "assess_p90_h": _Coverage("assessed_at", "the requests with an assessment time"),
    "pct_within_sla": _Coverage("sla_met", "the requests with a known SLA outcome"),
    "csat_mean": _Coverage("csat", "respondents"),
    "pct_satisfied": _Coverage("csat", "respondents"),
    "pct_reopened": _Coverage("reopen_count", "the requests with a known reopen count"),
}

_NOT_DIMENSIONS = frozenset(c.name for c in CANONICAL_COLUMNS) - set(DIMENSION_COLUMNS)


def register_coverage_column(kpi: str, column: str, who: str | None = None) -> None:
    """Tell the M letter which column a (custom) KPI depends on.

    Parameters
    ----------
    kpi:
        The KPI key.
    column:
        The canonical column whose coverage over the baseline's closed requests
        decides whether the KPI is measurable (e.g. ``"csat"``).
    who:
        How to name the requests the KPI then rests on (``"respondents"``).

    Examples
    --------
    >>> register_coverage_column("csat_median", "csat", "respondents")
    """
    _COVERAGE[kpi] = _Coverage(column, who or f"the requests with {column}")


# --------------------------------------------------------------------------- KPI access


def _kpis():
    from . import kpis

    return kpis


def _known_kpi_keys() -> list[str]:
    return [str(k) for k in _kpis().kpi_catalogue()["key"]]


def _closest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.5)
    return found[0] if found else None


def _unknown_kpi_message(key: str) -> str:
    known = _known_kpi_keys()
    close = _closest(key, known)
    hint = f"did you mean '{close}'?" if close else "known keys: " + ", ".join(known)
    return f"unknown KPI '{key}'; {hint}"


def _get_kpi(key: str) -> Any | None:
    """The registered KPI, or None when ``key`` is unknown."""
    if key not in _known_kpi_keys():
        return None
    return _kpis().get_kpi(key)


# --------------------------------------------------------------------------- model


def parse_change(change: str) -> float:
    """Parse a relative change such as ``"-20%"`` into percent (``-20.0``).

    The sign is required and nothing but digits, one optional decimal point
    and the ``%`` may follow it.

    Examples
    --------
    >>> parse_change("-20%"), parse_change("+5.5%")
    (-20.0, 5.5)
    """
    match = _CHANGE.fullmatch(str(change).strip())
    if match is None:
        raise ValueError(
            f'the change {change!r} is not a signed percentage; write it like "-20%" or "+5%" '
            "(quoted, with its sign)"
        )
    pct = float(match.group(2)) * (-1 if match.group(1) == "-" else 1)
    if pct < -100:
        raise ValueError(f"the change {change!r} would take the KPI below zero; use at most -100%")
    return pct


class Target(BaseModel):
    """One target of ``targets.yaml``.

    Exactly one of ``value`` (absolute, in the KPI's unit: hours, %, counts,
    score) and ``change`` (relative to the baseline value, ``"-20%"``) is given.
    ``tolerance`` (absolute, same unit) is required for ``kind: within`` and
    only allowed there.

    The KPI key is checked against the catalogue (custom KPIs included) unless
    the model is validated with ``context={"allow_unknown_kpi": True}`` (what
    ``csi targets check`` does, so that an unknown key is a SMART ``S`` fail
    with a suggestion rather than a load error).

    Examples
    --------
    >>> Target(id="T3", kpi="assess_median_h", kind="minimize", change="-20%",
    ...        due="2026-03-31", objective="O1").relative_change
    -20.0
    """

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    id: str = Field(pattern=_ID_PATTERN, description="short id such as T1")
    kpi: str = Field(min_length=1, description="key of a catalogue KPI")
    scope: dict[str, str | list[str]] | None = None
    kind: Kind
    value: float | None = None
    change: str | None = None
    tolerance: float | None = Field(default=None, ge=0)
    due: dt.date | None = None
    objective: str | None = None
    owner: str | None = None
    note: str | None = None

    @field_validator("kpi")
    @classmethod
    def _kpi_is_registered(cls, key: str, info) -> str:
        if info.context and info.context.get("allow_unknown_kpi"):
            return key
        if key not in _known_kpi_keys():
            raise ValueError(_unknown_kpi_message(key))
        return key

    @field_validator("scope", mode="before")
    @classmethod
    def _scope_values(cls, scope: Any) -> Any:
        if scope is None:
            return None
        if not isinstance(scope, Mapping):
            raise ValueError("the scope is a mapping of dimension: value, e.g. {category: Laptop}")
        out: dict[str, Any] = {}
        for dim, val in scope.items():
            if isinstance(val, list | tuple):
                if not val:
                    raise ValueError(
                        f"the scope of '{dim}' is an empty list; give at least one value"
                    )
                out[str(dim)] = [_scalar_text(dim, v) for v in val]
            else:
                out[str(dim)] = _scalar_text(dim, val)
        return out or None

    @field_validator("change")
    @classmethod
    def _change_is_percentage(cls, change: str | None) -> str | None:
        if change is not None:
            parse_change(change)
            return change.strip()
        return change

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("the value must be a finite number")
        return value

    @model_validator(mode="after")
    def _value_or_change(self) -> Target:
        if (self.value is None) == (self.change is None):
            raise ValueError(
                "give exactly one of 'value' (absolute, e.g. 28) and 'change' "
                '(relative to the baseline, e.g. "-20%")'
            )
        if self.kind == "within" and self.tolerance is None:
            raise ValueError("kind 'within' needs a 'tolerance' (the +/- band, in the KPI's unit)")
        if self.kind != "within" and self.tolerance is not None:
            raise ValueError(f"'tolerance' only applies to kind 'within', not '{self.kind}'")
        return self

    @property
    def relative_change(self) -> float | None:
        """The relative change in percent (``-20.0``), or None for an absolute target."""
        return None if self.change is None else parse_change(self.change)

    @property
    def scope_text(self) -> str:
        """The scope in words: ``"category = Laptop"``, or ``"whole service"``."""
        return _scope_text(self.scope)


def _scalar_text(dim: Any, val: Any) -> str:
    if isinstance(val, bool) or val is None or isinstance(val, Mapping | list | tuple):
        raise ValueError(
            f"the scope value of '{dim}' must be a text or a list of texts (got {val!r})"
        )
    return str(val)


def _scope_text(scope: Mapping[str, Any] | None) -> str:
    if not scope:
        return "whole service"
    parts = []
    for dim, val in scope.items():
        vals = val if isinstance(val, list) else [val]
        parts.append(f"{dim} = {' or '.join(map(str, vals))}")
    return ", ".join(parts)


class TargetsFile(BaseModel):
    """The contents of ``targets.yaml``: a list of :class:`Target`, ids unique."""

    model_config = ConfigDict(extra="forbid")

    targets: list[Target] = Field(default_factory=list)

    @field_validator("targets", mode="before")
    @classmethod
    def _list(cls, targets: Any) -> Any:
        return [] if targets is None else targets

    @field_validator("targets")
    @classmethod
    def _unique_ids(cls, targets: list[Target]) -> list[Target]:
        require_unique_ids(targets, "target")
        return targets


def check_targets_file(
    path: str | Path, *, allow_unknown_kpi: bool = False
) -> tuple[TargetsFile | None, list[Problem]]:
    """Validate ``targets.yaml``; every problem with its file, line and field.

    Returns
    -------
    (TargetsFile or None, problems)
        The model (None if any problem) and the problems (empty when fine).

    Examples
    --------
    >>> model, problems = check_targets_file("data/sample-cycle/targets.yaml")  # doctest: +SKIP
    >>> [str(p) for p in problems]                                             # doctest: +SKIP
    ["targets.yaml:12: targets[1].change: the change '20%' is not a signed percentage; ..."]
    """
    try:
        data, line_of = load_yaml(path)
    except ConfigError as exc:
        return None, [Problem(str(path), exc.row, exc.column or "", exc.message)]
    try:
        context = {"allow_unknown_kpi": allow_unknown_kpi}
        return TargetsFile.model_validate(data, context=context), []
    except ValidationError as exc:
        return None, validation_problems(exc, file=path, line_of=line_of)


def load_targets(path: str | Path, *, allow_unknown_kpi: bool = False) -> TargetsFile:
    """Read and validate ``targets.yaml``; a :class:`ConfigError` lists every problem (file:line)."""
    model, problems = check_targets_file(path, allow_unknown_kpi=allow_unknown_kpi)
    if problems:
        raise problems_error(problems, file=path)
    assert model is not None
    return model


# --------------------------------------------------------------------------- values


def resolve_target_value(target: Target, baseline_value: float) -> float:
    """The absolute value a target asks for, in the KPI's unit.

    An absolute target gives its ``value``; a relative one applies its
    ``change`` to the baseline value (NaN when the baseline is missing).

    Examples
    --------
    >>> t = Target(id="T3", kpi="assess_median_h", kind="minimize", change="-20%")
    >>> resolve_target_value(t, 10.0)   # 10 h - 20% = 8 h
    8.0
    """
    if target.value is not None:
        return float(target.value)
    if baseline_value is None or pd.isna(baseline_value):
        return float("nan")
    pct = target.relative_change
    assert pct is not None
    return float(baseline_value) * (1.0 + pct / 100.0)


def target_met(
    kind: str, value: float, target_value: float, tolerance: float | None = None
) -> bool:
    """Whether ``value`` meets a target of ``kind`` (a missing value never does).

    ``minimize`` / ``maintain_below``: ``value <= target``; ``maximize`` /
    ``maintain_above``: ``value >= target``; ``within``:
    ``|value - target| <= tolerance``.

    Examples
    --------
    >>> target_met("minimize", 27.5, 28), target_met("within", 4.4, 4.0, 0.3)
    (True, False)
    """
    if kind not in _MET:
        raise ConfigError(f"unknown target kind '{kind}'", hint="use one of " + ", ".join(KINDS))
    if value is None or target_value is None or pd.isna(value) or pd.isna(target_value):
        return False
    tol = 0.0 if tolerance is None or pd.isna(tolerance) else float(tolerance)
    return bool(_MET[kind](float(value), float(target_value), tol))


# --------------------------------------------------------------------------- baseline context


@dataclass
class TargetContext:
    """Where a target stands against its baseline.

    Attributes
    ----------
    series:
        The KPI's monthly (or weekly) series over the baseline, scope applied
        (columns of :func:`csi_lib.kpis.kpi_series`).
    chart:
        The XmR frame of that series (``centre``, ``lower``, ``upper``...), or
        None when the baseline has fewer than two values.
    baseline_value, baseline_n:
        The KPI over the whole baseline period and the size of its population.
    target_value:
        The absolute value the target asks for (NaN if it cannot be resolved).
    best_value, best_period:
        The best month (in the direction the target asks for) from the start of
        the data to the end of the baseline, and that month's start.
    """

    target: Target
    kpi: Any
    series: pd.DataFrame
    chart: pd.DataFrame | None
    baseline_value: float
    baseline_n: int
    target_value: float
    best_value: float = float("nan")
    best_period: pd.Timestamp | None = None
    centre: float = float("nan")
    lower: float = float("nan")
    upper: float = float("nan")
    history: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def has_limits(self) -> bool:
        return not (pd.isna(self.lower) or pd.isna(self.upper))


def _limit(chart: pd.DataFrame, name: str) -> float:
    if chart is None or name not in chart.columns:
        return float("nan")
    values = pd.to_numeric(chart[name], errors="coerce").dropna()
    # limits computed on the baseline are constant; take the last one
    return float(values.iloc[-1]) if len(values) else float("nan")


@dataclass
class _BaselineStats:
    series: pd.DataFrame
    history: pd.DataFrame
    chart: pd.DataFrame | None
    value: float
    n: int
    lowest: tuple[float, pd.Timestamp | None]
    highest: tuple[float, pd.Timestamp | None]


def _extreme(history: pd.DataFrame, how: str) -> tuple[float, pd.Timestamp | None]:
    values = pd.to_numeric(history.get("value", pd.Series(dtype=float)), errors="coerce")
    values = values.dropna()
    if values.empty:
        return float("nan"), None
    idx = values.idxmin() if how == "min" else values.idxmax()
    start = history.loc[idx, "period_start"] if "period_start" in history.columns else None
    return float(values.loc[idx]), (pd.Timestamp(start) if start is not None else None)


class _Evaluator:
    """Computes (and caches) baseline statistics per KPI and scope for one data set."""

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        baseline_period: Period,
        freq: str = "month",
    ) -> None:
        self.df = df
        self.baseline_period = baseline_period
        self.freq = freq
        self._scoped: dict[Any, pd.DataFrame] = {}
        self._stats: dict[Any, _BaselineStats] = {}
        opened = df["opened_at"].dropna() if "opened_at" in df.columns else pd.Series(dtype=object)
        start = opened.min() if len(opened) else baseline_period.start
        start = min(pd.Timestamp(start), baseline_period.start)
        first_month = pd.Timestamp(start).tz_convert("UTC").tz_localize(None).to_period("M")
        start = first_month.to_timestamp().tz_localize("UTC")
        self.history_period = Period(min(start, baseline_period.start), baseline_period.end)

    @staticmethod
    def _key(scope: Mapping[str, Any] | None) -> tuple:
        if not scope:
            return ()
        return tuple(
            sorted((k, tuple(v) if isinstance(v, list) else (v,)) for k, v in scope.items())
        )

    def scoped(self, scope: Mapping[str, Any] | None) -> pd.DataFrame:
        key = self._key(scope)
        if key not in self._scoped:
            self._scoped[key] = self.df if not scope else _kpis().scope_filter(self.df, dict(scope))
        return self._scoped[key]

    def received_in_baseline(self, scope: Mapping[str, Any] | None) -> int:
        data = self.scoped(scope)
        return int(self.baseline_period.contains(data["opened_at"]).sum())

    def closed_in_baseline(self, scope: Mapping[str, Any] | None) -> pd.DataFrame:
        data = self.scoped(scope)
        mask = self.baseline_period.contains(data["closed_at"]) & data["outcome"].isin(
            CLOSED_OUTCOMES
        )
        return data[mask.fillna(False)]

    def stats(self, kpi_key: str, scope: Mapping[str, Any] | None) -> _BaselineStats:
        key = (kpi_key, self._key(scope))
        if key in self._stats:
            return self._stats[key]
        kpis = _kpis()
        data = self.scoped(scope)
        table = kpis.kpi_table(data, self.baseline_period, kpis=[kpi_key])
        row = table[table["kpi"] == kpi_key]
        value = float(row["value"].iloc[0]) if len(row) else float("nan")
        n = int(row["n"].fillna(0).iloc[0]) if len(row) and "n" in row.columns else 0
        history = kpis.kpi_series(data, self.history_period, freq=self.freq, kpis=[kpi_key])
        history = history[history["kpi"] == kpi_key].reset_index(drop=True)
        in_baseline = history["period_start"] >= self.baseline_period.start
        series = history[in_baseline].reset_index(drop=True)
        chart = None
        values = pd.Series(
            pd.to_numeric(series["value"], errors="coerce").to_numpy(dtype="float64"),
            index=pd.DatetimeIndex(series["period_start"]),
            name=kpi_key,
        )
        if values.notna().sum() >= 2:
            chart = _xmr(values, kpis.get_kpi(kpi_key).better)
        stats = _BaselineStats(
            series=series,
            history=history,
            chart=chart,
            value=value,
            n=n,
            lowest=_extreme(history, "min"),
            highest=_extreme(history, "max"),
        )
        self._stats[key] = stats
        return stats

    def context(self, target: Target) -> TargetContext:
        kpi = _get_kpi(target.kpi)
        if kpi is None:
            raise ConfigError(_unknown_kpi_message(target.kpi), column="kpi")
        st = self.stats(target.kpi, target.scope)
        tv = resolve_target_value(target, st.value)
        direction = _wanted_direction(target, st.value, tv)
        best_value, best_period = st.lowest if direction < 0 else st.highest
        return TargetContext(
            target=target,
            kpi=kpi,
            series=st.series,
            chart=st.chart,
            baseline_value=st.value,
            baseline_n=st.n,
            target_value=tv,
            best_value=best_value,
            best_period=best_period,
            centre=_limit(st.chart, "centre"),
            lower=_limit(st.chart, "lower"),
            upper=_limit(st.chart, "upper"),
            history=st.history,
        )


def _xmr(values: pd.Series, better: str) -> pd.DataFrame:
    from . import spc

    return spc.xmr(values, better=better)


def _wanted_direction(target: Target, baseline_value: float, target_value: float) -> int:
    """-1 when the target asks the KPI to go (or stay) down, +1 up; ``within`` from the baseline."""
    direction = _KIND_DIRECTION[target.kind]
    if direction == 0:
        if pd.isna(baseline_value) or pd.isna(target_value):
            return -1
        return -1 if baseline_value > target_value else 1
    return direction


def target_context(
    target: Target, *, df: pd.DataFrame, baseline_period: Period, freq: str = "month"
) -> TargetContext:
    """The baseline series, its XmR limits, the baseline value and the best month of a target.

    Parameters
    ----------
    target:
        The target (its KPI must be registered).
    df:
        The canonical request frame (all data; the best month is searched from
        its first month up to the end of the baseline).
    baseline_period:
        The baseline :class:`~csi_lib.periods.Period`.
    freq:
        ``"month"`` or ``"week"``: the series' frequency.

    Examples
    --------
    >>> ctx = target_context(target, df=df, baseline_period=cycle.baseline_period)  # doctest: +SKIP
    >>> ctx.baseline_value, ctx.target_value, ctx.lower, ctx.upper               # doctest: +SKIP
    (41.2, 28.0, 30.5, 52.1)
    """
    return _Evaluator(df, baseline_period=baseline_period, freq=freq).context(target)


# --------------------------------------------------------------------------- SMART letters


def _fmt(value: float, kpi: Any) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    decimals = int(getattr(kpi, "decimals", 1))
    if abs(value) < 3:  # small values (1.7 h) need a second decimal to tell them apart
        decimals = max(decimals, 2)
    unit = getattr(kpi, "unit", "")
    text = f"{value:,.{decimals}f}"
    return {"hours": f"{text} h", "%": f"{text}%"}.get(unit, text)


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
    return "pass", f"{kpi.label} ({target.kpi}) on {where}: {n:,} requests in the baseline"


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
    who = cov.who if cov else f"the requests with {column}"
    coverage_text = ""
    share = 1.0
    if column is not None:
        if column not in run.df.columns or run.df[column].isna().all():
            return "fail", f"the data has no {column} values, so {target.kpi} cannot be computed"
        closed = run.evaluator.closed_in_baseline(target.scope)
        if closed.empty:
            return (
                "fail",
                f"no request of the scope was closed in the baseline, so {column} cannot be checked",
            )
        share = float(closed[column].notna().mean())
        coverage_text = f"{column} is known for {share:.0%} of closed requests"
    st = run.evaluator.stats(target.kpi, target.scope)
    if st.n == 0 or pd.isna(st.value):
        return (
            "fail",
            f"{target.kpi} has no data in the baseline ({target.scope_text}): its population is empty",
        )
    if column is not None and share < run.min_coverage:
        return "warn", (
            f"The {column} column is missing for {1 - share:.0%} of closed requests; {target.kpi} "
            f"rests on the {share:.0%} that have it -- below {run.min_coverage:.0%} coverage, so "
            f"the result rests on {who} only"
        )
    tail = f"; {coverage_text}" if coverage_text else ""
    return "pass", f"computable on the baseline: {st.n:,} requests in its population{tail}"


def _letter_a(target: Target, run: _Run) -> tuple[str, str]:
    skipped = _not_checked(target, run)
    if skipped:
        return skipped
    ctx = run.evaluator.context(target)
    kpi = ctx.kpi
    base, tv = ctx.baseline_value, ctx.target_value
    if pd.isna(base) or pd.isna(tv):
        return "fail", "no baseline value to judge the target against"
    f = lambda v: _fmt(v, kpi)  # noqa: E731
    limits = f"{f(ctx.lower)} to {f(ctx.upper)}" if ctx.has_limits else None
    tol = target.tolerance
    if target_met(target.kind, base, tv, tol):
        if _KIND_DIRECTION[target.kind] == 0 or target.kind.startswith("maintain"):
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
                    f", but its natural process limits ({limits}) cross it, so some months may miss"
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
            return "pass", (
                f"inside the natural process limits ({limits}): achievable without changing the process"
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
            f"{beyond} but within the best month observed ({f(best)} in {_month(ctx.best_period)}): "
            "done before, though holding it needs a change to the process"
        )
    best_text = (
        f"best month {f(best)} in {_month(ctx.best_period)}"
        if not pd.isna(best)
        else "no month observed"
    )
    limit_text = (
        f"natural process limits {limits}" if limits else "too few months for process limits"
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
    >>> smart = smart_check(cycle.targets, df=cycle.data, baseline_period=cycle.baseline_period,
    ...                     cycle_end="2026-03-31", objectives={"O1", "O2"})   # doctest: +SKIP
    >>> smart.query("target == 'T1'")[["letter", "verdict"]].values.tolist()  # doctest: +SKIP
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
    >>> smart_table(smart).loc["T1", ["S", "A", "overall"]].tolist()   # doctest: +SKIP
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


def cycle_smart_check(cycle: Any, *, min_coverage: float = 0.8) -> pd.DataFrame:
    """:func:`smart_check` of a cycle's targets with the cycle's data, periods and objectives.

    The baseline is the cycle's (planned) baseline period, the cycle ends with
    its review period and the action period's first day is the T letter's
    reference.

    Examples
    --------
    >>> smart = cycle_smart_check(open_cycle("data/sample-cycle"))   # doctest: +SKIP
    """
    args = _cycle_arguments(cycle)
    return smart_check(cycle.targets, min_coverage=min_coverage, **args)


def cycle_target_contexts(cycle: Any) -> list[TargetContext]:
    """A :class:`TargetContext` per target of the cycle whose KPI is registered (file order).

    Examples
    --------
    >>> [c.target.id for c in cycle_target_contexts(cycle)]   # doctest: +SKIP
    ['T1', 'T2', 'T3', 'T4', 'T5']
    """
    args = _cycle_arguments(cycle)
    evaluator = _Evaluator(args["df"], baseline_period=args["baseline_period"], freq=args["freq"])
    return [
        evaluator.context(t) for t in _target_list(cycle.targets) if _get_kpi(t.kpi) is not None
    ]


def targets_table(targets: Any) -> pd.DataFrame:
    """The targets as a table for display, one row per target in file order.

    Returns
    -------
    pd.DataFrame
        Columns ``id``, ``kpi``, ``scope`` (in words), ``kind``, ``target``
        (the value, or the relative change such as ``-20%``, with the band of a
        ``within`` target), ``due``, ``objective``, ``owner``, ``note``.

    Examples
    --------
    >>> targets_table([Target(id="T3", kpi="assess_median_h", kind="minimize",
    ...                       change="-20%")])["target"].tolist()
    ['-20% on the baseline']
    """
    rows = []
    for t in _target_list(targets):
        wanted = f"{t.value:g}" if t.value is not None else f"{t.change} on the baseline"
        if t.tolerance is not None:
            wanted += f" +/- {t.tolerance:g}"
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
