"""Privacy and safe output.

Personal and free-text columns never reach the canonical frame, a snapshot, an
Excel workbook or a quarantine file unless named; breakdowns hide small groups
and say how many; spreadsheet exports neutralise formulas; a database password
never appears in a message, a result or a log; YAML is loaded safely and no
configuration string is evaluated. (HTML escaping in a real browser:
tests/browser/test_xss.py.)
"""

from __future__ import annotations

import ast
import logging
import sqlite3
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from csi_lib import kpis as K
from csi_lib.baseline import create_snapshot, load_snapshot, row_counts
from csi_lib.cli import main
from csi_lib.errors import ConfigError, CsiError
from csi_lib.excel import kpi_sheets, write_kpi_workbook
from csi_lib.periods import Period
from csi_lib.sources import load_requests

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "exports"
CORPUS = ROOT / "tests" / "bad_input"

#: Personal and free-text values of tests/fixtures/exports/servicenow.csv.
PERSONAL = ["Ana Silva", "Bob Jones", "New laptop for starter", "Adobe licence, urgent"]


def all_text(folder: Path) -> str:
    """Every file under ``folder`` as text (parquet and xlsx decoded to their cell values)."""
    parts = []
    for p in sorted(folder.rglob("*")):
        if p.suffix == ".parquet":
            parts.append(pd.read_parquet(p).to_csv())
        elif p.suffix == ".xlsx":
            book = openpyxl.load_workbook(p)
            parts += [str(c.value) for ws in book for row in ws.iter_rows() for c in row]
        elif p.is_file():
            parts.append(p.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


# --------------------------------------------------------------------------------------
# personal and free-text columns
# --------------------------------------------------------------------------------------


def test_personal_columns_stop_at_the_loader(tmp_path):
    res = load_requests(FIXTURES / "servicenow.csv", preset="servicenow", quarantine_dir=tmp_path)
    assert not {"short_description", "requested_for"} & set(res.data.columns)
    text = res.data.astype(str).to_csv() + res.quarantine.astype(str).to_csv()
    if res.quarantine_path:
        text += res.quarantine_path.read_text()
    for value in PERSONAL:
        assert value not in text


def test_personal_columns_never_reach_a_snapshot_or_a_workbook(tmp_path):
    res = load_requests(FIXTURES / "servicenow.csv", preset="servicenow")
    period = Period.from_dates("2025-03-01", "2025-03-31")
    snap = create_snapshot(
        res.data, period, source=res.source, fingerprint=res.fingerprint,
        mapping=res.mapping, rows=row_counts(res), min_group_size=1,
    )  # fmt: skip
    snap.save(tmp_path / "baseline")
    write_kpi_workbook(
        tmp_path / "kpis.xlsx",
        kpi_sheets(res.data, {"March": period}, by=["category", "group"], min_group_size=1),
    )
    text = all_text(tmp_path)
    assert "Standard Laptop" in text  # the breakdowns are there ...
    for value in PERSONAL:  # ... the people and their words are not
        assert value not in text


def test_a_column_named_explicitly_is_kept():
    res = load_requests(FIXTURES / "servicenow.csv", preset="servicenow", keep=["requested_for"])
    assert "Ana Silva" in set(res.data["requested_for"].astype(str))


# --------------------------------------------------------------------------------------
# small groups
# --------------------------------------------------------------------------------------


@pytest.fixture
def groups(make_requests) -> pd.DataFrame:
    # Desk: 6 requests, Apps: 4, Access: 1 (all opened in January 2025)
    rows = [{"opened_at": f"2025-01-{d:02d} 10:00", "group": "Desk"} for d in range(1, 7)]
    rows += [{"opened_at": f"2025-01-{d:02d} 10:00", "group": "Apps"} for d in range(10, 14)]
    rows += [{"opened_at": "2025-01-20 10:00", "group": "Access"}]
    return make_requests(rows)


def test_breakdown_hides_groups_under_five_by_default(groups, jan_2025):
    table = K.breakdown(groups, jan_2025, by="group", kpis=["received"])
    assert table["group"].astype(str).tolist() == ["Desk"]
    assert table.attrs["hidden_groups"] == 2  # Apps (4) and Access (1)
    three = K.breakdown(groups, jan_2025, by="group", kpis=["received"], min_group_size=3)
    assert sorted(three["group"].astype(str)) == ["Apps", "Desk"]
    assert three.attrs["hidden_groups"] == 1


def test_snapshot_workbook_and_cli_hide_small_groups(groups, jan_2025, tmp_path, capsys):
    snap = create_snapshot(
        groups, jan_2025, source="x.csv", fingerprint="0" * 64, mapping={"name": "generic"},
        rows={"read": 11, "kept": 11, "quarantined": 0}, by=["group"],
    )  # fmt: skip
    assert set(snap.breakdowns["group"]) == {"Desk"}
    assert snap.manifest["hidden_groups"] == {"group": 2}
    sheet = kpi_sheets(groups, {"January": jan_2025}, by=["group"])["By group"]
    assert list(sheet.frame["Support group"]) == ["Desk"]
    assert "hidden to protect individuals" in sheet.note  # the note, no Apps/Access
    assert "Apps" not in sheet.note and "Access" not in sheet.note
    src = tmp_path / "groups.csv"
    groups.assign(closed_at=None, outcome="open")[
        ["request_id", "opened_at", "outcome", "group"]
    ].to_csv(src, index=False)
    assert main(["kpis", str(src), "--by", "group", "--kpi", "received", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert "2 groups with fewer than 5 requests in the population of Requests received" in err
    assert "Apps" not in out and "Access" not in out and "Desk" in out


# --------------------------------------------------------------------------------------
# formula neutralisation in CSV and Excel
# --------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://attacker.example/x","click")', "@SUM(1)", "-2+3", "+A1"]


def test_cli_csv_export_neutralises_formulas(capsys):
    for by, formula in zip(["category", "channel", "priority", "group"], FORMULAS, strict=True):
        status = main(
            ["kpis", str(CORPUS / "formula_injection.csv"), "--by", by, "--kpi", "received",
             "--format", "csv"]
        )  # fmt: skip
        out = capsys.readouterr().out
        assert status == 0
        rows = pd.read_csv(pd.io.common.StringIO(out))
        values = rows[by].tolist()
        assert "'" + formula in values, (by, values)
        assert not [v for v in values if str(v)[:1] in "=+-@"], values


def test_excel_workbook_cells_are_text_not_formulas(tmp_path):
    res = load_requests(CORPUS / "formula_injection.csv")
    period = Period.from_dates("2025-03-01", "2025-03-31")
    path = write_kpi_workbook(
        tmp_path / "kpis.xlsx", kpi_sheets(res.data, {"March": period}, by=["category", "channel"])
    )
    cells = [c for ws in openpyxl.load_workbook(path) for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "'" + FORMULAS[0] in texts and "'@SUM(1)" in texts
    assert not [t for t in texts if t[:1] in "=+@"]


def test_quarantine_file_neutralises_formulas(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text(
        "request_id,opened_at,closed_at,outcome,category\n"
        'R1,2025-03-01 10:00,2025-02-01 10:00,fulfilled,"=HYPERLINK(""http://x"",""y"")"\n'
        "R2,2025-03-01 10:00,,open,Laptop\n"
    )
    res = load_requests(src, quarantine_dir=tmp_path / "q")
    text = res.quarantine_path.read_text()
    assert "'=HYPERLINK" in text
    assert "\n=" not in text and ",=" not in text


# --------------------------------------------------------------------------------------
# database passwords
# --------------------------------------------------------------------------------------

SECRET = "s3cretPassw0rd"
URL = f"postgresql://ana:{SECRET}@127.0.0.1:1/itsm"


def test_password_not_in_error_output_or_log(capsys, caplog):
    caplog.set_level(logging.DEBUG)
    status = main(["validate", URL, "--query", "requests"])
    out, err = capsys.readouterr()
    assert status == 2
    assert "ana:***@127.0.0.1" in err
    assert SECRET not in out + err + caplog.text


def test_password_not_in_result_snapshot_or_report_header(tmp_path, monkeypatch, caplog):
    """A successful load from a URL with a password: the driver is swapped for SQLite."""
    import sqlalchemy

    db = tmp_path / "itsm.db"
    with sqlite3.connect(db) as con:
        pd.read_csv(FIXTURES / "generic.csv").to_sql("requests", con, index=False)
    real = sqlalchemy.create_engine
    monkeypatch.setattr(sqlalchemy, "create_engine", lambda url, **kw: real(f"sqlite:///{db}"))
    caplog.set_level(logging.DEBUG)
    res = load_requests(URL, query="requests", quarantine_dir=tmp_path / "q")
    assert res.rows_kept > 0
    snap = create_snapshot(
        res.data, Period.from_dates("2025-01-01", "2025-01-31"), source=URL,
        fingerprint=res.fingerprint, mapping=res.mapping, rows=row_counts(res),
    )  # fmt: skip
    snap.save(tmp_path / "baseline")
    from csi_lib.report import _context
    from csi_lib.run import make_run

    run = make_run(data=URL, preset="generic", query="requests", as_of="2025-01-31")
    header = str(_context(run)["provenance"])
    run.use(res).save(tmp_path / "run")  # a report's saved run: run.json holds no password
    found = [str(res.summary()), header, caplog.text, all_text(tmp_path)]
    assert "ana:***@127.0.0.1" in res.source and "***" in header
    assert not [i for i, text in enumerate(found) if SECRET in text]
    assert (
        load_snapshot(tmp_path / "baseline").manifest["source"]
        == "postgresql://ana:***@127.0.0.1:1/itsm"
    )


# --------------------------------------------------------------------------------------
# no configuration string is ever run
# --------------------------------------------------------------------------------------


def test_library_never_evaluates_or_loads_yaml_unsafely():
    """No eval/exec/DataFrame.query/pd.eval call and no unsafe YAML loader in csi_lib."""
    found = []
    for path in sorted((ROOT / "csi_lib").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            if name in {"eval", "exec", "query", "unsafe_load", "full_load"}:
                found.append(f"{path.name}:{node.lineno} {name}")
            if (
                name == "load"
                and isinstance(f, ast.Attribute)
                and getattr(f.value, "id", "") == "yaml"
            ):
                found.append(f"{path.name}:{node.lineno} yaml.load")
    assert found == []


@pytest.mark.parametrize(
    "payload",
    ["__import__('os').system('touch /tmp/csi-scope-pwned')", "category == 'Laptop' or 1", "@x"],
)
def test_scope_strings_are_matched_never_run(payload, make_requests, jan_2025):
    df = make_requests([{"opened_at": "2025-01-02", "category": "Laptop"}])
    with pytest.raises(ConfigError) as info:
        K.kpi_values(df, jan_2025, scope={"category": payload})
    assert "does not occur in the data" in str(info.value)
    assert not Path("/tmp/csi-scope-pwned").exists()
    with pytest.raises(ConfigError):
        K.scope_filter(df, {payload: "Laptop"})


def test_yaml_tags_are_refused_in_cycle_files(tmp_path):
    from csi_lib.yamlio import load_yaml

    f = tmp_path / "targets.yaml"
    f.write_text("targets: !!python/object/apply:os.system ['touch /tmp/csi-yaml-pwned']\n")
    with pytest.raises(CsiError):
        load_yaml(f)
    assert not Path("/tmp/csi-yaml-pwned").exists()
