"""The what-if target widget, driven without a browser.

Data: the hand-made frame of tests/test_targets.py (Laptop fulfilment: baseline
median 43 h, natural process limits 32.03 .. 53.31 h, best month 30 h in
2024-12; every request assessed after 10 h; 48 requests in the baseline).
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from test_targets import BASELINE, CYCLE_END, make_frame

from csi_lib.errors import ConfigError
from csi_lib.widgets.whatif import WhatIf

TARGETS_FILE = """\
# Targets of the test cycle -- keep this comment
targets:
  - id: T1
    kpi: received   # demand, kept as it is
    kind: maintain_above
    value: 10
    due: 2025-12-31
    objective: O1
"""


@pytest.fixture(scope="module")
def frame():
    return make_frame()


@pytest.fixture
def whatif(frame, tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(TARGETS_FILE)
    return WhatIf(
        frame,
        baseline_period=BASELINE,
        cycle_end=CYCLE_END,
        objectives=["O1", "O2"],
        targets_path=path,
    )


def verdict(w: WhatIf, letter: str) -> str:
    return str(w.smart.set_index("letter").loc[letter, "verdict"])


def laptop(w: WhatIf) -> None:
    w.dimension.value = "category"
    w.scope_value.value = "Laptop"


def test_starts_on_the_baseline_value(whatif):
    # whole service fulfilment: 36 Laptop requests (median 43) + 12 Phone (20 h) -> 48 values;
    # sorted: 12 x 20, 12 x 40, 6 x 42, 12 x 44, 6 x 46 -> 24th is 40, 25th is 42 -> median 41
    assert whatif.kpi.value == "fulfil_median_h"
    assert whatif.kind.value == "minimize"  # lower is better
    assert whatif.value.value == pytest.approx(41.0)
    assert whatif.target_id.value == "T2"  # after the file's T1
    assert verdict(whatif, "A") == "warn"  # 41 is the baseline itself: already met
    assert whatif.overall() == "warn"


def test_scope_and_value_change_the_verdict(whatif):
    laptop(whatif)
    assert whatif.draft_target().scope == {"category": "Laptop"}
    # a new scope keeps the value the room chose (41 h, the whole service's baseline);
    # the slider is refitted around the Laptop baseline (limits 32.03 .. 53.31, best 30 h)
    assert whatif.value.value == pytest.approx(41.0) == whatif.number.value
    assert whatif.value.min <= 25 and whatif.value.max >= 55
    whatif.value.value = 35  # inside the limits 32.03 .. 53.31
    assert verdict(whatif, "A") == "pass"
    assert "inside the natural process limits" in whatif.verdict_html.value.lower()
    whatif.value.value = 25  # beyond the limits and the best month (30 h)
    assert verdict(whatif, "A") == "warn"
    assert "stretch" in whatif.smart.set_index("letter").loc["A", "reason"]
    shapes = [s for s in whatif.figure.layout.shapes if s.type == "line"]
    assert shapes and shapes[0].y0 == pytest.approx(25.0)  # the target line follows the slider


def test_kind_due_and_objective(whatif):
    laptop(whatif)
    whatif.kind.value = "maximize"
    assert verdict(whatif, "S") == "warn"  # maximize a lower-is-better KPI
    whatif.kind.value = "within"
    assert not whatif.tolerance.disabled
    whatif.tolerance.value = 2.0
    assert whatif.draft_target().tolerance == 2.0
    whatif.due.value = "2026-04-01"  # after the cycle ends (typed as an ISO date)
    assert verdict(whatif, "T") == "fail"
    whatif.due.value = "2025-12-31"
    assert verdict(whatif, "T") == "pass"
    whatif.due.value = "31/12/2025"  # not an ISO date: said in words, no field key
    assert whatif.error == "The due date '31/12/2025' is not a date. Write it as YYYY-MM-DD."
    whatif.due.value = "2025-12-31"
    whatif.objective.value = "O2"
    assert whatif.draft_target().objective == "O2"


def test_kpi_change_resets_kind_and_slider(whatif):
    whatif.kpi.value = "pct_within_sla"
    assert whatif.kind.value == "maximize"
    assert whatif.value.min >= 0.0 and whatif.value.max <= 100.0  # a percentage
    whatif.kpi.value = "csat_mean"
    assert verdict(whatif, "M") == "warn"  # csat known for 12 of 48 closed requests


def test_invalid_draft_is_reported_not_raised(whatif):
    whatif.target_id.value = "bad id!"
    whatif.refresh()
    assert whatif.error is not None and "not valid" in whatif.error
    assert whatif.smart.empty and whatif.overall() is None
    with pytest.raises(ConfigError):
        whatif.save()


def test_save_adds_then_replaces_keeping_comments(whatif):
    laptop(whatif)
    whatif.value.value = 31
    whatif.owner.value = "Laptop lead"
    whatif.save()
    text = whatif.targets_path.read_text()
    assert "# Targets of the test cycle -- keep this comment" in text
    assert "# demand, kept as it is" in text
    saved = yaml.safe_load(text)["targets"]
    assert [t["id"] for t in saved] == ["T1", "T2"]
    assert saved[1] == {
        "id": "T2",
        "kpi": "fulfil_median_h",
        "scope": {"category": "Laptop"},
        "kind": "minimize",
        "value": 31.0,
        "due": dt.date(2026, 3, 31),
        "objective": "O1",
        "owner": "Laptop lead",
    }
    whatif.value.value = 29
    whatif._on_save(None)  # the button's handler
    saved = yaml.safe_load(whatif.targets_path.read_text())["targets"]
    assert len(saved) == 2 and saved[1]["value"] == 29.0
    assert "Saved T2" in whatif.status.value


def test_save_without_file(frame):
    w = WhatIf(frame, baseline_period=BASELINE, cycle_end=CYCLE_END, objectives=["O1"])
    assert w.save_button.disabled
    with pytest.raises(ConfigError, match="no targets file"):
        w.save()


def test_for_cycle_takes_the_cycle_settings(frame, tmp_path):
    from types import SimpleNamespace

    config = SimpleNamespace(
        review=SimpleNamespace(to=dt.date(2026, 3, 31)),
        action=SimpleNamespace(from_=dt.date(2025, 9, 1)),
        freq="month",
    )
    cycle = SimpleNamespace(
        data=frame,
        dir=tmp_path,
        config=config,
        planned_periods={"baseline": BASELINE},
        vision=SimpleNamespace(
            objective_ids=["O3"],
            objectives=[SimpleNamespace(id="O3", statement="Satisfied customers")],
        ),
        targets=SimpleNamespace(targets=[]),
    )
    w = WhatIf.for_cycle(cycle)
    assert w.targets_path == tmp_path / "targets.yaml"
    assert w.objective.value == "O3" and w.due.value == "2026-03-31"
    assert w.objective.options == (("O3 · Satisfied customers", "O3"),)  # an id with its words
    w.due.value = "2025-09-20"  # less than a month after the action starts (2025-09-01)
    assert verdict(w, "T") == "warn"


def test_controls_speak_words_not_keys(whatif):
    """KPI, scope, kind: labels the room reads; the keys stay behind them."""
    labels = [label for label, _ in whatif.kpi.options]
    assert "Median time to fulfil" in labels
    assert not any("_" in label for label in labels)  # no "(fulfil_median_h)"
    assert ("Lower is the aim", "minimize") in whatif.kind.options
    assert ("Keep at or below", "maintain_below") in whatif.kind.options
    assert whatif.dimension.options[0] == ("The whole service", "")
    assert ("Category", "category") in whatif.dimension.options
    assert whatif.number.style.description_width == "initial"  # the label is never cut
    assert whatif.unit.value == "hours"


TWO_TARGETS = """\
targets:
  - id: T1
    kpi: fulfil_median_h
    scope: {category: Laptop}
    kind: minimize
    value: 35      # hours -- keep this comment
    due: 2025-12-31
    objective: O1
    owner: Laptop lead
  - id: T2
    kpi: fulfil_median_h
    kind: minimize
    change: "-10%"
    due: 2025-12-31
    objective: O2
"""


def test_starts_from_the_cycles_targets_and_saves_t1_at_30_h(frame, tmp_path):
    """The what-if opens on the cycle's first target; "T1 at 30 h" is one value typed and Save."""
    from csi_lib.targets import load_targets

    path = tmp_path / "targets.yaml"
    path.write_text(TWO_TARGETS)
    w = WhatIf(
        frame,
        baseline_period=BASELINE,
        cycle_end=CYCLE_END,
        objectives=["O1", "O2"],
        targets_path=path,
        targets=load_targets(path).targets,
    )
    assert w.start.value == "T1"
    assert w.start.options[0] == ("T1 · Median time to fulfil (Category: Laptop)", "T1")
    assert w.start.options[-1] == ("A new target", "")
    assert (w.kpi.value, w.dimension.value, w.scope_value.value) == (
        "fulfil_median_h",
        "category",
        "Laptop",
    )
    assert (w.number.value, w.due.value, w.target_id.value, w.owner.value) == (
        35.0,
        "2025-12-31",
        "T1",
        "Laptop lead",
    )
    saved = []
    w.on_saved.append(saved.append)
    w.number.value = 30  # action 1: type 30
    assert w.value.value == 30.0  # the slider follows
    w.save_button.click()  # action 2: save
    assert "Saved T1" in w.status.value and "targets.yaml" not in w.status.value
    text = path.read_text()
    assert "value: 30.0" in text and "# hours -- keep this comment" in text
    assert [t.id for t in saved] == ["T1"] and saved[0].value == 30.0
    assert not list(tmp_path.glob("*.lock")) and not list(tmp_path.glob(".*.lock"))
    # a relative target opens on its absolute value; a new target on the baseline, next id
    w.start.value = "T2"
    assert w.dimension.value == "" and w.number.value == pytest.approx(36.9)  # 41 h - 10 %
    w.start.value = ""
    assert w.target_id.value == "T3" and w.number.value == pytest.approx(41.0)
