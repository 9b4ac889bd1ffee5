"""kpis.xlsx as an analyst opens it: number formats by unit, labels with units as
headers, each sheet titled with the dates it covers, filters and frozen headers.

The workbook of a report run is made by :class:`csi_lib.report.outputs.Workbook` from
the run's stored load, here the sample cycle cut at a date in the middle of a month
of the review period, and opened with openpyxl."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from csi_lib import kpis as K
from csi_lib import shipped
from csi_lib.excel import COUNT_FORMAT, HEADER_ROW
from csi_lib.present import header
from csi_lib.report.outputs import Workbook

AS_OF = dt.date(2026, 2, 10)  # review period in progress: February partial
DATES = re.compile(r"\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}")
#: What each unit looks like in Excel.
FORMATS = {"requests": COUNT_FORMAT, "hours": "0.0", "%": "0.0%", "ratio": "0.00", "score": "0.00"}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    from csi_lib.run import make_run

    tmp = tmp_path_factory.mktemp("wb")
    run_dir = make_run(shipped.SAMPLE_CYCLE, as_of=AS_OF).save(tmp / "run")
    Workbook(tmp, run_dir).links()
    return openpyxl.load_workbook(tmp / "kpis.xlsx")


def _kpi_by_header() -> dict[str, K.KPI]:
    return {header(key): K.get_kpi(key) for key in K.kpi_catalogue()["key"]}


def test_every_sheet_has_a_dated_title_filters_and_frozen_headers(workbook):
    assert workbook.sheetnames[:2] == ["KPIs", "Monthly"]
    assert [n for n in workbook.sheetnames if n.startswith("By ")]
    for sheet in workbook:
        title = sheet.cell(1, 1).value
        assert DATES.search(title), (sheet.title, title)
        assert sheet.cell(1, 1).font.bold
        last = get_column_letter(sheet.max_column)
        assert sheet.auto_filter.ref == f"A{HEADER_ROW}:{last}{sheet.max_row}", sheet.title
        assert sheet.freeze_panes == f"B{HEADER_ROW + 1}", sheet.title
        headers = [c.value for c in sheet[HEADER_ROW]]
        assert all(headers) and all(c.font.bold for c in sheet[HEADER_ROW])
    kpis = workbook["KPIs"]
    # the periods of the cycle, cut at the report date: the review so far
    assert "Baseline 2025-01-01 to 2025-06-30" in kpis["A1"].value
    assert "Review 2026-01-01 to 2026-02-10" in kpis["A1"].value
    assert workbook["Monthly"]["A1"].value == "KPIs by month, 2025-01-01 to 2026-02-10"
    # the benefits of the review's complete months so far, as stage 5 judges them
    assert workbook["Benefits"]["A1"].value == (
        "Benefits over 1 full month of the review period (January 2026), "
        "2026-01-01 to 2026-01-31, provisional"
    )


def test_the_by_sheets_say_they_cover_the_baseline_only(workbook):
    for name in (n for n in workbook.sheetnames if n.startswith("By ")):
        sheet = workbook[name]
        assert sheet["A1"].value.endswith("Baseline 2025-01-01 to 2025-06-30"), sheet["A1"].value
        assert "baseline period only" in sheet["A2"].value
        assert sheet.cell(HEADER_ROW, 1).value == header(name.removeprefix("By "))


def test_headers_are_labels_with_units_never_kpi_keys(workbook):
    keys = set(K.kpi_catalogue()["key"])
    by_header = _kpi_by_header()
    for sheet in workbook:
        headers = [c.value for c in sheet[HEADER_ROW]]
        assert not keys & set(headers), sheet.title
        if sheet.title not in ("KPIs", "Benefits"):  # Benefits: a row per target
            kpi_headers = [h for h in headers if h in by_header]
            assert len(kpi_headers) == len(headers) - (2 if sheet.title == "Monthly" else 1)
    monthly = [c.value for c in workbook["Monthly"][HEADER_ROW]]
    assert monthly[:2] == ["Month", "Note"]
    assert "Median time to fulfil (h)" in monthly and "Closed within SLA (%)" in monthly
    assert "Mean satisfaction (1-5)" in monthly and "Throughput ratio" in monthly
    kpis = [c.value for c in workbook["KPIs"][HEADER_ROW]]
    assert kpis[:3] == ["KPI", "Unit", "Better"]
    assert kpis[3:] == [
        "Baseline (2025-01-01 to 2025-06-30)",
        "Action (2025-07-01 to 2025-12-31)",
        "Review (2026-01-01 to 2026-02-10)",
    ]


def _check_cell(cell, kpi: K.KPI, where: str) -> None:
    assert cell.number_format == FORMATS[kpi.unit], (where, kpi.key, cell.number_format)
    if kpi.unit == "%" and cell.value is not None:
        assert 0 <= cell.value <= 1, (where, kpi.key, cell.value)  # 90.1 % is 0.901


def test_numbers_are_formatted_by_unit(workbook):
    by_header = _kpi_by_header()
    for sheet in workbook:
        if sheet.title == "KPIs":
            continue
        for column in sheet.iter_cols(min_row=HEADER_ROW):
            kpi = by_header.get(column[0].value)
            for cell in column[1:] if kpi else ():
                _check_cell(cell, kpi, sheet.title)
    kpis = workbook["KPIs"]
    by_label = {K.get_kpi(k).label: K.get_kpi(k) for k in K.kpi_catalogue()["key"]}
    for row in kpis.iter_rows(min_row=HEADER_ROW + 1):
        kpi = by_label[row[0].value]
        assert row[1].value == kpi.unit
        for cell in row[3:]:
            _check_cell(cell, kpi, "KPIs")
    received = next(
        r for r in kpis.iter_rows(min_row=HEADER_ROW + 1) if r[0].value == "Requests received"
    )
    assert received[3].value == 9980 and received[3].number_format == "#,##0"  # shows 9,980
    months = [c for c in workbook["Monthly"]["A"][HEADER_ROW:]]
    assert all(c.number_format == "mmm yyyy" for c in months)


def test_a_month_cut_by_the_report_date_is_marked_partial(workbook):
    rows = list(workbook["Monthly"].iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert rows[-1][0] == dt.datetime(2026, 2, 1)
    assert rows[-1][1] == "partial: 2026-02-01 to 2026-02-10"
    assert [r[1] for r in rows[:-1]] == [None] * (len(rows) - 1)  # the whole months
