"""A cycle's data loaded through Spark (cycle.yaml ``data: {engine: spark}``): the same load,
quarantine and report as the pandas engine gives for the same data.

Spark comes from PyPI's pyspark on Java 17 (scripts/services.sh installs Java); a session
starts once per test process. The Spark cases are marked slow like those of
tests/test_engines.py: `make test` and CI run them, land.sh's quick suite does not. The
checks of cycle.yaml need no Spark and run everywhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from engines_support import ROOT, spark_for

from csi_lib.cycle import check_cycle
from csi_lib.sources import load_requests
from csi_lib.sources.readers import ReadOptions, read_table

SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"
CORPUS = ROOT / "tests" / "bad_input"
#: Corpus files whose rows are refused for most of the reasons of DESIGN.md's bad input
BAD = [
    "blank_rows.csv",
    "closed_before_opened.csv",
    "control_characters.csv",
    "csat_out_of_range.csv",
    "csat_text.csv",
    "duplicate_ids.csv",
    "future_dates.csv",
    "missing_ids.csv",
    "open_with_closed_at.csv",
    "reopen_count_bad.csv",
    "unknown_outcome.csv",
    "unparseable_dates.csv",
]
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ibis.*"),
    pytest.mark.filterwarnings("ignore:.*future.infer_string.*"),
]


@pytest.fixture
def spark(request):
    return spark_for(request)


def spark_cycle(folder: Path, source: str, **data: str) -> Path:
    """A copy of the sample cycle whose data is ``source`` loaded through Spark."""
    shutil.copytree(SAMPLE_CYCLE, folder)
    config = yaml.safe_load((folder / "cycle.yaml").read_text())
    config["data"] = {"source": source, "preset": "generic", "engine": "spark", **data}
    (folder / "cycle.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


# --------------------------------------------------------------------------- cycle.yaml


def test_cycle_check_accepts_spark_on_parquet_or_a_table(tmp_path):
    """A Parquet file, a folder of them or a table name (looked up when loading)."""
    frame = pd.DataFrame({"request_id": ["R1"], "opened_at": ["2025-01-01"], "outcome": ["open"]})
    parquet = tmp_path / "requests.parquet"
    frame.to_parquet(parquet)
    (tmp_path / "parts").mkdir()
    frame.to_parquet(tmp_path / "parts" / "part-0.parquet")
    for i, source in enumerate(["../requests.parquet", "../parts", "itsm.requests"]):
        folder = spark_cycle(tmp_path / f"c{i}", source, master="local[1]")
        assert [str(p) for p in check_cycle(folder)] == []


def test_cycle_check_names_a_bad_engine_with_file_and_line(tmp_path):
    folder = spark_cycle(tmp_path / "c", "../sample_requests.csv.gz")
    text = (folder / "cycle.yaml").read_text()
    line = text.splitlines().index("  engine: spark") + 1
    (folder / "cycle.yaml").write_text(text.replace("engine: spark", "engine: sparks"))
    problems = check_cycle(folder)
    assert [(p.line, p.field) for p in problems] == [(line, "data.engine")]
    assert "'pandas' or 'spark'" in problems[0].message


def test_cycle_check_names_spark_sources_it_cannot_read(tmp_path):
    """A CSV file, a missing Parquet file and a URL are not Spark sources; a master
    without engine: spark is said at its own line."""
    shutil.copy(ROOT / "data" / "sample_requests.csv.gz", tmp_path / "requests.csv.gz")
    cases = {
        "../requests.csv.gz": "is not Parquet",
        "../missing.parquet": "does not exist",
        "postgresql://reader@db/itsm": "not a URL",
    }
    for i, (source, words) in enumerate(cases.items()):
        folder = spark_cycle(tmp_path / f"c{i}", source)
        problems = check_cycle(folder)
        assert [p.field for p in problems] == ["data.source"], problems
        assert words in problems[0].message
        line = (folder / "cycle.yaml").read_text().splitlines().index(f"  source: {source}")
        assert problems[0].line == line + 1
    folder = tmp_path / "master"
    shutil.copytree(SAMPLE_CYCLE, folder)
    text = (folder / "cycle.yaml").read_text().replace("../", f"{SAMPLE_CYCLE}/../")
    (folder / "cycle.yaml").write_text(text.replace("  preset: generic", "  preset: generic\n"
                                                    "  master: local[2]"))  # fmt: skip
    problems = check_cycle(folder)
    assert [p.field for p in problems] == ["data.master"]
    assert "engine: spark" in problems[0].message


# --------------------------------------------------------------------------- through Spark


def bad_export(tmp_path: Path) -> Path:
    """The corpus files of :data:`BAD` one after the other (their ids repeat from file to
    file: exact copies collapse, different rows of one id are refused), plus an exact copy
    of a kept row and of a refused one, as a Parquet file of the export's text cells."""
    frames = [read_table(CORPUS / name, ReadOptions(na_values=[""])).frame for name in BAD]
    frame = pd.concat(frames, ignore_index=True)
    frame = pd.concat([frame, frame.iloc[[0, len(frame) - 1]]], ignore_index=True)
    path = tmp_path / "bad.parquet"
    frame.astype(object).where(frame.notna(), None).to_parquet(path, index=False)
    return path


@pytest.mark.slow
def test_bad_input_through_spark_quarantines_as_pandas(spark, tmp_path):
    """The same kept rows, quarantine (rows, reasons, cells as read) and file, counts and
    warnings as the pandas engine's load of the same Parquet file. Dates as text need the
    mapping's datetime_format in a SQL engine (else a clear refusal, tests/test_engines.py)."""
    from csi_lib.engines.rows import load_rows

    mapping = tmp_path / "minutes.yaml"
    text = (ROOT / "csi_lib" / "presets" / "generic.yaml").read_text()
    mapping.write_text(text.replace("datetime_format: null", 'datetime_format: "%Y-%m-%d %H:%M"'))
    path = bad_export(tmp_path)
    want = load_requests(path, mapping=mapping, quarantine_dir=tmp_path / "pandas")
    got = load_rows(path, engine="spark", mapping=mapping, quarantine_dir=tmp_path / "spark")
    reasons = want.quarantined_by_reason()
    assert {"duplicate request_id", "unparseable opened_at", "closed before opened",
            "csat out of range 1..5", "missing request_id"} <= set(reasons)  # fmt: skip
    assert want.rows_collapsed and want.rows_blank and any("control" in w for w in want.warnings)
    summary = {k: v for k, v in want.summary().items() if k != "quarantine_path"}
    assert {k: v for k, v in got.summary().items() if k != "quarantine_path"} == summary
    pd.testing.assert_frame_equal(got.quarantine, want.quarantine)
    pd.testing.assert_frame_equal(got.data, want.data)
    assert got.quarantine_path.read_bytes() == want.quarantine_path.read_bytes()


def hostile_events(tmp_path: Path) -> Path:
    """The helpdesk log's first cases with what event logs hold: shuffled rows, a tie of
    times, an unreadable and a missing time, a case whose events have no time at all, a
    padded case id and a status in another case, as a Parquet file of text cells."""
    frame = read_table(ROOT / "data" / "eventlogs" / "helpdesk.csv.gz",
                       ReadOptions(na_values=[""])).frame.head(600)  # fmt: skip
    frame = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    frame.loc[3, "time:timestamp"] = frame.loc[4, "time:timestamp"]
    frame.loc[5, "time:timestamp"] = "soon"
    frame.loc[6, "time:timestamp"] = None
    frame.loc[7, "case:concept:name"] = " " + frame.loc[7, "case:concept:name"] + " "
    frame.loc[8, "concept:name"] = frame.loc[8, "concept:name"].upper()
    lone = frame.iloc[[9, 9]].assign(**{"case:concept:name": "Untimed", "time:timestamp": "?"})
    frame = pd.concat([frame, lone], ignore_index=True)
    path = tmp_path / "events.parquet"
    frame.astype(object).where(frame.notna(), None).to_parquet(path, index=False)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("case", ["helpdesk", "bpi2013", "hostile"])
def test_an_event_log_through_spark_loads_as_pandas(spark, tmp_path, case):
    """An event log (events:/derive:) read by Spark: the same requests, quarantine, counts
    (events read, requests formed) and warnings as the pandas engine's load of the file."""
    from csi_lib.engines.rows import load_rows

    logs, mappings = ROOT / "data" / "eventlogs", ROOT / "data" / "mappings"
    if case == "hostile":
        path, mapping = hostile_events(tmp_path), mappings / "helpdesk-event-log.yaml"
    else:
        log, name = {"helpdesk": ("helpdesk.csv.gz", "helpdesk-event-log.yaml"),
                     "bpi2013": ("bpi2013-incidents-extract.csv.gz", "bpi2013-incidents.yaml")}[case]  # fmt: skip
        frame = read_table(logs / log, ReadOptions(na_values=[""])).frame
        path, mapping = tmp_path / "log.parquet", mappings / name
        frame.astype(object).where(frame.notna(), None).to_parquet(path, index=False)
    want = load_requests(path, mapping=mapping, quarantine_dir=tmp_path / "pandas")
    got = load_rows(path, engine="spark", mapping=mapping, quarantine_dir=tmp_path / "spark")
    assert want.events is not None and want.events.requests_formed > 0
    if case == "hostile":
        assert want.rows_quarantined and want.events.events_without_time
    summary = {k: v for k, v in want.summary().items() if k != "quarantine_path"}
    assert {k: v for k, v in got.summary().items() if k != "quarantine_path"} == summary
    assert got.events == want.events and got.warnings == want.warnings
    pd.testing.assert_frame_equal(got.data, want.data)
    pd.testing.assert_frame_equal(got.quarantine, want.quarantine)
    if want.quarantine_path is not None:
        assert got.quarantine_path.read_bytes() == want.quarantine_path.read_bytes()


@pytest.mark.slow
def test_a_cycle_report_via_spark_equals_the_report_on_the_file(spark, tmp_path):
    """`csi report` on the sample cycle with its requests in Parquet, loaded and validated
    by Spark (cycle.yaml's data: engine: spark), writes the same summary.json, byte for
    byte, as from the export file."""
    from csi_lib.sample import write_requests

    data = load_requests(ROOT / "data" / "sample_requests.csv.gz").data
    write_requests(data, tmp_path / "requests.parquet")
    cycle = spark_cycle(tmp_path / "cycle", "../requests.parquet", master="local[2]")
    summaries = []
    for folder, out in ((cycle, tmp_path / "spark"), (SAMPLE_CYCLE, tmp_path / "file")):
        run = subprocess.run(
            [sys.executable, "-m", "csi_lib", "report", str(folder), "--as-of", "2026-04-15",
             "--out", str(out), "--stage", "5"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        assert "40,000 rows read, 35,634 kept, 0 quarantined" in run.stdout + run.stderr
        # the Spark driver logs errors only: none of its start-up notes between csi's lines
        for note in ("log4j", "setLogLevel", "Setting default log level", " WARN "):
            assert note not in run.stdout + run.stderr, note
        summaries.append((out / "2025-h2" / "2026-04-15" / "summary.json").read_bytes())
    assert json.loads(summaries[0])["targets"] and summaries[0] == summaries[1]
