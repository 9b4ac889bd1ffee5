"""SMART targets: the model, target values, each letter's pass / warn / fail, the CLI.

The data (``smart_frame``) is built by hand so every expected value can be
worked out on paper:

* baseline 2025-01-01 .. 2025-06-30 (six months), cycle end 2026-03-31;
* Laptop: 6 requests a month, all fulfilled ``d`` hours after opening, with
  ``d`` = 40, 44, 42, 46, 40, 44 for January .. June;
  6 more in December 2024 (d = 30, the best month before the baseline) and 6 in
  September 2025 (d = 20, after the baseline: must not count as "observed");
* Phone: 2 requests a month in the baseline (12 in all), fulfilled after 20 h;
* every request is assessed 10 h after opening;
* sla_met is True when d <= 42; csat is given for 2 of the 6 Laptop requests
  a month, never for Phone; reopen_count is never known.

Worked values (baseline, Laptop, fulfil_median_h):
  monthly medians 40, 44, 42, 46, 40, 44 -> mean 256 / 6 = 42.667;
  moving ranges 4, 2, 4, 6, 4 -> mean 4.0; limits 42.667 +/- 2.66 * 4 = 32.027 .. 53.307;
  whole-baseline median of 36 values (12 x 40, 6 x 42, 12 x 44, 6 x 46) = (42 + 44) / 2 = 43;
  best month up to the end of the baseline: 30 h in 2024-12.
"""

from __future__ import annotations

import datetime as dt
import textwrap

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from csi_lib.charts.targets import (
    smart_heatmap,
    smart_styler,
    target_context_figure,
    targets_context_figure,
)
from csi_lib.errors import ConfigError
from csi_lib.periods import Period
from csi_lib.targets import (
    Target,
    TargetsFile,
    check_targets_file,
    load_targets,
    parse_change,
    resolve_target_value,
    smart_check,
    smart_table,
    target_context,
    target_met,
    targets_table,
)
from csi_lib.testing import make_requests

BASELINE = Period.from_dates("2025-01-01", "2025-06-30")
CYCLE_END = dt.date(2026, 3, 31)
OBJECTIVES = {"O1", "O2", "O3"}
LAPTOP_HOURS = {1: 40, 2: 44, 3: 42, 4: 46, 5: 40, 6: 44}


def _request(opened: pd.Timestamp, hours: float, category: str, csat: float | None) -> dict:
    return {
        "opened_at": opened,
        "assessed_at": opened + pd.Timedelta(hours=10),
        "closed_at": opened + pd.Timedelta(hours=hours),
        "outcome": "fulfilled",
        "category": category,
        "sla_met": hours <= 42,
        "csat": csat,
    }


def make_frame(extra: list[dict] | None = None) -> pd.DataFrame:
    """The hand-made frame described in the module docstring (plus ``extra`` rows)."""
    rows = list(extra or [])
    months = [
        (2024, 12, 30.0),
        *[(2025, m, float(h)) for m, h in LAPTOP_HOURS.items()],
        (2025, 9, 20.0),
    ]
    for year, month, hours in months:
        for i in range(6):
            opened = pd.Timestamp(year, month, 10 + i, 8)
            rows.append(_request(opened, hours, "Laptop", 4.0 if i < 2 else None))
    for month in LAPTOP_HOURS:
        for i in range(2):
            rows.append(_request(pd.Timestamp(2025, month, 3 + i, 9), 20.0, "Phone", None))
    return make_requests(rows)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame()


def target(**fields) -> Target:
    base = {
        "id": "T1",
        "kpi": "fulfil_median_h",
        "scope": {"category": "Laptop"},
        "kind": "minimize",
        "value": 35,
        "due": "2025-12-31",
        "objective": "O1",
    }
    base.update(fields)
    return Target.model_validate(base, context={"allow_unknown_kpi": True})


def letter(frame: pd.DataFrame, letter_: str, **fields) -> tuple[str, str]:
    smart = smart_check(
        [target(**fields)],
        df=frame,
        baseline_period=BASELINE,
        cycle_end=CYCLE_END,
        objectives=OBJECTIVES,
    )
    row = smart[smart["letter"] == letter_].iloc[0]
    return str(row["verdict"]), str(row["reason"])


# --------------------------------------------------------------------------- model


def test_parse_change_is_strict():
    assert parse_change("-20%") == -20.0
    assert parse_change("+5.5%") == 5.5
    for bad in ("20%", "-20", "-20 %", "minus 20%", "-1e2%", "-150%"):
        with pytest.raises(ValueError):
            parse_change(bad)


def test_value_or_change_exactly_one():
    with pytest.raises(ValueError, match="exactly one"):
        Target(id="T1", kpi="received", kind="maximize")
    with pytest.raises(ValueError, match="exactly one"):
        Target(id="T1", kpi="received", kind="maximize", value=5, change="+5%")


def test_tolerance_only_for_within():
    with pytest.raises(ValueError, match="needs a 'tolerance'"):
        Target(id="T1", kpi="csat_mean", kind="within", value=4.0)
    with pytest.raises(ValueError, match="only applies"):
        Target(id="T1", kpi="csat_mean", kind="maximize", value=4.0, tolerance=0.2)
    assert (
        Target(id="T1", kpi="csat_mean", kind="within", value=4.0, tolerance=0.2).tolerance == 0.2
    )


def test_unknown_kpi_rejected_by_model_with_suggestion():
    with pytest.raises(ValueError, match="did you mean 'fulfil_median_h'"):
        Target(id="T1", kpi="fulfil_median", kind="minimize", value=1)
    # the lenient context lets the SMART check report it instead
    assert target(kpi="fulfil_median").kpi == "fulfil_median"


def test_scope_values_become_text_and_extra_keys_are_forbidden():
    t = Target(id="T1", kpi="received", kind="maximize", value=1, scope={"priority": 1})
    assert t.scope == {"priority": "1"}
    with pytest.raises(ValueError, match="extra"):
        Target(id="T1", kpi="received", kind="maximize", value=1, colour="red")


def test_duplicate_target_ids():
    item = {"id": "T1", "kpi": "received", "kind": "maximize", "value": 1}
    with pytest.raises(ValueError, match="T1 are used more than once"):
        TargetsFile.model_validate({"targets": [item, item]})


# --------------------------------------------------------------------------- values


def test_relative_target_of_a_baseline_of_10_hours():
    t = Target(id="T3", kpi="assess_median_h", kind="minimize", change="-20%")
    assert resolve_target_value(t, 10.0) == pytest.approx(8.0)  # 10 * (1 - 0.20)
    assert pd.isna(resolve_target_value(t, float("nan")))
    up = Target(id="T4", kpi="csat_mean", kind="maximize", change="+5%")
    assert resolve_target_value(up, 4.0) == pytest.approx(4.2)  # 4.0 * 1.05


def test_relative_target_on_data(frame):
    # every request is assessed 10 h after opening -> baseline 10 h, -20% -> 8 h
    ctx = target_context(
        target(kpi="assess_median_h", scope=None, value=None, change="-20%"),
        df=frame,
        baseline_period=BASELINE,
    )
    assert ctx.baseline_value == pytest.approx(10.0)
    assert ctx.target_value == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("kind", "value", "target_value", "tolerance", "met"),
    [
        ("minimize", 28.0, 28.0, None, True),
        ("minimize", 28.1, 28.0, None, False),
        ("maintain_below", 4.9, 5.0, None, True),
        ("maintain_below", 5.1, 5.0, None, False),
        ("maximize", 85.0, 85.0, None, True),
        ("maximize", 84.9, 85.0, None, False),
        ("maintain_above", 4.3, 4.3, None, True),
        ("maintain_above", 4.2, 4.3, None, False),
        ("within", 4.3, 4.0, 0.3, True),  # |4.3 - 4.0| = 0.3 <= 0.3
        ("within", 3.7, 4.0, 0.3, True),
        ("within", 4.35, 4.0, 0.3, False),
        ("minimize", float("nan"), 28.0, None, False),
    ],
)
def test_target_met(kind, value, target_value, tolerance, met):
    assert target_met(kind, value, target_value, tolerance) is met


def test_target_met_unknown_kind():
    with pytest.raises(ConfigError, match="unknown target kind"):
        target_met("reduce", 1.0, 2.0)


def test_context_limits_and_best_month(frame):
    ctx = target_context(target(), df=frame, baseline_period=BASELINE)
    assert ctx.baseline_value == pytest.approx(43.0)  # (42 + 44) / 2, see module docstring
    assert ctx.centre == pytest.approx(256 / 6)
    assert ctx.lower == pytest.approx(256 / 6 - 2.66 * 4.0)  # 32.027
    assert ctx.upper == pytest.approx(256 / 6 + 2.66 * 4.0)  # 53.307
    assert ctx.best_value == pytest.approx(30.0)  # December 2024; September 2025 (20 h) is later
    assert ctx.best_period == pd.Timestamp("2024-12-01", tz="UTC")
    assert ctx.series["value"].tolist() == [40.0, 44.0, 42.0, 46.0, 40.0, 44.0]


# --------------------------------------------------------------------------- S


def test_s_pass(frame):
    verdict, reason = letter(frame, "S")
    assert verdict == "pass"
    assert "36 requests in the baseline" in reason  # 6 Laptop requests x 6 months
    assert reason.startswith("Median time to fulfil on ") and "fulfil_median_h" not in reason


def test_s_warn_thin_scope(frame):
    verdict, reason = letter(frame, "S", scope={"category": "Phone"})
    assert verdict == "warn"
    assert "only 12 requests" in reason  # 2 Phone requests x 6 months < 30


def test_s_warn_kind_against_direction(frame):
    verdict, reason = letter(frame, "S", kind="maximize")
    assert verdict == "warn"
    assert "goes against the KPI's direction (lower is better)" in reason


def test_s_fail_unknown_kpi_suggests_closest(frame):
    verdict, reason = letter(frame, "S", kpi="fulfil_median")
    assert verdict == "fail"
    assert "did you mean 'fulfil_median_h'" in reason


def test_s_fail_unknown_dimension(frame):
    verdict, reason = letter(frame, "S", scope={"categroy": "Laptop"})
    assert verdict == "fail"
    assert "dimension 'categroy'" in reason and "did you mean 'category'" in reason


def test_s_fail_absent_value(frame):
    verdict, reason = letter(frame, "S", scope={"category": "Laptp"})
    assert verdict == "fail"
    assert "'Laptp' does not occur" in reason and "did you mean 'Laptop'" in reason


def test_s_fail_scope_without_baseline_requests():
    # the only Tablet request is received after the baseline
    df = make_frame([_request(pd.Timestamp(2025, 9, 1, 8), 5.0, "Tablet", None)])
    verdict, reason = letter(df, "S", scope={"category": "Tablet"})
    assert verdict == "fail"
    assert "selects no request" in reason


def test_letters_after_a_failed_s_are_not_checked(frame):
    smart = smart_check(
        [target(scope={"category": "Laptp"})],
        df=frame,
        baseline_period=BASELINE,
        cycle_end=CYCLE_END,
        objectives=OBJECTIVES,
    )
    verdicts = dict(zip(smart["letter"], smart["verdict"], strict=True))
    assert verdicts == {"S": "fail", "M": "fail", "A": "fail", "R": "pass", "T": "pass"}


# --------------------------------------------------------------------------- M


def test_m_pass(frame):
    verdict, reason = letter(frame, "M")
    assert verdict == "pass"
    assert "36 requests in its population" in reason


def test_m_pass_with_full_coverage(frame):
    verdict, reason = letter(
        frame, "M", kpi="pct_within_sla", scope=None, kind="maximize", value=60
    )
    assert verdict == "pass"
    assert "the SLA outcome is known for 100% of closed requests" in reason
    assert "sla_met" not in reason


def test_m_warn_low_coverage(frame):
    # closed in the baseline: 36 Laptop + 12 Phone = 48; scored: 2 x 6 = 12 -> 25% known, 75% missing
    verdict, reason = letter(frame, "M", kpi="csat_mean", scope=None, kind="maximize", value=4.5)
    assert verdict == "warn"
    assert "missing for 75% of closed requests" in reason
    assert "rests on the 25%" in reason and "respondents only" in reason


def test_m_fail_no_data(frame):
    verdict, reason = letter(frame, "M", kpi="pct_reopened", scope=None, value=5)
    assert verdict == "fail"
    assert reason.startswith("Not measured: ") and "Times reopened" in reason
    assert "reopen_count" not in reason and "pct_reopened" not in reason  # words, not names


# --------------------------------------------------------------------------- A


def test_a_pass_inside_limits(frame):
    verdict, reason = letter(frame, "A", value=35)  # 35 >= lower limit 32.03
    assert verdict == "pass"
    assert "inside the natural process limits" in reason.lower()


def test_a_pass_within_best_month(frame):
    verdict, reason = letter(frame, "A", value=31)  # below 32.03, but 30 h was reached in 2024-12
    assert verdict == "pass"
    assert "within the best month observed (30.0 h in 2024-12)" in reason


def test_a_warn_stretch(frame):
    verdict, reason = letter(frame, "A", value=25)  # below the limits and below 30 h
    assert verdict == "warn"
    assert "beyond anything observed" in reason.lower() and "stretch" in reason


def test_a_warn_already_met(frame):
    verdict, reason = letter(frame, "A", value=45)  # baseline 43 <= 45
    assert verdict == "warn"
    assert "already met by the baseline (43.0 h)" in reason.lower()


def test_a_maintain_targets(frame):
    verdict, reason = letter(frame, "A", kind="maintain_below", value=60)  # upper limit 53.3 <= 60
    assert verdict == "pass" and "holds it as it is" in reason
    verdict, reason = letter(frame, "A", kind="maintain_below", value=50)  # 43 <= 50 < 53.3
    assert verdict == "pass" and "cross it" in reason


def test_a_within_band_uses_its_nearest_edge(frame):
    # band 28 +/- 2: nearest edge to the baseline (43) is 30, below the lower limit, equal to the best month
    verdict, reason = letter(frame, "A", kind="within", value=28, tolerance=2)
    assert verdict == "pass"
    assert "best month observed" in reason


def test_a_relative_stretch(frame):
    # assessment: constant 10 h -> limits 10 .. 10, best 10; -20% -> 8 h is beyond anything
    verdict, reason = letter(
        frame, "A", kpi="assess_median_h", scope=None, value=None, change="-20%"
    )
    assert verdict == "warn"
    assert "stretch" in reason


def test_a_is_not_checked_for_a_kpi_the_data_cannot_measure(frame):
    # the frame never knows the reopen count: M fails, and A says why it was not checked
    verdict, reason = letter(frame, "A", kpi="pct_reopened", scope=None, value=5)
    assert verdict == "fail"
    assert reason.startswith("Not checked: not measured (") and "see M" in reason


# --------------------------------------------------------------------------- R and T


def test_r(frame):
    assert letter(frame, "R")[0] == "pass"
    verdict, reason = letter(frame, "R", objective="O9")
    assert verdict == "fail" and "'O9' is not in the vision" in reason
    verdict, reason = letter(frame, "R", objective=None)
    assert verdict == "fail" and "names no objective" in reason


@pytest.mark.parametrize(
    ("due", "verdict", "words"),
    [
        ("2025-12-31", "pass", "inside the cycle"),
        ("2026-03-31", "pass", "inside the cycle"),  # on the cycle's last day
        ("2025-07-15", "warn", "less than a month after the action period starts (2025-07-01)"),
        ("2025-06-30", "fail", "not after the baseline ends (2025-06-30)"),
        ("2026-04-01", "fail", "after the cycle ends (2026-03-31)"),
        (None, "fail", "No due date"),
    ],
)
def test_t(frame, due, verdict, words):
    got, reason = letter(frame, "T", due=due)
    assert got == verdict
    assert words in reason


def test_t_uses_the_action_start(frame):
    smart = smart_check(
        [target(due="2025-09-15")],
        df=frame,
        baseline_period=BASELINE,
        cycle_end=CYCLE_END,
        objectives=OBJECTIVES,
        action_start="2025-09-01",
    )
    assert smart.set_index("letter").loc["T", "verdict"] == "warn"  # 15 days after 2025-09-01


# --------------------------------------------------------------------------- tables and charts


def test_smart_table_is_wide_with_worst_verdict(frame):
    smart = smart_check(
        [target(), target(id="T2", value=25), target(id="T3", objective="O9")],
        df=frame,
        baseline_period=BASELINE,
        cycle_end=CYCLE_END,
        objectives=OBJECTIVES,
    )
    assert list(smart.columns) == ["target", "kpi", "letter", "verdict", "reason"]
    assert len(smart) == 15  # 3 targets x 5 letters
    wide = smart_table(smart, reasons=True)
    assert list(wide.index) == ["T1", "T2", "T3"]
    assert wide["overall"].tolist() == ["pass", "warn", "fail"]
    assert wide.loc["T2", "A"] == "warn" and "stretch" in wide.loc["T2", "A reason"]
    styled = smart_styler(wide).to_html()
    assert "#D55E00" in styled  # the fail cell is red


def test_heatmap_codes_and_hover(frame):
    smart = smart_check(
        [target(), target(id="T2", objective="O9")],
        df=frame,
        baseline_period=BASELINE,
        cycle_end=CYCLE_END,
        objectives=OBJECTIVES,
    )
    fig = smart_heatmap(smart)
    heat = fig.data[0]
    assert [list(row) for row in heat.z] == [[0, 0, 0, 0, 0], [0, 0, 0, 2, 0]]  # R of T2 fails
    assert "not in the vision" in heat.hovertext[1][3]
    # rows name the KPI by its label, never by its key ("T1 (fulfil_median_h)", issue 25)
    rows = list(heat.y)
    assert rows[0].startswith("T1 · ") and "Median time to fulfil" in rows[0]
    assert not [r for r in rows if "_" in r]


def test_context_figure(frame):
    ctx = target_context(target(value=31), df=frame, baseline_period=BASELINE)
    fig = target_context_figure(
        ctx.series,
        ctx.chart,
        target_value=31,
        best_value=ctx.best_value,
        kpi=ctx.kpi,
        best_period=ctx.best_period,
    )
    names = [trace.name for trace in fig.data]
    assert names == ["natural process limits", "centre (mean)", "baseline", "best month observed"]
    band = fig.data[0]
    assert min(band.y) == pytest.approx(ctx.lower) and max(band.y) == pytest.approx(ctx.upper)
    assert fig.layout.shapes[0].y0 == 31  # the target line
    assert fig.data[3].y[0] == 30.0


# --------------------------------------------------------------------------- YAML


TARGETS_YAML = """\
# targets of a test cycle
targets:
  - id: T1
    kpi: fulfil_median_h
    kind: minimize
    value: 28
  - id: T2
    kpi: assess_median_h
    kind: minimize
    change: 20%
  - id: T3
    kpi: fulfil_medain_h
    kind: minimise
    value: 5
    colour: red
"""


def test_yaml_errors_have_file_line_and_field(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(TARGETS_YAML)
    model, problems = check_targets_file(path)
    assert model is None
    found = {(p.line, p.field): p.message for p in problems}
    assert all(p.file == str(path) for p in problems)
    assert "not a signed percentage" in found[(10, "targets[1].change")]
    assert "did you mean 'fulfil_median_h'" in found[(12, "targets[2].kpi")]
    assert "minimise" in found[(13, "targets[2].kind")]
    assert "unknown key" in found[(15, "targets[2].colour")]
    with pytest.raises(ConfigError, match=r"targets.yaml:10: targets\[1\].change"):
        load_targets(path)


def test_yaml_syntax_error_has_line(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  - id: T1\n    kpi: [received\n")
    model, problems = check_targets_file(path)
    assert model is None and len(problems) == 1
    assert problems[0].line is not None and "not valid YAML" in problems[0].message


def test_yaml_loads(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(TARGETS_YAML.split("  - id: T2")[0])
    model = load_targets(path)
    assert [t.id for t in model.targets] == ["T1"]
    assert model.targets[0].value == 28.0


# --------------------------------------------------------------------------- CLI


CYCLE_YAML = """\
id: test-cycle
title: Test cycle
data:
  source: requests.csv
  preset: generic
baseline: {from: 2025-01-01, to: 2025-06-30}
action: {from: 2025-07-01, to: 2025-12-31}
review: {from: 2026-01-01, to: 2026-03-31}
"""

VISION_YAML = """\
business_direction: Grow.
vision: Fast requests.
mission: Remove waiting.
objectives:
  - {id: O1, statement: Faster laptops}
"""


def _cycle(tmp_path, frame, targets_yaml: str):
    folder = tmp_path / "cycle"
    folder.mkdir()
    (folder / "cycle.yaml").write_text(CYCLE_YAML)
    (folder / "vision.yaml").write_text(VISION_YAML)
    (folder / "plan.yaml").write_text("initiatives: []\n")
    (folder / "targets.yaml").write_text(textwrap.dedent(targets_yaml))
    out = frame.copy()
    for col in ("opened_at", "assessed_at", "closed_at", "sla_due_at"):
        out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(folder / "requests.csv", index=False)
    return folder


def _app() -> typer.Typer:
    from csi_lib.cli.targets import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


def test_cli_exit_codes(tmp_path, frame):
    ok = """\
        targets:
          - {id: T1, kpi: fulfil_median_h, scope: {category: Laptop}, kind: minimize, value: 35,
             due: 2025-12-31, objective: O1}
          - {id: T2, kpi: fulfil_median_h, scope: {category: Laptop}, kind: minimize, value: 25,
             due: 2025-12-31, objective: O1}
        """
    runner = CliRunner()
    app = _app()
    result = runner.invoke(app, ["targets", "check", str(_cycle(tmp_path, frame, ok))])
    assert result.exit_code == 0, result.output
    assert "stretch" in result.output and "2 target(s): 9 pass, 1 warn, 0 fail" in result.output
    assert "\x1b[" not in result.output  # plain text when not on a terminal

    failing = ok.replace(
        "due: 2025-12-31, objective: O1}\n          - ",
        "due: 2027-01-01, objective: O1}\n          - ",
    )
    (tmp_path / "cycle").rename(tmp_path / "old")
    result = runner.invoke(app, ["targets", "check", str(_cycle(tmp_path, frame, failing))])
    assert result.exit_code == 2, result.output
    assert "after the cycle ends" in result.output


def test_cli_help():
    result = CliRunner().invoke(_app(), ["targets", "check", "--help"])
    assert result.exit_code == 0
    assert "S, M, A, R, T" in result.output


def test_targets_table_and_panels(frame):
    targets = [
        target(),
        target(id="T3", kpi="assess_median_h", scope=None, value=None, change="-20%"),
    ]
    table = targets_table(targets)
    assert table["target"].tolist() == ["35 h", "-20% on the baseline"]
    assert table["scope"].tolist() == ["Category: Laptop", "whole service"]
    contexts = [target_context(t, df=frame, baseline_period=BASELINE) for t in targets]
    fig = targets_context_figure(contexts)
    assert [s.y0 for s in fig.layout.shapes] == [
        35.0,
        pytest.approx(8.0),
    ]  # one target line per panel
    assert fig.layout.annotations[0].text.startswith("T1: ")
