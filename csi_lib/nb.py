"""Notebook set-up: one call at the top of every stage notebook.

``setup()`` applies the workbook's plotly template, makes plotly emit its
native mimetype (JupyterLab and Voilà draw it; the report exporter turns it
into self-contained HTML), and sets pandas display options.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.io as pio

from .charts import theme


def readable_float(value: float) -> str:
    """How a bare float shows in a table: thousands grouped, about three significant digits.

    Examples
    --------
    >>> readable_float(12345.6), readable_float(-9.3), readable_float(0.000123)
    ('12,346', '-9.3', '0.000123')
    """
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def setup() -> None:
    """Apply the workbook's look and display settings in a notebook kernel."""
    theme.use()
    pio.renderers.default = "plotly_mimetype"
    pd.set_option("display.max_rows", 60)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.precision", 1)
    pd.set_option("display.float_format", readable_float)


def markdown(text: str):
    """Display ``text`` as markdown (for sentences the library writes, e.g. conclusions).

    The sentences quote user-written text (a vision, a cycle title, an initiative
    title, a category from the data), so HTML in ``text`` is shown as text, never
    interpreted: ``<``, ``>`` and ``&`` are escaped; markdown formatting stays.

    Examples
    --------
    >>> markdown("**Vision.** <script>x()</script>").data
    '**Vision.** &lt;script&gt;x()&lt;/script&gt;'
    """
    import html

    from IPython.display import Markdown

    return Markdown(html.escape(text, quote=False))


def nonempty(obj: Any) -> Any:
    """``obj``, or ``None`` (a cell then shows nothing) when it has nothing to show.

    For a stage that is simply not due yet: an empty table (no rows) or a
    figure without data is not displayed, so a report page never shows an
    empty table or a blank chart; the stage's note says why.

    Examples
    --------
    >>> nonempty(pd.DataFrame(columns=["target"])) is None
    True
    >>> len(nonempty(pd.DataFrame({"target": ["T1"]})))
    1
    """
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame | pd.Series):
        return None if obj.empty else obj
    data = getattr(obj, "data", None)
    if hasattr(obj, "layout") and data is not None and len(data) == 0:
        return None
    return obj
