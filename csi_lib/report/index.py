"""The report's ``index.html``: a cover page for the cycle with links to each stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from ..storage import atomic_write
from .export import report_css

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent.parent / "templates")),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_index(context: dict[str, Any]) -> str:
    """HTML of the cover page. ``context`` keys: title, subtitle, stages (list of dicts with
    number, title, question, href, ok, error, seconds), summary (dict or None: headline,
    targets [{id, label, met, conclusion}]), nav, provenance."""
    return _ENV.get_template("index.html.j2").render(css=report_css(), **context)


def write_index(path: Path, context: dict[str, Any]) -> Path:
    """Write the cover page atomically."""
    return atomic_write(path, render_index(context), overwrite=True)
