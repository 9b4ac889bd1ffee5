"""An Excel workbook of the KPI tables, for managers who live in Excel.

Sheets: ``KPIs`` (one row per KPI, one column per period), ``Monthly`` (each
KPI by month), and one ``By <dimension>`` sheet per breakdown. Text cells that
a spreadsheet would run as formulas are neutralised (:mod:`csi_lib.safe`).

Examples
--------
>>> from csi_lib.periods import Period
>>> periods = {"Baseline": Period.from_dates("2025-01-01", "2025-06-30"),
...            "Review": Period.from_dates("2026-01-01", "2026-03-31")}
>>> sheets = kpi_sheets(df, periods, by=["category"])
>>> list(sheets)
['KPIs', 'Monthly', 'By category']
>>> sheets["KPIs"].head(2)
         kpi               label      unit   better  Baseline  Review
0   received   Requests received  requests  neither    9980.0  5730.0
1  fulfilled  Requests fulfilled  requests   higher    8859.0  5087.0
>>> write_kpi_workbook(tmp / "kpis.xlsx", sheets).name
'kpis.xlsx'
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import kpis as K
from .periods import Period
from .safe import neutralise_csv_frame
from .storage import atomic_path


def kpi_sheets(
    df: pd.DataFrame,
    periods: dict[str, Period],
    *,
    by: list[str] | tuple[str, ...] = (),
    freq: str = "month",
    min_group_size: int = 5,
) -> dict[str, pd.DataFrame]:
    """The tables of the workbook, as DataFrames keyed by sheet name.

    Parameters
    ----------
    df:
        Canonical request frame.
    periods:
        Named periods, e.g. ``{"Baseline": ..., "Review": ...}``; the first one
        (or the union of all, if several) is used for breakdowns and series.
    by:
        Dimensions to break down by (small groups hidden).
    """
    catalogue = K.kpi_catalogue().set_index("key")
    values = pd.DataFrame({name: K.kpi_values(df, p) for name, p in periods.items()})
    kpi_sheet = catalogue.loc[values.index, ["label", "unit", "better"]].join(values)
    kpi_sheet.index.name = "kpi"
    span = Period(min(p.start for p in periods.values()), max(p.end for p in periods.values()))
    series = K.kpi_series(df, span, freq=freq)
    monthly = series.pivot_table(
        index="period_start", columns="kpi", values="value", dropna=False, sort=False
    )
    monthly = monthly[[k for k in values.index if k in monthly.columns]]
    monthly.index = monthly.index.tz_convert(None).date
    monthly.index.name = freq
    sheets = {
        "KPIs": kpi_sheet.reset_index(),
        "Monthly" if freq == "month" else "Weekly": monthly.reset_index(),
    }
    first = next(iter(periods.values()))
    for dim in by:
        table = K.breakdown(df, first, by=dim, min_group_size=min_group_size)
        wide = table.pivot_table(index=dim, columns="kpi", values="value", observed=True, sort=True)
        wide = wide[[k for k in values.index if k in wide.columns]].reset_index()
        wide[dim] = wide[dim].astype(str)
        hidden = K.hidden_text(table)  # by each KPI's own population
        if hidden:
            note = pd.DataFrame({dim: [f"({hidden})"]})
            wide = pd.concat([wide, note], ignore_index=True)
        sheets[f"By {dim}"[:31]] = wide
    return sheets


def write_kpi_workbook(
    path: str | Path, sheets: dict[str, pd.DataFrame], *, overwrite: bool = False
) -> Path:
    """Write ``sheets`` to an .xlsx file atomically, formula-like text neutralised."""
    path = Path(path)
    with (
        atomic_path(path, overwrite=overwrite) as tmp,
        pd.ExcelWriter(tmp, engine="openpyxl") as writer,
    ):
        for name, frame in sheets.items():
            neutralise_csv_frame(frame).to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for column in sheet.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
                sheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)
            sheet.freeze_panes = "B2"
    return path
