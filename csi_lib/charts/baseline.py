"""Figures of "Where are we now?": KPI series, breakdowns, duration distributions.

Each function takes the tidy frames of :mod:`csi_lib.kpis` (or the canonical
request frame) and returns a plotly ``Figure``; none calls ``show()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..kpis import KPI, MISSING_GROUP, get_kpi, hidden_text, observations
from ..periods import Period
from . import theme

_UNIT_AXIS: dict[str, str] = {
    "%": "%",
    "hours": "hours",
    "requests": "requests",
    "ratio": "ratio",
    "score": "score (1-5)",
}


def _kpi(kpi: str | KPI) -> KPI:
    return kpi if isinstance(kpi, KPI) else get_kpi(kpi)


def kpi_series_figure(
    series: pd.DataFrame, kpi: str | KPI, *, by: str | None = None, title: str | None = None
) -> go.Figure:
    """Line chart of one KPI over time, from :func:`csi_lib.kpis.kpi_series`.

    Parameters
    ----------
    series:
        Tidy series with ``period_start``, ``kpi``, ``value`` (and ``by`` if given).
    kpi:
        KPI key or object; its label and unit title the chart.
    by:
        Draw one line per value of this column.
    """
    k = _kpi(kpi)
    data = series[series["kpi"] == k.key].sort_values("period_start")
    fig = go.Figure()
    groups = [(None, data)] if by is None else list(data.groupby(by, observed=True, sort=True))
    for i, (name, part) in enumerate(groups):
        colour = theme.PALETTE[i % len(theme.PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=part["period_start"],
                y=part["value"],
                mode="lines+markers",
                name=str(name) if name is not None else k.label,
                connectgaps=False,
                line={"color": colour},
                marker={"symbol": _symbols(part), "size": _sizes(part, 7)},
                hovertemplate="%{x|%d %b %Y}: %{y:,.1f}%{customdata}<extra>"
                + (str(name) if name is not None else "")
                + "</extra>",
                customdata=_partial_words(part),
            )
        )
    fig.update_layout(
        title=title or k.label,
        yaxis_title=_UNIT_AXIS.get(k.unit, k.unit),
        showlegend=by is not None,
        template="csi",
    )
    if _has_partial(data):
        theme.add_partial_note(fig, _bin_word(data))
    return fig


def _has_partial(data: pd.DataFrame) -> bool:
    return "partial" in data and bool(data["partial"].any())


def _symbols(part: pd.DataFrame) -> list[str]:
    """Open circles for partial bins (a month or week not complete), filled otherwise."""
    if "partial" not in part:
        return ["circle"] * len(part)
    return ["circle-open" if p else "circle" for p in part["partial"]]


def _sizes(part: pd.DataFrame, size: int) -> list[int]:
    if "partial" not in part:
        return [size] * len(part)
    return [size + 4 if p else size for p in part["partial"]]


def _partial_words(part: pd.DataFrame) -> list[str]:
    if "partial" not in part:
        return [""] * len(part)
    return [" (partial: not complete, not judged)" if p else "" for p in part["partial"]]


def _bin_word(data: pd.DataFrame) -> str:
    """ "week" when the bins are weeks, else "month"."""
    if len(data) and "period_end" in data:
        longest = (data["period_end"] - data["period_start"]).max()
        if longest <= pd.Timedelta(days=7):
            return "week"
    return "month"


def kpi_grid_figure(
    series: pd.DataFrame,
    kpis: list[str] | None = None,
    *,
    cols: int = 3,
    title: str | None = None,
    not_measured: Mapping[str, str] | None = None,
) -> go.Figure:
    """Small multiples: one panel per KPI over time (a scorecard at a glance).

    ``not_measured`` (KPI key -> why, :meth:`csi_lib.now.StageOne.not_measured`): those KPIs
    get no empty panel; a note under the chart names them. Partial months or weeks
    (a ``partial`` column) are open markers, explained in a note.
    """
    skipped = dict(not_measured or {})
    keys = [k for k in (kpis or list(dict.fromkeys(series["kpi"]))) if k not in skipped]
    rows = max(1, int(np.ceil(len(keys) / cols)))
    labels = [f"{get_kpi(k).label} ({get_kpi(k).unit})" for k in keys]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=labels,
        vertical_spacing=0.5 / max(rows, 1),
        horizontal_spacing=0.07,
    )
    for i, key in enumerate(keys):
        part = series[series["kpi"] == key].sort_values("period_start")
        fig.add_trace(
            go.Scatter(
                x=part["period_start"],
                y=part["value"],
                mode="lines+markers",
                name=get_kpi(key).label,
                line={"color": theme.PALETTE[0], "width": 2},
                marker={"size": _sizes(part, 4), "symbol": _symbols(part)},
                showlegend=False,
                customdata=_partial_words(part),
                hovertemplate="%{x|%d %b %Y}: %{y:,.1f}%{customdata}<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_annotations(font_size=12)
    notes = []
    if skipped:
        notes.append(
            "Not measured: "
            + "; ".join(
                f"{get_kpi(k).label} ({why})"
                for k, why in skipped.items()
                if k in (kpis or skipped)
            )
        )
    if _has_partial(series):
        notes.append(theme.PARTIAL_NOTE.format(word=_bin_word(series)))
    fig.update_layout(
        title=title,
        height=max(300, 230 * rows) + 20 * len(notes),
        template="csi",
        margin={"t": 80, "b": 40 + 24 * len(notes)},
    )
    for j, note in enumerate(notes):
        fig.add_annotation(
            text=note, xref="paper", yref="paper", x=0, y=0, yshift=-36 - 20 * j,
            xanchor="left", showarrow=False, font={"size": 11, "color": "#5f6368"},
        )  # fmt: skip
    return fig


def breakdown_figure(
    table: pd.DataFrame, kpi: str | KPI, *, by: str, title: str | None = None
) -> go.Figure:
    """Horizontal bars of one KPI per group, from :func:`csi_lib.kpis.breakdown`.

    The hover shows the group's population size ``n``; hidden small groups
    (``table.attrs["hidden_groups"]``) are noted under the chart.
    """
    k = _kpi(kpi)
    data = table[table["kpi"] == k.key].dropna(subset=["value"]).sort_values("value")
    if by in data and (data[by].astype(str) == MISSING_GROUP).all():
        from ..schema import COLUMNS

        name = COLUMNS[by].label if by in COLUMNS else by
        return theme.empty_figure(
            f"No breakdown of {k.label}: the data has no values of {name} "
            "(nor of any other breakdown dimension)"
        )
    fig = go.Figure(
        go.Bar(
            x=data["value"],
            y=data[by].astype(str),
            orientation="h",
            marker_color=theme.PALETTE[0],
            customdata=data["n"],
            hovertemplate="%{y}: %{x:,.1f} (n = %{customdata:,})<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or f"{k.label} by {by}",
        xaxis_title=_UNIT_AXIS.get(k.unit, k.unit),
        height=max(260, 28 * len(data) + 120),
        template="csi",
    )
    fig.update_yaxes(automargin=True)
    hidden = hidden_text(table, k)
    if hidden:  # how many groups and why: too few requests in this KPI's own population
        fig.add_annotation(
            text=hidden,
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            yshift=-60,
            xanchor="left",
            showarrow=False,
            font={"size": 11, "color": "#5f6368"},
        )
        fig.update_layout(margin={"b": 90})
    return fig


#: Ticks of the log duration axis: hours with the words people use for them (no "3 days": on
#: a page or a phone it ran into "2 days").
_DURATION_TICKS: tuple[tuple[float, str], ...] = (
    (0.1, "6 min"), (0.25, "15 min"), (0.5, "30 min"), (1, "1 h"), (2, "2 h"), (4, "4 h"),
    (8, "8 h"), (24, "1 day"), (48, "2 days"), (168, "1 week"),
    (336, "2 weeks"), (720, "30 days"), (2160, "90 days"), (8760, "1 year"),
)  # fmt: skip


def duration_distribution_figure(
    df: pd.DataFrame,
    period: Period,
    *,
    kpi: str = "fulfil_median_h",
    scope: dict | None = None,
    title: str | None = None,
) -> go.Figure:
    """Histogram of per-request durations (hours, log scale) with median and 90th percentile lines.

    ``kpi`` picks the duration: ``fulfil_median_h`` (receipt to fulfilment) or
    ``assess_median_h`` (receipt to assessment).
    """
    k = _kpi(kpi)
    hours = observations(df, period, k, scope=scope).dropna()
    hours = hours[hours > 0]
    if hours.empty:
        return theme.empty_figure(title or "No durations in this period")
    fig = go.Figure()
    edges = np.logspace(np.log10(max(hours.min(), 0.05)), np.log10(hours.max()), 40)
    counts, edges = np.histogram(hours, bins=edges)
    fig.add_trace(
        go.Bar(
            x=np.sqrt(edges[:-1] * edges[1:]),
            y=counts,
            width=np.diff(edges),
            marker_color=theme.PALETTE[4],
            name="requests",
            hovertemplate="%{x:,.1f} h: %{y:,} requests<extra></extra>",
        )
    )
    # the two labels one above the other: side by side they ran into each other when the
    # lines are close or the chart is narrow (a printed page, a phone)
    for q, label, colour, lift in (
        (0.5, "median", theme.PALETTE[0], 0),
        (0.9, "90th percentile", theme.PALETTE[5], 18),
    ):
        v = float(hours.quantile(q))
        fig.add_vline(x=v, line={"color": colour, "dash": "dash"})
        # annotations on a log axis take log10 of the value as x
        fig.add_annotation(
            x=np.log10(v),
            y=1,
            yref="paper",
            text=f"{label} {v:,.1f} h",
            showarrow=False,
            yanchor="bottom",
            yshift=lift,
            font={"color": colour},
        )
    inside = [t for t in _DURATION_TICKS if edges[0] <= t[0] <= edges[-1]]
    if len(inside) >= 2:  # words for the durations ("1 day", "1 week")
        ticks = [t for t in _DURATION_TICKS if edges[0] / 1.5 <= t[0] <= edges[-1] * 1.5]
        fig.update_xaxes(
            type="log",
            title="time taken (log scale)",
            tickvals=[t[0] for t in ticks],
            ticktext=[t[1] for t in ticks],
        )
    else:  # a narrow span (745 to 1,427 h) between two of those words: hours, ticked by plotly
        fig.update_xaxes(type="log", title="time taken in hours (log scale)", tickformat=",~r")
    fig.update_layout(
        title=title or f"Distribution of {k.label.lower().replace('median ', '')}",
        yaxis_title="requests",
        showlegend=False,
        template="csi",
        bargap=0,
        margin={"t": 96},  # the title, then the two labels above the plot
    )
    return fig
