"""The cycle workspace: YAML loading with lines, cycle.yaml, check_cycle, new_cycle, open_cycle, CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from csi_lib.cli import app, main
from csi_lib.cycle import (
    CycleConfig,
    check_cycle,
    cycle_history,
    load_config,
    new_cycle,
    open_cycle,
)
from csi_lib.errors import ConfigError, OutputError
from csi_lib.periods import Period
from csi_lib.plan import Plan
from csi_lib.vision import Vision
from csi_lib.yamlio import Problem, load_yaml, update_yaml_list_item, validate_file

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-cycle"

CSV = """\
request_id,opened_at,assessed_at,closed_at,outcome,category,sla_met,csat
R1,2025-01-02T08:00:00Z,2025-01-02T10:00:00Z,2025-01-03T08:00:00Z,fulfilled,Laptop,True,5
R2,2025-02-02T08:00:00Z,2025-02-02T09:00:00Z,2025-02-02T20:00:00Z,fulfilled,Laptop,False,3
R3,2025-03-02T08:00:00Z,,2025-03-04T08:00:00Z,declined,Other,True,
R4,2025-08-02T08:00:00Z,2025-08-02T12:00:00Z,2025-08-03T08:00:00Z,fulfilled,Laptop,True,4
R5,2025-09-02T08:00:00Z,,,open,Other,,
"""

CYCLE_YAML = """\
id: test-cycle
title: A small test cycle
data:
  source: requests.csv
  preset: generic
baseline:
  from: 2025-01-01
  to: 2025-06-30
action:
  from: 2025-07-01
  to: 2025-12-31
review:
  from: 2026-01-01
  to: 2026-03-31
"""

VISION_YAML = """\
business_direction: Grow without growing the desk
vision: Fast requests
mission: Remove waiting
objectives:
  - id: O1
    statement: Faster fulfilment
    owner: Ann
  - id: O2
    statement: Keep the SLA
"""

TARGETS_YAML = """\
targets:
  - id: T1
    kpi: fulfil_median_h
    kind: maintain_below
    value: 28
    due: 2025-12-31
    objective: O1
  - id: T2
    kpi: pct_within_sla
    kind: maintain_above
    value: 85
    due: 2025-12-31
    objective: O2
"""

PLAN_YAML = """\
initiatives:
  - id: I1
    title: Laptop build automation
    targets: [T1, T2]
    way_of_working: project
    start: 2025-07-01
    end: 2025-10-31
    stages:
      - {name: Build, start: 2025-07-01, end: 2025-08-31}
register:
  - {id: R1, idea: Reminders, value: 4, effort: 1, votes: 2}
"""


def write_cycle(folder: Path, **overrides: str) -> Path:
    """A complete, valid cycle folder; ``overrides`` replace a file's text (``cycle=...``)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "cycle": CYCLE_YAML,
        "vision": VISION_YAML,
        "targets": TARGETS_YAML,
        "plan": PLAN_YAML,
    }
    texts.update(overrides)
    for name, text in texts.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    (folder / "requests.csv").write_text(CSV, encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- yamlio


def test_load_yaml_records_the_line_of_every_key_and_item(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN_YAML)
    data, line_of = load_yaml(path)
    assert data["initiatives"][0]["start"] == dt.date(2025, 7, 1)  # safe_load semantics
    # line numbers counted in PLAN_YAML: "initiatives:" is line 1, "- id: I1" line 2,
    # "start:" line 6, the stage flow mapping line 9, "register:" line 10
    assert line_of["initiatives"] == 1
    assert line_of["initiatives[0]"] == 2
    assert line_of["initiatives[0].start"] == 6
    assert line_of["initiatives[0].stages[0].end"] == 9
    assert line_of["register[0].votes"] == 11


def test_load_yaml_reports_a_tab_with_its_line(tmp_path):
    path = tmp_path / "vision.yaml"
    path.write_text("vision: x\nobjectives:\n  - id: O1\n\t statement: y\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert info.value.row == 4
    assert "tab" in str(info.value)
    assert str(path) in str(info.value)


def test_load_yaml_reports_a_syntax_error_and_a_duplicate_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(bad)
    dup = tmp_path / "dup.yaml"
    dup.write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(ConfigError, match="appears twice") as info:
        load_yaml(dup)
    assert info.value.row == 3


def test_validate_file_gives_one_problem_per_error_with_lines(tmp_path):
    path = tmp_path / "cycle.yaml"
    path.write_text(
        CYCLE_YAML.replace("  to: 2025-12-31", "  to: 2025-13-31").replace("title:", "titel:")
    )
    config, problems = validate_file(path, CycleConfig)
    assert config is None
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {"action.to", "titel", "title"}
    assert by_field["action.to"].line == 11
    assert by_field["titel"].line == 2 and "unknown key" in by_field["titel"].message
    assert by_field["title"].message == "this required key is missing"
    assert str(by_field["action.to"]).startswith(f"{path}:11: action.to: ")


def test_update_yaml_list_item_replaces_one_entry_and_keeps_comments(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("# my targets\ntargets:\n  # the laptop one\n" + TARGETS_YAML.split("\n", 1)[1])
    update_yaml_list_item(
        path, "targets", "T1", {"kpi": "fulfil_p90_h", "kind": "minimize", "value": 40.0}
    )
    update_yaml_list_item(path, "targets", "T3", {"kpi": "csat_mean", "value": 4.3})
    text = path.read_text()
    assert "# my targets" in text and "# the laptop one" in text
    data, _ = load_yaml(path)
    assert [t["id"] for t in data["targets"]] == ["T1", "T2", "T3"]
    assert data["targets"][0] == {
        "id": "T1",
        "kpi": "fulfil_p90_h",
        "kind": "minimize",
        "value": 40.0,
    }
    assert data["targets"][1]["objective"] == "O2"  # untouched
    assert data["targets"][2] == {"id": "T3", "kpi": "csat_mean", "value": 4.3}


# --------------------------------------------------------------------------- models


def test_models_accept_the_sample_cycle():
    config, problems = validate_file(SAMPLE / "cycle.yaml", CycleConfig)
    assert problems == []
    assert config.id == "2025-h2" and config.data.preset == "generic"
    assert config.periods()["action"] == Period.from_dates("2025-07-01", "2025-12-31")
    vision, problems = validate_file(SAMPLE / "vision.yaml", Vision)
    assert problems == [] and vision.objective_ids == ["O1", "O2", "O3"]
    plan, problems = validate_file(SAMPLE / "plan.yaml", Plan)
    assert problems == []
    assert [i.way_of_working for i in plan.initiatives] == ["project", "sprint", "daily work"]
    assert len(plan.ideas) == 6


def test_sample_cycle_checks_clean():
    if not (SAMPLE / "targets.yaml").exists():
        pytest.fail("data/sample-cycle/targets.yaml is missing (written by the targets module)")
    assert [str(p) for p in check_cycle(SAMPLE)] == []


def test_a_valid_cycle_has_no_problems(tmp_path):
    assert check_cycle(write_cycle(tmp_path / "c")) == []


def test_check_reports_every_problem_at_once_with_file_and_line(tmp_path):
    folder = write_cycle(
        tmp_path / "c",
        # misordered periods: the action period starts before the baseline ends
        cycle=CYCLE_YAML.replace("  from: 2025-07-01", "  from: 2025-06-01"),
        # unknown key
        vision=VISION_YAML.replace("mission:", "misson:"),
        # bad date and unknown objective reference
        targets=TARGETS_YAML.replace(
            "due: 2025-12-31\n    objective: O1", "due: 2025-12-32\n    objective: O7"
        ),
        # a tab
        plan=PLAN_YAML.replace("    title: Laptop", "\ttitle: Laptop"),
    )
    problems = check_cycle(folder)
    found = {(Path(p.file).name, p.line, p.field) for p in problems}
    assert ("cycle.yaml", 10, "action.from") in found
    assert ("vision.yaml", 3, "misson") in found
    assert ("vision.yaml", 1, "mission") in found  # now missing: the line of its mapping
    assert ("targets.yaml", 6, "targets[0].due") in found
    assert ("targets.yaml", 7, "targets[0].objective") in found
    assert ("plan.yaml", 3, "") in found
    messages = " | ".join(p.message for p in problems)
    assert "before the baseline period ends" in messages
    assert "'O7' is not in vision.yaml" in messages
    assert "tab" in messages


def test_check_reports_malformed_yaml_and_unknown_initiative_target(tmp_path):
    folder = write_cycle(
        tmp_path / "c",
        cycle=CYCLE_YAML.replace("title: A small test cycle", 'title: "unclosed'),
        plan=PLAN_YAML.replace("targets: [T1, T2]", "targets: [T1, T9]"),
    )
    problems = check_cycle(folder)
    assert [(Path(p.file).name, p.field) for p in problems] == [
        ("cycle.yaml", ""),
        ("plan.yaml", "initiatives[0].targets[1]"),
    ]
    assert "not valid YAML" in problems[0].message and problems[0].line is not None
    assert problems[1].line == 4 and "'T9' is not in targets.yaml" in problems[1].message


def test_check_reports_missing_files_and_data(tmp_path):
    folder = write_cycle(tmp_path / "c")
    (folder / "plan.yaml").unlink()
    (folder / "requests.csv").unlink()
    problems = check_cycle(folder)
    assert [(Path(p.file).name, p.field) for p in problems] == [
        ("cycle.yaml", "data.source"),
        ("plan.yaml", ""),
    ]
    assert problems[0].line == 4
    assert check_cycle(tmp_path / "nowhere")[0].message.startswith(
        "the cycle folder does not exist"
    )


def test_problem_text_is_file_line_field_message():
    assert str(Problem("c/cycle.yaml", 7, "action.to", "bad")) == "c/cycle.yaml:7: action.to: bad"
    assert str(Problem("c/plan.yaml", None, "", "missing")) == "c/plan.yaml: missing"


# --------------------------------------------------------------------------- new_cycle


def test_new_cycle_scaffolds_a_folder_that_checks_clean(tmp_path):
    data = tmp_path / "exports" / "requests.csv"
    data.parent.mkdir()
    data.write_text(CSV)
    folder = new_cycle(
        tmp_path / "cycles" / "2025-h2",
        data=data,
        preset="generic",
        baseline_from="2025-01-01",
        baseline_to="2025-06-30",
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "cycle.yaml",
        "plan.yaml",
        "targets.yaml",
        "vision.yaml",
    ]
    config = load_config(folder)
    assert config.id == "2025-h2"
    assert config.data.source == "../../exports/requests.csv"  # relative to the cycle folder
    # action = the 6 months after the baseline, review = the 3 months after that
    assert (config.action.from_, config.action.to) == (dt.date(2025, 7, 1), dt.date(2025, 12, 31))
    assert (config.review.from_, config.review.to) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert "# " in (folder / "targets.yaml").read_text()  # commented examples
    assert check_cycle(folder) == []


def test_new_cycle_refuses_a_non_empty_folder(tmp_path):
    data = tmp_path / "requests.csv"
    data.write_text(CSV)
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not empty"):
        new_cycle(
            folder,
            data=data,
            preset="generic",
            baseline_from="2025-01-01",
            baseline_to="2025-06-30",
        )
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_new_cycle_needs_exactly_one_mapping_and_valid_dates(tmp_path):
    data = tmp_path / "requests.csv"
    data.write_text(CSV)
    with pytest.raises(ConfigError, match="exactly one"):
        new_cycle(tmp_path / "a", data=data, baseline_from="2025-01-01", baseline_to="2025-06-30")
    with pytest.raises(ConfigError, match="baseline dates"):
        new_cycle(
            tmp_path / "b",
            data=data,
            preset="generic",
            baseline_from="2025-06-30",
            baseline_to="2025-01-01",
        )
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --------------------------------------------------------------------------- open_cycle


def test_open_cycle_clips_periods_to_as_of(tmp_path):
    cycle = open_cycle(write_cycle(tmp_path / "c"), as_of="2025-10-15")
    assert cycle.periods["baseline"] == Period.from_dates("2025-01-01", "2025-06-30")
    # as_of is inclusive: the action period ends at midnight after 15 October
    assert cycle.periods["action"] == Period.from_dates("2025-07-01", "2025-10-15")
    assert cycle.periods["review"] == Period.from_dates("2026-01-01", "2026-03-31")  # not started
    assert [cycle.status(n) for n in ("baseline", "action", "review")] == [
        "complete",
        "in progress",
        "not started",
    ]
    unclipped = open_cycle(tmp_path / "c")
    assert unclipped.periods == unclipped.planned_periods
    assert [t.id for t in cycle.targets.targets] == ["T1", "T2"]


def test_open_cycle_raises_one_error_listing_every_problem(tmp_path):
    folder = write_cycle(tmp_path / "c", vision=VISION_YAML.replace("mission:", "misson:"))
    with pytest.raises(ConfigError, match=r"2 problem\(s\)"):
        open_cycle(folder)


def test_open_cycle_loads_the_requests_and_quarantines_outside_the_cycle(tmp_path):
    folder = write_cycle(tmp_path / "c")
    (folder / "requests.csv").write_text(CSV + "R6,not a date,,,fulfilled,Laptop,,\n")
    cycle = open_cycle(folder)
    # 6 rows read: R1..R5 kept, R6 (unparseable opened_at) quarantined
    assert cycle.load.rows_kept == 5
    assert cycle.load.rows_quarantined == 1
    assert cycle.load.quarantine_path is None  # no folder given: no file, never the cycle's
    assert not (folder / "quarantine").exists()
    cycle = open_cycle(folder, quarantine_dir=tmp_path / "q")
    assert Path(cycle.load.quarantine_path).parent == tmp_path / "q"


def test_open_cycle_data_override_skips_the_configured_file(tmp_path):
    folder = write_cycle(tmp_path / "c")
    other = tmp_path / "other.csv"
    other.write_text(CSV)
    (folder / "requests.csv").unlink()
    cycle = open_cycle(folder, data=other)
    assert Path(cycle.source) == other and cycle.preset == "generic"
    assert cycle.load.rows_kept == 5


def test_baseline_snapshot_refused_while_the_baseline_is_running(tmp_path):
    cycle = open_cycle(write_cycle(tmp_path / "c"), as_of="2025-03-01")
    with pytest.raises(ConfigError, match="not over"):
        cycle.baseline_snapshot()
    assert not (tmp_path / "c" / "baseline").exists()


# --------------------------------------------------------------------------- history


def test_cycle_history_lists_cycles_oldest_first(tmp_path):
    write_cycle(tmp_path / "b-second", cycle=CYCLE_YAML.replace("2025-01-01", "2025-02-01"))
    write_cycle(
        tmp_path / "a-first",
        cycle=CYCLE_YAML.replace("id: test-cycle", "id: first").replace("2025-01-01", "2024-07-01"),
    )
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "cycle.yaml").write_text("id: [\n")
    history = cycle_history(tmp_path)
    assert list(history["id"]) == ["first", "test-cycle", "broken"]
    assert list(history["baseline_from"][:2]) == [dt.date(2024, 7, 1), dt.date(2025, 2, 1)]
    assert list(history["targets"][:2]) == [2, 2]
    assert history["problem"].iloc[2].startswith("file")
    assert pd.isna(history["problem"].iloc[0])


# --------------------------------------------------------------------------- CLI


def test_cli_check_exit_codes(tmp_path):
    runner = CliRunner()
    good = write_cycle(tmp_path / "good")
    result = runner.invoke(app, ["cycle", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert "OK: 4 files checked" in result.output

    bad = write_cycle(
        tmp_path / "bad", targets=TARGETS_YAML.replace("objective: O1", "objective: O7")
    )
    result = runner.invoke(app, ["cycle", "check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad / 'targets.yaml'}:7: targets[0].objective: the objective 'O7'" in result.output
    # the console script (csi_lib.cli.main) exits 2 too
    with pytest.raises(SystemExit) as info:
        main(["cycle", "check", str(bad)])
    assert info.value.code == 2


def test_cli_new_creates_and_refuses(tmp_path):
    runner = CliRunner()
    data = tmp_path / "requests.csv"
    data.write_text(CSV)
    args = [
        "cycle",
        "new",
        str(tmp_path / "c"),
        "--data",
        str(data),
        "--preset",
        "generic",
        "--baseline-from",
        "2025-01-01",
        "--baseline-to",
        "2025-06-30",
        "--id",
        "x1",
        "--title",
        "My cycle",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert load_config(tmp_path / "c").title == "My cycle"
    assert main(args) == 2  # refused: the folder is not empty any more
    assert "--help" in runner.invoke(app, ["cycle", "new", "--help"]).output


def test_cycle_yaml_text_is_kept_readable(tmp_path):
    data = tmp_path / "r.csv"
    data.write_text(CSV)
    folder = new_cycle(
        tmp_path / "c",
        data=data,
        preset="generic",
        baseline_from="2025-01-01",
        baseline_to="2025-03-31",
        title="Quotes: 'and' colons",
    )
    text = (folder / "cycle.yaml").read_text()
    # the three periods, each as a block key (the commented notify: example names a sender)
    assert sum(line.strip().startswith("from:") for line in text.splitlines()) == 3
    assert load_config(folder).title == "Quotes: 'and' colons"


def test_update_yaml_list_item_fills_a_scaffolded_empty_list(tmp_path):
    data = tmp_path / "r.csv"
    data.write_text(CSV)
    folder = new_cycle(
        tmp_path / "c",
        data=data,
        preset="generic",
        baseline_from="2025-01-01",
        baseline_to="2025-06-30",
    )
    target = {
        "kpi": "fulfil_median_h",
        "scope": {"category": "Laptop"},
        "kind": "maintain_below",
        "value": 28,
        "due": dt.date(2025, 12, 31),
        "objective": "O1",
    }
    update_yaml_list_item(folder / "targets.yaml", "targets", "T1", target)
    data_, _ = load_yaml(folder / "targets.yaml")
    assert data_["targets"] == [{"id": "T1", **target}]
    assert "#    note:" in (folder / "targets.yaml").read_text()  # the commented example stays
    assert check_cycle(folder) == []


def test_baseline_snapshot_is_created_once_then_read_back(tmp_path):
    folder = write_cycle(tmp_path / "c")
    cycle = open_cycle(folder, as_of="2025-10-15")
    first = cycle.baseline_snapshot()
    assert (folder / "baseline" / "manifest.json").exists()
    # baseline 2025-01-01..2025-06-30 holds R1, R2, R3 (opened 2 Jan, 2 Feb, 2 Mar)
    assert first.kpis.set_index("kpi")["value"]["received"] == 3
    manifest_before = (folder / "baseline" / "manifest.json").read_bytes()
    again = open_cycle(folder).baseline_snapshot()  # loaded from baseline/, not recomputed
    assert again.period == first.period == Period.from_dates("2025-01-01", "2025-06-30")
    assert again.manifest["fingerprint"] == first.manifest["fingerprint"]
    assert (folder / "baseline" / "manifest.json").read_bytes() == manifest_before
