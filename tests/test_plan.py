"""Stage 3: the plan model, warnings, tables, promote, and the roadmap figure."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from csi_lib.charts.planning import roadmap_figure
from csi_lib.errors import ConfigError
from csi_lib.plan import (
    Initiative,
    Plan,
    initiatives_per_target,
    initiatives_table,
    load_plan,
    plan_warnings,
    promote,
    register_table,
)
from csi_lib.yamlio import load_yaml

TARGETS = [
    {"id": "T1", "kpi": "fulfil_median_h", "due": dt.date(2025, 12, 31), "objective": "O1"},
    {"id": "T2", "kpi": "pct_within_sla", "due": dt.date(2025, 9, 30), "objective": "O2"},
    {"id": "T3", "kpi": "csat_mean", "due": dt.date(2025, 12, 31), "objective": "O3"},
]

PLAN_YAML = """\
# the plan of the test cycle
initiatives:
  - id: I1
    title: Laptop build automation   # project A
    owner: EUC lead
    targets: [T1, T2]
    way_of_working: project
    start: 2025-07-01
    end: 2025-10-31
    stages:
      - {name: Design, start: 2025-07-01, end: 2025-07-31}
      - {name: Roll-out, start: 2025-10-01, end: 2025-11-15}
    expected_effect: {T1: -35 % fulfilment time, T2: 5}
    status: in progress
  - id: I2
    title: Approval rules
    targets: T1
    way_of_working: sprint
    timebox_weeks: 4
    start: 2025-09-01
    end: 2025-09-30

# ideas, scored value / effort
register:
  - {id: R1, idea: Chatbot, value: 3, effort: 4, votes: 9}     # score 0.75
  - {id: R2, idea: Reminders to approvers, value: 4, effort: 1, votes: 2}   # score 4.0
  - {id: R3, idea: Bundles for joiners, value: 4, effort: 2, votes: 5}  # score 2.0
  - {id: R4, idea: Catalogue clean-up, value: 2, effort: 1, votes: 7}  # score 2.0, more votes
"""


@pytest.fixture
def plan_path(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN_YAML)
    return path


def test_plan_model_reads_the_file(plan_path):
    plan = load_plan(plan_path)
    i1, i2 = plan.initiatives
    assert i1.stages[1].end == dt.date(2025, 11, 15)
    assert i1.expected_effect == {"T1": "-35 % fulfilment time", "T2": 5.0}
    assert i2.targets == ["T1"]  # a single id is read as a list
    assert [r.id for r in plan.ideas] == ["R1", "R2", "R3", "R4"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"way_of_working": "sprint"}, "only a 'project' initiative has stages"),
        ({"end": "2025-06-30"}, "ends"),
        ({"status": "finished"}, "Input should be"),
        ({"expected_effect": {"T9": 1}}, "T9"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_initiative_rejects_inconsistent_entries(change, message):
    base = {
        "id": "I1",
        "title": "x",
        "targets": ["T1"],
        "way_of_working": "project",
        "start": "2025-07-01",
        "end": "2025-07-31",
        "stages": [{"name": "a", "start": "2025-07-01", "end": "2025-07-31"}],
    }
    with pytest.raises(ValidationError, match=message):
        Initiative.model_validate({**base, **change})


def test_register_values_are_one_to_five():
    with pytest.raises(ValidationError):
        Plan.model_validate({"register": [{"id": "R1", "idea": "x", "value": 6, "effort": 1}]})


def test_plan_warnings(plan_path):
    warnings = plan_warnings(load_plan(plan_path), TARGETS)
    got = [(k, i) for k, i in zip(warnings["kind"], warnings["id"], strict=True)]
    assert got == [
        ("target", "T3"),  # no initiative works on T3
        ("initiative", "I1"),  # I1 ends 2025-10-31, after T2's due date 2025-09-30
        ("stage", "I1/Roll-out"),  # the stage ends 2025-11-15, after I1 ends 2025-10-31
    ]
    assert "2025-09-30" in warnings["warning"].iloc[1]


def test_initiatives_per_target(plan_path):
    table = initiatives_per_target(load_plan(plan_path), TARGETS)
    assert list(table["n_initiatives"]) == [2, 1, 0]
    assert list(table["initiatives"]) == ["I1, I2", "I1", ""]


def test_initiatives_table(plan_path):
    table = initiatives_table(load_plan(plan_path))
    assert list(table["id"]) == ["I1", "I2"]
    # I2 runs 2025-09-01..2025-09-30 inclusive: 30 days = 4.3 weeks
    assert table.loc[1, "weeks"] == 4.3
    assert table.loc[0, "stages"] == 2


def test_register_table_best_value_for_effort_first(plan_path):
    table = register_table(load_plan(plan_path))
    # scores: R2 4/1 = 4.0; R4 2/1 = 2.0 (7 votes) before R3 4/2 = 2.0 (5 votes); R1 3/4 = 0.75
    assert list(table["id"]) == ["R2", "R4", "R3", "R1"]
    assert list(table["score"]) == [4.0, 2.0, 2.0, 0.75]


def test_promote_moves_an_idea_and_keeps_comments(plan_path):
    new = promote(plan_path, "R3", targets=["T1"], owner="HR", start="2025-10-01", end="2025-12-15")
    assert new.id == "I3" and new.title == "Bundles for joiners"
    text = plan_path.read_text()
    assert "# the plan of the test cycle" in text
    assert "# project A" in text
    assert "# ideas, scored value / effort" in text
    assert "# score 4.0" in text
    plan = load_plan(plan_path)
    assert [i.id for i in plan.initiatives] == ["I1", "I2", "I3"]
    assert plan.initiatives[2].start == dt.date(2025, 10, 1)
    assert [r.id for r in plan.ideas] == ["R1", "R2", "R4"]
    data, _ = load_yaml(plan_path)
    assert data["initiatives"][2]["owner"] == "HR"


def test_promote_refuses_unknown_ids_and_leaves_the_file(plan_path):
    before = plan_path.read_text()
    with pytest.raises(ConfigError, match="no idea 'R9'"):
        promote(plan_path, "R9", start="2025-10-01", end="2025-10-31")
    with pytest.raises(ConfigError, match="taken"):
        promote(plan_path, "R1", initiative_id="I1", start="2025-10-01", end="2025-10-31")
    with pytest.raises(ConfigError, match="not valid"):
        promote(plan_path, "R1", start="2025-10-31", end="2025-10-01")
    assert plan_path.read_text() == before


def test_roadmap_figure(plan_path):
    fig = roadmap_figure(load_plan(plan_path), TARGETS, today="2025-10-15")
    bars = [t for t in fig.data if t.type == "bar"]
    # I1 (project) + its 2 stages + I2 (sprint) = 4 bars in 3 colour groups
    assert sum(len(t.y) for t in bars) == 4
    assert {t.name for t in bars} == {"project", "stage", "sprint"}
    dues = next(t for t in fig.data if t.type == "scatter")
    # T1 and T2 on I1's row, T1 on I2's row, T3 (no initiative) on its own row
    assert sorted(dues.text) == ["T1 due", "T1 due", "T2 due", "T3 due"]
    assert "(no initiative)" in list(fig.layout.yaxis.categoryarray)
    assert len(fig.layout.shapes) == 1  # the "today" line


def test_promote_the_last_idea_keeps_the_comment_lines_after_the_list(plan_path):
    plan_path.write_text(PLAN_YAML + "# end of the register\n")
    promote(plan_path, "R4", start="2025-10-01", end="2025-10-31")
    promote(plan_path, "R2", start="2025-10-01", end="2025-10-31")
    text = plan_path.read_text()
    assert text.rstrip().endswith("# end of the register")
    assert "# ideas, scored value / effort\nregister:" in text
    assert [i.id for i in load_plan(plan_path).initiatives] == ["I1", "I2", "I3", "I4"]


def test_roadmap_legend_sits_below_the_chart_and_due_labels_are_not_clipped(plan_path):
    """At 390 px the legend above the plot covered the title and the first row's labels."""
    fig = roadmap_figure(load_plan(plan_path), TARGETS, today="2025-10-15")
    legend = fig.layout.legend
    assert legend.orientation == "h" and legend.yref == "container" and legend.y == 0
    assert legend.yanchor == "bottom" and fig.layout.margin.b >= 80
    dues = next(t for t in fig.data if t.type == "scatter")
    assert dues.cliponaxis is False


def test_plan_text_counts_in_words(plan_path):
    from csi_lib.plan import plan_text

    plan = load_plan(plan_path)
    text = plan_text(plan, TARGETS)
    assert "(s)" not in text
    assert text.startswith(f"{len(plan.initiatives)} initiatives (") and " work on " in text
    one = plan.model_copy(update={"initiatives": plan.initiatives[:1], "ideas": plan.ideas[:1]})
    text = plan_text(one, TARGETS)
    assert text.startswith("1 initiative (") and " works on " in text
    assert "of the 3 targets" in text and "holds 1 idea." in text
