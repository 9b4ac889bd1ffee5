"""The workbook's look: a colour-blind-safe palette, RAG colours and a plotly template.

The palette is Okabe & Ito's (safe for the common colour-vision deficiencies).
RAG (red/amber/green) colours are used the same way everywhere: charts, SMART
tables, the report cover. Importing this module registers the ``"csi"``
plotly template; :func:`use` makes it the default.

Examples
--------
>>> from csi_lib.charts import theme
>>> theme.use()
>>> theme.RAG["pass"]
'#009E73'
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

#: Okabe-Ito palette, in the order plotly will cycle through it.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Verdict colours: pass / warn / fail, and met / not met, on every page.
RAG: dict[str, str] = {
    "pass": "#009E73",
    "met": "#009E73",
    "warn": "#E69F00",
    "fail": "#D55E00",
    "not met": "#D55E00",
    "unknown": "#999999",
}

#: Colours of process-behaviour variation classes.
VARIATION: dict[str, str] = {
    "improvement": "#0072B2",
    "concern": "#E69F00",
    "neither": "#CC79A7",
    "common cause": "#9E9E9E",
    "partial": "#5F6368",
}

GRID = "#E5E5E5"
INK = "#222222"
FONT = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT, "size": 13, "color": INK},
        colorway=list(PALETTE),
        paper_bgcolor="white",
        plot_bgcolor="white",
        title={"x": 0.0, "xanchor": "left", "font": {"size": 16}},
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        xaxis={
            "gridcolor": GRID,
            "linecolor": "#BBBBBB",
            "zeroline": False,
            "ticks": "outside",
            "automargin": True,
        },
        yaxis={
            "gridcolor": GRID,
            "linecolor": "#BBBBBB",
            "zeroline": False,
            "ticks": "outside",
            "automargin": True,
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0.0},
        hoverlabel={"font": {"family": FONT}},
    )
)

pio.templates["csi"] = TEMPLATE


def use() -> None:
    """Make the ``csi`` template the default for every new figure."""
    pio.templates.default = "csi"


def empty_figure(title: str) -> go.Figure:
    """A figure with nothing to draw yet, in the ``csi`` template, whose title says why:
    the sentence alone, without empty axes or gridlines (a reader took an empty panel for
    a chart of nothing).

    Examples
    --------
    >>> fig = empty_figure("No progress yet")
    >>> fig.layout.title.text, fig.layout.xaxis.visible, len(fig.data)
    ('No progress yet', False, 0)
    """
    fig = go.Figure()
    fig.update_layout(
        template="csi",
        title=title,
        height=110,
        margin={"t": 60, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


#: The note under a chart with a partial point.
PARTIAL_NOTE = "○ open marker: a {word} not complete at the as-of date or the end of the data: drawn, not judged"


def add_partial_note(fig: go.Figure, word: str = "month") -> go.Figure:
    """Say under ``fig`` what its open markers (partial months or weeks) mean."""
    fig.add_annotation(
        text=PARTIAL_NOTE.format(word=word),
        xref="paper", yref="paper", x=0, y=0, yshift=-62, xanchor="left", showarrow=False,
        font={"size": 11, "color": "#5f6368"},
    )  # fmt: skip
    fig.update_layout(margin={"b": 95})
    return fig
