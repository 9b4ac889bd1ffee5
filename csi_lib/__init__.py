"""csi-workbook: continual improvement of a service request management practice.

Use it in your own notebook::

    import csi_lib as csi

    res = csi.load("my_export.csv", preset="servicenow")   # or mapping="my-mapping.yaml"
    csi.quality(res)                                        # coverage of each column
    table = csi.kpis(res, "2025-H1", by="category", wide=True, labels=True)
    csi.breakdown_figure(csi.kpis(res, "2025-H1", by="category"), "fulfil_median_h", by="category")
    csi.xmr_figure(csi.xmr(res, "fulfil_median_h", "2025", baseline="2025-H1"))

Data
    load             an export (CSV, Excel, Parquet, a database) -> LoadResult (.data, .quarantine)
    quality          coverage of each canonical column in a load
    SAMPLE_DATA      the bundled sample export (40,000 synthetic requests)
KPIs
    kpis             KPI values over a period, by group and month/week; tidy or wide
    catalogue        every KPI's key, label, unit, better direction and definition
    register_kpi     add your own KPI (a KPI object with one vectorised function)
    KPI, Period, as_period
                     periods: ("2025-01-01", "2025-06-30"), "2025-H1", "2025-Q3", "2025-07"
Stages
    baseline         an immutable baseline snapshot of a period
    open_cycle       an improvement cycle folder (vision, targets, plan, periods)
    review           did we get there? per target: met, evidence, conclusion
    xmr              a process-behaviour (XmR) chart of one KPI with its signals
Figures (plotly, never shown by the library)
    kpi_series_figure, kpi_grid_figure, breakdown_figure, duration_distribution_figure,
    xmr_figure, review_figure

Every computation of the workbook lives in this package; the notebooks in
``notebooks/`` only call it. See ``docs/architecture.md`` for the module map.
Names are imported on first use, so ``import csi_lib`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> (module, attribute); loaded on first access (PEP 562).
_LAZY: dict[str, tuple[str, str]] = {
    "SAMPLE_DATA": (".api", "SAMPLE_DATA"),
    "load": (".api", "load"),
    "quality": (".api", "quality"),
    "kpis": (".kpis", ""),  # a callable module: csi.kpis(df, period) is api.kpis
    "catalogue": (".api", "catalogue"),
    "baseline": (".baseline", ""),  # callable module, see csi_lib._callable
    "open_cycle": (".api", "open_cycle"),
    "review": (".review", ""),  # callable module, see csi_lib._callable
    "xmr": (".api", "xmr"),
    "xmr_figure": (".api", "xmr_figure"),
    "register_kpi": (".kpis", "register_kpi"),
    "KPI": (".kpis", "KPI"),
    "Period": (".periods", "Period"),
    "as_period": (".periods", "as_period"),
    "kpi_series_figure": (".charts.baseline", "kpi_series_figure"),
    "kpi_grid_figure": (".charts.baseline", "kpi_grid_figure"),
    "breakdown_figure": (".charts.baseline", "breakdown_figure"),
    "duration_distribution_figure": (".charts.baseline", "duration_distribution_figure"),
    "review_figure": (".charts.review", "review_figure"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        # a submodule (csi_lib.kpis, csi_lib.review...) or a genuinely unknown name
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError:
            raise AttributeError(f"module 'csi_lib' has no attribute '{name}'") from None
    value = importlib.import_module(module, __name__)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
