"""Figures of stage 2, "Where do we want to be?": a target against its baseline, the SMART grid.

* :func:`target_context_figure`: the KPI's baseline series, its natural process
  limits (a shaded band), the best month observed and the target line;
* :func:`smart_heatmap`: targets x SMART letters coloured by verdict, with the
  reason in the hover text;
* :func:`smart_styler`: the SMART table as a coloured pandas ``Styler``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ..periods import period_word
from ..present import KIND_WORDS
from ..targets.model import per_bin, value_unit
from .theme import INK, PALETTE, RAG

__all__ = [
    "target_context_figure",
    "context_figure",
    "targets_context_figure",
    "smart_heatmap",
    "smart_styler",
]

_LETTER_NAMES = {
    "S": "Specific",
    "M": "Measurable",
    "A": "Achievable",
    "R": "Relevant",
    "T": "Time-bound",
}
_VERDICT_CODE = {"pass": 0, "warn": 1, "fail": 2}


def _kpi_meta(kpi: Any) -> tuple[str, str, str, int]:
    """key, label, unit, decimals of a KPI given as a KPI object or a key."""
    if isinstance(kpi, str):
        try:
            from ..kpis import get_kpi

            kpi = get_kpi(kpi)
        except Exception:  # an unknown key still gets a chart, titled by its key
            return kpi, kpi, "", 1
    return (
        str(getattr(kpi, "key", kpi)),
        str(getattr(kpi, "label", kpi)),
        str(getattr(kpi, "unit", "")),
        int(getattr(kpi, "decimals", 1)),
    )


def _unit_suffix(unit: str) -> str:
    return {"hours": " h", "%": "%"}.get(unit, "")


def _chart_values(chart: pd.DataFrame | None, name: str) -> pd.Series:
    if chart is None or name not in chart.columns:
        return pd.Series(dtype="float64")
    return pd.to_numeric(chart[name], errors="coerce")


def target_context_figure(
    series: pd.DataFrame,
    chart: pd.DataFrame | None,
    *,
    target_value: float,
    best_value: float,
    kpi: Any,
    best_period: pd.Timestamp | None = None,
    tolerance: float | None = None,
    title: str | None = None,
    freq: str = "month",
) -> go.Figure:
    """Where a target sits against the baseline: series, natural process limits, best month, target.

    Parameters
    ----------
    series:
        The KPI series of one KPI over the baseline, as returned by
        :func:`csi_lib.kpis.kpi_series` (``period_start``, ``value``).
    chart:
        Its XmR frame from :func:`csi_lib.spc.xmr` (``centre``, ``lower``,
        ``upper``), or None when the baseline is too short for limits.
    target_value:
        The absolute target in the KPI's unit (hours, %, counts, score).
    best_value:
        The best month observed up to the end of the baseline.
    kpi:
        The KPI (object of :mod:`csi_lib.kpis` or its key): label and unit.
    best_period:
        Start of the best month (marks it on the time axis); None puts the
        marker at the end of the baseline.
    tolerance:
        For a ``within`` target: the +/- band drawn around the target.
    title:
        The figure title (default: the KPI's label).
    freq:
        The cycle's frequency (``"month"`` or ``"week"``): the words of the
        legend ("best week observed") and the note when the baseline has
        fewer than 2 periods (no limits; the target line stays).

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from csi_lib.targets import target_context
    >>> ctx = target_context(target, df=df, baseline_period=baseline)
    >>> fig = target_context_figure(ctx.series, ctx.chart, target_value=ctx.target_value,
    ...                             best_value=ctx.best_value, kpi=ctx.kpi)
    >>> len(fig.data) > 0
    True
    """
    key, label, unit, decimals = _kpi_meta(kpi)
    x = pd.to_datetime(series["period_start"]) if len(series) else pd.DatetimeIndex([])
    y = pd.to_numeric(series["value"], errors="coerce") if len(series) else pd.Series(dtype=float)
    style = _Style.of(unit, _decimals_for(y, target_value, decimals), freq)
    if not isinstance(kpi, str) and per_bin(kpi):  # a count target: per month or week
        unit = value_unit(kpi, freq)
        style = replace(style, fmt=f",.{max(style.decimals, 1)}f", suffix=f" {unit}")
    fig = go.Figure()
    lower, upper, centre = (_chart_values(chart, n) for n in ("lower", "upper", "centre"))
    has_limits = bool(len(lower.dropna()) and len(upper.dropna()))
    if not has_limits:
        _add_no_limits_note(fig, len(series), freq)
    x0, x1 = (x.min(), x.max()) if len(x) else (None, None)
    if has_limits and x0 is not None:
        _add_limits_band(fig, lower, upper, centre, (x0, x1), style)
    _add_baseline_line(fig, x, y, style)
    if best_value is not None and not pd.isna(best_value):
        _add_best_marker(
            fig, pd.Timestamp(best_period) if best_period is not None else x1, best_value, style
        )
    if target_value is not None and not pd.isna(target_value):
        _add_target_line(fig, target_value, tolerance, style)
    fig.update_layout(
        title=title or label,
        yaxis_title=f"{label} ({unit})" if unit else label,
        xaxis_title=None,
        hovermode="closest",
        meta={"kpi": key},
        margin={"t": 100},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0.0},
        title_y=0.97,
    )
    return fig


@dataclass(frozen=True)
class _Style:
    """How a context figure writes its numbers and dates: ``fmt`` (d3 format), unit ``suffix``,
    the period ``word`` ("month"/"week") and the date format ``xfmt`` of the hover."""

    fmt: str
    suffix: str
    word: str
    xfmt: str

    @property
    def decimals(self) -> int:
        """The decimals of :attr:`fmt`."""
        return int(self.fmt.rsplit(".", 1)[1].rstrip("f"))

    @classmethod
    def of(cls, unit: str, decimals: int, freq: str) -> _Style:
        word = period_word(freq)
        return cls(
            f",.{decimals}f", _unit_suffix(unit), word, "%Y-%m-%d" if word == "week" else "%Y-%m"
        )


def _decimals_for(y: pd.Series, target_value: float, decimals: int) -> int:
    """The KPI's decimals, at least 2 when every value (and the target) is below 3 (1.7 h)."""
    typical = pd.concat([y, pd.Series([target_value], dtype="float64")]).abs().max()
    if not pd.isna(typical) and typical < 3:
        return max(decimals, 2)
    return decimals


def _add_no_limits_note(fig: go.Figure, n: int, freq: str) -> None:
    """The note saying why no band is drawn (fewer than 2 periods of baseline)."""
    fig.add_annotation(
        text=f"only {period_word(freq, n)} of baseline: process limits need at least 2 "
        f"{period_word(freq)}s, so no band is drawn",
        xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="bottom",
        showarrow=False, font={"size": 11, "color": "#5f6368"}, bgcolor="rgba(255,255,255,0.8)",
    )  # fmt: skip


def _add_limits_band(
    fig: go.Figure,
    lower: pd.Series,
    upper: pd.Series,
    centre: pd.Series,
    span: tuple,
    style: _Style,
) -> None:
    """The natural process limits as a shaded band over the baseline, and its centre line."""
    x0, x1 = span
    lo, hi = float(lower.dropna().iloc[-1]), float(upper.dropna().iloc[-1])
    fig.add_trace(
        go.Scatter(
            x=[x0, x1, x1, x0, x0],
            y=[lo, lo, hi, hi, lo],
            fill="toself",
            mode="lines",
            fillcolor="rgba(158,158,158,0.18)",
            line={"width": 0},
            name="natural process limits",
            hovertemplate=f"limits %{{y:{style.fmt}}}{style.suffix}<extra></extra>",
        )
    )
    if len(centre.dropna()):
        c = float(centre.dropna().iloc[-1])
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[c, c],
                mode="lines",
                line={"color": "#9E9E9E", "dash": "dot", "width": 1},
                name="centre (mean)",
                hovertemplate=f"mean %{{y:{style.fmt}}}{style.suffix}<extra></extra>",
            )
        )


def _add_baseline_line(fig: go.Figure, x: Any, y: pd.Series, style: _Style) -> None:
    """The KPI's value period by period over the baseline."""
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            line={"color": PALETTE[0], "width": 2},
            marker={"size": 7},
            name="baseline",
            hovertemplate=f"%{{x|{style.xfmt}}}: %{{y:{style.fmt}}}{style.suffix}<extra></extra>",
        )
    )


def _add_best_marker(fig: go.Figure, when: Any, best_value: float, style: _Style) -> None:
    """A star on the best period observed."""
    fig.add_trace(
        go.Scatter(
            x=[when],
            y=[best_value],
            mode="markers",
            marker={
                "symbol": "star",
                "size": 14,
                "color": PALETTE[2],
                "line": {"color": INK, "width": 1},
            },
            name=f"best {style.word} observed",
            hovertemplate=f"best {style.word} %{{x|{style.xfmt}}}: "
            f"%{{y:{style.fmt}}}{style.suffix}<extra></extra>",
        )
    )


def _add_target_line(
    fig: go.Figure, target_value: float, tolerance: float | None, style: _Style
) -> None:
    """The target as a dashed line, with its +/- tolerance band for a ``within`` target."""
    if tolerance:
        fig.add_hrect(
            y0=target_value - tolerance,
            y1=target_value + tolerance,
            fillcolor=PALETTE[5],
            opacity=0.12,
            line_width=0,
        )
    fig.add_hline(
        y=target_value,
        line={"color": PALETTE[5], "dash": "dash", "width": 2},
        annotation_text=f"target {target_value:{style.fmt}}{style.suffix}",
        annotation_position="top left",
    )


def context_figure(ctx: Any, *, title: str | None = None) -> go.Figure:
    """:func:`target_context_figure` of a :class:`csi_lib.targets.TargetContext`.

    The title names the target, its KPI and scope.

    Examples
    --------
    >>> from csi_lib.targets import target_context
    >>> fig = context_figure(target_context(target, df=df, baseline_period=baseline))
    """
    target = ctx.target
    label = getattr(ctx.kpi, "label", target.kpi)
    return target_context_figure(
        ctx.series,
        ctx.chart,
        target_value=ctx.target_value,
        best_value=ctx.best_value,
        best_period=ctx.best_period,
        kpi=ctx.kpi,
        tolerance=target.tolerance,
        title=title or f"{target.id}: {label}, {target.scope_text} ({KIND_WORDS[target.kind]})",
        freq=getattr(ctx, "freq", "month"),
    )


def targets_context_figure(contexts: list[Any], *, height_per_target: int = 300) -> go.Figure:
    """Every target against its baseline, one panel per target (stacked).

    Parameters
    ----------
    contexts:
        :class:`csi_lib.targets.TargetContext` s, e.g. from
        :func:`csi_lib.targets.cycle_target_contexts`.
    height_per_target:
        Height of a panel in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        Panels titled ``T1: <KPI label>, <scope> (<kind>)``, each with the
        baseline series, its natural process limits, the best month observed
        and the target line.

    Examples
    --------
    >>> from csi_lib.targets import cycle_target_contexts
    >>> fig = targets_context_figure(cycle_target_contexts(cycle))
    """
    from plotly.subplots import make_subplots

    if not contexts:
        fig = go.Figure()
        fig.update_layout(title="No target to show")
        return fig
    # a target the data cannot measure gets no empty panel: the title names it and why
    unmeasured = [c for c in contexts if getattr(c, "not_measured", None)]
    contexts = [c for c in contexts if not getattr(c, "not_measured", None)]
    missing = "; ".join(
        f"{c.target.id} {c.kpi.label}: not measured ({c.not_measured})" for c in unmeasured
    )
    if not contexts:
        fig = go.Figure()
        fig.update_layout(title=missing)
        return fig
    panels = [context_figure(ctx) for ctx in contexts]
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        subplot_titles=[p.layout.title.text for p in panels],
        vertical_spacing=min(0.25 / len(panels), 0.08),
    )
    seen: set[str] = set()
    for row, panel in enumerate(panels, start=1):
        for trace in panel.data:
            trace.legendgroup = trace.name
            trace.showlegend = trace.name not in seen
            seen.add(trace.name)
            fig.add_trace(trace, row=row, col=1)
        for shape in panel.layout.shapes:
            fig.add_shape(shape, row=row, col=1)
        for note in panel.layout.annotations:
            fig.add_annotation(note, row=row, col=1)
        fig.update_yaxes(title_text=panel.layout.yaxis.title.text, row=row, col=1)
    fig.update_layout(
        height=height_per_target * len(panels) + 120,
        title="Targets against their baseline" + (f"<br><sup>{missing}</sup>" if missing else ""),
        legend={"orientation": "h", "yanchor": "top", "y": -0.04, "x": 0.0},
        margin={"t": 80, "b": 60},
    )
    return fig


def smart_heatmap(smart_frame: pd.DataFrame) -> go.Figure:
    """Targets x SMART letters, coloured pass (green) / warn (amber) / fail (red).

    Parameters
    ----------
    smart_frame:
        The long frame of :func:`csi_lib.targets.smart_check` (``target``,
        ``kpi``, ``letter``, ``verdict``, ``reason``).

    Returns
    -------
    plotly.graph_objects.Figure
        One cell per target and letter; the hover text gives the reason.

    Examples
    --------
    >>> from csi_lib.targets import cycle_smart_check
    >>> fig = smart_heatmap(cycle_smart_check(cycle))
    """
    letters = list(_LETTER_NAMES)
    targets = list(dict.fromkeys(smart_frame["target"]))
    kpis = smart_frame.drop_duplicates("target").set_index("target")["kpi"]
    verdict = smart_frame.pivot(index="target", columns="letter", values="verdict").reindex(
        index=targets, columns=letters
    )
    reason = smart_frame.pivot(index="target", columns="letter", values="reason").reindex(
        index=targets, columns=letters
    )
    z = verdict.apply(lambda col: col.map(_VERDICT_CODE)).astype("float64").to_numpy()
    text = verdict.fillna("").to_numpy()
    hover = [
        [
            f"<b>{t} {letter} ({_LETTER_NAMES[letter]}): {verdict.loc[t, letter]}</b><br>"
            + _wrap(str(reason.loc[t, letter]))
            for letter in letters
        ]
        for t in targets
    ]
    colorscale = [
        [0.0, RAG["pass"]],
        [1 / 3, RAG["pass"]],
        [1 / 3, RAG["warn"]],
        [2 / 3, RAG["warn"]],
        [2 / 3, RAG["fail"]],
        [1.0, RAG["fail"]],
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{letter} {_LETTER_NAMES[letter]}" for letter in letters],
            y=[f"{t} · {_kpi_words(kpis.get(t, ''))}" for t in targets],
            zmin=-0.5,
            zmax=2.5,
            colorscale=colorscale,
            showscale=False,
            text=text,
            texttemplate="%{text}",
            textfont={"color": "white"},
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        title="SMART check of the targets",
        yaxis={"autorange": "reversed", "showgrid": False, "automargin": True},
        xaxis={"side": "top", "showgrid": False},
        height=max(220, 60 + 45 * len(targets)),
    )
    return fig


def _kpi_words(key: str) -> str:
    """A KPI's label (its key only when it is not in the catalogue)."""
    from ..kpis import kpi_catalogue

    catalogue = kpi_catalogue()
    labels = dict(zip(catalogue["key"].astype(str), catalogue["label"].astype(str), strict=True))
    return labels.get(str(key), str(key))


def _wrap(text: str, width: int = 70) -> str:
    import textwrap

    return "<br>".join(textwrap.wrap(text, width)) if text else ""


def smart_styler(table: pd.DataFrame):
    """Colour the verdict cells of a SMART table (long or wide form) for a notebook.

    Parameters
    ----------
    table:
        :func:`csi_lib.targets.smart_check` (long) or
        :func:`csi_lib.targets.smart_table` (wide).

    Returns
    -------
    pandas.io.formats.style.Styler
        The table for readers (:func:`csi_lib.present.present`: headers in
        words, the KPI's label for its key, no index); cells holding ``pass`` /
        ``warn`` / ``fail`` get the RAG colour.
    """
    from ..present import present
    from ..safe import styler_escape

    def colour(value: Any) -> str:
        key = str(value)
        if key in _VERDICT_CODE:
            return f"background-color: {RAG[key]}; color: white; font-weight: 600"
        return ""

    shown = present(table)
    columns = [c for c in shown.columns if c in ("Verdict", "Overall", *_LETTER_NAMES)]
    return (
        styler_escape(shown.style)  # a scope or a reason holding HTML is shown as text
        .map(colour, subset=columns)
        .hide(axis="index")
        .set_table_attributes('class="csi-table csi-presented"')
    )
