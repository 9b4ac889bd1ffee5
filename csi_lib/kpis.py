"""The KPI catalogue and the vectorised engine that computes it.

A KPI is *data*: a :class:`KPI` record says which population of requests it is
computed over (``received``, ``closed``, ``assessed`` or ``open_at_end``), the
per-request ``measure`` and how it is aggregated (``count``, ``sum``, ``pct``,
``mean``, ``median``, ``p90`` or any ``pNN`` percentile). The 18 built-in KPIs
of DESIGN.md ("KPI catalogue") are declared that way in :data:`REGISTRY`; one
engine computes any of them overall, per period bin (``freq``) and per group
(``by``), so every stage of the cycle treats a built-in KPI and a user's own
KPI alike.

Semantics (DESIGN.md): a period is ``[start, end)`` in UTC. "Closed in the
period" means ``closed_at`` in the period *and* an outcome in
``CLOSED_OUTCOMES``. Durations are hours, percentages 0..100, quantiles use
linear interpolation. A KPI over an empty population is ``NaN`` (never 0,
never an error); a count over a non-empty population without a match is 0.
Percentages, means and percentiles are over the rows whose measure is known
(``sla_met``, ``csat``, ``reopen_count`` missing = not counted). The ``n`` of
a result is the size of the KPI's population in that cell: the rows whose
measure is known (all population rows for counts), and for ``backlog``
(population ``open_at_end``) the requests opened before the bin's end.

Registering your own KPI
------------------------
Write the measure as a row-wise function of the canonical frame (it receives
the whole frame and returns one value per row, aligned on its index; the
engine keeps the rows of the KPI's population), then register it::

    >>> from csi_lib.kpis import KPI, register_kpi, kpi_table
    >>> def is_p1(df):
    ...     return df["priority"] == "P1"          # True/False per request
    >>> register_kpi(KPI(                            # doctest: +SKIP
    ...     key="pct_p1_requests", label="P1 share of demand", unit="%",
    ...     better="lower", population="received", measure=is_p1, agg="pct",
    ...     kind="proportion",
    ...     description="100 * share of requests received in the period with priority P1",
    ... ))
    >>> kpi_table(df, period, by="category")         # doctest: +SKIP

From then on ``pct_p1_requests`` appears in :func:`kpi_catalogue`,
:func:`kpi_table`, :func:`kpi_series`, :func:`breakdown`, snapshots and
targets. A measure returning ``NaN``/``NA`` for a row leaves that row out of
``pct``/``mean``/percentile KPIs. For the ``open_at_end`` population the
measure receives the rows still open at each bin's end with an extra
``bin_end`` column (e.g. ``(df["bin_end"] - df["opened_at"]) / pd.Timedelta(hours=1)``
for the age of the backlog).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError
from .periods import Freq, Period, period_edges
from .schema import CANONICAL_COLUMNS, CLOSED_OUTCOMES, COLUMNS, DIMENSION_COLUMNS

__all__ = [
    "KPI",
    "REGISTRY",
    "register_kpi",
    "get_kpi",
    "kpi_catalogue",
    "kpi_values",
    "kpi_table",
    "kpi_series",
    "breakdown",
    "observations",
    "scope_filter",
    "MISSING_GROUP",
]

#: Who is better: a higher value, a lower value, or neither (demand).
BETTER: tuple[str, ...] = ("higher", "lower", "neither")
#: Populations a KPI is computed over (see the module docstring).
POPULATIONS: tuple[str, ...] = ("received", "closed", "assessed", "open_at_end")
#: Kinds of KPI; the kind chooses the statistical test of stage 5.
KINDS: tuple[str, ...] = ("count", "proportion", "duration", "score", "ratio")
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
        ``"count"``, ``"proportion"``, ``"duration"``, ``"score"`` or ``"ratio"``.
    description:
        One sentence with the exact definition.
    decimals:
        Decimals to show.
    func:
        Escape hatch for KPIs combining populations (``agg="func"``): receives the
        population sizes per cell (``{"received": array, "closed": ..., "assessed": ...}``)
        and returns the values, e.g. ``throughput_ratio`` = closed / received.
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
        "count", "Requests opened before the end and not closed before the end.", 0),
    KPI("throughput_ratio", "Throughput ratio", "ratio", "higher", "received", None, "func",
        "ratio", "Requests closed in the period / requests received in the period.", 2,
        func=_throughput),
    KPI("assess_median_h", "Median time to assess", "hours", "lower", "assessed",
        assess_hours, "median", "duration",
        "Median of assessed_at - opened_at (hours), over requests assessed in the period."),
    KPI("assess_p90_h", "90th percentile time to assess", "hours", "lower", "assessed",
        assess_hours, "p90", "duration",
        "90th percentile of assessed_at - opened_at (hours), over requests assessed in the period."),
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
        "100 * share with sla_met true, over requests closed in the period whose sla_met is known."),
    KPI("csat_mean", "Mean satisfaction", "score", "higher", "closed", csat_score, "mean",
        "score", "Mean csat (1..5) over requests closed in the period with a score.", 2),
    KPI("pct_satisfied", "Satisfied (csat >= 4)", "%", "higher", "closed", is_satisfied,
        "pct", "proportion",
        "100 * share with csat >= 4, over requests closed in the period with a score."),
    KPI("csat_response_rate", "Survey response rate", "%", "higher", "closed", has_csat,
        "pct", "proportion", "100 * requests with a score / requests closed in the period."),
    KPI("pct_reopened", "Reopened", "%", "lower", "closed", is_reopened, "pct", "proportion",
        "100 * share with reopen_count > 0, over requests closed in the period whose "
        "reopen_count is known."),
)  # fmt: skip

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
    >>> register_kpi(KPI("pct_p1_requests", "P1 share", "%", "lower", "received",
    ...     lambda d: d["priority"] == "P1", "pct", "proportion",
    ...     "100 * share of requests received with priority P1"))  # doctest: +SKIP
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


# --------------------------------------------------------------------------- data access


def _available_dimensions(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c in DIMENSION_COLUMNS or c not in COLUMNS]


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Check the required columns; add missing optional canonical columns (all missing)."""
    for name in ("opened_at", "outcome"):
        if name not in df.columns:
            raise InputError(
                "the request data has no such column, which the KPIs need",
                column=name,
                hint="load the data with csi_lib.sources.load_requests or map this column",
            )
    missing = [c for c in CANONICAL_COLUMNS if c.name not in df.columns]
    if not missing:
        return df
    extra = {}
    for c in missing:
        dtype = "datetime64[ns, UTC]" if c.dtype == "datetime" else c.dtype
        extra[c.name] = pd.Series(pd.NA if dtype != "float64" else np.nan, index=df.index).astype(
            dtype
        )
    return df.assign(**extra)


def _ns(df: pd.DataFrame, column: str) -> np.ndarray:
    """A datetime column as int64 nanoseconds since the epoch (UTC); NaT = int64 min."""
    s = df[column]
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, utc=True)
    return s.array.as_unit("ns").asi8


def _as_float(values: object, kpi: KPI, length: int) -> np.ndarray:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if len(s) != length:
        raise ConfigError(
            f"the measure of KPI '{kpi.key}' returned {len(s)} values for {length} rows",
            hint="a measure must return one value per row of the frame it gets",
        )
    return s.to_numpy(dtype="float64", na_value=np.nan)


def scope_filter(
    df: pd.DataFrame, scope: Mapping[str, str | int | float | Iterable[str]] | None
) -> pd.DataFrame:
    """Rows of ``df`` matching every ``{column: value or [values]}`` of ``scope``.

    Plain ``isin`` masks; nothing is evaluated. Values are matched as given or
    by their text (``priority: 1`` matches ``"1"``).

    Raises
    ------
    ConfigError
        A column that is not in the data, or a value that does not occur in it.

    Examples
    --------
    >>> scope_filter(df, {"category": "Laptop", "channel": ["portal", "email"]})  # doctest: +SKIP
    """
    if not scope:
        return df
    if not isinstance(scope, Mapping):
        raise ConfigError(
            f"a scope is a mapping column: value(s), not {type(scope).__name__}",
            column="scope",
            hint='write e.g. {"category": "Laptop"}',
        )
    mask = np.ones(len(df), dtype=bool)
    for column, wanted in scope.items():
        if column not in df.columns:
            raise ConfigError(
                "the scope names a column that is not in the data",
                column=str(column),
                hint="available dimensions: " + ", ".join(_available_dimensions(df)),
            )
        values = [wanted] if isinstance(wanted, str | int | float | bool) else list(wanted)
        present = pd.unique(df[column].dropna())
        by_text = {str(v): v for v in present}
        present_set = set(present.tolist())
        resolved = []
        for v in values:
            if v in present_set:
                resolved.append(v)
            elif str(v) in by_text:
                resolved.append(by_text[str(v)])
            else:
                shown = sorted(by_text)[:20]
                raise ConfigError(
                    f"the scope value '{v}' does not occur in the data",
                    column=str(column),
                    hint="values present: " + ", ".join(shown),
                )
        mask &= df[column].isin(resolved).to_numpy(dtype=bool, na_value=False)
    return df[mask]


# --------------------------------------------------------------------------- engine


@dataclass
class _Pop:
    """Rows of one population: positions into the frame, their cell, sizes per cell."""

    rows: np.ndarray
    cell: np.ndarray
    size: np.ndarray  # population size (n) per cell
    bins: np.ndarray | None = None  # open_at_end: bin of each materialised row


@dataclass
class _Grid:
    """Engine output: values and n per KPI x bin x group."""

    kpis: list[KPI]
    starts: pd.DatetimeIndex
    ends: pd.DatetimeIndex
    labels: list | None
    value: np.ndarray  # (K, B, G)
    n: np.ndarray  # (K, B, G)
    active: np.ndarray  # (B, G): any request in any population
    received: np.ndarray  # (B, G)


def _groups(df: pd.DataFrame, by: str | None) -> tuple[np.ndarray | None, list | None]:
    if by is None:
        return None, None
    if (
        not isinstance(by, str)
        or by not in df.columns
        or by not in _available_dimensions(df) + ["outcome"]
    ):
        raise ConfigError(
            "this is not a breakdown dimension of the data",
            column=str(by),
            hint="available dimensions: " + ", ".join(_available_dimensions(df)),
        )
    s = df[by]
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        labels = list(s.cat.categories)
    else:
        codes, uniques = pd.factorize(s, sort=True)
        codes = codes.astype(np.int64)
        labels = list(uniques)
    if (codes < 0).any():
        codes[codes < 0] = len(labels)
        labels.append(MISSING_GROUP)
    return codes, labels


def _edges(period: Period, freq: Freq | None) -> np.ndarray:
    if not isinstance(period, Period):
        raise ConfigError(
            f"expected a Period, got {type(period).__name__}",
            hint="build one with csi_lib.periods.Period.from_dates(from, to)",
        )
    if freq is None:
        return np.array([period.start.as_unit("ns").value, period.end.as_unit("ns").value])
    return period_edges(period, freq).as_unit("ns").asi8


def _in_bins(t: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of timestamps in ``[edges[0], edges[-1])`` and their bin numbers."""
    if len(edges) == 2:
        rows = np.flatnonzero((t >= edges[0]) & (t < edges[1]))
        return rows, np.zeros(len(rows), dtype=np.int64)
    b = np.searchsorted(edges, t, side="right") - 1
    rows = np.flatnonzero((b >= 0) & (b < len(edges) - 1) & (t != _NAT))
    return rows, b[rows]


def _closed_outcome(df: pd.DataFrame) -> np.ndarray:
    s = df["outcome"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        ok = np.isin(np.asarray(s.cat.categories, dtype=object), CLOSED_OUTCOMES)
        codes = s.cat.codes.to_numpy()
        return (codes >= 0) & ok[np.maximum(codes, 0)]
    return s.isin(CLOSED_OUTCOMES).to_numpy(dtype=bool, na_value=False)


def _population(
    df: pd.DataFrame, name: str, edges: np.ndarray, codes: np.ndarray | None, n_groups: int
) -> _Pop:
    n_bins = len(edges) - 1
    n_cells = n_bins * n_groups
    if name == "open_at_end":
        ends = edges[1:]
        opened = _ns(df, "opened_at")
        closed = _ns(df, "closed_at")
        closed = np.where(closed == _NAT, _MAX, closed)
        first = np.searchsorted(ends, opened, side="right")  # first bin ending after opened_at
        last = (
            np.searchsorted(ends, closed, side="right") - 1
        )  # last bin ending at/before closed_at
        valid = (opened != _NAT) & (first < n_bins)
        g = codes if codes is not None else 0
        # n: requests opened before each bin's end (cumulated over the bins)
        firsts = (first * n_groups + g)[valid]
        size = np.bincount(firsts, minlength=n_cells).reshape(n_bins, n_groups).cumsum(0).ravel()
        span = np.where(valid, last - first + 1, 0).clip(min=0)
        rows = np.flatnonzero(span)
        span = span[rows]
        total = int(span.sum())
        offsets = np.repeat(np.cumsum(span) - span, span)
        rep = np.repeat(rows, span)
        bins = first[rep] + (np.arange(total) - offsets)
        cell = bins * n_groups + (codes[rep] if codes is not None else 0)
        return _Pop(rep, cell, size, bins)
    column = {"received": "opened_at", "closed": "closed_at", "assessed": "assessed_at"}[name]
    t = _ns(df, column)
    if name == "closed":
        t = np.where(_closed_outcome(df), t, _NAT)
    rows, b = _in_bins(t, edges)
    cell = b * n_groups + codes[rows] if codes is not None else b
    return _Pop(rows, cell, np.bincount(cell, minlength=n_cells), None)


def _cell_quantiles(
    cell: np.ndarray, x: np.ndarray, n_cells: int, qs: list[float]
) -> dict[float, np.ndarray]:
    """Linear-interpolation quantiles of ``x`` per cell (pandas' default).

    Each cell's values are brought together (a counting sort of the cells) and only
    the order statistics needed are selected (``np.partition``), not fully sorted.
    """
    counts = np.bincount(cell, minlength=n_cells)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    c, s = counts[has], starts[has]
    pos = {}
    for q in qs:
        h = (c - 1) * q
        lo = np.floor(h).astype(np.int64)
        pos[q] = (lo, np.minimum(lo + 1, c - 1), h - lo)
    if n_cells <= 4096:
        xs = x.copy() if n_cells == 1 else x[np.argsort(cell.astype(np.int16), kind="stable")]
        for j in np.flatnonzero(counts[has] > 1):
            kth = sorted({int(pos[q][t][j]) for q in qs for t in (0, 1)})
            xs[s[j] : s[j] + c[j]].partition(kth)
    else:  # very many cells: one global sort is cheaper than a loop over them
        xs = x[np.lexsort((x, cell))]
    out = {}
    for q in qs:
        lo, hi, frac = pos[q]
        a, b = xs[s + lo], xs[s + hi]
        res = np.full(n_cells, np.nan)
        res[has] = a + frac * (b - a)
        out[q] = res
    return out


def _compute(
    df: pd.DataFrame,
    period: Period,
    kpis: list[KPI],
    *,
    freq: Freq | None = None,
    by: str | None = None,
) -> _Grid:
    """The one engine behind every public function (see the module docstring)."""
    df = _prepare(df)
    edges = _edges(period, freq)
    codes, labels = _groups(df, by)
    n_bins = len(edges) - 1
    n_groups = len(labels) if labels is not None else 1
    n_cells = n_bins * n_groups
    pops = {name: _population(df, name, edges, codes, n_groups) for name in POPULATIONS}

    full: dict[int, np.ndarray] = {}  # measure over the whole frame, computed once
    last_full = {id(k.measure): i for i, k in enumerate(kpis)}
    # per (population, measure): cells and values of the rows whose measure is known
    prep: dict[tuple[str, int], dict[str, object]] = {}
    last_prep = {(k.population, id(k.measure)): i for i, k in enumerate(kpis)}
    wanted_q: dict[tuple[str, int], list[float]] = {}
    for k in kpis:
        q = _quantile_of(k.agg)
        if q is not None and k.agg != "func":
            wanted_q.setdefault((k.population, id(k.measure)), []).append(q)

    def prepared(i: int, k: KPI, pop: _Pop) -> dict[str, object]:
        key = (k.population, id(k.measure))
        if key in prep:
            return prep[key]
        if k.population == "open_at_end":
            frame = df.take(pop.rows).assign(bin_end=pd.to_datetime(edges[1:][pop.bins], utc=True))
            m = _as_float(k.measure(frame), k, len(frame))
        else:
            mid = id(k.measure)
            if mid not in full:
                full[mid] = _as_float(k.measure(df), k, len(df))
            m = full[mid][pop.rows]
            if last_full[mid] == i:
                del full[mid]  # keep the peak memory low
        known = ~np.isnan(m)
        c, x = (pop.cell, m) if known.all() else (pop.cell[known], m[known])
        prep[key] = {"c": c, "x": x, "n": np.bincount(c, minlength=n_cells)}
        return prep[key]

    value = np.full((len(kpis), n_cells), np.nan)
    n_out = np.zeros((len(kpis), n_cells), dtype=np.int64)
    for i, k in enumerate(kpis):
        pop = pops[k.population]
        size = pop.size
        if k.agg == "func":
            sizes = {
                name: p.size.astype("float64") for name, p in pops.items() if name != "open_at_end"
            }
            v = np.asarray(k.func(sizes), dtype="float64")
            n = size
        elif k.measure is None:
            v = np.bincount(pop.cell, minlength=n_cells).astype("float64")
            n = size
        else:
            d = prepared(i, k, pop)
            c, x, n_known = d["c"], d["x"], d["n"]
            if k.agg in ("count", "pct") and "true" not in d:
                d["true"] = np.bincount(c, weights=x != 0, minlength=n_cells)
            with np.errstate(divide="ignore", invalid="ignore"):
                if k.agg == "count":  # rows whose measure is true, over the whole population
                    v = d["true"]
                elif k.agg == "pct":
                    v = 100.0 * d["true"] / n_known
                elif k.agg in ("sum", "mean"):
                    if "sum" not in d:
                        d["sum"] = np.bincount(c, weights=x, minlength=n_cells)
                    v = d["sum"] / n_known if k.agg == "mean" else d["sum"]
                else:
                    qkey = (k.population, id(k.measure))
                    if "q" not in d:
                        d["q"] = _cell_quantiles(c, x, n_cells, wanted_q[qkey])
                    v = d["q"][_quantile_of(k.agg)]
            if k.agg != "count":
                v = np.where(n_known > 0, v, np.nan)
            n = size if k.agg == "count" or k.population == "open_at_end" else n_known
            if last_prep[(k.population, id(k.measure))] == i:
                del prep[(k.population, id(k.measure))]
        value[i] = np.where(n > 0, v, np.nan)
        n_out[i] = n

    active = (
        sum(np.bincount(p.cell, minlength=n_cells) for p in pops.values()).reshape(n_bins, n_groups)
        > 0
    )
    edges_ts = pd.to_datetime(edges, utc=True)
    return _Grid(
        kpis=kpis,
        starts=edges_ts[:-1],
        ends=edges_ts[1:],
        labels=labels,
        value=value.reshape(len(kpis), n_bins, n_groups),
        n=n_out.reshape(len(kpis), n_bins, n_groups),
        active=active,
        received=pops["received"].size.reshape(n_bins, n_groups),
    )


def _tidy(
    grid: _Grid, *, by: str | None, freq: Freq | None, min_group_size: int | None
) -> pd.DataFrame:
    n_kpis, n_bins, _ = grid.value.shape
    shown = None  # (kpi, group): the KPI's population in the group is large enough
    hidden_by_kpi: dict[str, int] = {}
    if grid.labels is None:
        keep = np.array([0])
        hidden = 0
    else:
        active = grid.active.any(0)
        keep_mask = active.copy()
        if min_group_size is not None:
            # each KPI's own population over the period (e.g. fulfilled requests for
            # fulfil_median_h), not the requests received
            size = grid.n.sum(1).astype("float64")
            for i, k in enumerate(grid.kpis):
                if k.population == "open_at_end" and k.measure is None:
                    # backlog: the requests still open at the end, not all those opened before
                    size[i] = np.nan_to_num(grid.value[i]).sum(0)
            shown = (size >= min_group_size) & active[None, :]
            keep_mask &= shown.any(0)
            hidden_by_kpi = {
                k.key: int((active & ~shown[i]).sum()) for i, k in enumerate(grid.kpis)
            }
        keep = np.flatnonzero(keep_mask)
        hidden = int((active & ~keep_mask).sum())
    n_keep = len(keep)
    # order: bin, group, kpi
    value = grid.value[:, :, keep].transpose(1, 2, 0).ravel()
    n = grid.n[:, :, keep].transpose(1, 2, 0).ravel()
    cols: dict[str, object] = {}
    if freq is not None:
        cols["period_start"] = grid.starts.repeat(n_keep * n_kpis)
        cols["period_end"] = grid.ends.repeat(n_keep * n_kpis)
    if by is not None:
        kept_labels = [grid.labels[j] for j in keep]
        codes = np.tile(np.repeat(np.arange(n_keep), n_kpis), n_bins)
        cols[by] = pd.Categorical.from_codes(codes, categories=pd.Index(kept_labels))
    cols["kpi"] = pd.array(np.tile([k.key for k in grid.kpis], n_bins * n_keep), dtype="str")
    cols["value"] = value
    cols["n"] = n
    out = pd.DataFrame(cols)
    if shown is not None:
        mask = np.broadcast_to(shown[:, keep].T[None, :, :], (n_bins, n_keep, n_kpis)).ravel()
        if not mask.all():
            out = out[mask].reset_index(drop=True)
    if min_group_size is not None:
        out.attrs["hidden_groups"] = hidden
        out.attrs["hidden_by_kpi"] = hidden_by_kpi
        out.attrs["min_group_size"] = int(min_group_size)
    return out


# --------------------------------------------------------------------------- public API


def kpi_table(
    df: pd.DataFrame,
    period: Period,
    *,
    by: str | None = None,
    freq: Freq | None = None,
    kpis: str | KPI | Iterable[str | KPI] | None = None,
    min_group_size: int | None = None,
    scope: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """KPI values in tidy form, optionally per period bin (``freq``) and group (``by``).

    Parameters
    ----------
    df:
        Canonical request frame.
    period:
        The period ``[start, end)``.
    by:
        A breakdown dimension (``category``, ``channel``, ``priority``, ``group`` or a
        kept extra column). Rows where it is missing form the group ``"(missing)"``.
    freq:
        ``"month"`` or ``"week"``: one row per bin, empty bins included (value NaN).
    kpis:
        KPI keys (default: the whole catalogue).
    min_group_size:
        Hide a group's value of a KPI when the KPI's own population in the group
        over the whole period (column ``n``: e.g. fulfilled requests for
        ``fulfil_median_h``, scored requests for ``csat_mean``) is smaller;
        ``result.attrs["hidden_by_kpi"]`` counts the hidden groups per KPI,
        ``result.attrs["hidden_groups"]`` the groups hidden for every KPI.
    scope:
        ``{column: value or [values]}`` filter applied first (see :func:`scope_filter`).

    Returns
    -------
    pandas.DataFrame
        Columns ``[period_start, period_end]`` (if ``freq``), ``[<by>]`` (if ``by``),
        ``kpi``, ``value`` (float; hours, %, counts per the KPI's unit; NaN = no data),
        ``n`` (size of the KPI's population in the cell). Groups without any request in
        the period are left out.

    Examples
    --------
    >>> kpi_table(df, period, by="category", kpis=["received", "fulfil_median_h"])  # doctest: +SKIP
    """
    df = scope_filter(df, scope)
    grid = _compute(df, period, _resolve_kpis(kpis), freq=freq, by=by)
    return _tidy(grid, by=by, freq=freq, min_group_size=min_group_size)


def kpi_values(
    df: pd.DataFrame,
    period: Period,
    *,
    kpis: str | KPI | Iterable[str | KPI] | None = None,
    scope: Mapping[str, object] | None = None,
) -> pd.Series:
    """KPI values over the whole period: a Series indexed by KPI key, named ``value``.

    Examples
    --------
    >>> kpi_values(df, Period.from_dates("2025-01-01", "2025-06-30"))["received"]  # doctest: +SKIP
    1234.0
    """
    table = kpi_table(df, period, kpis=kpis, scope=scope)
    return pd.Series(table["value"].to_numpy(), index=pd.Index(table["kpi"], name="kpi"),
                     name="value")  # fmt: skip


def kpi_series(
    df: pd.DataFrame,
    period: Period,
    *,
    freq: Freq = "month",
    by: str | None = None,
    kpis: str | KPI | Iterable[str | KPI] | None = None,
    scope: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """KPI values per month or ISO week (bins clipped to the period, empty bins NaN).

    Same columns as :func:`kpi_table` with ``freq``: ``period_start``, ``period_end``,
    [``<by>``], ``kpi``, ``value``, ``n``.

    Examples
    --------
    >>> kpi_series(df, period, freq="week", kpis="backlog")  # doctest: +SKIP
    """
    return kpi_table(df, period, by=by, freq=freq, kpis=kpis, scope=scope)


def breakdown(
    df: pd.DataFrame,
    period: Period,
    *,
    by: str,
    kpis: str | KPI | Iterable[str | KPI] | None = None,
    min_group_size: int = 5,
    scope: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """KPI values per group of ``by`` over the period; small groups hidden.

    A group's value of a KPI is left out when the KPI's own population in the
    group (``n``: fulfilled requests for ``fulfil_median_h``, closed requests
    for ``pct_within_sla``...) is under ``min_group_size``;
    ``result.attrs["hidden_by_kpi"]`` counts the hidden groups per KPI and
    ``result.attrs["hidden_groups"]`` the groups hidden for every KPI.
    See :func:`hidden_text` for the sentence readers see.

    Returns
    -------
    pandas.DataFrame
        Columns ``<by>``, ``kpi``, ``value``, ``n``.

    Examples
    --------
    >>> breakdown(df, period, by="group", kpis=["fulfil_median_h"]).attrs["hidden_groups"]  # doctest: +SKIP
    0
    """
    if by is None:
        raise ConfigError("a breakdown needs a dimension", column="by",
                          hint="available dimensions: " + ", ".join(_available_dimensions(df)))  # fmt: skip
    return kpi_table(df, period, by=by, kpis=kpis, min_group_size=min_group_size, scope=scope)


def hidden_text(table: pd.DataFrame, kpi: str | KPI | None = None) -> str:
    """The sentence saying how many groups a breakdown hid and why ("" when none).

    Parameters
    ----------
    table:
        A :func:`breakdown` (its ``attrs``).
    kpi:
        One KPI of the table; default every KPI (one sentence for them all).

    Examples
    --------
    >>> t = pd.DataFrame(); t.attrs.update(hidden_by_kpi={"fulfil_median_h": 3}, min_group_size=5)
    >>> hidden_text(t, "fulfil_median_h")
    '3 groups with fewer than 5 requests in the population of Median time to fulfil are hidden to protect individuals.'
    """
    size = table.attrs.get("min_group_size")
    by_kpi = table.attrs.get("hidden_by_kpi", {})
    fewer = f"fewer than {size} requests" if size else "too few requests"
    if kpi is None:
        counts = {k: n for k, n in by_kpi.items() if n}
        if len(counts) <= 1:
            return hidden_text(table, next(iter(counts))) if counts else ""
        parts = ", ".join(f"{get_kpi(k).label} {n}" for k, n in counts.items())
        return (
            f"Groups with {fewer} in a KPI's own population are hidden to protect "
            f"individuals (hidden groups per KPI: {parts})."
        )
    k = get_kpi(kpi)
    n = int(by_kpi.get(k.key, table.attrs.get("hidden_groups", 0)))
    if not n:
        return ""
    return (
        f"{n} group{'s' if n != 1 else ''} with {fewer} in the population of {k.label} "
        f"{'are' if n != 1 else 'is'} hidden to protect individuals."
    )


def observations(
    df: pd.DataFrame,
    period: Period,
    kpi: str | KPI,
    *,
    scope: Mapping[str, object] | None = None,
) -> pd.Series:
    """Per-request values behind a KPI over its population in the period.

    Durations in hours, scores, or 0/1 indicators for ``pct`` and ``count`` KPIs
    (for ``backlog``: over the requests opened before the end, 1 = still open at
    the end). Rows whose measure is unknown are left out. Indexed like ``df``;
    named by the KPI key. Meant for the statistical tests of stage 5.

    Raises
    ------
    ConfigError
        For a KPI combining populations (``throughput_ratio``): it has no
        per-request values; compare its series instead.

    Examples
    --------
    >>> observations(df, period, "fulfil_median_h").median()  # doctest: +SKIP
    """
    k = get_kpi(kpi)
    if k.func is not None:
        raise ConfigError(
            f"KPI '{k.key}' combines two populations and has no per-request values",
            column="kpi",
            hint="compare its monthly series instead",
        )
    df = _prepare(scope_filter(df, scope))
    edges = _edges(period, None)
    if k.population == "open_at_end":
        opened, closed = _ns(df, "opened_at"), _ns(df, "closed_at")
        rows = np.flatnonzero((opened != _NAT) & (opened < edges[1]))
        still_open = (closed[rows] == _NAT) | (closed[rows] >= edges[1])
        if k.measure is None:
            values = still_open.astype("float64")
        else:
            rows = rows[still_open]
            frame = df.take(rows).assign(bin_end=pd.Timestamp(edges[1], tz="UTC"))
            values = _as_float(k.measure(frame), k, len(frame))
    else:
        rows = _population(df, k.population, edges, None, 1).rows
        if k.measure is None:
            values = np.ones(len(rows))
        else:
            values = _as_float(k.measure(df), k, len(df))[rows]
            if k.agg in ("count", "pct"):
                values = np.where(np.isnan(values), np.nan, (values != 0).astype("float64"))
                if k.agg == "count":
                    values = np.nan_to_num(values, nan=0.0)
    keep = ~np.isnan(values)
    return pd.Series(values[keep], index=df.index[rows[keep]], name=k.key, dtype="float64")


# csi.kpis(...) calls csi_lib.api.kpis (see csi_lib._callable)
from ._callable import make_callable  # noqa: E402

make_callable(__name__)
