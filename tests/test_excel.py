"""The Excel workbook of KPI tables."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from csi_lib.errors import OutputError
from csi_lib.excel import HEADER_ROW, Sheet, kpi_sheets, write_kpi_workbook
from csi_lib.periods import Period
from csi_lib.testing import make_requests


@pytest.fixture
def frame():
    rows = []
    for i in range(12):
        cat = "=cmd|' /C calc'!A0" if i < 6 else "Laptop"
        rows.append(
            {
                "request_id": f"R{i}",
                "opened_at": f"2025-01-{i + 1:02d} 09:00",
                "closed_at": f"2025-01-{i + 2:02d} 09:00",
                "outcome": "fulfilled",
                "category": cat,
            }
        )
    rows.append(
        {
            "request_id": "X",
            "opened_at": "2025-01-20 09:00",
            "closed_at": None,
            "outcome": "open",
            "category": "Tiny",
        }
    )
    rows.append(
        {
            "request_id": "Y",
            "opened_at": "2025-02-03 09:00",
            "closed_at": None,
            "outcome": "open",
            "category": "Laptop",
        }
    )
    return make_requests(rows)


def test_sheets_hold_values_per_period_and_hide_small_groups(frame):
    periods = {
        "January": Period.from_dates("2025-01-01", "2025-01-31"),
        "February": Period.from_dates("2025-02-01", "2025-02-28"),
    }
    sheets = kpi_sheets(frame, periods, by=["category"])
    kpis = sheets["KPIs"].frame.set_index("KPI")
    jan, feb = "January (2025-01-01 to 2025-01-31)", "February (2025-02-01 to 2025-02-28)"
    assert kpis.loc["Requests received", jan] == 13  # 12 opened 1..12 Jan, Tiny on 20 Jan
    assert kpis.loc["Median time to fulfil", jan] == 24.0  # every request took one day
    assert kpis.loc["Fulfilled share of closed", jan] == 1.0  # 100 %, as Excel holds it
    assert kpis.loc["Requests received", feb] == 1
    assert kpis.loc["Median time to fulfil", "Unit"] == "hours"
    by = sheets["By category"]
    assert set(by.frame["Category"]) == {"=cmd|' /C calc'!A0", "Laptop"}  # 6 each, shown
    # "Tiny": 1 request in January, hidden for every KPI; the note says why, no row is added
    assert "hidden to protect individuals" in by.note and "Tiny" not in by.note
    assert "the january period only" in by.note.lower()
    monthly = sheets["Monthly"].frame
    assert list(monthly["Month"].astype(str)) == ["2025-01-01", "2025-02-01"]
    assert list(monthly["Note"]) == ["", ""]  # both months whole


def test_workbook_neutralises_formulas_and_refuses_overwrite(frame, tmp_path):
    periods = {"January": Period.from_dates("2025-01-01", "2025-01-31")}
    path = write_kpi_workbook(tmp_path / "kpis.xlsx", kpi_sheets(frame, periods, by=["category"]))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["KPIs", "Monthly", "By category"]
    cells = [
        c.value for row in wb["By category"].iter_rows() for c in row if isinstance(c.value, str)
    ]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not any(v.startswith(("=", "+", "@")) for v in cells)
    assert all(c.data_type != "f" for row in wb["By category"].iter_rows() for c in row)
    with pytest.raises(OutputError):
        write_kpi_workbook(path, {"x": Sheet(title="x", frame=pd.DataFrame({"a": [1]}))})


def test_report_workbook_is_made_beside_the_stages(tmp_path):
    """A report run makes kpis.xlsx in a background thread from the run's stored load
    (csi_lib.report.outputs.Workbook): the same sheets as made directly; an error is
    raised when the run asks for the links, never lost."""
    from csi_lib.report.outputs import Workbook
    from csi_lib.run import make_run

    source = "tests/fixtures/exports/servicenow.csv"
    run = make_run(data=source, preset="servicenow", date_from="2025-01-01",
                   date_to="2025-03-31", as_of="2025-03-31")  # fmt: skip
    load = run.load()
    run_data = run.save(tmp_path / "run")
    staging = tmp_path / "staging"
    staging.mkdir()
    links = Workbook(staging, run_data).links()
    assert [link["href"] for link in links] == ["kpis.xlsx"]
    written = pd.read_excel(staging / "kpis.xlsx", sheet_name=None, header=HEADER_ROW - 1)
    direct = kpi_sheets(load.data, {"Period": Period.from_dates("2025-01-01", "2025-03-31")})
    assert list(written)[:2] == list(direct) and "By category" in written
    pd.testing.assert_frame_equal(
        written["KPIs"], direct["KPIs"].frame, check_dtype=False, check_exact=False
    )

    failing = Workbook(staging, tmp_path / "no-run")
    failing.wait()  # waiting never raises: the staging folder can then be removed
    with pytest.raises(Exception, match="no-run"):
        failing.links()


WORKBOOK_IMPORTS = """
import sys
from pathlib import Path
from csi_lib.report.outputs import _excel_tables, _import_for_workbook
from csi_lib.run import make_run
source, folder = sys.argv[1], Path(sys.argv[2])
run = make_run(data=source, preset="servicenow", date_from="2025-01-01", date_to="2025-03-31",
               as_of="2025-03-31")
run.save(folder / "run")
_import_for_workbook()
before = set(sys.modules)
_excel_tables(folder, folder / "run")
print(sorted(set(sys.modules) - before))
"""


def test_the_workbook_thread_imports_nothing(tmp_path):
    """Everything the workbook thread uses is imported before it starts: the report
    process starts kernels meanwhile, and importing one package from two threads at
    once failed a report (KeyError: 'IPython')."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", WORKBOOK_IMPORTS, "tests/fixtures/exports/servicenow.csv",
         str(tmp_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "[]", out.stdout
    assert (tmp_path / "kpis.xlsx").exists()
