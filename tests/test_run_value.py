"""Issue 20: one run, one truth.

The run value (:mod:`csi_lib.run`) is made once: the data source, the as-of cut (the end
of the as-of day in the reporting timezone) and the periods. These tests check what a
reader concludes from it:

- a scheduled run in the middle of a month reaches the same standings, reasons, signals
  and verdicts as a run at the end of the previous month, on the sample cycle and on the
  real event logs shipped in ``data/``;
- the report's figures equal ``csi kpis ... --to <as-of>``;
- a non-UTC cycle cuts pages, workbook and summaries at the same instant;
- a partial last month or week is drawn, marked and never judged;
- a KPI the data cannot measure is "not measured" everywhere;
- limits from few baseline points carry a caveat, and limits never leave the KPI's range;
- no output contradicts another (headline against rows, colour against evidence).
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from csi_lib import kpis as K
from csi_lib import now, review
from csi_lib.charts.review import targets_figure
from csi_lib.cli import app
from csi_lib.cycle import check_cycle, open_cycle
from csi_lib.periods import Period
from csi_lib.report.outputs import _report_periods
from csi_lib.run import as_known_at, make_run, open_run
from csi_lib.sources import load_requests
from csi_lib.targets import cycle_smart_check, cycle_target_contexts

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample-cycle"
SAMPLE_DATA = ROOT / "data" / "sample_requests.csv.gz"
HELPDESK = ROOT / "data" / "eventlogs" / "helpdesk.csv.gz"
HELPDESK_MAP = ROOT / "data" / "mappings" / "helpdesk-event-log.yaml"
BPI = ROOT / "data" / "eventlogs" / "bpi2013-incidents-extract.csv.gz"
BPI_MAP = ROOT / "data" / "mappings" / "bpi2013-incidents.yaml"

LOG_TARGETS = """\
targets:
  - {id: T1, kpi: fulfil_median_h, kind: minimize, change: "-20%", due: DUE, objective: O1}
  - {id: T2, kpi: pct_reopened, kind: maintain_below, value: 10, due: DUE, objective: O1}
  - {id: T3, kpi: backlog, kind: minimize, change: "-20%", due: DUE, objective: O1}
  - {id: T4, kpi: csat_mean, kind: maximize, value: 4.2, due: DUE, objective: O1}
  - {id: T5, kpi: assess_median_h, kind: minimize, change: "-10%", due: DUE, objective: O1}
"""


def write_cycle(
    folder: Path,
    *,
    source: Path,
    mapping: Path | None,
    baseline: tuple[str, str],
    action: tuple[str, str],
    review: tuple[str, str],
    freq: str = "month",
) -> Path:
    """A cycle on ``source`` with the five targets of :data:`LOG_TARGETS`."""
    folder.mkdir(parents=True)
    how = f"mapping: {mapping}" if mapping else "preset: generic"
    (folder / "cycle.yaml").write_text(
        textwrap.dedent(f"""\
            id: test-cycle
            title: A cycle on a real log
            data: {{source: {source}, {how}}}
            baseline: {{from: {baseline[0]}, to: {baseline[1]}}}
            action: {{from: {action[0]}, to: {action[1]}}}
            review: {{from: {review[0]}, to: {review[1]}}}
            freq: {freq}
            """)
    )
    (folder / "vision.yaml").write_text(
        "business_direction: Grow\nvision: Requests resolved fast\nmission: Remove waiting\n"
        "objectives:\n  - {id: O1, statement: Faster service}\n"
    )
    (folder / "targets.yaml").write_text(LOG_TARGETS.replace("DUE", review[1]))
    (folder / "plan.yaml").write_text("initiatives: []\n")
    assert not check_cycle(folder), check_cycle(folder)
    return folder


@pytest.fixture(scope="module")
def log_cycles(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cycles")
    return {
        "helpdesk": write_cycle(
            base / "helpdesk", source=HELPDESK, mapping=HELPDESK_MAP,
            baseline=("2012-01-01", "2012-12-31"), action=("2013-01-01", "2013-06-30"),
            review=("2013-07-01", "2013-10-31"),
        ),
        "bpi2013": write_cycle(
            base / "bpi2013", source=BPI, mapping=BPI_MAP,
            baseline=("2011-04-01", "2011-09-30"), action=("2011-10-01", "2012-01-31"),
            review=("2012-02-01", "2012-04-30"),
        ),
    }  # fmt: skip


@pytest.fixture(scope="module")
def loads() -> dict[str, object]:
    """Each source loaded once (whole), cut at each as-of date by the runs below."""
    return {
        "sample": load_requests(SAMPLE_DATA, preset="generic"),
        "helpdesk": load_requests(HELPDESK, mapping=HELPDESK_MAP),
        "bpi2013": load_requests(BPI, mapping=BPI_MAP),
    }


def _review(cycle_dir: Path, as_of: str, load) -> review.CycleReview:
    cycle = open_cycle(cycle_dir, as_of=as_of)
    cycle.run.use(load)
    return review.assess(cycle)


def _judged(rv: review.CycleReview) -> dict:
    """What a reader concludes: every target's standing, reason, verdict, signals, values
    and sentences, and the headline (the summary without the dates of the run itself)."""
    data = review.summary(rv)
    signals = {tr.id: [(s["rule"], s["start"], s["variation"]) for s in tr.signals()] for tr in rv}
    for t in data["targets"]:
        t["standing"].pop("partial_period")  # the month under way: the one thing that differs
    return {"headline": data["headline"], "targets": data["targets"], "signals": signals}


# --------------------------------------------------------------------------- mid-month runs

#: (cycle, as-of inside a month, the last day of the month before) in one phase or across one
PAIRS = [
    ("sample", "2025-10-15", "2025-09-30"),
    ("sample", "2025-11-20", "2025-10-31"),
    ("sample", "2026-02-10", "2026-01-31"),
    ("sample", "2026-01-20", "2025-12-31"),
    ("helpdesk", "2013-03-15", "2013-02-28"),
    ("helpdesk", "2013-05-20", "2013-04-30"),
    ("helpdesk", "2013-08-12", "2013-07-31"),
    ("bpi2013", "2011-11-15", "2011-10-31"),
    ("bpi2013", "2011-12-20", "2011-11-30"),
    ("bpi2013", "2012-03-15", "2012-02-29"),
]


@pytest.mark.parametrize(("name", "mid", "before"), PAIRS)
def test_a_run_inside_a_month_concludes_what_the_end_of_the_month_before_did(
    name, mid, before, log_cycles, loads
):
    cycle_dir = SAMPLE if name == "sample" else log_cycles[name]
    inside, previous = _review(cycle_dir, mid, loads[name]), _review(cycle_dir, before, loads[name])
    assert _judged(inside) == _judged(previous)
    # the month under way is drawn, marked partial, and nothing rests on it
    for tr in inside:
        if tr.series.empty:
            continue
        last = tr.series.iloc[-1]
        assert bool(last["partial"]) and last["period_start"] >= pd.Timestamp(before, tz="UTC")
        if tr.chart is not None:
            assert tr.chart["variation"].iloc[-1] in ("partial", None)
            assert not tr.chart["signal"].iloc[-1]


def test_a_partial_month_is_never_a_special_cause_nor_the_latest_word(loads):
    """The case of the issue: a half month that would fall far outside the limits."""
    rv = _review(SAMPLE, "2025-10-15", loads["sample"])
    tr = rv.target("T2")
    assert tr.standing.partial is not None and tr.standing.last_full is not None
    assert tr.standing.partial.label == "2025-10-01 to 2025-10-15"
    assert tr.standing.last_full.label == "2025-09-01 to 2025-09-30"
    assert "3 full months of the action period (July to September 2025)" in tr.standing.reason
    assert "October" not in tr.projection.text
    data = review.summary(rv)["targets"][1]["standing"]
    assert data["partial_period"] == {"from": "2025-10-01", "to": "2025-10-15"}
    assert data["last_full_period"] == {"from": "2025-09-01", "to": "2025-09-30"}


# --------------------------------------------------------------------------- the report equals csi kpis


@pytest.mark.parametrize(
    ("source", "mapping", "date_from", "date_to", "as_of"),
    [
        (HELPDESK, HELPDESK_MAP, "2012-01-01", "2012-03-31", "2012-03-15"),
        (BPI, BPI_MAP, "2011-10-01", "2012-03-31", "2012-02-10"),
        (SAMPLE_DATA, None, "2025-01-01", "2025-06-30", "2025-04-17"),
    ],
)
def test_a_report_without_a_cycle_equals_csi_kpis_to_its_as_of(
    source, mapping, date_from, date_to, as_of
):
    preset = None if mapping else "generic"
    stage = now.prepare(
        make_run(data=source, preset=preset, mapping=mapping, date_from=date_from,
                 date_to=date_to, as_of=as_of)
    )  # fmt: skip
    assert stage.period.label == f"{date_from} to {as_of}"
    assert stage.df["opened_at"].max() < pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)
    args = ["kpis", str(source), "--from", date_from, "--to", as_of, "--format", "json"]
    args += ["--mapping", str(mapping)] if mapping else ["--preset", "generic"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    expected = json.loads(result.output[result.output.index("{") :])
    shown = stage.values()
    assert set(shown.index) == set(expected)
    for key, value in shown.items():
        want = expected[key]
        assert (pd.isna(value) and want is None) or value == pytest.approx(want, rel=1e-12), key


def test_the_cut_leaves_every_kpi_over_an_earlier_period_unchanged(loads):
    df = loads["helpdesk"].data
    cut = pd.Timestamp("2013-03-16", tz="UTC")
    known, counts = as_known_at(df, cut)
    assert counts["left_out"] > 0 and counts["not_closed_yet"] > 0
    assert known["opened_at"].max() < cut and not (known["closed_at"] >= cut).any()
    for period in (
        Period.from_dates("2013-01-01", "2013-03-15"),
        Period(df["opened_at"].min(), cut),
    ):
        pd.testing.assert_series_equal(K.kpi_values(known, period), K.kpi_values(df, period))


# --------------------------------------------------------------------------- a non-UTC cycle


@pytest.fixture
def paris(tmp_path) -> Path:
    folder = tmp_path / "paris"
    shutil.copytree(SAMPLE, folder)
    shutil.rmtree(folder / "baseline")  # its snapshot is of UTC days
    text = (folder / "cycle.yaml").read_text()
    text = text.replace("timezone: UTC", "timezone: Europe/Paris")
    text = text.replace("../sample_requests.csv.gz", str(SAMPLE_DATA))
    (folder / "cycle.yaml").write_text(text)
    return folder


def test_a_paris_cycle_cuts_pages_workbook_and_summaries_at_one_instant(paris, loads, tmp_path):
    run = make_run(paris, as_of="2025-10-15")
    assert run.cut == pd.Timestamp("2025-10-15 22:00", tz="UTC")  # midnight in Paris (CEST)
    run.use(loads["sample"])
    assert run.data["opened_at"].max() < run.cut
    # the stages and the workbook read the same saved run
    saved = open_run(run.save(tmp_path / "run"))
    assert saved.cut == run.cut and len(saved.data) == len(run.data)
    workbook = _report_periods(saved)
    assert (
        workbook["Action"].end == run.cut and workbook["Action"].label == "2025-07-01 to 2025-10-15"
    )
    assert workbook["Baseline"].start == pd.Timestamp("2024-12-31 23:00", tz="UTC")
    rv = review.assess(open_cycle(saved))
    assert rv.periods_so_far["action"].end == run.cut
    data = review.summary(rv)
    assert data["as_of_cut"] == {
        "as_of": "2025-10-15",
        "timezone": "Europe/Paris",
        "cut": "2025-10-15T22:00:00+00:00",
        "complete_until": "2025-09-30T22:00:00+00:00",
    }
    # months start at midnight in Paris
    starts = rv.target("T1").series["period_start"]
    assert set(starts.dt.tz_convert("Europe/Paris").dt.hour) == {0}


# --------------------------------------------------------------------------- weeks


def test_a_week_cycle_marks_the_week_under_way_partial(tmp_path, loads):
    folder = tmp_path / "weekly"
    shutil.copytree(SAMPLE, folder)
    shutil.rmtree(folder / "baseline")
    text = (folder / "cycle.yaml").read_text().replace("freq: month", "freq: week")
    (folder / "cycle.yaml").write_text(text.replace("../sample_requests.csv.gz", str(SAMPLE_DATA)))
    wednesday = _review(folder, "2025-10-15", loads["sample"])
    sunday = _review(folder, "2025-10-12", loads["sample"])
    tr = wednesday.target("T1")
    # the week under way is partial; before it, only the baseline's first days (Wed 1 Jan)
    assert tr.series["partial"].tolist()[-1] and not tr.series["partial"].iloc[1:-1].any()
    assert tr.standing.partial.label == "2025-10-13 to 2025-10-15"
    assert "full weeks of the action period" in tr.standing.reason
    assert _judged(wednesday) == _judged(sunday)


# --------------------------------------------------------------------------- not measured


def test_a_kpi_the_data_cannot_measure_reads_not_measured_everywhere(log_cycles, loads):
    rv = _review(log_cycles["helpdesk"], "2013-11-30", loads["helpdesk"])
    tr = rv.target("T4")  # csat_mean: the log has no survey
    why = "the data has no 'Satisfaction score' column"
    assert tr.not_measured == why
    assert tr.standing.state == review.State.NOT_MEASURED and tr.standing.reason == why
    row = next(t for t in review.summary(rv)["targets"] if t["id"] == "T4")
    assert row["status"] == "not measured" and row["reason"] == why and row["change"] == ""
    assert review.conclusion(tr) == f"Mean satisfaction: not measured ({why})."
    assert "not measured" in review.headline(rv)
    # no empty panel: the figure draws the others and names it
    fig = targets_figure(list(rv))
    titles = [a.text for a in fig.layout.annotations]
    assert (
        not any(t.startswith("T4") for t in titles) and "Not measured: T4" in fig.layout.title.text
    )
    # SMART: M fails with the same reason
    smart = cycle_smart_check(rv.cycle)
    m = smart[(smart["target"] == "T4") & (smart["letter"] == "M")].iloc[0]
    assert m["verdict"] == "fail" and why in m["reason"]
    # stage 1: the scorecard says why; no breakdown claims to hide anyone for it
    stage = now.prepare(rv.cycle.run)
    card = stage.scorecard().set_index("KPI")
    assert card.loc["Mean satisfaction", "Value"] == f"not measured ({why})"
    assert K.hidden_text(stage.breakdown("category"), "csat_mean") == ""


# --------------------------------------------------------------------------- limits


def test_limits_from_two_baseline_months_carry_a_caveat(tmp_path, loads):
    folder = tmp_path / "short"
    shutil.copytree(SAMPLE, folder)
    shutil.rmtree(folder / "baseline")
    text = (folder / "cycle.yaml").read_text().replace("from: 2025-01-01", "from: 2025-05-01")
    (folder / "cycle.yaml").write_text(text.replace("../sample_requests.csv.gz", str(SAMPLE_DATA)))
    rv = _review(folder, "2025-11-30", loads["sample"])
    assert rv.baseline_points == 2
    assert "only 2 months, fewer than 6" in review.progress_note(rv)
    smart = cycle_smart_check(rv.cycle)
    cited = smart[(smart["letter"] == "A") & smart["reason"].str.contains("limits \\(")]
    assert len(cited) and cited["reason"].str.contains("only 2 months").all()


@pytest.mark.parametrize("name", ["sample", "helpdesk", "bpi2013"])
def test_limits_stay_inside_the_values_a_kpi_can_take(name, log_cycles, loads):
    cycle = open_cycle(SAMPLE if name == "sample" else log_cycles[name])
    cycle.run.use(loads[name])
    for ctx in cycle_target_contexts(cycle):
        low, high = ctx.kpi.value_range
        if ctx.has_limits:
            assert low is None or ctx.lower >= low, (ctx.target.id, ctx.lower)
            assert high is None or ctx.upper <= high, (ctx.target.id, ctx.upper)
    for tr in review.assess(cycle):
        if tr.chart is not None:
            low, high = tr.kpi.value_range
            assert low is None or (tr.chart["lower"].dropna() >= low).all()
            assert high is None or (tr.chart["upper"].dropna() <= high).all()


# --------------------------------------------------------------------------- no contradictions

DATES = ["2025-06-20", "2025-08-14", "2025-10-15", "2026-02-15", "2026-04-15"]


@pytest.mark.parametrize("as_of", DATES)
def test_no_output_contradicts_another(as_of, loads):
    rv = _review(SAMPLE, as_of, loads["sample"])
    data = review.summary(rv)
    states = [t["status"] for t in data["targets"]]
    if data["headline"].startswith("No target can be judged yet"):
        assert set(states) <= {"too early to say", "not measured"}
        return
    # the headline counts what the rows say
    for state in set(states):
        n = states.count(state)
        assert (
            f"{n} {state}" in data["headline"]
            or f"{n} of {len(states)} targets {state}" in (data["headline"])
        ), (state, data["headline"])
    if "met" in data["headline"].split(";")[0]:
        assert "met" in states or "not met" in states
    for t, tr in zip(data["targets"], rv, strict=True):
        # colour only where the evidence says the change is real (and the values agree)
        real = {"real improvement": "better", "real deterioration": "worse"}.get(tr.verdict, "")
        assert t["change_class"] == ("" if t["change"].endswith("mixed") else real) or (
            t["change"] == ""
        )
        if "better" in t["change"] or "worse" in t["change"]:
            assert tr.verdict.startswith(("real", "likely"))
        # the tense follows the phase: "met" only when the verdict is final
        assert (t["status"] in ("met", "not met")) is (
            not t["provisional"] and t["status"] != "not measured"
        )
        assert t["met"] is None or not t["provisional"]
        # "stayed at" never sits beside a change
        if "stayed at" in t["conclusion"]:
            assert t["change"] in ("", "→ no change")


# --------------------------------------------------------------------------- tense, data tables


def test_a_closed_cycle_speaks_of_the_action_period_in_the_past(loads):
    rv = _review(SAMPLE, "2026-04-15", loads["sample"])
    table = review.progress_table(rv, formatted=True)
    assert "Action period" in table.columns and "Projection" not in table.columns
    assert not any("so far" in c for c in table.columns)
    assert "is over" in review.progress_note(rv) and "under way" not in review.progress_note(rv)


def test_stage_1_lists_no_data_after_the_as_of_date(log_cycles, loads):
    run = make_run(log_cycles["helpdesk"], as_of="2013-03-15").use(loads["helpdesk"])
    quality = now.prepare(run).quality()
    cut = pd.Timestamp("2013-03-16")
    dates = quality["Highest"].astype(str).str.extract(r"^(\d{4}-\d{2}-\d{2})")[0].dropna()
    highest = pd.to_datetime(dates)
    assert len(highest) and (highest < cut).all(), highest.max()
    assert "taken as it stood at the end of **2013-03-15**" in now.prepare(run).summary_text()
