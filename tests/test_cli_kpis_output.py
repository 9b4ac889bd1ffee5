"""What a reader sees from `csi kpis`: labels and units beside the keys, bins as dates with
the partial ones marked, whole numbers with separators, and a rows line that names the
engine and says how to see rejected rows only where there are some."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from csi_lib.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample_requests.csv.gz"
CORPUS = REPO / "tests" / "bad_input"


def run(args: list[str], capsys) -> tuple[str, str]:
    status = main(["kpis", *args])
    out, err = capsys.readouterr()
    assert status == 0, out + err
    return out, err


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_series_marks_the_bins_cut_by_the_period_or_the_data(engine, capsys, tmp_path):
    """15 January to 31 March: January is cut by the period, so partial. Weeks of June and
    July 2026, the sample's last request on 30 June: the week holding the data's end and
    those after it are not over in the data, so partial too."""
    common = ["--kpi", "received", "--engine", engine, "--quarantine-dir", str(tmp_path)]
    out, _ = run([str(SAMPLE), "--freq", "month", "--from", "2025-01-15", "--to", "2025-03-31",
                  "--format", "csv", *common], capsys)  # fmt: skip
    frame = pd.read_csv(io.StringIO(out))
    assert frame["partial"].tolist() == [True, False, False]
    out, _ = run([str(SAMPLE), "--freq", "month", "--from", "2025-01-15", "--to", "2025-03-31",
                  *common], capsys)  # fmt: skip
    lines = [line for line in out.splitlines() if "Requests received" in line]
    assert len(lines) == 3
    assert "2025-01-15 to 2025-01-31" in lines[0] and "partial" in lines[0]
    assert "2025-02-01 to 2025-02-28" in lines[1] and "partial" not in lines[1]
    assert "requests" in lines[1] and "00:00:00" not in out  # the unit, no timestamps
    # past the data's end (the sample's last request is on 2026-06-30): not complete
    out, _ = run([str(SAMPLE), "--freq", "week", "--from", "2026-06-01", "--to", "2026-07-31",
                  "--format", "json", *common], capsys)  # fmt: skip
    records = json.loads(out)
    ends = [pd.Timestamp(r["period_end"]) for r in records]
    data_end = pd.Timestamp("2026-07-01", tz="UTC")  # the end of the data's last day
    assert [r["partial"] for r in records] == [end > data_end for end in ends]
    assert sum(end <= data_end for end in ends) == 4  # the whole weeks of June 2026


def test_a_breakdown_table_shows_labels_units_and_its_population(capsys, tmp_path):
    out, _ = run([str(SAMPLE), "--by", "channel", "--kpi", "fulfil_median_h", "--from",
                  "2025-01-01", "--to", "2025-06-30", "--quarantine-dir", str(tmp_path)],
                 capsys)  # fmt: skip
    header = next(line for line in out.splitlines() if "channel" in line)
    for column in ("label", "unit", "population"):
        assert column in header
    row = next(line for line in out.splitlines() if "Portal" in line)
    assert "Median time to fulfil" in row and "hours" in row
    population = int(row.split("│")[-2].strip().replace(",", ""))
    assert population >= 1000 and f"{population:,}" in row  # a thousands separator


def test_the_engine_rows_line_names_the_engine_and_the_way_to_rejected_rows(capsys):
    _, err = run([str(SAMPLE), "--engine", "duckdb", "--kpi", "received"], capsys)
    assert "0 quarantined (computed by DuckDB)" in err and "validate" not in err
    _, err = run([str(CORPUS / "closed_before_opened.csv"), "--engine", "duckdb",
                  "--kpi", "received"], capsys)  # fmt: skip
    assert "1 quarantined (computed by DuckDB; csi validate on the same data writes the " in err


def test_a_sql_engine_warns_of_absent_optional_columns_as_pandas_does(capsys, tmp_path):
    """The file has no SLA columns: both engines say so, in the same words."""
    said = {}
    for engine in ("pandas", "duckdb"):
        _, err = run([str(CORPUS / "closed_before_opened.csv"), "--engine", engine, "--kpi",
                      "received", "--quarantine-dir", str(tmp_path)], capsys)  # fmt: skip
        said[engine] = [line for line in err.splitlines() if line.startswith("warning:")]
    assert said["duckdb"] == said["pandas"]
    assert any("SLA met" in line and "left empty" in line for line in said["duckdb"])


@pytest.mark.parametrize(
    ("source", "mapping"),
    [
        ("blank_rows.csv", None),  # 3 empty rows skipped, none quarantined
        ("duplicate_ids.csv", None),  # an identical copy merged
        ("formatted_empty_rows.xlsx", None),
        ("helpdesk.csv.gz", "helpdesk-event-log.yaml"),  # events read, requests formed
    ],
)
def test_the_rows_line_reads_the_same_in_every_engine(source, mapping, capsys, tmp_path):
    folder = REPO / "data" / "eventlogs" if mapping else CORPUS
    extra = ["--mapping", str(REPO / "data" / "mappings" / mapping)] if mapping else []
    lines = {}
    for engine in ("pandas", "duckdb"):
        _, err = run([str(folder / source), *extra, "--engine", engine, "--kpi", "received",
                      "--quarantine-dir", str(tmp_path)], capsys)  # fmt: skip
        lines[engine] = err.splitlines()[0].split(" (")[0]  # without where to see the rejected
    assert lines["duckdb"] == lines["pandas"]
    if mapping:
        assert lines["duckdb"].startswith("21,348 events read, 4,580 requests formed, ")
    if source == "blank_rows.csv":
        assert lines["duckdb"] == "8 rows read, 3 empty skipped, 5 kept, 0 quarantined"
