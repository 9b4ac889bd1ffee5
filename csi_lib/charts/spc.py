"""Process-behaviour (XmR) chart figure.

Draws an :func:`csi_lib.spc.xmr` frame: the KPI values as a line, each point
as a marker coloured by its variation (Okabe-Ito, colour-blind safe:
improvement blue, concern orange, special cause with no better direction
reddish purple, common cause grey), the centre line and the natural process
limits as flat lines per segment (they step where the limits were
recalculated), and the target as a dashed line. Hovering a point shows its
value, its variation and the rules that fired.

Examples
--------
>>> import pandas as pd
>>> from csi_lib.spc import xmr
>>> chart = xmr(pd.Series([5.0, 6, 5, 7, 6, 5, 6, 14]), better="lower")
>>> fig = xmr_figure(chart, title="Median fulfilment time", unit="hours", better="lower")
>>> [t.name for t in fig.data][:3]
['Value', 'Centre (mean)', 'Process limits']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from csi_lib.charts import theme
from csi_lib.spc import RULES, RUN_LENGTH, TREND_LENGTH, rule_labels

#: Legend names of the variation classes, in legend order.
VARIATION_NAMES: dict[str, str] = {
    "improvement": "Improvement (special cause)",
    "concern": "Concern (special cause)",
    "neither": "Special cause (no better direction)",
    "common cause": "Common cause",
    "partial": "Partial (not complete: not judged)",
}
LINE = "#555555"
CENTRE = "#000000"
LIMITS = "#7F7F7F"
TARGET = theme.PALETTE[2]  # bluish green, distinct from the variation colours
_BETTER_NOTE = {"higher": "higher is better", "lower": "lower is better", "neither": ""}


def _by_segment(chart: pd.DataFrame, column: str) -> tuple[list, list]:
    """x and y of a flat line per segment, with a gap (None) between segments."""
    xs: list = []
    ys: list = []
    for _, part in chart.groupby("segment", sort=True):
        if xs:
            xs.append(None)
            ys.append(None)
        xs.extend(part.index.tolist())
        ys.extend(part[column].tolist())
    return xs, ys


def _hover(chart: pd.DataFrame, unit: str) -> list[str]:
    texts = []
    labels = rule_labels(chart.attrs.get("run", RUN_LENGTH), chart.attrs.get("trend", TREND_LENGTH))
    for label, row in chart.iterrows():
        when = label.strftime("%Y-%m-%d") if isinstance(label, pd.Timestamp) else str(label)
        fired = [labels[r] for r in RULES if row[r]]
        variation = row["variation"]
        if variation == "partial":
            variation = "partial: not complete at the as-of date, not judged"
        text = f"{when}: {row['x']:.4g} {unit}<br>{variation}"
        if fired:
            text += "<br>rule: " + "; ".join(fired)
        texts.append(text)
    return texts


def xmr_figure(
    chart: pd.DataFrame,
    *,
    title: str,
    unit: str,
    target: float | None = None,
    better: str = "neither",
) -> go.Figure:
    """Plotly figure of an XmR chart.

    Parameters
    ----------
    chart:
        Output of :func:`csi_lib.spc.xmr`.
    title:
        Figure title (the KPI's label).
    unit:
        The KPI's unit (``"hours"``, ``"%"``, ``"requests"``...): the y axis
        title and hover text.
    target:
        Target in the KPI's unit, drawn as a dashed line; defaults to the
        chart's ``target`` (``chart.attrs["target"]``) if it has one.
    better:
        ``"higher"``, ``"lower"`` or ``"neither"``; shown under the title.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: ``Value`` (line), ``Centre (mean)``, ``Process limits``
        (upper; the lower limit trace shares its legend entry), ``Target``
        (if any), then one marker trace per variation class present, named
        as in :data:`VARIATION_NAMES`. Never shown.
    """
    if target is None:
        target = chart.attrs.get("target")
    fig = go.Figure()
    x = chart.index.tolist()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=chart["x"],
            mode="lines",
            name="Value",
            line={"color": LINE, "width": 1.5},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    _add_centre_and_limits(fig, chart)
    if target is not None and not pd.isna(target) and len(x):
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[target, target],
                mode="lines",
                name=f"Target ({target:g} {unit})",
                line={"color": TARGET, "width": 2, "dash": "dash"},
                hovertemplate=f"target {target:g} {unit}<extra></extra>",
            )
        )
    _add_variation_markers(fig, chart, unit)
    note = _BETTER_NOTE.get(better, "")
    fig.update_layout(
        template="csi",
        title={"text": f"{title}<br><sup>{note}</sup>" if note else title},
        yaxis_title=unit,
        hovermode="closest",
        margin={"t": 70, "b": 90},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0.0},
    )
    return fig


def _add_centre_and_limits(fig: go.Figure, chart: pd.DataFrame) -> None:
    """The centre line and the upper and lower limits, flat per segment (one legend entry)."""
    cx, cy = _by_segment(chart, "centre")
    fig.add_trace(
        go.Scatter(
            x=cx,
            y=cy,
            mode="lines",
            name="Centre (mean)",
            line={"color": CENTRE, "width": 1},
            connectgaps=False,
            hovertemplate="centre %{y:.4g}<extra></extra>",
        )
    )
    for column, show in (("upper", True), ("lower", False)):
        lx, ly = _by_segment(chart, column)
        fig.add_trace(
            go.Scatter(
                x=lx,
                y=ly,
                mode="lines",
                name="Process limits" if show else "Lower process limit",
                legendgroup="limits",
                showlegend=show,
                line={"color": LIMITS, "width": 1, "dash": "dot"},
                connectgaps=False,
                hovertemplate=f"{column} limit %{{y:.4g}}<extra></extra>",
            )
        )


def _marker(variation: str) -> dict[str, Any]:
    """A variation class's marker: a partial point is an open circle, never a signal's colour."""
    if variation == "partial":
        return {"color": theme.VARIATION["partial"], "size": 10, "symbol": "circle-open",
                "line": {"width": 2}}  # fmt: skip
    return {
        "color": theme.VARIATION[variation],
        "size": 9 if variation != "common cause" else 7,
        "line": {"color": "white", "width": 1},
    }


def _add_variation_markers(fig: go.Figure, chart: pd.DataFrame, unit: str) -> None:
    """One marker trace per variation class present, in :data:`VARIATION_NAMES` order."""
    hover = np.array(_hover(chart, unit), dtype=object)
    for variation, name in VARIATION_NAMES.items():
        mask = (chart["variation"] == variation).fillna(False).to_numpy(dtype=bool)
        if not mask.any():
            continue
        fig.add_trace(
            go.Scatter(
                x=chart.index[mask].tolist(),
                y=chart["x"][mask],
                mode="markers",
                name=name,
                marker=_marker(variation),
                text=hover[mask].tolist(),
                hovertemplate="%{text}<extra></extra>",
            )
        )
