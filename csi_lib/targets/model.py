"""The targets.yaml model: kinds, Target and TargetsFile, loading and checking the file, target values and the met rule of each kind."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .. import kinds as _kinds
from ..errors import ConfigError
from ..schema import CANONICAL_COLUMNS, COLUMNS, DIMENSION_COLUMNS
from ..yamlio import Problem, load_yaml, problems_error, require_unique_ids, validation_problems

Kind = Literal["minimize", "maximize", "maintain_above", "maintain_below", "within"]
Verdict = Literal["pass", "warn", "fail"]

#: The kinds of target, in the order they are offered.
KINDS: tuple[str, ...] = tuple(_kinds.KINDS)
#: The SMART letters, in order.
LETTERS: tuple[str, ...] = ("S", "M", "A", "R", "T")
#: Severity of a verdict (used to pick a target's overall verdict).
SEVERITY: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_CHANGE = re.compile(r"^([+-])(\d+(?:\.\d+)?)%$")
#: Requests in the baseline below which a scope is "thin" (S warns).
MIN_SCOPE_REQUESTS = 30

#: Direction each kind asks the KPI to move or stay (:mod:`csi_lib.kinds`).
_KIND_DIRECTION: dict[str, int] = {name: k.direction for name, k in _kinds.KINDS.items()}
_BETTER_DIRECTION: dict[str, int] = {"lower": -1, "higher": 1, "neither": 0}


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

#: What a column a KPI depends on holds, in words for the SMART reasons (readers see no
#: column names); a custom KPI's column is named as it is.
_COLUMN_WORDS: dict[str, str] = {
    "assessed_at": "the assessment time",
    "closed_at": "the closing time",
    "sla_met": "the SLA outcome",
    "sla_due_at": "the SLA due time",
    "csat": "the satisfaction score",
    "reopen_count": "the reopen count",
}


def _column_words(column: str) -> str:
    """``column`` as words: "the assessment time", or "the <name> column" for others."""
    return _COLUMN_WORDS.get(column, f"the {column} column")


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
    from .. import kpis

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

    Exactly one of ``value`` (absolute, in the KPI's unit: hours, %, score; a count
    per month or week, :func:`per_bin`) and ``change`` (relative to the baseline
    value, ``"-20%"``) is given.
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

    @field_validator("value", "tolerance", mode="before")
    @classmethod
    def _not_a_yes_or_no(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML's true/yes/on: a number of 1 or 0 is no target
            raise ValueError(
                f"{str(value).lower()} is not a number; give the value in the KPI's unit"
            )
        return value

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
        if _kinds.KINDS[self.kind].band and self.tolerance is None:
            raise ValueError("kind 'within' needs a 'tolerance' (the +/- band, in the KPI's unit)")
        if not _kinds.KINDS[self.kind].band and self.tolerance is not None:
            raise ValueError(f"'tolerance' only applies to kind 'within', not '{self.kind}'")
        self._value_in_range()
        return self

    def _value_in_range(self) -> None:
        """A value the KPI can never take (a share of 1e308 % or -50 %, a negative time)
        is refused, saying the KPI's possible range."""
        kpi = _get_kpi(self.kpi) if self.value is not None else None
        if kpi is None:
            return
        low, high = kpi.value_range
        if (low is None or self.value >= low) and (high is None or self.value <= high):
            return
        unit = f" {kpi.unit}" if kpi.unit else ""
        if low is not None and high is not None:
            possible = f"{low:g} to {high:g}{unit}"
        elif low is not None:
            possible = f"{low:g}{unit} or more"
        else:
            possible = f"up to {high:g}{unit}"
        raise ValueError(
            f"the value {self.value:g} is outside what {kpi.label} can be ({possible}); "
            "give the value to reach in the KPI's unit"
        )

    @property
    def relative_change(self) -> float | None:
        """The relative change in percent (``-20.0``), or None for an absolute target."""
        return None if self.change is None else parse_change(self.change)

    @property
    def scope_text(self) -> str:
        """The scope in words: ``"Category: Laptop"``, or ``"whole service"`` (:func:`scope_words`)."""
        return scope_words(self.scope)


def _scalar_text(dim: Any, val: Any) -> str:
    if isinstance(val, bool) or val is None or isinstance(val, Mapping | list | tuple):
        raise ValueError(
            f"the scope value of '{dim}' must be a text or a list of texts (got {val!r})"
        )
    return str(val)


def scope_words(scope: Mapping[str, Any] | None) -> str:
    """A target's scope as readers see it: each column by its label, its values joined by
    "or", columns by "; ".

    Examples
    --------
    >>> scope_words({"category": ["Laptop", "Phone"], "channel": "Portal"})
    'Category: Laptop or Phone; Channel: Portal'
    >>> scope_words({"cost_centre": "CC-12"}), scope_words(None)
    ('Cost centre: CC-12', 'whole service')
    """
    if not scope:
        return "whole service"
    parts = []
    for dim, val in scope.items():
        vals = val if isinstance(val, list) else [val]
        label = COLUMNS[dim].label if dim in COLUMNS else str(dim).replace("_", " ").capitalize()
        parts.append(f"{label}: {' or '.join(map(str, vals))}")
    return "; ".join(parts)


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
    >>> _ = (tmp / "targets.yaml").write_text(
    ...     "targets:\\n  - {id: T1, kpi: fulfil_median_h, kind: minimize, change: '20%', due: 2025-12-31}\\n")
    >>> model, problems = check_targets_file(tmp / "targets.yaml")
    >>> print(problems[0])  # doctest: +ELLIPSIS
    /...targets.yaml:2: targets[0].change: the change '20%' is not a signed percentage; ...
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
    ``change`` to the baseline value (NaN when the baseline is missing), which for a
    count is its mean per month or week (:func:`target_value_of`).

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
    """Whether ``value`` meets a target of ``kind`` (a missing value never does):
    :func:`csi_lib.kinds.met`, the one rule.

    Examples
    --------
    >>> target_met("minimize", 27.5, 28), target_met("within", 4.4, 4.0, 0.3)
    (True, False)
    """
    if kind not in _kinds.KINDS:
        raise ConfigError(f"unknown target kind '{kind}'", hint="use one of " + ", ".join(KINDS))
    return _kinds.met(kind, value, target_value, tolerance)


# --------------------------------------------------------------------------- counts: per bin


def per_bin(kpi: Any) -> bool:
    """Whether a target on ``kpi`` is valued per bin of the cycle's series: a count KPI
    (kind ``"count"``: received, fulfilled, declined, cancelled, a custom count or sum).

    A count over a period grows with the period's length, so a target on it is a count
    per month (or per week, the cycle's ``freq``): the unit the target chart plots and
    the natural process limits describe, the same for a baseline of six months and a
    review of three. Every other KPI (a median, a share, a mean, the backlog, a stock
    counted at one instant) is valued over the whole period.

    Examples
    --------
    >>> from csi_lib.kpis import get_kpi
    >>> per_bin(get_kpi("declined")), per_bin(get_kpi("pct_declined")), per_bin(get_kpi("backlog"))
    (True, False, False)
    """
    return getattr(kpi, "kind", None) == "count"


def bin_mean(series: pd.DataFrame) -> float:
    """The mean of ``value`` over the bins of ``series`` that are not ``partial`` (a month or
    week cut short by its period or not over yet takes no part); NaN when there is none.
    Over a baseline this is the XmR chart's centre line.

    Examples
    --------
    >>> bin_mean(pd.DataFrame({"value": [70.0, 90.0, 12.0], "partial": [False, False, True]}))
    80.0
    """
    values = _complete_values(series).dropna()
    return float(values.mean()) if len(values) else float("nan")


def _complete_values(series: pd.DataFrame) -> pd.Series:
    """``value`` of the bins of ``series`` that are not ``partial``, as floats."""
    values = pd.to_numeric(series.get("value", pd.Series(dtype=float)), errors="coerce")
    if "partial" in series.columns:
        values = values[~series["partial"].to_numpy(dtype=bool)]
    return values


def count_per_bin(series: pd.DataFrame) -> float:
    """A count per bin over the complete bins of ``series`` (every bin of a period, as
    :func:`csi_lib.kpis.kpi_series` gives them, with a ``partial`` column): their count
    divided by their number. A complete bin with no request in the count's population
    (no closure in a month, for ``declined``) counts 0, as the count over the bins
    counts it; NaN when no complete bin has one (the count over them is missing) or
    there is no complete bin.

    It differs from :func:`bin_mean` (the chart's centre line, over the bins that have a
    value) only where a complete bin has none: 0, 7 and 8 declined over three months is
    5 a month, whether the first month closed nothing or closed only fulfilled requests.

    Examples
    --------
    >>> months = pd.DataFrame({"value": [float("nan"), 7.0, 8.0, 3.0],
    ...                        "partial": [False, False, False, True]})
    >>> count_per_bin(months), bin_mean(months)
    (5.0, 7.5)
    """
    values = _complete_values(series)
    if not len(values) or values.isna().all():
        return float("nan")
    return float(values.fillna(0.0).sum() / len(values))


def target_value_of(kpi: Any, whole: float, series: pd.DataFrame) -> float:
    """The value of a period for a target on ``kpi``: the KPI over the whole period
    (``whole``), or for a count (:func:`per_bin`) the count per bin over the period's
    complete bins (:func:`count_per_bin` of its ``series``, every bin of the period with
    a ``partial`` column): the same per-bin value the breakdown of where a change came
    from divides out, and a complete bin with none of the count's requests counts 0, as
    stage 5's count per day counts its weeks.

    The one rule every stage values a target's period by (the baseline a relative change
    applies to, the SMART check's A, the gap, met or not, the history, the what-if).

    Examples
    --------
    >>> from csi_lib.kpis import get_kpi
    >>> months = pd.DataFrame({"value": [101.0, 70.0, 76.0], "partial": [False, False, False]})
    >>> round(target_value_of(get_kpi("declined"), 247.0, months), 2)
    82.33
    >>> target_value_of(get_kpi("fulfil_median_h"), 41.8, months)
    41.8
    """
    return count_per_bin(series) if per_bin(kpi) else float(whole)


def period_target_value(
    df: pd.DataFrame,
    period: Any,
    kpi: Any,
    freq: str = "month",
    *,
    complete_until: pd.Timestamp | None = None,
) -> tuple[float, int]:
    """A target's KPI over ``period`` (:func:`target_value_of`) and the size of its
    population over the whole period.

    Parameters
    ----------
    df:
        The canonical request frame, the target's scope applied.
    period:
        The :class:`~csi_lib.periods.Period`.
    kpi:
        The :class:`~csi_lib.kpis.KPI`.
    freq:
        ``"month"`` or ``"week"``: the bins a count is valued per.
    complete_until:
        Where complete bins end (the as-of cut or the end of the data); bins ending later,
        or cut short by the period, take no part. Default: the period's end.

    Returns
    -------
    (value, n)
        In the KPI's unit (a count: per month or week); NaN and 0 without data.
    """
    from ..periods import partial_bins

    kpis = _kpis()
    table = kpis.kpi_table(df, period, kpis=[kpi.key])
    if table.empty:
        return float("nan"), 0
    whole, n = float(table["value"].iloc[0]), table["n"].iloc[0]
    series = pd.DataFrame()
    if per_bin(kpi):
        series = kpis.kpi_series(df, period, freq=freq, kpis=[kpi.key])
        until = period.end if complete_until is None else min(period.end, complete_until)
        series = series.assign(
            partial=partial_bins(
                series["period_start"], series["period_end"], freq,
                complete_until=until, tz=period.tz,
            )
        )  # fmt: skip
    return target_value_of(kpi, whole, series), int(0 if pd.isna(n) else n)


def complete_bins(
    period: Any, freq: str = "month", complete_until: pd.Timestamp | None = None
) -> tuple[Any, int]:
    """The part of ``period`` made of its complete months or weeks and how many there are:
    ``(Period, n)``, or ``(None, 0)`` without one. A bin cut short by the period or ending
    after ``complete_until`` is partial; partial bins only sit at the ends, so the complete
    ones are one span. A count over that span divided by ``n`` is its mean per bin.

    Examples
    --------
    >>> from csi_lib.periods import Period
    >>> span, n = complete_bins(Period.from_dates("2025-01-15", "2025-06-30"))
    >>> span.label, n
    ('2025-02-01 to 2025-06-30', 5)
    """
    from ..periods import Period, partial_bins, period_edges

    edges = period_edges(period, freq)
    starts, ends = edges[:-1], edges[1:]
    until = period.end if complete_until is None else min(period.end, complete_until)
    partial = partial_bins(starts, ends, freq, complete_until=until, tz=period.tz)
    whole = [(a, b) for a, b, cut in zip(starts, ends, partial, strict=True) if not cut]
    if not whole:
        return None, 0
    return Period(whole[0][0], whole[-1][1], period.tz), len(whole)


def value_unit(kpi: Any, freq: str = "month") -> str:
    """The unit a target on ``kpi`` is valued in, in words: the KPI's unit, and for a count
    per month or week ("requests a month").

    Examples
    --------
    >>> from csi_lib.kpis import get_kpi
    >>> value_unit(get_kpi("declined"), "week"), value_unit(get_kpi("fulfil_median_h"))
    ('requests a week', 'hours')
    """
    from ..periods import period_word

    unit = str(getattr(kpi, "unit", "") or "")
    if not per_bin(kpi):
        return unit
    return f"{unit} a {period_word(freq)}".strip()


def format_target_value(
    value: float | None, kpi: Any, freq: str = "month", decimals: int | None = None
) -> str:
    """A value of a target's KPI with its unit: :func:`csi_lib.tables.format_value`, and for
    a count per month or week with one decimal and the unit in words ("80.2 requests a
    month"); an em dash when missing.

    Examples
    --------
    >>> from csi_lib.kpis import get_kpi
    >>> format_target_value(80.1666, get_kpi("declined")), format_target_value(41.83, get_kpi("fulfil_median_h"))
    ('80.2 requests a month', '41.8 h')
    """
    from ..tables import format_value

    if not per_bin(kpi):
        d = int(getattr(kpi, "decimals", 1)) if decimals is None else decimals
        return format_value(value, getattr(kpi, "unit", ""), d)
    if value is None or pd.isna(value):
        return "—"
    d = 1 if decimals is None else decimals
    return f"{value:,.{d}f} {value_unit(kpi, freq)}"
