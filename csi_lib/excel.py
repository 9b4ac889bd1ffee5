"""An Excel workbook of the KPI tables, for analysts and managers who live in Excel.

Sheets: ``KPIs`` (one row per KPI, one column per period), ``Monthly`` (or
``Weekly``: each KPI by month) and one ``By <dimension>`` sheet per breakdown (of
the first period, the baseline, which its title names). Every sheet reads the same
way: its title in the first row (what it shows and the dates it covers), a note in
the second, the column headers in the third (labels with units, never KPI keys),
then the data; the header row has filters and stays in view with the first column
(frozen panes). Numbers keep their full precision and are shown by unit: counts
``#,##0``, hours ``0.0``, shares as Excel percentages (``0.0%``: the cell holds
0.901 for 90.1 %), ratios and scores with their KPI's decimals. Text cells that a
spreadsheet would run as formulas are neutralised and control characters (which
Excel's XML cannot hold) removed (:func:`csi_lib.safe.spreadsheet_frame`).

Examples
--------
>>> from csi_lib.periods import Period
>>> periods = {"Baseline": Period.from_dates("2025-01-01", "2025-06-30"),
...            "Review": Period.from_dates("2026-01-01", "2026-03-31")}
>>> sheets = kpi_sheets(df, periods, by=["category"])
>>> list(sheets)
['KPIs', 'Monthly', 'By category']
>>> sheets["By category"].title
'KPIs by category, Baseline 2025-01-01 to 2025-06-30'
>>> kpis = sheets["KPIs"].frame.set_index("KPI")
>>> list(kpis.columns)
['Unit', 'Better', 'Baseline (2025-01-01 to 2025-06-30)', 'Review (2026-01-01 to 2026-03-31)']
>>> kpis.loc[["Requests received", "Fulfilled share of closed"]].round(3).iloc[:, 2:]
                           Baseline (2025-01-01 to 2025-06-30)  Review (2026-01-01 to 2026-03-31)
KPI
Requests received                                     9980.000                           5730.000
Fulfilled share of closed                                0.907                              0.902
>>> sheets["Monthly"].formats["Median time to fulfil (h)"], sheets["Monthly"].formats["Closed within SLA (%)"]
('0.0', '0.0%')
>>> write_kpi_workbook(tmp / "kpis.xlsx", sheets).name
'kpis.xlsx'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import kpis as K
from .periods import Period
from .present import header as column_header
from .safe import sheet_name, spreadsheet_cell, spreadsheet_frame
from .storage import atomic_path

#: Rows of every sheet: title, note, column headers; the data starts below.
TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3
#: Format of a count (thousands separators).
COUNT_FORMAT = "#,##0"


@dataclass
class Sheet:
    """One sheet of the workbook: its title (what and which period), a note, the table
    (headers as readers see them) and the number format of each value column: one
    format, or one per row (the ``KPIs`` sheet, a KPI per row)."""

    title: str
    frame: pd.DataFrame
    formats: dict[str, str | list[str]] = field(default_factory=dict)
    note: str = ""
    #: Excel format of date columns.
    date_formats: dict[str, str] = field(default_factory=dict)


def number_format(kpi: K.KPI) -> str:
    """The Excel number format of a KPI's values, by its unit.

    Examples
    --------
    >>> [number_format(K.get_kpi(k)) for k in ("received", "pct_fulfilled", "fulfil_median_h",
    ...                                         "throughput_ratio", "csat_mean")]
    ['#,##0', '0.0%', '0.0', '0.00', '0.00']
    """
    decimals = "." + "0" * kpi.decimals if kpi.decimals > 0 else ""
    if kpi.unit == "%":
        return f"0{decimals}%"
    if kpi.unit == "requests" or kpi.kind == "count":
        return COUNT_FORMAT
    return f"0{decimals}"


def excel_values(values, kpi: K.KPI):  # noqa: ANN001, ANN201 - a number or a Series
    """A KPI's values (a number or a Series) as the cells hold them: shares (0..100) as
    fractions, shown as percentages by :func:`number_format`; the rest as they are."""
    return values / 100 if kpi.unit == "%" else values


def _dates(period: Period, tz: str) -> str:
    """``'2025-01-01 to 2025-06-30'``: the inclusive dates of ``period`` in ``tz``."""
    first = period.start.tz_convert(tz).date()
    last = (period.end - pd.Timedelta(microseconds=1)).tz_convert(tz).date()
    return f"{first} to {last}"


def _kpi_columns(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame``'s KPI columns (keys) in Excel's units, headed by label and unit; their formats."""
    out, formats = {}, {}
    for key in keys:
        kpi = K.get_kpi(key)
        name = column_header(key)
        out[name] = excel_values(frame[key], kpi).astype(float)
        formats[name] = number_format(kpi)
    return pd.DataFrame(out, index=frame.index), formats


def _kpi_sheet(values: pd.DataFrame, periods: dict[str, Period], tz: str) -> Sheet:
    catalogue = K.kpi_catalogue().set_index("key")
    keys = list(values.index)
    table = pd.DataFrame(
        {
            "KPI": catalogue.loc[keys, "label"].to_numpy(),
            "Unit": catalogue.loc[keys, "unit"].to_numpy(),
            "Better": catalogue.loc[keys, "better"].to_numpy(),
        }
    )
    formats: dict[str, str | list[str]] = {}
    row_formats = [number_format(K.get_kpi(k)) for k in keys]
    for name, period in periods.items():
        column = f"{name} ({_dates(period, tz)})"
        table[column] = [excel_values(v, K.get_kpi(k)) for k, v in values[name].items()]
        formats[column] = row_formats
    spans = "; ".join(f"{name} {_dates(p, tz)}" for name, p in periods.items())
    return Sheet(
        title=f"KPIs by period: {spans}",
        frame=table,
        formats=formats,
        note=f"Inclusive dates ({tz}); each period is cut at the report date. "
        "Shares are percentages of their population, times in hours.",
    )


def _series_sheet(df: pd.DataFrame, span: Period, keys: list[str], freq: str, tz: str) -> Sheet:
    series = K.kpi_series(df, span, freq=freq)
    wide = series.pivot_table(
        index="period_start", columns="kpi", values="value", dropna=False, sort=False
    )
    ends = series.groupby("period_start", sort=False)["period_end"].first()
    wide = wide.assign(period_end=ends.reindex(wide.index)).reset_index()
    word = "month" if freq == "month" else "week"
    first = "Month" if freq == "month" else "Week starting"
    starts, ends = wide["period_start"], wide["period_end"]
    full = starts + (pd.DateOffset(months=1) if freq == "month" else pd.Timedelta(days=7))
    partial = [
        f"partial: {s.date()} to {(e - pd.Timedelta(microseconds=1)).date()}" if e < f else ""
        for s, e, f in zip(starts, ends, full, strict=True)
    ]
    values, formats = _kpi_columns(wide, [k for k in keys if k in wide.columns])
    table = pd.concat(
        [
            pd.DataFrame({first: starts.dt.tz_convert(None).dt.normalize(), "Note": partial}),
            values,
        ],
        axis=1,
    )
    return Sheet(
        title=f"KPIs by {word}, {_dates(span, tz)}",
        frame=table,
        formats=formats,
        note=f"One row per {word} (UTC); a {word} not complete in the data's span is marked "
        "partial in the Note column and is not comparable with whole ones.",
        date_formats={first: "mmm yyyy" if freq == "month" else "yyyy-mm-dd"},
    )


def _breakdown_sheet(
    df: pd.DataFrame, name: str, period: Period, dim: str, keys: list[str], min_group_size: int,
    tz: str, alone: bool,
) -> Sheet:  # fmt: skip
    """One dimension's breakdown over ``period`` (``alone``: the only one of several periods)."""
    table = K.breakdown(df, period, by=dim, min_group_size=min_group_size)
    wide = table.pivot_table(index=dim, columns="kpi", values="value", observed=True, sort=True)
    values, formats = _kpi_columns(wide, [k for k in keys if k in wide.columns])
    label = column_header(dim)
    groups = pd.DataFrame({label: wide.index.astype(str)}, index=wide.index)
    notes = [
        f"The {name.lower()} period only, not the other periods of the KPIs sheet."
        if alone
        else "",
        K.hidden_text(table),  # by each KPI's own population
    ]
    return Sheet(
        title=f"KPIs by {label.lower()}, {name} {_dates(period, tz)}",
        frame=pd.concat([groups, values], axis=1).reset_index(drop=True),
        formats=formats,
        note=" ".join(n for n in notes if n),
    )


def kpi_sheets(
    df: pd.DataFrame,
    periods: dict[str, Period],
    *,
    by: list[str] | tuple[str, ...] = (),
    freq: str = "month",
    min_group_size: int = 5,
    timezone: str = "UTC",
) -> dict[str, Sheet]:
    """The sheets of the workbook, keyed by sheet name.

    Parameters
    ----------
    df:
        Canonical request frame.
    periods:
        Named periods, e.g. ``{"Baseline": ..., "Review": ...}``: the columns of the
        ``KPIs`` sheet; the first one is the period of the breakdowns, the span of all of
        them that of the series.
    by:
        Dimensions to break down by (small groups hidden).
    timezone:
        The zone the periods' dates are written in (the cycle's).
    """
    values = pd.DataFrame({name: K.kpi_values(df, p) for name, p in periods.items()})
    keys = list(values.index)
    span = Period(min(p.start for p in periods.values()), max(p.end for p in periods.values()))
    sheets = {
        "KPIs": _kpi_sheet(values, periods, timezone),
        "Monthly" if freq == "month" else "Weekly": _series_sheet(df, span, keys, freq, timezone),
    }
    name, first = next(iter(periods.items()))
    for dim in by:
        sheets[sheet_name(f"By {dim}")] = _breakdown_sheet(
            df, name, first, dim, keys, min_group_size, timezone, len(periods) > 1
        )
    return sheets


def _layout(sheet, spec: Sheet) -> None:
    """Title, note, header style, number formats, filters, frozen panes and widths of one
    written sheet (an openpyxl worksheet holding ``spec.frame`` from :data:`HEADER_ROW`)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.cell(TITLE_ROW, 1, spreadsheet_cell(spec.title)).font = Font(bold=True, size=13)
    if spec.note:
        sheet.cell(NOTE_ROW, 1, spreadsheet_cell(spec.note)).font = Font(italic=True)
    n_rows, n_cols = len(spec.frame), len(spec.frame.columns)
    last_row = HEADER_ROW + max(n_rows, 1)
    for i, column in enumerate(spec.frame.columns, 1):
        letter = get_column_letter(i)
        head = sheet.cell(HEADER_ROW, i)
        head.font = Font(bold=True)
        head.alignment = Alignment(wrap_text=True, vertical="bottom")
        fmt = spec.formats.get(column) or spec.date_formats.get(column)
        if fmt is not None:
            per_row = fmt if isinstance(fmt, list) else [fmt] * n_rows
            for row, row_format in enumerate(per_row, HEADER_ROW + 1):
                sheet.cell(row, i).number_format = row_format
        cells = [str(v) for v in spec.frame[column].head(200) if v is not None]
        widest = max([10, *(len(c) for c in cells if c != "nan")])
        is_text = column not in spec.formats and column not in spec.date_formats
        width = max(widest if is_text else 12, min(len(str(column)), 18))
        sheet.column_dimensions[letter].width = min(width + 2, 60)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(n_cols)}{last_row}"
    sheet.freeze_panes = f"B{HEADER_ROW + 1}"


def write_kpi_workbook(
    path: str | Path, sheets: dict[str, Sheet], *, overwrite: bool = False
) -> Path:
    """Write ``sheets`` to an .xlsx file atomically, formula-like text neutralised and
    control characters removed, each sheet laid out for reading (:func:`_layout`)."""
    path = Path(path)
    with (
        atomic_path(path, overwrite=overwrite) as tmp,
        pd.ExcelWriter(tmp, engine="openpyxl") as writer,
    ):
        for name, spec in sheets.items():
            name = sheet_name(name)  # noqa: PLW2901 - a name Excel accepts
            spreadsheet_frame(spec.frame).to_excel(
                writer, sheet_name=name, index=False, startrow=HEADER_ROW - 1
            )
            _layout(writer.sheets[name], spec)
    return path


def benefits_sheet(cycle) -> Sheet:  # noqa: ANN001 - a Cycle or a CycleReview
    """The ``Benefits`` sheet: per target (and KPI named by a plan's benefit) the expected
    and the realised benefit, its 95 % interval and what it is worth
    (:func:`csi_lib.benefits.target_benefits`); numbers stay numbers (whole units, the
    currency's amounts), a benefit not established has no number, its status says why.

    Examples
    --------
    >>> sheet = benefits_sheet(rv)   # rv: the sample cycle's review as of 2026-04-15
    >>> sheet.title
    'Benefits over the review period (January to March 2026), 2026-01-01 to 2026-03-31'
    >>> float(sheet.frame.set_index("Benefit of").loc["Median time to fulfil (Laptop)", "Realised"])
    24550.158...
    """
    from .benefits import STATUS_WORDS, assess_benefits, target_benefits

    t = target_benefits(cycle)
    currency = t["currency"].dropna().iloc[0] if t["currency"].notna().any() else ""
    money = f" ({currency})" if currency else ""
    frame = pd.DataFrame(
        {
            "Benefit of": t["label"],
            "Unit": t["unit"].replace("", "—"),
            "Status": t["status"].map(STATUS_WORDS),
            "Expected": t["expected"],
            "Realised": t["realised"],
            "95 % interval from": t["ci_low"].where(t["realised"].notna()),
            "95 % interval to": t["ci_high"].where(t["realised"].notna()),
            f"Value of a unit{money}": t["value"],
            f"Expected worth{money}": t["expected_money"],
            f"Worth{money}": t["money"],
            f"Worth from{money}": t["money_low"],
            f"Worth to{money}": t["money_high"],
            "Shared among": t["initiatives"].map(", ".join),
            "Why": t["reason"],
        }
    )
    numbers = [
        c for c in frame.columns if c not in ("Benefit of", "Unit", "Status", "Shared among", "Why")
    ]
    provisional = ", provisional" if t.attrs.get("provisional") else ""
    if t.attrs.get("dates"):
        title = f"Benefits over {t.attrs['window']}, {t.attrs['dates']}{provisional}"
    else:
        review = assess_benefits(cycle).rv.planned("review")
        title = (
            f"Benefits: nothing to compare yet (review period {review.first_date} to "
            f"{review.last_date})"
        )
    return Sheet(
        title=title,
        frame=frame,
        formats={c: COUNT_FORMAT for c in numbers},
        note="Hours of waiting saved: the fall of the mean time x the requests; requests avoided: the fall of the share x the requests (or of the count a day x the days); "
        "a benefit stage 5 finds no real change for is not established and has no number. "
        "An initiative's share: the target's benefit divided by the initiatives serving it.",
    )
