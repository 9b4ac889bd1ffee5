"""The KPI model (key, label, unit, better direction, population, measure, aggregation), the built-in measures and the registry."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError

#: Who is better: a higher value, a lower value, or neither (demand).
BETTER: tuple[str, ...] = ("higher", "lower", "neither")
#: Populations a KPI is computed over (see the module docstring).
POPULATIONS: tuple[str, ...] = ("received", "closed", "assessed", "open_at_end")
#: Kinds of KPI; the kind chooses the statistical method of stage 5 (csi_lib.evidence):
#: a stock (counted at one instant, like the backlog) is judged by its chart alone.
KINDS: tuple[str, ...] = ("count", "proportion", "duration", "score", "ratio", "stock")
#: What the method of each kind compares, so the aggregations it fits (``pNN``: any
#: percentile): a count per day (of the requests counted, or of a sum), a share in
#: percentage points, a duration's median, percentile or mean in hours, a score's mean.
#: A stock (``open_at_end``) or a ratio (``agg="func"``) is judged by its chart, whatever
#: its kind and aggregation.
KIND_AGGS: dict[str, tuple[str, ...]] = {
    "count": ("count", "sum"),
    "proportion": ("pct",),
    "duration": ("median", "pNN", "mean"),
    "score": ("mean",),
}
#: Usual units (free text is accepted for custom KPIs).
UNITS: tuple[str, ...] = ("requests", "%", "hours", "ratio", "score")
#: Label of the group of rows whose breakdown column is missing.
MISSING_GROUP = "(missing)"

_FIXED_AGGS: dict[str, float | None] = {
    "count": None,
    "sum": None,
    "pct": None,
    "mean": None,
    "median": 0.5,
    "p90": 0.9,
    "func": None,
}
_PCTL = re.compile(r"^p([1-9][0-9]?)$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_NAT = np.iinfo(np.int64).min
_MAX = np.iinfo(np.int64).max
_HOUR = pd.Timedelta(hours=1)


def _quantile_of(agg: str) -> float | None:
    """The quantile an aggregation stands for (``median`` = 0.5, ``p90`` = 0.9, ``p75`` = 0.75)."""
    if agg in _FIXED_AGGS:
        return _FIXED_AGGS[agg]
    m = _PCTL.match(agg)
    return int(m.group(1)) / 100 if m else None


Measure = Callable[[pd.DataFrame], pd.Series]

#: The values a KPI of each usual unit can take (``KPI.value_range``).
_UNIT_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "%": (0.0, 100.0),
    "score": (1.0, 5.0),
    "requests": (0.0, None),
    "hours": (0.0, None),
    "ratio": (0.0, None),
}
CountsFunc = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class KPI:
    """A key performance indicator, declared as data.

    Parameters
    ----------
    key:
        Identifier (lower case, digits, underscores), e.g. ``"fulfil_median_h"``.
    label:
        Human label for charts and reports.
    unit:
        ``"requests"``, ``"%"``, ``"hours"``, ``"ratio"``, ``"score"`` (or free text).
    better:
        ``"higher"``, ``"lower"`` or ``"neither"``.
    population:
        ``"received"`` (opened in the period), ``"closed"`` (closed in the period with a
        closed outcome), ``"assessed"`` (assessed in the period) or ``"open_at_end"``
        (opened before the bin end; the rows still open at the end are the matches).
    measure:
        Row-wise function of the frame returning one value per row (bool, number,
        NaN for unknown); ``None`` counts every population row.
    agg:
        ``"count"`` (rows whose measure is true), ``"sum"``, ``"pct"`` (100 * share
        true), ``"mean"``, ``"median"``, ``"p90"`` / ``"pNN"``, or ``"func"``.
    kind:
        ``"count"``, ``"proportion"``, ``"duration"``, ``"score"``, ``"ratio"`` or
        ``"stock"`` (counted at one instant: no two-sample test, the chart decides);
        it chooses the method of stage 5 (``csi_lib.evidence``), so it must fit
        ``agg`` (:data:`KIND_AGGS`: a count by count or sum, a proportion by pct, a
        duration in hours by median, percentile or mean, a score by mean).
    description:
        One sentence with the exact definition.
    decimals:
        Decimals to show.
    func:
        Escape hatch for KPIs combining populations (``agg="func"``): receives the
        population sizes per cell (``{"received": array, "closed": ..., "assessed": ...}``)
        and returns the values, e.g. ``throughput_ratio`` = closed / received.
    requires:
        The optional canonical columns the measure rests on: when none of them holds a
        single value in the data, the KPI is *not measured* there (no SLA column, no
        survey), which every stage says in words instead of showing an empty value.
    bounds:
        The lowest and highest value the KPI can take (None: no bound); by default
        from the unit: 0..100 for ``%``, 1..5 for ``score``, at least 0 for
        ``requests``, ``hours`` and ``ratio``. Process limits are clipped to them.
    relational:
        The same measure as a relational expression, for the SQL engines
        (:mod:`csi_lib.engines`: DuckDB, PostgreSQL, Spark): a function of an Ibis table
        with the canonical columns (plus ``bin_end`` for ``open_at_end`` and
        ``csat_in_data``, true when any request of the data has a score) returning one
        value per row, e.g. ``lambda t: t.outcome == "fulfilled"``. A KPI without one
        runs on the pandas engine only (``measure=None`` needs none).
    """

    key: str
    label: str
    unit: str
    better: str
    population: str
    measure: Measure | None
    agg: str
    kind: str
    description: str
    decimals: int = 1
    func: CountsFunc | None = field(default=None, compare=False)
    requires: tuple[str, ...] = ()
    bounds: tuple[float | None, float | None] | None = None
    relational: Callable[[Any], Any] | None = field(default=None, compare=False)

    @property
    def value_range(self) -> tuple[float | None, float | None]:
        """``(lowest, highest)`` value the KPI can take (None: unbounded); see ``bounds``."""
        if self.bounds is not None:
            return self.bounds
        return _UNIT_BOUNDS.get(self.unit, (None, None))

    def _kind_problems(self) -> list[str]:
        """Why the kind does not fit the aggregation or the unit: stage 5's method would
        compare another quantity than the KPI (see :data:`KIND_AGGS`)."""
        if self.population == "open_at_end" or self.agg == "func" or self.kind not in KIND_AGGS:
            return []
        agg = "pNN" if _PCTL.match(str(self.agg)) else self.agg
        fits = KIND_AGGS[self.kind]
        problems = []
        if agg not in fits and (agg in _FIXED_AGGS or agg == "pNN"):
            words = [f'"{a}"' if a != "pNN" else "a percentile (pNN)" for a in fits]
            allowed = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
            problems.append(
                f'a KPI of kind "{self.kind}" aggregates by {allowed}, which stage 5 compares, '
                f'not by "{self.agg}"'
            )
        if self.kind == "duration" and self.unit != "hours":
            problems.append(f'a duration is in hours: unit must be "hours", not "{self.unit}"')
        return problems

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.key, str) or not _KEY.match(self.key):
            problems.append("key must be lower case letters, digits and underscores")
        for name, allowed in (
            ("better", BETTER),
            ("population", POPULATIONS),
            ("kind", KINDS),
        ):
            if getattr(self, name) not in allowed:
                problems.append(f"{name} must be one of {', '.join(allowed)}")
        if self.agg not in _FIXED_AGGS and _quantile_of(self.agg) is None:
            problems.append(
                "agg must be one of count, sum, pct, mean, median, p90, pNN (a percentile) or func"
            )
        if (self.agg == "func") != (self.func is not None):
            problems.append('agg "func" and a func go together')
        if self.agg not in ("count", "func") and self.measure is None:
            problems.append(f'agg "{self.agg}" needs a measure')
        problems += self._kind_problems()
        if problems:
            raise ConfigError(
                f"KPI '{self.key}' is not valid: " + "; ".join(problems),
                hint="see csi_lib.kpis (module docstring) for an example",
            )


# --------------------------------------------------------------------------- measures
# Row-wise measures of the built-in KPIs (module-level so that KPIs sharing a
# measure share its computation).


def is_fulfilled(df: pd.DataFrame) -> pd.Series:
    """True where the outcome is fulfilled."""
    return df["outcome"] == "fulfilled"


def is_declined(df: pd.DataFrame) -> pd.Series:
    """True where the outcome is declined."""
    return df["outcome"] == "declined"


def is_cancelled(df: pd.DataFrame) -> pd.Series:
    """True where the outcome is cancelled."""
    return df["outcome"] == "cancelled"


def assess_hours(df: pd.DataFrame) -> pd.Series:
    """Hours from opened_at to assessed_at (NaN if not assessed)."""
    return (df["assessed_at"] - df["opened_at"]) / _HOUR


def fulfil_hours(df: pd.DataFrame) -> pd.Series:
    """Hours from opened_at to closed_at for fulfilled requests (NaN otherwise)."""
    hours = (df["closed_at"] - df["opened_at"]) / _HOUR
    return hours.where(df["outcome"] == "fulfilled")


def sla_met(df: pd.DataFrame) -> pd.Series:
    """sla_met as given; where missing, closed_at <= sla_due_at if both are known."""
    given = df["sla_met"].astype("boolean")
    if not given.isna().any():
        return given
    derived = (df["closed_at"] <= df["sla_due_at"]).astype("boolean")
    derived[df["closed_at"].isna() | df["sla_due_at"].isna()] = pd.NA
    return given.fillna(derived)


def csat_score(df: pd.DataFrame) -> pd.Series:
    """The survey score 1..5 (NaN = no answer)."""
    return df["csat"]


def is_satisfied(df: pd.DataFrame) -> pd.Series:
    """True where csat >= 4, NaN where there is no score."""
    return (df["csat"] >= 4).astype("float64").where(df["csat"].notna())


def has_csat(df: pd.DataFrame) -> pd.Series:
    """True where the request has a survey score; unknown (NaN) everywhere when no row has one.

    Data without any survey score (no survey column, or an empty one) does not
    measure the response rate: it is missing ("not measured"), not 0 %.
    """
    scored = df["csat"].notna()
    if not scored.any():
        return pd.Series(np.nan, index=df.index, dtype="float64")
    return scored


def is_reopened(df: pd.DataFrame) -> pd.Series:
    """True where reopen_count > 0, NA where reopen_count is unknown."""
    return df["reopen_count"].astype("Int64") > 0


def _throughput(counts: Mapping[str, np.ndarray]) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return counts["closed"] / counts["received"]


_BUILTIN: tuple[KPI, ...] = (
    KPI("received", "Requests received", "requests", "neither", "received", None, "count",
        "count", "Requests with opened_at in the period.", 0),
    KPI("fulfilled", "Requests fulfilled", "requests", "higher", "closed", is_fulfilled,
        "count", "count", "Requests with outcome fulfilled, closed in the period.", 0),
    KPI("declined", "Requests declined", "requests", "lower", "closed", is_declined, "count",
        "count", "Requests with outcome declined, closed in the period.", 0),
    KPI("cancelled", "Requests cancelled", "requests", "lower", "closed", is_cancelled,
        "count", "count", "Requests with outcome cancelled, closed in the period.", 0),
    KPI("pct_fulfilled", "Fulfilled share of closed", "%", "higher", "closed", is_fulfilled,
        "pct", "proportion", "100 * fulfilled / closed in the period."),
    KPI("pct_declined", "Declined share of closed", "%", "lower", "closed", is_declined,
        "pct", "proportion", "100 * declined / closed in the period."),
    KPI("backlog", "Backlog at end", "requests", "lower", "open_at_end", None, "count",
        "stock", "Requests opened before the end and not closed before the end.", 0),
    KPI("throughput_ratio", "Throughput ratio", "ratio", "higher", "received", None, "func",
        "ratio", "Requests closed in the period / requests received in the period.", 2,
        func=_throughput),
    KPI("assess_median_h", "Median time to assess", "hours", "lower", "assessed",
        assess_hours, "median", "duration",
        "Median of assessed_at - opened_at (hours), over requests assessed in the period.", requires=("assessed_at",)),
    KPI("assess_p90_h", "90th percentile time to assess", "hours", "lower", "assessed",
        assess_hours, "p90", "duration",
        "90th percentile of assessed_at - opened_at (hours), over requests assessed in the period.", requires=("assessed_at",)),
    KPI("fulfil_median_h", "Median time to fulfil", "hours", "lower", "closed", fulfil_hours,
        "median", "duration",
        "Median of closed_at - opened_at (hours), over fulfilled requests closed in the period."),
    KPI("fulfil_p90_h", "90th percentile time to fulfil", "hours", "lower", "closed",
        fulfil_hours, "p90", "duration",
        "90th percentile of closed_at - opened_at (hours), over fulfilled requests closed in the period."),
    KPI("fulfil_mean_h", "Mean time to fulfil", "hours", "lower", "closed", fulfil_hours,
        "mean", "duration",
        "Mean of closed_at - opened_at (hours), over fulfilled requests closed in the period."),
    KPI("pct_within_sla", "Closed within SLA", "%", "higher", "closed", sla_met, "pct",
        "proportion",
        "100 * share with sla_met true, over requests closed in the period whose sla_met is known.", requires=("sla_met", "sla_due_at")),
    KPI("csat_mean", "Mean satisfaction", "score", "higher", "closed", csat_score, "mean",
        "score", "Mean csat (1..5) over requests closed in the period with a score.", 2, requires=("csat",)),
    KPI("pct_satisfied", "Satisfied (score 4 or 5)", "%", "higher", "closed", is_satisfied,
        "pct", "proportion",
        "100 * share with csat >= 4, over requests closed in the period with a score.", requires=("csat",)),
    KPI("csat_response_rate", "Survey response rate", "%", "higher", "closed", has_csat,
        "pct", "proportion", "100 * requests with a score / requests closed in the period.", requires=("csat",)),
    KPI("pct_reopened", "Reopened", "%", "lower", "closed", is_reopened, "pct", "proportion",
        "100 * share with reopen_count > 0, over requests closed in the period whose "
        "reopen_count is known.", requires=("reopen_count",)),
)  # fmt: skip

# --------------------------------------------------------------------------- relational
# The same measures over an Ibis table (csi_lib.engines compiles them to DuckDB,
# PostgreSQL and Spark SQL); ibis is imported when an engine calls them, never here.


def _hours(t: Any, start: str, end: str) -> Any:
    """Hours from ``start`` to ``end`` (seconds since the epoch as floats, then / 3600)."""
    seconds = t[end].epoch_seconds().cast("float64") - t[start].epoch_seconds().cast("float64")
    return seconds / 3600.0


def is_fulfilled_sql(t: Any) -> Any:
    """:func:`is_fulfilled` in SQL."""
    return t.outcome == "fulfilled"


def is_declined_sql(t: Any) -> Any:
    """:func:`is_declined` in SQL."""
    return t.outcome == "declined"


def is_cancelled_sql(t: Any) -> Any:
    """:func:`is_cancelled` in SQL."""
    return t.outcome == "cancelled"


def assess_hours_sql(t: Any) -> Any:
    """:func:`assess_hours` in SQL (NULL if not assessed)."""
    return _hours(t, "opened_at", "assessed_at")


def fulfil_hours_sql(t: Any) -> Any:
    """:func:`fulfil_hours` in SQL (NULL unless fulfilled)."""
    import ibis

    return ibis.ifelse(t.outcome == "fulfilled", _hours(t, "opened_at", "closed_at"), None)


def sla_met_sql(t: Any) -> Any:
    """:func:`sla_met` in SQL: given, else closed_at <= sla_due_at (NULL if either is)."""
    return t.sla_met.coalesce(t.closed_at <= t.sla_due_at)


def csat_score_sql(t: Any) -> Any:
    """:func:`csat_score` in SQL."""
    return t.csat


def is_satisfied_sql(t: Any) -> Any:
    """:func:`is_satisfied` in SQL (NULL without a score)."""
    return t.csat >= 4


def has_csat_sql(t: Any) -> Any:
    """:func:`has_csat` in SQL: NULL everywhere when no request of the data has a score."""
    import ibis

    return ibis.ifelse(t.csat_in_data, t.csat.notnull(), None)


def is_reopened_sql(t: Any) -> Any:
    """:func:`is_reopened` in SQL (NULL where reopen_count is unknown)."""
    return t.reopen_count > 0


_RELATIONAL: dict[Callable[..., Any], Callable[[Any], Any]] = {
    is_fulfilled: is_fulfilled_sql,
    is_declined: is_declined_sql,
    is_cancelled: is_cancelled_sql,
    assess_hours: assess_hours_sql,
    fulfil_hours: fulfil_hours_sql,
    sla_met: sla_met_sql,
    csat_score: csat_score_sql,
    is_satisfied: is_satisfied_sql,
    has_csat: has_csat_sql,
    is_reopened: is_reopened_sql,
}
# each built-in measure beside its relational definition
_BUILTIN = tuple(
    replace(k, relational=_RELATIONAL[k.measure]) if k.measure is not None else k for k in _BUILTIN
)

#: The catalogue: KPI key -> :class:`KPI`, built-ins first, then registered ones.
REGISTRY: dict[str, KPI] = {k.key: k for k in _BUILTIN}


def register_kpi(kpi: KPI, *, replace: bool = False) -> KPI:
    """Add a user KPI to the catalogue, so every stage treats it like a built-in one.

    Parameters
    ----------
    kpi:
        The KPI (validated when it is built).
    replace:
        Replace a KPI registered under the same key (refused otherwise).

    Returns
    -------
    KPI
        The registered KPI.

    Examples
    --------
    >>> p1 = register_kpi(KPI("pct_p1_requests", "P1 share", "%", "lower", "received",
    ...     lambda d: d["priority"] == "1 - Critical", "pct", "proportion",
    ...     "100 * share of requests received with priority P1"))
    >>> kpi_catalogue().set_index("key").loc["pct_p1_requests", ["label", "unit"]].tolist()
    ['P1 share', '%']
    >>> register_kpi(p1)
    Traceback (most recent call last):
    ...
    csi_lib.errors.ConfigError: a KPI with key 'pct_p1_requests' is registered already. ...
    """
    if not isinstance(kpi, KPI):
        raise ConfigError(
            f"register_kpi expects a KPI, got {type(kpi).__name__}",
            hint="build it with csi_lib.kpis.KPI(...)",
        )
    if kpi.key in REGISTRY and not replace:
        raise ConfigError(
            f"a KPI with key '{kpi.key}' is registered already",
            hint="choose another key or pass replace=True",
        )
    REGISTRY[kpi.key] = kpi
    return kpi


def get_kpi(key: str | KPI) -> KPI:
    """The KPI registered under ``key`` (a :class:`KPI` is returned as is).

    Raises
    ------
    ConfigError
        Unknown key; the message lists the known keys and the closest match.
    """
    if isinstance(key, KPI):
        return key
    if key in REGISTRY:
        return REGISTRY[key]
    close = difflib.get_close_matches(str(key), list(REGISTRY), n=1)
    hint = (f"did you mean '{close[0]}'? " if close else "") + "known KPIs: " + ", ".join(REGISTRY)
    raise ConfigError(f"unknown KPI '{key}'", column="kpi", hint=hint)


def kpi_catalogue() -> pd.DataFrame:
    """The catalogue as a table: key, label, unit, better, kind, population, agg, decimals, description.

    Examples
    --------
    >>> kpi_catalogue().set_index("key").loc["backlog", "better"]
    'lower'
    """
    cols = (
        "key",
        "label",
        "unit",
        "better",
        "kind",
        "population",
        "agg",
        "decimals",
        "description",
    )
    return pd.DataFrame([{c: getattr(k, c) for c in cols} for k in REGISTRY.values()],
                        columns=list(cols))  # fmt: skip


def _resolve_kpis(kpis: str | KPI | Iterable[str | KPI] | None) -> list[KPI]:
    if kpis is None:
        return list(REGISTRY.values())
    if isinstance(kpis, str | KPI):
        kpis = [kpis]
    out = [get_kpi(k) for k in kpis]
    if not out:
        raise ConfigError("no KPI asked for", hint="pass kpis=None for the whole catalogue")
    return out
