"""Notebook set-up: one call at the top of every stage notebook.

``setup()`` applies the workbook's plotly template, makes plotly emit its
native mimetype (JupyterLab and Voilà draw it; the report exporter turns it
into self-contained HTML), and sets pandas display options.

``interactive()`` tells the widget cells whether to show live controls
(JupyterLab, Voila) or a static view (report runs, where ``csi report`` sets
:data:`REPORT_MODE_ENV` in its kernels).
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import plotly.io as pio
from plotly.io._base_renderers import PlotlyRenderer

from ._startup import return_freed_memory, skip_slow_optional_imports
from .charts import theme
from .safe import markdown_text as markdown_text  # nb.markdown_text(title) in notebooks
from .safe import safe_figure, safe_markdown

#: Environment variable of report mode: set (to anything but 0/false/no) by ``csi report``
#: and ``csi slides`` in their kernels; widget cells then render static views.
REPORT_MODE_ENV = "CSI_REPORT_MODE"


def interactive() -> bool:
    """True when widget cells may show live ipywidgets; False in a report run.

    A report run is unattended: nobody moves a slider, and a live widget can only
    make it wait. ``csi report`` starts its kernels with ``CSI_REPORT_MODE=1``;
    the widget helpers (:func:`csi_lib.widgets.explorer.explore`,
    :func:`csi_lib.widgets.whatif.what_if`) then return a static equivalent.

    Examples
    --------
    >>> import os
    >>> os.environ[REPORT_MODE_ENV] = "1"; interactive()
    False
    >>> os.environ[REPORT_MODE_ENV] = "0"; interactive()
    True
    >>> del os.environ[REPORT_MODE_ENV]
    """
    flag = os.environ.get(REPORT_MODE_ENV, "").strip().lower()
    return flag in ("", "0", "false", "no")


if not interactive():  # a report kernel: plotly's renderer imports jsonschema (see _startup)
    skip_slow_optional_imports()
    return_freed_memory()


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


#: The renderer of figures in notebooks: plotly's mimetype, text made safe first.
SAFE_RENDERER = "csi_plotly_mimetype"


class _SafeMimetypeRenderer(PlotlyRenderer):
    """plotly's mimetype renderer (JupyterLab, Voila and the report draw it) whose
    figures keep only the workbook's own markup (:func:`csi_lib.safe.safe_figure`):
    a category or a title holding HTML is drawn as the text that was written."""

    def to_mimebundle(self, fig_dict):  # noqa: D102 (plotly's renderer API)
        return super().to_mimebundle(safe_figure(fig_dict))


def setup(*, reader_tables: bool = True) -> None:
    """Apply the workbook's look and display settings in a notebook kernel.

    With ``reader_tables`` (default) every DataFrame is drawn as a table for
    readers (:func:`csi_lib.present.install`: headers in words, no index, units,
    nothing cut); the frames themselves keep their raw values.
    """
    theme.use()
    pio.renderers[SAFE_RENDERER] = _SafeMimetypeRenderer()
    pio.renderers.default = SAFE_RENDERER
    pd.set_option("display.max_rows", 60)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.precision", 1)
    pd.set_option("display.float_format", readable_float)
    pd.set_option("display.max_colwidth", None)  # text is wrapped, never cut with "..."
    if reader_tables:
        from . import present

        present.install()


def markdown(text: str):
    """Display ``text`` as markdown (for sentences the library writes, e.g. conclusions).

    The sentences quote user-written text (a vision, a cycle title, an initiative
    title, a category from the data), so the text goes through
    :func:`safe_markdown`: HTML is shown as text, never interpreted, images are
    never fetched and only http(s) and mailto links stay links; markdown
    formatting stays.

    Examples
    --------
    >>> markdown("**Vision.** <script>x()</script>").data
    '**Vision.** &lt;script&gt;x()&lt;/script&gt;'
    """
    from IPython.display import Markdown

    return Markdown(safe_markdown(text))


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
