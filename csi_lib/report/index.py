"""The report's ``index.html``: a cover page for the cycle with links to each stage."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2

from ..storage import atomic_write
from .export import report_css, report_js

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
    """``summary`` as the cover shows it: each target's ``change`` (written by stage 5 from
    its evidence, :func:`csi_lib.tables.evidence_arrow`) is kept as it is; a change is never
    worked out here from the numbers alone, which would call "better" what the evidence
    calls noise.

    Examples
    --------
    >>> s = {"targets": [{"kpi": "fulfil_median_h", "baseline_value": 41.8, "now_value": 26.6}]}
    >>> "change" in with_changes(s)["targets"][0]
    False
    """
    return summary


def render_index(context: dict[str, Any]) -> str:
    """HTML of the cover page.

    ``context`` keys: title, subtitle, stages (list of dicts with number,
    title, question, href, ok, error), summary (dict or None: headline, targets
    [{id, label, baseline, now, target, met, conclusion}, optionally change or
    kpi + baseline_value + now_value]), downloads (list of {href, label}), nav,
    provenance (list of (label, value)).
    """
    context = {**context, "summary": with_changes(context.get("summary"))}
    return _ENV.get_template("index.html.j2").render(css=report_css(), js=report_js(), **context)


def write_index(path: Path, context: dict[str, Any]) -> Path:
    """Write the cover page atomically."""
    return atomic_write(path, render_index(context), overwrite=True)
