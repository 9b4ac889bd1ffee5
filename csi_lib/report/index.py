"""The report's ``index.html``: a cover page for the cycle with links to each stage."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2

from ..errors import ConfigError
from ..storage import atomic_write
from .export import report_css

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent.parent / "templates")),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def with_changes(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """``summary`` with a ``change`` arrow per target (``▼ better``) where it can be worked out.

    A target gets one when it has no ``change`` of its own and carries the raw
    numbers: ``kpi`` (a catalogue key), ``baseline_value`` and ``now_value``;
    the arrow comes from :func:`csi_lib.tables.change_arrow` and the KPI's
    better direction. Other targets are left as they are.

    Examples
    --------
    >>> s = {"targets": [{"kpi": "fulfil_median_h", "baseline_value": 41.8, "now_value": 26.6}]}
    >>> with_changes(s)["targets"][0]["change"]
    '▼ better'
    """
    if not summary or not summary.get("targets"):
        return summary
    from ..kpis import get_kpi
    from ..tables import change_arrow

    targets = []
    for t in summary["targets"]:
        before, after = _number(t.get("baseline_value")), _number(t.get("now_value"))
        if not t.get("change") and t.get("kpi") and before is not None and after is not None:
            try:
                better = get_kpi(str(t["kpi"])).better
            except ConfigError:  # a KPI registered only inside the notebook
                better = "neither"
            t = {**t, "change": change_arrow(before, after, better)}
        targets.append(t)
    return {**summary, "targets": targets}


def render_index(context: dict[str, Any]) -> str:
    """HTML of the cover page.

    ``context`` keys: title, subtitle, stages (list of dicts with number,
    title, question, href, ok, error), summary (dict or None: headline, targets
    [{id, label, baseline, now, target, met, conclusion}, optionally change or
    kpi + baseline_value + now_value]), downloads (list of {href, label}), nav,
    provenance (list of (label, value)).
    """
    context = {**context, "summary": with_changes(context.get("summary"))}
    return _ENV.get_template("index.html.j2").render(css=report_css(), **context)


def write_index(path: Path, context: dict[str, Any]) -> Path:
    """Write the cover page atomically."""
    return atomic_write(path, render_index(context), overwrite=True)
