"""Figures of stages 4 to 6: a target's XmR chart through the cycle, gap closed, review, history.

* :func:`target_figure`: the KPI's series over baseline, action and review on
  an XmR chart whose limits are frozen on the baseline, the target line, the
  phases shaded;
* :func:`gap_figure`: the share of the gap closed per target (stage 4);
* :func:`review_figure`: baseline, review and target per target, as % of the
  baseline so that KPIs of different units share one axis (stage 5);
* :func:`breakdown_figure`: each group's contribution to a target's change;
* :func:`history_figure`: each KPI's baseline, target and achieved value across cycles.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .spc import xmr_figure
from .theme import INK, PALETTE, RAG

__all__ = [
    "target_figure",
    "gap_figure",
    "review_figure",
    "breakdown_figure",
    "history_figure",
]

#: Shading of the cycle's phases.
PHASE_COLOURS: dict[str, str] = {
    "baseline": "rgba(0, 114, 178, 0.06)",
    "action": "rgba(230, 159, 0, 0.08)",
    "review": "rgba(0, 158, 115, 0.08)",
}
_PHASE_LABELS = {
    "baseline": "baseline (limits)",
    "action": "action",
    "review": "review",
}


def target_figure(tr: Any) -> go.Figure:
    """XmR chart of one target through the cycle (a :class:`csi_lib.review.TargetReview`).

    Limits are those of the baseline periods, extended over the action and
    review periods; points are coloured by variation (improvement, concern,
    common cause); the target is a dashed line; the phases are shaded.

    Examples
    --------
    >>> fig = target_figure(review.assess(cycle).target("T1"))   # doctest: +SKIP
    """
    title = f"{tr.id}: {tr.label}"
    if tr.chart is None:
        fig = go.Figure()
        fig.update_layout(
            template="csi",
            title={"text": f"{title}<br><sup>too few baseline periods for process limits</sup>"},
        )
        if len(tr.series):
            fig.add_trace(
                go.Scatter(x=tr.series["period_start"], y=tr.series["value"], name="Value")
            )
        return fig
    target = None if pd.isna(tr.target_value) else float(tr.target_value)
    fig = xmr_figure(tr.chart, title=title, unit=tr.kpi.unit, target=target, better=tr.kpi.better)
    series = tr.series
    for phase, part in series.groupby("phase", sort=False):
        fig.add_vrect(
            x0=part["period_start"].min(),
            x1=part["period_end"].max(),
            fillcolor=PHASE_COLOURS.get(str(phase), "rgba(0,0,0,0.04)"),
            line_width=0,
            layer="below",
            annotation_text=_PHASE_LABELS.get(str(phase), str(phase)),
            annotation_position="top left",
            annotation_font={"size": 11, "color": INK},
        )
    if tr.target.kind == "within" and tr.target.tolerance and target is not None:
        fig.add_hrect(
            y0=target - tr.target.tolerance,
            y1=target + tr.target.tolerance,
            fillcolor="rgba(0, 158, 115, 0.10)",
            line_width=0,
            layer="below",
        )
    return fig


def gap_figure(progress: pd.DataFrame) -> go.Figure:
    """Horizontal bars: share of the gap to each target closed so far (0..100 %).

    Parameters
    ----------
    progress:
        :func:`csi_lib.review.progress_table` (unformatted).
    """
    fig = go.Figure()
    if progress.empty:
        fig.update_layout(template="csi", title="No progress yet")
        return fig
    share = pd.to_numeric(progress["gap_closed_pct"], errors="coerce")
    colours = [
        RAG["met"]
        if s >= 100
        else RAG["warn"]
        if s > 0
        else RAG["fail"]
        if s == 0
        else RAG["unknown"]
        for s in share.fillna(-1)
    ]
    fig.add_trace(
        go.Bar(
            y=progress["target"] + ": " + progress["label"],
            x=share.fillna(0),
            orientation="h",
            marker_color=colours,
            text=progress["progress"],
            textposition="auto",
            hovertemplate="%{y}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        template="csi",
        title="Share of the gap between baseline and target closed so far",
        xaxis={"range": [0, 100], "title": "% of the gap closed"},
        yaxis={"autorange": "reversed"},
        showlegend=False,
        height=120 + 50 * len(progress),
    )
    return fig


def review_figure(table: pd.DataFrame) -> go.Figure:
    """Baseline, review and target per target, each as % of its baseline (stage 5).

    Parameters
    ----------
    table:
        :func:`csi_lib.review.review_table` (unformatted).
    """
    fig = go.Figure()
    if table.empty:
        fig.update_layout(template="csi", title="Nothing to compare yet")
        return fig
    names = table["target"] + ": " + table["label"]
    base = pd.to_numeric(table["baseline"], errors="coerce")
    scale = 100 / base.where(base != 0)
    met_colour = [
        RAG["met"] if m is True else RAG["not met"] if m is False else RAG["unknown"]
        for m in table["met"]
    ]
    for y, x0, x1 in zip(names, [100] * len(table), table["review"] * scale, strict=True):
        fig.add_trace(
            go.Scatter(
                x=[x0, x1], y=[y, y], mode="lines", line={"color": "#BBBBBB", "width": 3},
                showlegend=False, hoverinfo="skip",
            )
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[100] * len(table), y=names, mode="markers", name="Baseline",
            marker={"color": PALETTE[0], "size": 11},
            text=table["baseline"].round(2), hovertemplate="baseline %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=table["target_value"] * scale, y=names, mode="markers", name="Target",
            marker={"color": INK, "symbol": "line-ns-open", "size": 18, "line": {"width": 3}},
            text=table["target_value"].round(2), hovertemplate="target %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=table["review"] * scale, y=names, mode="markers", name="Review (green = met)",
            marker={"color": met_colour, "size": 13, "line": {"color": "white", "width": 1}},
            text=table["verdict"], hovertemplate="review: %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        template="csi",
        title=(
            f"Where each target stands so far (provisional): {table.attrs.get('compared') or 'review'}"
            " value and target as % of the baseline"
            if table.attrs.get("provisional")
            else "Where each target ended: review value and target as % of the baseline"
        ),
        xaxis_title="% of the baseline value (100 = no change)",
        yaxis={"autorange": "reversed"},
        height=150 + 55 * len(table),
    )
    return fig


def breakdown_figure(table: pd.DataFrame, *, target_id: str | None = None) -> go.Figure:
    """Each group's contribution to one target's change (bars, KPI unit).

    Parameters
    ----------
    table:
        :func:`csi_lib.review.breakdowns`.
    target_id:
        The target to show; default the first in the table.
    """
    if target_id is None and len(table):
        target_id = str(table["target"].iloc[0])
    part = table[table["target"] == target_id]
    fig = go.Figure()
    if part.empty:
        fig.update_layout(template="csi", title=f"{target_id}: no groups to show")
        return fig
    contribution = pd.to_numeric(part["contribution"], errors="coerce")
    fig.add_trace(
        go.Bar(
            x=contribution,
            y=part["group_value"].astype(str),
            orientation="h",
            marker_color=[PALETTE[0] if c < 0 else PALETTE[1] for c in contribution],
            customdata=part[["baseline", "review"]].to_numpy(),
            hovertemplate="%{y}: %{customdata[0]:.3g} → %{customdata[1]:.3g}"
            "<br>contribution %{x:.3g}<extra></extra>",
        )
    )
    by = part["by"].iloc[0]
    fig.update_layout(
        template="csi",
        title=f"{target_id}: {part['label'].iloc[0]}, contribution to the change by {by}",
        xaxis_title="contribution to the change (KPI unit)",
        yaxis={"autorange": "reversed"},
        showlegend=False,
        height=140 + 28 * len(part),
    )
    return fig


def history_figure(history: pd.DataFrame) -> go.Figure:
    """Each KPI (with its scope) across cycles: baseline, target and achieved value.

    Parameters
    ----------
    history:
        :func:`csi_lib.momentum.kpi_history` (one row per cycle and target).
    """
    if history.empty:
        fig = go.Figure()
        fig.update_layout(template="csi", title="No cycle history yet")
        return fig
    labels = list(dict.fromkeys(history["label"]))
    fig = make_subplots(rows=len(labels), cols=1, subplot_titles=labels, vertical_spacing=0.08)
    series = (("baseline", "Baseline", PALETTE[0]), ("target_value", "Target", INK),
              ("achieved", "Achieved (review)", PALETTE[2]))  # fmt: skip
    for row, label in enumerate(labels, start=1):
        part = history[history["label"] == label]
        for column, name, colour in series:
            fig.add_trace(
                go.Scatter(
                    x=part["cycle"], y=part[column], mode="lines+markers", name=name,
                    legendgroup=name, showlegend=row == 1,
                    line={"color": colour, "dash": "dash" if column == "target_value" else "solid"},
                ),
                row=row, col=1,
            )  # fmt: skip
    fig.update_layout(
        template="csi",
        title="KPIs across improvement cycles",
        height=220 * len(labels) + 100,
    )
    return fig


def targets_figure(trs: list[Any]) -> go.Figure:
    """Every target's XmR chart through the cycle, one row each (see :func:`target_figure`).

    Parameters
    ----------
    trs:
        :class:`csi_lib.review.TargetReview` s, e.g. ``list(review.assess(cycle))``.
    """
    if not trs:
        fig = go.Figure()
        fig.update_layout(template="csi", title="The cycle has no targets")
        return fig
    fig = make_subplots(
        rows=len(trs),
        cols=1,
        subplot_titles=[f"{tr.id}: {tr.label} ({tr.kpi.unit})" for tr in trs],
        vertical_spacing=min(0.08, 0.35 / len(trs)),
    )
    seen: set[str] = set()
    for row, tr in enumerate(trs, start=1):
        one = target_figure(tr)
        for trace in one.data:
            name = trace.name or ""
            key = name.split(" (")[0]
            trace.update(
                legendgroup=key, showlegend=key not in seen and trace.showlegend is not False
            )
            seen.add(key)
            fig.add_trace(trace, row=row, col=1)
        for shape in one.layout.shapes:
            fig.add_vrect(
                x0=shape.x0, x1=shape.x1, fillcolor=shape.fillcolor, line_width=0,
                layer="below", row=row, col=1,
            )  # fmt: skip
    fig.update_layout(
        template="csi",
        title="Targets through the cycle (limits frozen on the baseline; shading: baseline, action, review)",
        height=260 * len(trs) + 120,
        legend={"orientation": "h", "yanchor": "top", "y": -0.03, "x": 0.0},
        hovermode="closest",
    )
    return fig
