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
    ...     return df["priority"] == "1 - Critical"   # True/False per request
    >>> p1 = register_kpi(KPI(
    ...     key="pct_p1_requests", label="P1 share of demand", unit="%",
    ...     better="lower", population="received", measure=is_p1, agg="pct",
    ...     kind="proportion",
    ...     description="100 * share of requests received in the period with priority P1",
    ... ))
    >>> kpi_table(df, period, by="category", kpis="pct_p1_requests").round(1).head(3)
             category              kpi  value     n
    0  Access request  pct_p1_requests    2.1  2321
    1          Laptop  pct_p1_requests    0.8  2206
    2    Mobile phone  pct_p1_requests    2.2   897

From then on ``pct_p1_requests`` appears in :func:`kpi_catalogue`,
:func:`kpi_table`, :func:`kpi_series`, :func:`breakdown`, snapshots and
targets. A measure returning ``NaN``/``NA`` for a row leaves that row out of
``pct``/``mean``/percentile KPIs. For the ``open_at_end`` population the
measure receives the rows still open at each bin's end with an extra
``bin_end`` column (e.g. ``(df["bin_end"] - df["opened_at"]) / pd.Timedelta(hours=1)``
for the age of the backlog).


The package has one module per responsibility: :mod:`.catalogue` (the KPI model, the built-in measures and the registry), :mod:`.engine` (the vectorised computation over periods, bins and groups), :mod:`.values` (the public tables: kpi_table, kpi_values, kpi_series, breakdown, observations). Every name is importable from ``csi_lib.kpis`` as before, and ``csi.kpis(df, period)`` calls :func:`csi_lib.api.kpis`.
"""

from __future__ import annotations

from .catalogue import (  # noqa: F401
    _BUILTIN,
    _FIXED_AGGS,
    _HOUR,
    _KEY,
    _MAX,
    _NAT,
    _PCTL,
    BETTER,
    KIND_AGGS,
    KINDS,
    KPI,
    MISSING_GROUP,
    POPULATIONS,
    REGISTRY,
    UNITS,
    CountsFunc,
    Measure,
    _quantile_of,
    _resolve_kpis,
    _throughput,
    assess_hours,
    csat_score,
    fulfil_hours,
    get_kpi,
    has_csat,
    is_cancelled,
    is_declined,
    is_fulfilled,
    is_reopened,
    is_satisfied,
    kpi_catalogue,
    register_kpi,
    sla_met,
)
from .engine import (  # noqa: F401
    _as_float,
    _available_dimensions,
    _cell_quantiles,
    _closed_outcome,
    _compute,
    _edges,
    _Grid,
    _groups,
    _in_bins,
    _ns,
    _Pop,
    _population,
    _prepare,
    _tidy,
    scope_filter,
)
from .values import (  # noqa: F401
    breakdown,
    hidden_text,
    kpi_series,
    kpi_table,
    kpi_values,
    not_measured,
    observations,
)

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
    "not_measured",
    "scope_filter",
    "MISSING_GROUP",
]

# csi.kpis(...) calls csi_lib.api.kpis (see csi_lib._callable)
from .._callable import make_callable  # noqa: E402

make_callable(__name__)
