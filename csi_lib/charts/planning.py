"""Figures of stages 0 and 3: the alignment Sankey and the roadmap Gantt.

Examples
--------
>>> from csi_lib.charts.planning import alignment_figure, roadmap_figure
>>> fig = alignment_figure(cycle.vision, cycle.targets, cycle.plan)
>>> fig = roadmap_figure(cycle.plan, cycle.targets)
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ..plan import Plan
from ..vision import Vision, alignment, alignment_words, orphans, target_links
from . import theme

__all__ = ["alignment_figure", "roadmap_figure"]

NO_TARGET = "(no target)"
NO_OBJECTIVE = "(no objective)"

#: colours of the roadmap bars by way of working, and of project stages
WAY_COLOURS: dict[str, str] = {
    "project": theme.PALETTE[0],
    "sprint": theme.PALETTE[1],
    "daily work": theme.PALETTE[2],
    "stage": theme.PALETTE[4],
}


def _short(text: str, width: int = 45) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _column_positions(ids: list[str]) -> list[float]:
    n = len(ids)
    return [0.5] if n == 1 else [0.02 + 0.96 * i / (n - 1) for i in range(n)]


def alignment_figure(
    vision: Vision, targets: Any, plan: Plan, *, title: str | None = None
) -> go.Figure:
    """Sankey diagram objective -> target -> initiative, broken links in the "fail" colour.

    An objective without a target flows into a ``(no target)`` node, as does
    an initiative that serves no known target; a target whose objective is not
    in the vision flows from a ``(no objective)`` node. Those nodes and the
    orphans themselves are drawn in red (``theme.RAG["fail"]``).

    Parameters
    ----------
    vision, targets, plan:
        The cycle's ``vision``, ``targets`` and ``plan`` (see :func:`csi_lib.cycle.open_cycle`).
    title:
        Figure title; default "Alignment: objective -> target -> initiative".

    Returns
    -------
    go.Figure
        One ``go.Sankey`` trace; every link has value 1.
    """
    columns, links = _alignment_graph(vision, targets, plan)
    keys = [(kind, nid) for kind in columns for nid in columns[kind]]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node=_sankey_nodes(keys, columns, vision, targets, plan),
            link=_sankey_links(keys, links),
        )
    )
    n_rows = max((len(v) for v in columns.values()), default=1)
    fig.update_layout(
        title=title or "Alignment: objective → target → initiative",
        height=max(320, 70 * n_rows + 120),
        font={"size": 12},
    )
    return fig


_Node = tuple[str, str]  # (kind, id): kind is "objective", "target" or "initiative"


def _alignment_graph(
    vision: Vision, targets: Any, plan: Plan
) -> tuple[dict[str, list[str]], list[tuple[_Node, _Node]]]:
    """The Sankey's node ids by column (in order) and its links, broken links to the placeholders."""
    chain = alignment(vision, targets, plan)
    objective_ids = set(vision.objective_ids)
    columns: dict[str, list[str]] = {"objective": [], "target": [], "initiative": []}
    links: list[tuple[_Node, _Node]] = []

    def node(kind: str, nid: str) -> _Node:
        if nid not in columns[kind]:
            columns[kind].append(nid)
        return kind, nid

    for oid in vision.objective_ids:
        node("objective", oid)
    for row in chain.itertuples(index=False):
        o, t, i = (None if pd.isna(v) else str(v) for v in row)
        if o is not None and o not in objective_ids:
            o = NO_OBJECTIVE
        if t is not None:
            links.append((node("objective", o or NO_OBJECTIVE), node("target", t)))
            if i is not None:
                links.append((node("target", t), node("initiative", i)))
        elif o is not None:
            links.append((node("objective", o), node("target", NO_TARGET)))
        elif i is not None:
            links.append((node("target", NO_TARGET), node("initiative", i)))
    return columns, list(dict.fromkeys(links))


def _sankey_nodes(
    keys: list[_Node], columns: dict[str, list[str]], vision: Vision, targets: Any, plan: Plan
) -> dict[str, Any]:
    """The Sankey's nodes: labels (id and short text), colours (orphans red), positions by column."""
    bad = orphans(vision, targets, plan)
    orphan_ids = set(zip(bad["kind"], bad["id"], strict=True))
    words = alignment_words(vision, targets, plan)
    x_of = {"objective": 0.01, "target": 0.5, "initiative": 0.99}

    def label(kind: str, nid: str) -> str:
        """The id and its words, wrapped in short lines (labels sit between the columns)."""
        if nid in (NO_TARGET, NO_OBJECTIVE):
            return nid
        text = f"{nid} {_short(words.get((kind, nid), ''), 48)}".strip()
        return "<br>".join(textwrap.wrap(text, 24))

    def colour(kind: str, nid: str) -> str:
        if nid in (NO_TARGET, NO_OBJECTIVE) or (kind, nid) in orphan_ids:
            return theme.RAG["fail"]
        return {
            "objective": theme.PALETTE[0],
            "target": theme.PALETTE[2],
            "initiative": theme.PALETTE[1],
        }[kind]

    ys = {
        k: y
        for kind in columns
        for k, y in zip(
            [(kind, n) for n in columns[kind]], _column_positions(columns[kind]), strict=True
        )
    }
    return {
        "label": [label(*k) for k in keys],
        "color": [colour(*k) for k in keys],
        "x": [x_of[k[0]] for k in keys],
        "y": [ys[k] for k in keys],
        "pad": 18,
        "thickness": 16,
        # the ids alone: a phone names the nodes by them (report.js), the labels do not fit
        "customdata": [k[1] for k in keys],
        "hovertemplate": "%{label}<extra></extra>",
    }


def _sankey_links(keys: list[_Node], links: list[tuple[_Node, _Node]]) -> dict[str, Any]:
    """The Sankey's links, value 1 each; those from or to a placeholder node in orange."""
    index = {k: n for n, k in enumerate(keys)}
    broken = {NO_TARGET, NO_OBJECTIVE}
    return {
        "source": [index[a] for a, _ in links],
        "target": [index[b] for _, b in links],
        "value": [1] * len(links),
        "color": [
            "rgba(213,94,0,0.45)"
            if (a[1] in broken or b[1] in broken)
            else "rgba(150,150,150,0.35)"
            for a, b in links
        ],
    }


def _ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def roadmap_figure(
    plan: Plan,
    targets: Any,
    *,
    today: str | dt.date | None = None,
    title: str | None = None,
) -> go.Figure:
    """Gantt chart of the plan: initiatives, project stages and target due dates.

    Each initiative is a bar coloured by its way of working (``start`` to the
    end of its ``end`` day); each stage of a project is a bar on its own row
    just below it; the due date of every target the initiative serves is a
    diamond on its row (targets no initiative serves get a row of their own).

    Parameters
    ----------
    plan:
        The cycle's plan.
    targets:
        The targets model (anything :func:`csi_lib.vision.target_links` reads).
    today:
        Optional date drawn as a dashed vertical line (e.g. the ``as_of`` date).
    title:
        Figure title; default "Roadmap".

    Returns
    -------
    go.Figure
        ``px.timeline`` bars plus one scatter trace of due dates.
    """
    bars = _roadmap_bars(plan)
    order = list(dict.fromkeys(bars["row"]))
    dues = _due_markers(plan, targets)
    if (dues["row"] == NO_INITIATIVE).any():
        order.append(NO_INITIATIVE)
    fig = _timeline(bars, order)
    if not dues.empty:
        fig.add_trace(
            go.Scatter(
                x=dues["due"],
                y=dues["row"],
                mode="markers+text",
                marker={"symbol": "diamond", "size": 12, "color": theme.INK},
                text=dues["target"] + " due",
                textposition="top center",
                cliponaxis=False,  # the label of a due date on the first row stays whole
                name="target due",
                hovertemplate="%{text}: %{x|%Y-%m-%d}<extra></extra>",
            )
        )
    if today is not None:
        fig.add_vline(x=pd.Timestamp(today), line_dash="dash", line_color=theme.RAG["unknown"])
    fig.update_yaxes(
        categoryorder="array",
        categoryarray=order,
        autorange="reversed",
        title=None,
        type="category",
    )
    fig.update_xaxes(title=None)
    fig.update_layout(
        title=title or "Roadmap",
        height=max(300, 38 * len(order) + 190),
        legend_title_text="",
        # the legend under the chart: above it, it covered the title and the due dates' labels
        legend={"orientation": "h", "x": 0, "xanchor": "left", "yref": "container", "y": 0,
                "yanchor": "bottom"},
        margin={"b": 90},
    )  # fmt: skip
    return fig


NO_INITIATIVE = "(no initiative)"


def _initiative_row(ini: Any) -> str:
    """The roadmap row label of an initiative: its id and short title."""
    return f"{ini.id} {_short(ini.title, 40)}"


def _roadmap_bars(plan: Plan) -> pd.DataFrame:
    """One bar per initiative and per project stage (row, start, finish, kind, detail)."""
    rows = []
    for ini in plan.initiatives:
        rows.append(
            {
                "row": _initiative_row(ini),
                "start": _ts(ini.start),
                "finish": _ts(ini.end) + pd.Timedelta(days=1),
                "kind": ini.way_of_working,
                "detail": f"{ini.way_of_working}, {ini.status}"
                + (f", {ini.timebox_weeks}-week timebox" if ini.timebox_weeks else ""),
            }
        )
        for stage in ini.stages:
            rows.append(
                {
                    "row": f"   {ini.id} · {_short(stage.name, 30)}",
                    "start": _ts(stage.start),
                    "finish": _ts(stage.end) + pd.Timedelta(days=1),
                    "kind": "stage",
                    "detail": f"stage of {ini.id}",
                }
            )
    return pd.DataFrame(rows, columns=["row", "start", "finish", "kind", "detail"])


def _due_markers(plan: Plan, targets: Any) -> pd.DataFrame:
    """Target due dates (row, due, target): on the rows of the initiatives serving them,
    on a ``(no initiative)`` row for targets no initiative serves."""
    tl = target_links(targets)
    due_rows = []
    for ini in plan.initiatives:
        for tid in ini.targets:
            match = tl[tl["target_id"] == tid]
            if (
                not match.empty
                and match["due"].iloc[0] is not None
                and not pd.isna(match["due"].iloc[0])
            ):
                due_rows.append(
                    {"row": _initiative_row(ini), "due": _ts(match["due"].iloc[0]), "target": tid}
                )
    served = {t for ini in plan.initiatives for t in ini.targets}
    for tid, due in zip(tl["target_id"], tl["due"], strict=True):
        if tid not in served and due is not None and not pd.isna(due):
            due_rows.append({"row": NO_INITIATIVE, "due": _ts(due), "target": tid})
    return pd.DataFrame(due_rows, columns=["row", "due", "target"])


def _timeline(bars: pd.DataFrame, order: list[str]) -> go.Figure:
    """The Gantt bars coloured by way of working (an empty date axis when there is none)."""
    if bars.empty:
        fig = go.Figure()
        fig.update_xaxes(type="date")
        return fig
    return px.timeline(
        bars,
        x_start="start",
        x_end="finish",
        y="row",
        color="kind",
        color_discrete_map=WAY_COLOURS,
        hover_data={"detail": True, "kind": False, "row": False},
        category_orders={"row": order, "kind": list(WAY_COLOURS)},
    )
