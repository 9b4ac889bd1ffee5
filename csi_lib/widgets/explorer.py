"""Breakdown explorer: pick a dimension and a KPI, see the breakdown chart update.

Examples
--------
>>> from csi_lib.widgets.explorer import BreakdownExplorer      # doctest: +SKIP
>>> BreakdownExplorer(df, period).widget                       # doctest: +SKIP
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display

from ..charts.baseline import breakdown_figure
from ..kpis import breakdown, get_kpi, kpi_catalogue
from ..periods import Period
from ..schema import DIMENSION_COLUMNS


def available_dimensions(df: pd.DataFrame) -> list[str]:
    """Dimension columns of ``df`` that hold data (canonical ones first, then kept extras)."""
    canonical = [c for c in DIMENSION_COLUMNS if c in df.columns and df[c].notna().any()]
    extras = [
        c
        for c in df.columns
        if isinstance(df[c].dtype, pd.CategoricalDtype) and c not in canonical and c != "outcome"
    ]
    return canonical + extras


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
        dims = dims or available_dimensions(df)
        catalogue = kpi_catalogue()
        keys = kpis or list(catalogue["key"])
        self.dimension = w.Dropdown(
            options=dims, value=dims[0] if dims else None, description="Breakdown"
        )
        self.kpi = w.Dropdown(
            options=[(get_kpi(k).label, k) for k in keys],
            value="fulfil_median_h" if "fulfil_median_h" in keys else keys[0],
            description="KPI",
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
