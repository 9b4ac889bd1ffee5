"""Stage 5's benefits chart: expected against realised per initiative and target, with
the 95 % interval of the realised benefit; one panel per unit (hours of waiting saved,
requests avoided), since hours and requests share no axis.

A benefit that is not established is drawn as no bar, with the words "not established"
where the bar would be: never as a gain.

Examples
--------
>>> from csi_lib import benefits
>>> fig = benefits_figure(benefits.initiative_benefits(rv))   # rv: the sample's review
>>> [t.name for t in fig.data][:2]
['Expected', 'Realised (95 % interval)']
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..benefits.realised import ESTABLISHED
from .theme import PALETTE, empty_figure

__all__ = ["benefits_figure"]

_EXPECTED = "#9E9E9E"
_REALISED = PALETTE[0]
_LOSS = PALETTE[5]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"


def benefits_figure(parts: pd.DataFrame) -> go.Figure:
    """Expected and realised benefit per initiative and target (stage 5).

    Parameters
    ----------
    parts:
        :func:`csi_lib.benefits.initiative_benefits` (one row per initiative and target or
        KPI it serves; ``realised`` NaN unless established).
    """
    rated = parts[parts["unit"].astype(bool)] if not parts.empty else parts
    if rated.empty or (rated["expected"].isna().all() and rated["realised"].isna().all()):
        return empty_figure("No benefit to show yet")
    units = list(dict.fromkeys(rated["unit"]))
    fig = make_subplots(
        rows=len(units), cols=1, subplot_titles=[u[0].upper() + u[1:] for u in units],
        vertical_spacing=0.18 if len(units) > 1 else 0.1,
    )  # fmt: skip
    for row, unit in enumerate(units, start=1):
        part = rated[rated["unit"] == unit]
        names = part["initiative"] + " · " + part["label"]
        first = row == 1
        fig.add_trace(
            go.Bar(
                y=names, x=part["expected"], orientation="h", name="Expected",
                marker_color=_EXPECTED, legendgroup="expected", showlegend=first,
                hovertemplate="%{y}<br>expected %{x:,.0f} " + unit + "<extra></extra>",
            ),
            row=row, col=1,
        )  # fmt: skip
        established = part["status"].isin(ESTABLISHED)
        shown = part[established]
        colours = [_REALISED if s == "realised" else _LOSS for s in shown["status"]]
        fig.add_trace(
            go.Bar(
                y=names[established], x=shown["realised"], orientation="h",
                name="Realised (95 % interval)", marker_color=colours,
                legendgroup="realised", showlegend=first,
                error_x={
                    "type": "data", "symmetric": False,
                    "array": (shown["ci_high"] - shown["realised"]).tolist(),
                    "arrayminus": (shown["realised"] - shown["ci_low"]).tolist(),
                    "color": "#222222", "thickness": 1.5,
                },
                customdata=list(zip(shown["ci_low"].map(_fmt), shown["ci_high"].map(_fmt),
                                    strict=True)),
                hovertemplate="%{y}<br>realised %{x:,.0f} " + unit
                + " (95 % interval %{customdata[0]} to %{customdata[1]})<extra></extra>",
            ),
            row=row, col=1,
        )  # fmt: skip
        for name, status in zip(names[~established], part.loc[~established, "status"], strict=True):
            words = {"not established": "not established", "not yet": "nothing to compare yet"}
            fig.add_annotation(
                x=0, y=name, xref=f"x{'' if row == 1 else row}", yref=f"y{'' if row == 1 else row}",
                text=words.get(status, status), showarrow=False, xanchor="left",
                xshift=4, yshift=-14,  # in the realised bar's slot, below the expected one
                font={"color": "#555555", "size": 12},
            )  # fmt: skip
        fig.update_xaxes(row=row, col=1, rangemode="tozero")  # the panel's title is the unit
        fig.update_yaxes(autorange="reversed", row=row, col=1)
    provisional = bool(parts["provisional"].any()) if "provisional" in parts else False
    title = "Benefits: expected against realised" + (" so far (provisional)" if provisional else "")
    fig.update_layout(
        template="csi", title=title, barmode="group", margin={"t": 100},
        height=180 + 90 * len(rated) + 60 * len(units),
    )  # fmt: skip
    return fig
