"""What each question of the workshop shows the room, as HTML: words, labels, units, no keys.

Plain functions of a cycle (or its review), so they are tested without a browser
and the presenter (:mod:`csi_lib.widgets.presenter`) redraws them after every
save. Every text a person wrote (a vision, a target's note, an idea) is escaped.

Examples
--------
>>> html = scorecard_html(cycle.baseline_snapshot().kpi_values)
>>> "Median time to fulfil" in html and "27.6 h" in html and "fulfil_median_h" not in html
True
>>> "T1 · Median time to fulfil" in targets_html(cycle)
True
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
from markdown_it import MarkdownIt

from ..kpis import get_kpi, kpi_catalogue
from ..nb import safe_markdown
from ..present import KIND_WORDS, to_html
from ..tables import format_value
from ..targets import (
    LETTERS,
    cycle_smart_check,
    format_target_value,
    scope_words,
    smart_table,
)
from ..words import plural

__all__ = [
    "markdown_html",
    "vision_html",
    "scorecard_html",
    "targets_html",
    "register_html",
    "progress_html",
    "results_html",
    "next_cycle_html",
]

_MD = MarkdownIt("commonmark", {"html": False})
esc = html.escape


def markdown_html(text: str) -> str:
    """Markdown the library wrote (quoting user text) as HTML: user HTML shown as text.

    Examples
    --------
    >>> markdown_html("**Vision.** <b>fast</b>")
    '<p><strong>Vision.</strong> &lt;b&gt;fast&lt;/b&gt;</p>\\n'
    """
    return _MD.render(safe_markdown(text))


def vision_html(cycle: Any) -> str:
    """Question 0: direction, vision, mission, then each objective with its owner."""
    from ..vision import vision_text

    items = "".join(
        f"<li><b>{esc(o.id)}</b> {esc(o.statement)}"
        + (f" <span class='csi-muted'>({esc(o.owner)})</span>" if o.owner else "")
        + "</li>"
        for o in cycle.vision.objectives
    )
    return (
        f"<div class='csi-vision'>{markdown_html(vision_text(cycle.vision))}</div>"
        f"<h3>Objectives</h3><ul class='csi-objectives'>{items}</ul>"
    )


def _better_words(better: str) -> str:
    return {"lower": "lower is better", "higher": "higher is better"}.get(better, "demand")


def scorecard_html(kpi_values: pd.Series) -> str:
    """Question 1: every KPI of the baseline as a tile: its label, value with unit, better way.

    ``kpi_values`` is a snapshot's values by KPI key (:attr:`Snapshot.kpi_values`)."""
    keys = set(kpi_catalogue()["key"])
    tiles = []
    for key, number in kpi_values.items():
        if str(key) not in keys:
            continue
        kpi = get_kpi(str(key))
        value = format_value(number, kpi.unit, kpi.decimals)
        tiles.append(
            f"<div class='csi-tile'><div class='csi-tile-label'>{esc(kpi.label)}</div>"
            f"<div class='csi-tile-value'>{esc(value)}</div>"
            f"<div class='csi-tile-better'>{esc(_better_words(kpi.better))}</div></div>"
        )
    return f"<div class='csi-tiles'>{''.join(tiles)}</div>"


def _target_title(target: Any) -> str:
    label = get_kpi(target.kpi).label if target.kpi in set(kpi_catalogue()["key"]) else target.kpi
    scope = f" ({scope_words(target.scope)})" if target.scope else ""
    return f"{target.id} · {label}{scope}"


def targets_html(cycle: Any, smart: pd.DataFrame | None = None) -> str:
    """Question 2: each target in words, its value, kind, due date and SMART letters."""
    smart = cycle_smart_check(cycle) if smart is None else smart
    wide = smart_table(smart) if not smart.empty else pd.DataFrame()
    from ..targets import cycle_target_contexts

    contexts = {c.target.id: c for c in cycle_target_contexts(cycle)}
    head = "".join(f"<th class='csi-letter'>{esc(letter)}</th>" for letter in LETTERS)
    rows = []
    for target in cycle.targets.targets:
        ctx = contexts.get(target.id)
        if ctx is not None and not pd.isna(ctx.target_value):
            value = format_target_value(ctx.target_value, ctx.kpi, ctx.freq)
        elif target.value is not None:
            value = str(target.value)
        else:
            value = str(target.change or "")
        if target.change and target.value is None:
            value += f" ({target.change} on the baseline)"
        letters = ""
        for letter in LETTERS:
            verdict = str(wide.loc[target.id, letter]) if target.id in wide.index else "unknown"
            letters += f"<td class='csi-letter csi-v-{esc(verdict)}'>{esc(verdict)}</td>"
        rows.append(
            f"<tr><td>{esc(_target_title(target))}</td><td class='csi-num'>{esc(value)}</td>"
            f"<td>{esc(KIND_WORDS.get(target.kind, target.kind))}</td>"
            f"<td class='csi-date'>{esc(str(target.due or '—'))}</td>{letters}</tr>"
        )
    return (
        "<table class='csi-room-table csi-smart'><thead><tr><th>Target</th><th>Value</th>"
        f"<th>Kind</th><th>Due</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<p class='csi-muted'>Letters: Specific, Measurable, Achievable, Relevant, Time-bound; "
        "pass, warn or fail.</p>"
    )


_STATUS_WORDS = {"new": "new", "parked": "parked", "accepted": "accepted", "rejected": "rejected"}


def register_html(plan: Any) -> str:
    """Question 3: the improvement register with its votes, most votes first."""
    from ..plan import register_table

    table = register_table(plan)
    if table.empty:
        return "<p>The improvement register holds no idea yet.</p>"
    table = table.sort_values(["votes", "score"], ascending=False, kind="stable")
    shown = pd.DataFrame(
        {
            "Idea": table["id"] + " · " + table["idea"],
            "Votes": table["votes"].map(lambda v: f"{int(v):,}"),
            "Value (1-5)": table["value"].astype(int).astype(str),
            "Effort (1-5)": table["effort"].astype(int).astype(str),
            "Status": table["status"].map(lambda s: _STATUS_WORDS.get(str(s), str(s))),
        }
    )
    return to_html(shown).replace("csi-table ", "csi-table csi-room-table csi-register ", 1)


#: The columns of stage 4's table the room reads (the report has them all).
_PROGRESS_COLUMNS = (
    "Target",
    "What is measured",
    "Baseline",
    "Target value",
    "Action period so far",
    "Progress",
    "Latest signal",
)


def progress_html(review: Any) -> str:
    """Question 4: the stage 4 table for readers (the columns that fit a screen) and its note."""
    from ..review import progress_table

    table = progress_table(review, formatted=True)
    note = table.attrs.get("note", "")
    shown = table[[c for c in _PROGRESS_COLUMNS if c in table.columns]]
    shown.attrs.update(table.attrs)
    body = to_html(shown).replace("csi-table ", "csi-table csi-room-table ", 1)
    return (f"<p>{esc(str(note))}</p>" if note else "") + body


def results_html(review: Any) -> str:
    """Question 5: the headline and one conclusion per target."""
    from ..review import conclusions_text, headline

    return (
        f"<p class='csi-headline'>{esc(headline(review))}</p>"
        f"{markdown_html(conclusions_text(review))}"
    )


def next_cycle_html(review: Any) -> str:
    """Question 6: the next cycle in words and its targets."""
    from ..workshop import next_cycle_targets, next_cycle_text

    text = markdown_html(next_cycle_text(review))
    table = next_cycle_targets(review)
    freq = getattr(review, "freq", None) or getattr(
        getattr(review, "config", None), "freq", "month"
    )
    if table.empty:
        return text
    shown = pd.DataFrame(
        {
            "Target": [
                f"{t.id} · {get_kpi(t.kpi).label}"
                + (f" ({t.scope})" if t.scope and t.scope != "whole service" else "")
                for t in table.itertuples(index=False)
            ],
            "Kind": table["kind"].map(lambda k: KIND_WORDS.get(str(k), str(k))),
            "Value": [
                format_target_value(t.value, get_kpi(t.kpi), freq)
                if t.value is not None and not pd.isna(t.value)
                else "—"
                for t in table.itertuples(index=False)
            ],
            "Why": table["origin"].astype(str),
        }
    )
    count = plural(len(shown), "target")
    return (
        text
        + f"<h3>The {count} proposed</h3>"
        + to_html(shown).replace("csi-table ", "csi-table csi-room-table ", 1)
    )
