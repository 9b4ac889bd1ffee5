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

from ..kinds import KINDS
from ..kpis import get_kpi
from ..periods import period_word
from ..present import format_cell
from ..targets.model import format_target_value, per_bin, value_unit
from ..words import plural
from . import theme
from .spc import TARGET, xmr_figure
from .theme import INK, PALETTE, RAG, empty_figure

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
    >>> fig = target_figure(rv.target("T1"))   # rv = csi_lib.review.assess(cycle)
    >>> fig.layout.title.text
    'T1: Median time to fulfil (Laptop)<br><sup>lower is better</sup>'
    >>> [trace.name for trace in fig.data]
    ['Value', 'Centre (mean)', 'Process limits', 'Lower process limit', 'Target (28 hours)',
     'Improvement (special cause)', 'Common cause']
    """
    title = f"{tr.id}: {tr.label}"
    if tr.not_measured or tr.problem:
        return empty_figure(f"{title}: not measured ({tr.not_measured or tr.problem})")
    target = None if pd.isna(tr.target_value) else float(tr.target_value)
    unit = value_unit(tr.kpi, tr.freq)  # a count: "requests a month", the points' unit
    if tr.chart is None:
        fig = _no_limits_figure(tr, title, target)
    else:
        fig = xmr_figure(tr.chart, title=title, unit=unit, target=target, better=tr.kpi.better)
    if per_bin(tr.kpi) and target is not None:  # "Target (56.1 requests a month)"
        fig.update_traces(
            selector=lambda t: str(t.name or "").startswith("Target ("),
            name=f"Target ({tr.fmt(target)})",
            hovertemplate=f"target {tr.fmt(target)}<extra></extra>",
        )
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
    if "partial" in series and series["partial"].any():
        theme.add_partial_note(fig, period_word(tr.freq))
    if KINDS[tr.target.kind].band and tr.target.tolerance and target is not None:
        fig.add_hrect(
            y0=target - tr.target.tolerance,
            y1=target + tr.target.tolerance,
            fillcolor="rgba(0, 158, 115, 0.10)",
            line_width=0,
            layer="below",
        )
    return fig


def _no_limits_figure(tr: Any, title: str, target: float | None) -> go.Figure:
    """The series and the target line of a target whose baseline has fewer than 2 periods."""
    fig = go.Figure()
    series = tr.series
    freq = getattr(tr, "freq", "month")
    unit = value_unit(tr.kpi, freq)
    n_base = int((series["phase"] == "baseline").sum()) if "phase" in series else 0
    if len(series):
        fig.add_trace(
            go.Scatter(
                x=series["period_start"], y=series["value"], mode="lines+markers", name="Value",
                line={"color": "#555555", "width": 1.5}, showlegend=False,
                hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y:.4g}} {unit}<extra></extra>",
            )
        )  # fmt: skip
        if target is not None:
            fig.add_trace(
                go.Scatter(
                    x=[series["period_start"].min(), series["period_end"].max()],
                    y=[target, target], mode="lines", name=f"Target ({target:g} {unit})",
                    line={"color": TARGET, "width": 2, "dash": "dash"},
                    hovertemplate=f"target {target:g} {unit}<extra></extra>",
                )
            )  # fmt: skip
    note = (
        f"only {period_word(freq, n_base)} of baseline: process limits need at least "
        f"2 {period_word(freq)}s, so none are drawn"
    )
    fig.update_layout(
        template="csi",
        title={"text": f"{title}<br><sup>{note}</sup>"},
        yaxis_title=unit,
        margin={"t": 70, "b": 90},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0.0},
    )
    return fig


def _period_word(freq: str) -> str:
    """ "month" or "week": the cycle's period in words."""
    return "week" if str(freq).startswith("w") else "month"


def gap_figure(progress: pd.DataFrame) -> go.Figure:
    """Horizontal bars: share of the gap to each target closed so far (0..100 %).

    Parameters
    ----------
    progress:
        :func:`csi_lib.review.progress_table` (unformatted).
    """
    if progress.empty:
        return empty_figure("No progress yet")
    fig = go.Figure()
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
    # on the bar its share ("38%": the axis says of what), words for the rest ("met at the
    # baseline, still met"); inside a long bar, beside a short one, never cut at the edge
    text = [
        f"{s:.0f}%" if pd.notna(s) and 0 < s < 100 else str(words)
        for s, words in zip(share, progress["progress"], strict=True)
    ]
    fig.add_trace(
        go.Bar(
            y=progress["target"] + ": " + progress["label"],
            x=share.fillna(0),
            orientation="h",
            marker_color=colours,
            text=text,
            textposition=["inside" if s >= 50 else "outside" for s in share.fillna(0)],
            insidetextanchor="end",
            cliponaxis=False,
            customdata=progress["progress"],
            hovertemplate="%{y}<br>%{customdata}<extra></extra>",
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
    if table.empty:
        return empty_figure("Nothing to compare yet")
    fig = go.Figure()
    names = table["target"] + ": " + table["label"]
    base = pd.to_numeric(table["baseline"], errors="coerce")
    scale = 100 / base.where(base != 0)
    review_pct = pd.to_numeric(table["review"], errors="coerce") * scale
    target_pct = pd.to_numeric(table["target_value"], errors="coerce") * scale
    lo, hi = _pct_range(pd.concat([review_pct, target_pct, pd.Series([100.0])]))
    _add_review_dots(fig, table, names, review_pct, target_pct, (lo, hi))
    _label_beyond_axis(fig, names, {"review": review_pct, "target": target_pct}, (lo, hi))
    fig.update_xaxes(range=[lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo)])
    every = pd.concat([review_pct, target_pct]).dropna()
    capped = bool(((every < lo) | (every > hi)).any())
    fig.update_layout(
        template="csi",
        title=(
            f"Where each target stands so far (provisional): {table.attrs.get('compared') or 'review'}"
            " value and target as % of the baseline"
            if table.attrs.get("provisional")
            else "Where each target ended: review value and target as % of the baseline"
        ),
        margin={"t": 95},  # the legend row sits between the title and the plot, clear of both
        xaxis_title="% of the baseline value (100 = no change)"
        + (" — axis capped: values beyond it are written at its edge" if capped else ""),
        yaxis={"autorange": "reversed"},
        height=150 + 55 * len(table),
    )
    return fig


def _add_review_dots(
    fig: go.Figure,
    table: pd.DataFrame,
    names: pd.Series,
    review_pct: pd.Series,
    target_pct: pd.Series,
    span: tuple[float, float],
) -> None:
    """Per target: a grey bar from the baseline (100) to the review, the baseline,
    target and review markers (review green when met), clipped to the axis ``span``;
    hovers give the true values."""
    review_shown = review_pct.clip(*span)
    met_colour = [
        RAG["met"] if m is True else RAG["not met"] if m is False else RAG["unknown"]
        for m in table["met"]
    ]

    freq = table.attrs.get("freq", "month")

    def text(column: str) -> list[str]:  # the true value with the KPI's unit, for the hover
        return [_kpi_text(v, k, freq) for v, k in zip(table[column], table["kpi"], strict=True)]

    for y, x1 in zip(names, review_shown, strict=True):
        fig.add_trace(
            go.Scatter(
                x=[100, x1], y=[y, y], mode="lines", line={"color": "#BBBBBB", "width": 3},
                showlegend=False, hoverinfo="skip",
            )
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[100] * len(table), y=names, mode="markers", name="Baseline",
            marker={"color": PALETTE[0], "size": 11},
            text=text("baseline"), hovertemplate="baseline %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=target_pct.clip(*span), y=names, mode="markers", name="Target",
            marker={"color": INK, "symbol": "line-ns-open", "size": 18, "line": {"width": 3}},
            text=[f"{t} ({_pct_text(p)} of the baseline)" for t, p in zip(text("target_value"), target_pct, strict=True)],
            hovertemplate="target %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=review_shown, y=names, mode="markers", name="Review (green = met)",
            marker={"color": met_colour, "size": 13, "line": {"color": "white", "width": 1}},
            text=[f"{t} ({_pct_text(p)} of the baseline): {v}" for t, p, v in zip(text("review"), review_pct, table["verdict"], strict=True)],
            hovertemplate="review %{text}<extra></extra>",
        )
    )  # fmt: skip


def _label_beyond_axis(
    fig: go.Figure, names: pd.Series, pcts: dict[str, pd.Series], span: tuple[float, float]
) -> None:
    """A value beyond the axis is drawn at its edge: write its true % there."""
    lo, hi = span
    for what, pct in pcts.items():
        for y, p in zip(names, pct, strict=True):
            if pd.notna(p) and not lo <= p <= hi:
                fig.add_annotation(
                    x=hi if p > hi else lo, y=y, text=f"{what} {_pct_text(p)} ▸" if p > hi else f"◂ {what} {_pct_text(p)}",
                    showarrow=False, yshift=14, xanchor="right" if p > hi else "left",
                    font={"size": 11, "color": INK},
                )  # fmt: skip


#: Axis titles of the KPI units.
_UNIT_TITLE: dict[str, str] = {"%": "%", "hours": "hours", "requests": "requests",
                               "ratio": "ratio", "score": "score (1-5)"}  # fmt: skip

#: The "% of baseline" axis never spans more than this: a value beyond is drawn at the edge, labelled.
PCT_AXIS_LIMITS: tuple[float, float] = (-100.0, 300.0)


def _pct_range(values: pd.Series) -> tuple[float, float]:
    """The x range of the "% of baseline" chart: the span of the values within
    :data:`PCT_AXIS_LIMITS`, with room at an edge where a value lies beyond it."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    inside = v[(v >= PCT_AXIS_LIMITS[0]) & (v <= PCT_AXIS_LIMITS[1])]
    lo, hi = float(min(inside.min(), 100.0)), float(max(inside.max(), 100.0))
    room = max(0.3 * (hi - lo), 15.0)  # for the edge markers of values beyond the axis
    if (v > PCT_AXIS_LIMITS[1]).any():
        hi = min(hi + room, PCT_AXIS_LIMITS[1])
    if (v < PCT_AXIS_LIMITS[0]).any():
        lo = max(lo - room, PCT_AXIS_LIMITS[0])
    if hi - lo < 20:  # a few percent either way: still show some room around 100
        lo, hi = min(lo, 90.0), max(hi, 110.0)
    return lo, hi


def _pct_text(pct: float) -> str:
    return "—" if pd.isna(pct) else f"{pct:,.0f} %"


def _kpi_text(value: Any, key: Any, freq: str = "month") -> str:
    """A target's value with its unit (a count per month or week: "56.1 requests a month")."""
    try:
        kpi = get_kpi(str(key))
    except Exception:  # noqa: BLE001 - a key not in the catalogue: the bare number
        return format_cell(value)
    if per_bin(kpi):
        return format_target_value(value, kpi, freq)
    return format_cell(value, kpi.unit, decimals=kpi.decimals)


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
    hidden = table.attrs.get("hidden_by_target", {}).get(target_id, 0)
    if part.empty:
        why = f"<br><sup>{plural(hidden, 'group')}, all too small, hidden to protect individuals</sup>"
        fig.update_layout(
            template="csi", title=f"{target_id}: no groups to show" + (why if hidden else "")
        )
        return fig
    contribution = pd.to_numeric(part["contribution"], errors="coerce")
    key = table.attrs.get("kpis", {}).get(target_id)
    freq = table.attrs.get("freq", "month")
    unit = value_unit(get_kpi(key), freq) if key else ""  # a count: "requests a month"
    texts = [
        f"{_kpi_text(b, key, freq)} → {_kpi_text(r, key, freq)}; "
        f"contribution {_kpi_text(c, key, freq)}"
        for b, r, c in zip(part["baseline"], part["review"], contribution, strict=True)
    ]
    fig.add_trace(
        go.Bar(
            x=contribution,
            y=part["group_value"].astype(str),
            orientation="h",
            marker_color=[PALETTE[0] if c < 0 else PALETTE[1] for c in contribution],
            text=texts,
            textposition="none",
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    by = part["by"].iloc[0]
    fig.update_layout(
        template="csi",
        title=f"{target_id}: {part['label'].iloc[0]}, contribution to the change by {by}",
        xaxis_title=f"contribution to the change ({unit})"
        if unit
        else "contribution to the change",
        yaxis={"autorange": "reversed"},
        showlegend=False,
        height=160 + 28 * len(part),
    )
    if hidden:
        fig.add_annotation(
            text=f"{hidden} small group{'s' if hidden != 1 else ''} hidden to protect individuals",
            xref="paper", yref="paper", x=0, y=0, yshift=-58, showarrow=False,
            xanchor="left", font={"size": 11, "color": "#5f6368"},
        )  # fmt: skip
    return fig


def history_figure(history: pd.DataFrame) -> go.Figure:
    """Each KPI (with its scope) across cycles: baseline, target and achieved value.

    Parameters
    ----------
    history:
        :func:`csi_lib.momentum.kpi_history` (one row per cycle and target).

    With fewer than two cycles there is no line to draw (a panel of single dots per
    KPI says nothing the history table does not): the figure is empty, and
    :func:`csi_lib.nb.nonempty` shows nothing.
    """
    if history.empty or history["cycle"].nunique() < 2:
        return empty_figure("No history across cycles yet: one cycle so far")
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
    unit_of = dict(zip(history["label"], history.get("kpi", pd.Series(dtype=str)), strict=False))
    # a count target's values are per month or week: the history's unit says which
    per_bin_unit = dict(zip(history["label"], history.get("unit", history["label"]), strict=False))
    for row, label in enumerate(labels, start=1):
        key = unit_of.get(label)
        unit = _UNIT_TITLE.get(get_kpi(key).unit, "") if _is_kpi(key) else ""
        if _is_kpi(key) and per_bin(get_kpi(key)):
            unit = str(per_bin_unit.get(label, unit))
        if unit:
            fig.update_yaxes(title_text=unit, row=row, col=1)
    fig.update_layout(
        template="csi",
        title="KPIs across improvement cycles",
        height=220 * len(labels) + 150,
        # the legend at the foot of the figure, never over the title or a panel's title
        margin={"t": 80, "b": 90},
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.0,
                "x": 0.0, "xanchor": "left"},
    )  # fmt: skip
    return fig


def _is_kpi(key: Any) -> bool:
    try:
        get_kpi(str(key))
    except Exception:  # noqa: BLE001 - not a catalogue key
        return False
    return key is not None


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
    # a target its data cannot measure gets no empty panel: the note names it and why
    unmeasured = [tr for tr in trs if tr.not_measured or tr.problem]
    trs = [tr for tr in trs if not (tr.not_measured or tr.problem)]
    if not trs:
        return empty_figure(_unmeasured_note(unmeasured))
    fig = make_subplots(
        rows=len(trs),
        cols=1,
        subplot_titles=[f"{tr.id}: {tr.label} ({value_unit(tr.kpi, tr.freq)})" for tr in trs],
        vertical_spacing=min(0.08, 0.35 / len(trs)),
    )
    seen: set[str] = set()
    for row, tr in enumerate(trs, start=1):
        one = target_figure(tr)
        for trace in one.data:
            name = trace.name or ""
            key = name.split(" (")[0]
            if key == "Target":  # each panel's own target, named in the legend
                key = f"{tr.id} target"
                target_text = _kpi_text(tr.target_value, tr.kpi.key, tr.freq)
                trace.update(name=f"{tr.id} target ({target_text})")
            trace.update(
                legendgroup=key, showlegend=key not in seen and trace.showlegend is not False
            )
            seen.add(key)
            fig.add_trace(trace, row=row, col=1)
        axis = value_unit(tr.kpi, tr.freq) if per_bin(tr.kpi) else tr.kpi.unit
        fig.update_yaxes(title_text=_UNIT_TITLE.get(axis, axis), row=row, col=1)
        for shape in one.layout.shapes:
            fig.add_vrect(
                x0=shape.x0, x1=shape.x1, fillcolor=shape.fillcolor, line_width=0,
                layer="below", row=row, col=1,
            )  # fmt: skip
    notes = [_unmeasured_note(unmeasured)] if unmeasured else []
    if any(tr.series["partial"].any() for tr in trs if "partial" in tr.series):
        notes.append(theme.PARTIAL_NOTE.format(word=period_word(trs[0].freq)))
    title = "Targets through the cycle (limits frozen on the baseline; shading: baseline, action, review)"
    if notes:
        title += "<br><sup>" + "<br>".join(notes) + "</sup>"
    fig.update_layout(
        template="csi",
        title=title,
        height=260 * len(trs) + 120 + 18 * len(notes),
        margin={"t": 90 + 18 * len(notes)},
        legend={"orientation": "h", "yanchor": "top", "y": -0.03, "x": 0.0},
        hovermode="closest",
    )
    return fig


def _unmeasured_note(trs: list[Any]) -> str:
    """The targets the data cannot measure, with why, in one line."""
    return "Not measured: " + "; ".join(
        f"{tr.id} {tr.label} ({tr.not_measured or tr.problem})" for tr in trs
    )
