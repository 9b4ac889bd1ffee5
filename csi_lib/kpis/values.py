"""KPI tables for users: tidy values per period, bin and group; small groups hidden; per-request observations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..periods import Freq, Period
from .catalogue import _NAT, KPI, _resolve_kpis, get_kpi
from .engine import (
    _as_float,
    _available_dimensions,
    _compute,
    _edges,
    _ns,
    _population,
    _prepare,
    _scoped,
    _tidy,
)

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
    >>> kpi_table(df, period, by="category", kpis=["received", "fulfil_median_h"]).round(1).head(4)
             category              kpi   value     n
    0  Access request         received  2321.0  2321
    1  Access request  fulfil_median_h    18.6  1999
    2          Laptop         received  2206.0  2206
    3          Laptop  fulfil_median_h    41.8  1996
    """
    df = _scoped(df, scope)
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
    >>> values = kpi_values(df, Period.from_dates("2025-01-01", "2025-06-30"))
    >>> print(values["received"], values["fulfil_median_h"].round(1))   # count, hours
    9980.0 27.6
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
    >>> kpi_series(df, period, freq="week", kpis="backlog").head(2)
                   period_start                period_end      kpi  value     n
    0 2025-01-01 00:00:00+00:00 2025-01-06 00:00:00+00:00  backlog  307.0   9299
    1 2025-01-06 00:00:00+00:00 2025-01-13 00:00:00+00:00  backlog  356.0   9771
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
    >>> table = breakdown(df, period, by="group", kpis=["fulfil_median_h"])
    >>> table.round(1)
                    group              kpi  value     n
    0  End User Computing  fulfil_median_h   45.7  3310
    1   Identity & Access  fulfil_median_h   19.5  2228
    2         Mobile Team  fulfil_median_h   57.1   794
    3         Procurement  fulfil_median_h   24.5   748
    4        Service Desk  fulfil_median_h   26.3  1779
    >>> table.attrs["hidden_groups"]
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
    >>> hours = observations(df, period, "fulfil_median_h")   # one fulfilment time per request
    >>> print(len(hours), hours.median().round(1))   # the KPI is their median
    8859 27.6
    """
    k = get_kpi(kpi)
    if k.func is not None:
        raise ConfigError(
            f"KPI '{k.key}' combines two populations and has no per-request values",
            column="kpi",
            hint="compare its monthly series instead",
        )
    df = _prepare(_scoped(df, scope))
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


def not_measured(
    df: pd.DataFrame, kpi: str | KPI, *, columns_used: Mapping[str, str] | None = None
) -> str | None:
    """Why ``kpi`` cannot be measured on ``df`` at all, in words, or None when it can.

    A KPI is *not measured* when none of the columns it rests on (``KPI.requires``)
    holds a single value: the data has no SLA column, no survey. That is its own
    state: every stage says so, instead of an empty panel, a 0 or a blamed sample size.

    Parameters
    ----------
    columns_used:
        The load's canonical column -> source column (``LoadResult.columns_used``): tells
        a column the source does not have from one it has but left empty.

    Examples
    --------
    >>> from csi_lib.testing import make_requests
    >>> frame = make_requests([{"opened_at": "2025-03-01", "closed_at": "2025-03-02"}])
    >>> not_measured(frame, "csat_mean", columns_used={"request_id": "number"})
    "the data has no 'Satisfaction score' column"
    >>> not_measured(frame, "received") is None
    True
    """
    from ..schema import COLUMNS

    k = get_kpi(kpi)
    if not k.requires:
        return None
    if any(c in df and df[c].notna().any() for c in k.requires):
        return None
    names = " or ".join(f"'{COLUMNS[c].label if c in COLUMNS else c}'" for c in k.requires)
    if columns_used is not None and not any(c in columns_used for c in k.requires):
        return f"the data has no {names} column"
    return f"the data's {names} column{' is' if len(k.requires) == 1 else 's are'} empty"
