"""Breakdown explorer: pick a dimension and a KPI, see the breakdown chart update.

Notebooks call :func:`explore`: the live explorer in JupyterLab or Voila, its
default chart (a plain plotly figure) in a report run (:func:`csi_lib.nb.interactive`).

Examples
--------
In JupyterLab ``explore(df, period, min_group_size=5)`` shows the two dropdowns and the
chart; in a report run (``CSI_REPORT_MODE=1``, as here) it is the chart they open with:

>>> import os
>>> from csi_lib.widgets.explorer import explore
>>> os.environ["CSI_REPORT_MODE"] = "1"
>>> explore(df, period, min_group_size=5).layout.title.text
'Median time to fulfil by category'
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display

from ..charts.baseline import breakdown_figure
from ..kpis import breakdown, get_kpi, kpi_catalogue
from ..nb import interactive
from ..periods import Period
from ..present import header
from ..schema import DIMENSION_COLUMNS

#: The KPI the explorer shows first (when offered).
DEFAULT_KPI = "fulfil_median_h"


def available_dimensions(df: pd.DataFrame) -> list[str]:
    """Dimension columns of ``df`` that hold data (canonical ones first, then kept extras)."""
    canonical = [c for c in DIMENSION_COLUMNS if c in df.columns and df[c].notna().any()]
    extras = [
        c
        for c in df.columns
        if isinstance(df[c].dtype, pd.CategoricalDtype) and c not in canonical and c != "outcome"
    ]
    return canonical + extras


def _choices(
    df: pd.DataFrame, dims: list[str] | None, kpis: list[str] | None
) -> tuple[list[str], list[str], str | None, str]:
    """(dimensions offered, KPI keys offered, first dimension, first KPI)."""
    dims = dims or available_dimensions(df)
    keys = kpis or list(kpi_catalogue()["key"])
    first_kpi = DEFAULT_KPI if DEFAULT_KPI in keys else keys[0]
    return dims, keys, (dims[0] if dims else None), first_kpi


def explore(
    df: pd.DataFrame,
    period: Period,
    *,
    dims: list[str] | None = None,
    kpis: list[str] | None = None,
    min_group_size: int = 5,
) -> w.VBox | go.Figure | None:
    """The breakdown explorer where someone can use it, its default chart in a report run.

    Parameters are those of :class:`BreakdownExplorer`. Returns the explorer's
    ``VBox`` in a live kernel (JupyterLab, Voila); in report mode the figure the
    explorer opens with (no ipywidgets are created), or None when the data has
    no dimension to break down by.
    """
    if interactive():
        return BreakdownExplorer(
            df, period, dims=dims, kpis=kpis, min_group_size=min_group_size
        ).widget
    _, _, dim, kpi = _choices(df, dims, kpis)
    if dim is None:
        return None
    table = breakdown(df, period, by=dim, min_group_size=min_group_size)
    return breakdown_figure(table, kpi, by=dim)


class BreakdownExplorer:
    """Two dropdowns (dimension, KPI) and a chart that follows them.

    Parameters
    ----------
    df:
        Canonical request frame.
    period:
        The period the breakdown covers.
    dims, kpis:
        Choices offered (default: every dimension with data, every KPI).
    min_group_size:
        Groups with fewer requests are hidden (privacy).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        period: Period,
        *,
        dims: list[str] | None = None,
        kpis: list[str] | None = None,
        min_group_size: int = 5,
    ) -> None:
        self.df, self.period, self.min_group_size = df, period, min_group_size
        dims, keys, first_dim, first_kpi = _choices(df, dims, kpis)
        self.dimension = w.Dropdown(
            options=[(header(d), d) for d in dims], value=first_dim, description="Breakdown"
        )
        self.kpi = w.Dropdown(
            options=[(get_kpi(k).label, k) for k in keys], value=first_kpi, description="KPI"
        )
        self.output = w.Output()
        self.dimension.observe(self._changed, names="value")
        self.kpi.observe(self._changed, names="value")
        self.widget = w.VBox([w.HBox([self.dimension, self.kpi]), self.output])
        self._cache: dict[str, pd.DataFrame] = {}
        self.update()

    def table(self) -> pd.DataFrame:
        """The breakdown table behind the chart (all KPIs, cached per dimension)."""
        dim = self.dimension.value
        if dim not in self._cache:
            self._cache[dim] = breakdown(
                self.df, self.period, by=dim, min_group_size=self.min_group_size
            )
        return self._cache[dim]

    def figure(self) -> go.Figure:
        """The chart for the current choices."""
        return breakdown_figure(self.table(), self.kpi.value, by=self.dimension.value)

    def update(self) -> None:
        """Redraw the chart in the output area."""
        self.output.clear_output(wait=True)
        if self.dimension.value is None:
            return
        with self.output:
            display(self.figure())

    def _changed(self, _change: dict) -> None:
        self.update()

    def _repr_mimebundle_(self, **kwargs):  # display the explorer directly in a notebook
        return self.widget._repr_mimebundle_(**kwargs)
