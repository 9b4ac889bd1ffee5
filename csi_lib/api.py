"""The short public API: ``import csi_lib as csi``.

Each name here is a documented entry point into the module that does the work
(:mod:`csi_lib.sources`, :mod:`csi_lib.kpis`, :mod:`csi_lib.baseline`,
:mod:`csi_lib.cycle`, :mod:`csi_lib.review`, :mod:`csi_lib.spc`,
:mod:`csi_lib.charts`), or that module's function itself (``load`` is
:func:`csi_lib.sources.load_requests`, ``quality`` is
:func:`csi_lib.sources.data_quality`), with the argument names those modules use: ``df`` for
the canonical request frame, ``period`` for a period, ``by`` for a breakdown
dimension, ``freq`` for ``"month"`` or ``"week"``, ``kpis`` for KPI keys.

Periods may be written as a pair of inclusive dates, a :class:`~csi_lib.periods.Period`
or a shorthand (``"2025"``, ``"2025-H1"``, ``"2025-Q3"``, ``"2025-07"``); see
:func:`csi_lib.periods.as_period`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import shipped
from .periods import Freq, PeriodLike, as_period
from .sources import LoadResult
from .sources import data_quality as quality
from .sources import load_requests as load

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from .baseline import Snapshot
    from .cycle import Cycle
    from .review import CycleReview

__all__ = [
    "SAMPLE_DATA",
    "load",
    "quality",
    "kpis",
    "catalogue",
    "baseline",
    "xmr",
    "xmr_figure",
    "open_cycle",
    "review",
]

#: The bundled sample export (40,000 synthetic requests, canonical columns, 2024-2026).
SAMPLE_DATA = shipped.SAMPLE_DATA


def _frame(data: pd.DataFrame | LoadResult) -> pd.DataFrame:
    """The canonical frame of ``data`` (a frame, or what :func:`load` returned)."""
    return data if isinstance(data, pd.DataFrame) else data.data


def _wide(table: pd.DataFrame, *, by: str | None, freq: Freq | None, labels: bool) -> pd.DataFrame:
    from .kpis import get_kpi

    rows = (["period_start", "period_end"] if freq else []) + ([by] if by else [])
    order = list(dict.fromkeys(table["kpi"]))
    if rows:
        wide = table.set_index([*rows, "kpi"])["value"].unstack("kpi")
        wide = wide.reindex(columns=order).reset_index()
    else:
        wide = table.set_index("kpi")["value"].reindex(order).to_frame().T.reset_index(drop=True)
    wide.columns.name = None
    wide.attrs = dict(table.attrs)
    if labels:
        wide = wide.rename(columns={k: f"{get_kpi(k).label} ({get_kpi(k).unit})" for k in order})
    return wide


def kpis(
    df: pd.DataFrame | LoadResult,
    period: PeriodLike,
    *,
    by: str | None = None,
    freq: Freq | None = None,
    kpis: str | Iterable[str] | None = None,
    wide: bool = False,
    labels: bool = False,
    min_group_size: int | None = None,
    scope: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """KPI values over a period, optionally per group and per month or week.

    Parameters
    ----------
    df : DataFrame or LoadResult
        The canonical request frame (or what :func:`load` returned).
    period : period-like
        ``("2025-01-01", "2025-06-30")`` (inclusive dates), a ``Period``, or
        ``"2025"``, ``"2025-H1"``, ``"2025-Q3"``, ``"2025-07"``.
    by : str, optional
        A breakdown dimension: ``"category"``, ``"channel"``, ``"priority"``,
        ``"group"`` or a kept extra column.
    freq : {"month", "week"}, optional
        One value per calendar month or ISO week of the period.
    kpis : str or list of str, optional
        KPI keys (default: the whole catalogue, see :func:`catalogue`).
    wide : bool, default False
        ``False``: tidy, one row per (bin, group, KPI) with ``value`` and ``n``.
        ``True``: one row per group (and bin), one column per KPI.
    labels : bool, default False
        With ``wide``: name the KPI columns by label and unit
        (``"Fulfilment time, median (hours)"``) for display.
    min_group_size : int, optional
        Hide groups smaller than this; ``result.attrs["hidden_groups"]`` counts them.
    scope : dict, optional
        ``{column: value or [values]}`` filter applied first.

    Returns
    -------
    pandas.DataFrame
        Values in each KPI's unit (hours, %, requests, ratio); NaN where the KPI's
        population is empty (missing, never 0).

    Examples
    --------
    >>> import csi_lib as csi
    >>> df = csi.load(csi.SAMPLE_DATA).data
    >>> table = csi.kpis(df, "2025-H1", by="category", kpis=["received", "fulfil_median_h"], wide=True)
    >>> list(table.columns)
    ['category', 'received', 'fulfil_median_h']
    >>> int(csi.kpis(df, "2025-Q1", kpis="received", wide=True).loc[0, "received"]) > 0
    True
    """
    from .kpis import kpi_table

    table = kpi_table(
        _frame(df),
        as_period(period),
        by=by,
        freq=freq,
        kpis=kpis,
        min_group_size=min_group_size,
        scope=scope,
    )
    if not wide:
        return table
    return _wide(table, by=by, freq=freq, labels=labels)


def catalogue() -> pd.DataFrame:
    """The KPI catalogue: key, label, unit, better direction and definition of every KPI.

    Examples
    --------
    >>> import csi_lib as csi
    >>> "fulfil_median_h" in set(csi.catalogue()["key"])
    True
    """
    from .kpis import kpi_catalogue

    return kpi_catalogue()


def baseline(
    data: LoadResult,
    period: PeriodLike,
    *,
    out: str | Path | None = None,
    by: str | Iterable[str] | None = None,
    kpis: str | Iterable[str] | None = None,
    min_group_size: int = 5,
) -> Snapshot:
    """Take a baseline snapshot of a load over a period, and save it if ``out`` is given.

    Parameters
    ----------
    data : LoadResult
        What :func:`load` returned (its fingerprint and mapping go into the snapshot).
    period : period-like
        The baseline period (see :func:`kpis`).
    out : str or Path, optional
        A new folder to save the snapshot in; an existing snapshot is never overwritten.
    by : str or list of str, optional
        Breakdown dimensions (default: those that have data).
    kpis : list of str, optional
        KPI keys (default: the whole catalogue).
    min_group_size : int, default 5
        Groups smaller than this are hidden in breakdowns.

    Returns
    -------
    Snapshot
        ``.kpi_values`` (a Series in each KPI's unit), the monthly and weekly series,
        the breakdowns and the manifest.

    Examples
    --------
    >>> import csi_lib as csi
    >>> snap = csi.baseline(csi.load(csi.SAMPLE_DATA), "2025-H1", kpis=["received"])
    >>> snap.period.label
    '2025-01-01 to 2025-06-30'
    """
    from .baseline import create_snapshot, row_counts

    snapshot = create_snapshot(
        data.data,
        as_period(period),
        source=data.source,
        fingerprint=data.fingerprint,
        mapping=data.mapping,
        rows=row_counts(data),
        by=by,
        kpis=kpis,
        min_group_size=min_group_size,
    )
    if out is not None:
        snapshot.save(out)
    return snapshot


def xmr(
    df: pd.DataFrame | LoadResult,
    kpi: str,
    period: PeriodLike,
    *,
    freq: Freq = "month",
    baseline: PeriodLike | None = None,
    target: float | None = None,
    scope: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Process-behaviour (XmR) chart of one KPI per month or week, with its signals.

    Parameters
    ----------
    df : DataFrame or LoadResult
        The canonical request frame.
    kpi : str
        A KPI key; its better direction classifies signals as improvement or concern.
    period : period-like
        The whole span charted.
    freq : {"month", "week"}, default "month"
    baseline : period-like, optional
        Freeze the limits on the points of this period (default: all points).
    target : float, optional
        A target in the KPI's unit, for the assurance (passes, fails, hit-and-miss).
    scope : dict, optional
        ``{column: value}`` filter.

    Returns
    -------
    pandas.DataFrame
        One row per period: ``x`` (the KPI, in its unit), ``mr``, ``centre``,
        ``lower``, ``upper`` (natural process limits), the rules that fired and
        ``variation``. ``attrs`` carry the KPI's key, label, unit and direction,
        for :func:`xmr_figure`.

    Examples
    --------
    >>> import csi_lib as csi
    >>> df = csi.load(csi.SAMPLE_DATA).data
    >>> chart = csi.xmr(df, "fulfil_median_h", "2025", baseline="2025-H1")
    >>> len(chart), chart.attrs["unit"]
    (12, 'hours')
    """
    from .kpis import get_kpi, kpi_table
    from .spc import xmr as xmr_chart

    k = get_kpi(kpi)
    table = kpi_table(_frame(df), as_period(period), freq=freq, kpis=[k.key], scope=scope)
    values = table.set_index("period_start")["value"]
    frozen = None
    if baseline is not None:
        b = as_period(baseline)
        frozen = (b.start, b.end - pd.Timedelta(microseconds=1))
    chart = xmr_chart(values, better=k.better, baseline=frozen, target=target)
    chart.attrs.update({"kpi": k.key, "label": k.label, "unit": k.unit, "better": k.better})
    return chart


def xmr_figure(
    chart: pd.DataFrame,
    *,
    title: str | None = None,
    unit: str | None = None,
    target: float | None = None,
    better: str | None = None,
) -> go.Figure:
    """Plotly figure of an XmR chart from :func:`xmr` (title, unit and direction from its attrs).

    Examples
    --------
    >>> import csi_lib as csi
    >>> chart = csi.xmr(csi.load(csi.SAMPLE_DATA).data, "received", "2025-H1")
    >>> csi.xmr_figure(chart).layout.title.text.startswith("Requests received")
    True
    """
    from .charts.spc import xmr_figure as figure

    return figure(
        chart,
        title=title or chart.attrs.get("label", "XmR chart"),
        unit=unit or chart.attrs.get("unit", ""),
        target=target,
        better=better or chart.attrs.get("better", "neither"),
    )


def open_cycle(
    cycle_dir: str | Path,
    *,
    as_of: str | dt.date | None = None,
    data: str | Path | None = None,
    preset: str | None = None,
    mapping: str | Path | None = None,
) -> Cycle:
    """Open an improvement cycle folder (``cycle.yaml``, ``vision.yaml``, ``targets.yaml``, ``plan.yaml``).

    Parameters
    ----------
    cycle_dir : str or Path
        The folder made by ``csi cycle new`` (or the sample, ``data/sample-cycle``).
    as_of : str or date, optional
        Run as of this inclusive date (YYYY-MM-DD): periods are cut there.
    data, preset, mapping : optional
        Use another export than the cycle's own.

    Returns
    -------
    Cycle
        ``.config``, ``.vision``, ``.targets``, ``.plan``, ``.periods`` (baseline,
        action, review) and ``.load()`` for its data.

    Examples
    --------
    >>> import csi_lib as csi
    >>> cycle = csi.open_cycle(csi.SAMPLE_DATA.parent / "sample-cycle", as_of="2026-04-15")
    >>> cycle.periods["baseline"].label
    '2025-01-01 to 2025-06-30'
    """
    from .cycle import open_cycle as open_

    return open_(cycle_dir, data=data, preset=preset, mapping=mapping, as_of=as_of)


def review(cycle: Cycle) -> CycleReview:
    """Did we get there? Each target of a cycle: baseline, now, target, met, evidence.

    Parameters
    ----------
    cycle : Cycle
        From :func:`open_cycle`.

    Returns
    -------
    CycleReview
        Its targets' reviews; :func:`csi_lib.review.review_table` and
        :func:`csi_lib.review.headline` turn it into a table and a sentence.

    Examples
    --------
    >>> import csi_lib as csi
    >>> from csi_lib import review as rv
    >>> cycle = csi.open_cycle(csi.SAMPLE_DATA.parent / "sample-cycle", as_of="2026-04-15")
    >>> rv.headline(csi.review(cycle))  # doctest: +ELLIPSIS
    '4 of 5 targets met...'
    """
    from .review import assess

    return assess(cycle)
