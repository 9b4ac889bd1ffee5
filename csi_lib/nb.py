"""Notebook set-up: one call at the top of every stage notebook.

``setup()`` applies the workbook's plotly template, makes plotly emit its
native mimetype (JupyterLab and Voilà draw it; the report exporter turns it
into self-contained HTML), and sets pandas display options.
"""

from __future__ import annotations

import pandas as pd
import plotly.io as pio

from .charts import theme


def setup() -> None:
    """Apply the workbook's look and display settings in a notebook kernel."""
    theme.use()
    pio.renderers.default = "plotly_mimetype"
    pd.set_option("display.max_rows", 60)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.precision", 1)


def markdown(text: str):
    """Display ``text`` as markdown (for sentences the library writes, e.g. conclusions)."""
    from IPython.display import Markdown

    return Markdown(text)
