"""The workshop's logic without a browser: timeboxes, dot-voting, decisions log, commands."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from csi_lib import workshop as ws
from csi_lib.cli import session
from csi_lib.cli import slides as slides_module
from csi_lib.errors import ConfigError
from csi_lib.plan import load_plan

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample-cycle"


@pytest.fixture
def cycle(tmp_path, monkeypatch):
    """A copy of the sample cycle's YAML files (no data needed by these tests)."""
    for name in ("CSI_CYCLE_DIR", "CSI_AS_OF", "CSI_TIMEBOXES", "CSI_DOTS", "CSI_PARTICIPANTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CSI_WORKSHOP_RUNTIME", str(tmp_path / "runtime"))
    target = tmp_path / "sample-cycle"
    target.mkdir()
    for name in ("cycle.yaml", "vision.yaml", "targets.yaml", "plan.yaml"):
        shutil.copy(SAMPLE / name, target / name)
    return target


# --------------------------------------------------------------------------- settings


def test_resolve_cycle_dir_prefers_the_environment(cycle, tmp_path, monkeypatch):
    assert ws.resolve_cycle_dir(cycle) == cycle
    monkeypatch.setenv("CSI_CYCLE_DIR", str(cycle))
    assert ws.resolve_cycle_dir("../somewhere/else") == cycle
    monkeypatch.setenv("CSI_CYCLE_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="not a cycle folder"):
        ws.resolve_cycle_dir(cycle)
    monkeypatch.delenv("CSI_CYCLE_DIR")
    with pytest.raises(ConfigError, match="no cycle folder"):
        ws.resolve_cycle_dir(None)


def test_timeboxes_defaults_overrides_and_environment(monkeypatch):
    monkeypatch.delenv("CSI_TIMEBOXES", raising=False)
    assert ws.timeboxes() == {0: 10, 1: 15, 2: 20, 3: 20, 4: 10, 5: 15, 6: 10}
    assert sum(ws.TIMEBOXES.values()) == 100  # 10+15+20+20+10+15+10
    assert ws.timeboxes([5, 5, 5, 5, 5, 5, 30])[6] == 30
    assert ws.timeboxes({2: 25})[2] == 25 and ws.timeboxes({2: 25})[3] == 20
    monkeypatch.setenv("CSI_TIMEBOXES", "1 2 3 4 5 6 7")
    assert ws.timeboxes([9] * 7) == {0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7}
    monkeypatch.delenv("CSI_TIMEBOXES")
    with pytest.raises(ConfigError, match="7 are needed|seven"):
        ws.timeboxes("10,15")
    with pytest.raises(ConfigError, match="not a number"):
        ws.timeboxes("a,b,c,d,e,f,g")
    with pytest.raises(ConfigError, match="no stage 9"):
        ws.timeboxes({9: 10})
    with pytest.raises(ConfigError, match="between 0 and 240"):
        ws.timeboxes({1: 0})


def test_settings_take_the_environment_set_by_the_command(cycle, monkeypatch):
    env = session.workshop_env(cycle, as_of="2026-04-15", dots=5, participants=4, base={})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = ws.settings("elsewhere", as_of=None, dots=3, participants=6)
    assert s.cycle_dir == cycle.resolve()
    assert (s.as_of, s.dots, s.participants) == ("2026-04-15", 5, 4)
    assert s.minutes == ws.TIMEBOXES
    monkeypatch.setenv("CSI_DOTS", "0")
    with pytest.raises(ConfigError, match="between 1 and 100"):
        ws.settings(cycle)


def test_agenda_adds_up_the_timeboxes():
    table = ws.agenda({0: 5, 1: 10, 2: 15, 3: 20, 4: 5, 5: 10, 6: 5})
    # starts after: 0, 5, 5+10=15, 15+15=30, 30+20=50, 50+5=55, 55+10=65
    assert table["starts_after"].tolist() == [0, 5, 15, 30, 50, 55, 65]
    assert table["question"].iloc[3] == "How do we get there?"


def test_next_cycle_id():
    assert ws.next_cycle_id("2025-h2") == "2026-h1"
    assert ws.next_cycle_id("2025-h1") == "2025-h2"
    assert ws.next_cycle_id("2025-q4") == "2026-q1"
    assert ws.next_cycle_id("2025") == "2026"
    assert ws.next_cycle_id("pilot") == "pilot-next"


# --------------------------------------------------------------------------- voting


def test_cast_votes_spends_dots_and_never_changes_the_tally_given():
    tally = {"R1": 0, "R2": 0}
    t1, left = ws.cast_votes(tally, "R2", 3)
    t2, left = ws.cast_votes(t1, "R2", left)
    t3, left = ws.cast_votes(t2, "R1", left)
    assert (t3, left) == ({"R1": 1, "R2": 2}, 0)
    assert tally == {"R1": 0, "R2": 0} and t1 == {"R1": 0, "R2": 1}
    with pytest.raises(ConfigError, match="no dot left"):
        ws.cast_votes(t3, "R1", 0)
    with pytest.raises(ConfigError, match="no idea 'R9'"):
        ws.cast_votes(t3, "R9", 3)


def test_save_votes_adds_to_the_register_and_keeps_comments(cycle):
    plan = cycle / "plan.yaml"
    before = plan.read_text()
    totals = ws.save_votes(plan, {"R2": 3, "R4": 1, "R1": 0})
    assert totals == {"R2": 11, "R4": 3}  # R2: 8 + 3, R4: 2 + 1; R1 untouched
    after = plan.read_text()
    votes = {r.id: r.votes for r in load_plan(plan).ideas}
    assert votes == {"R1": 6, "R2": 11, "R3": 3, "R4": 3, "R5": 4, "R6": 1}
    assert "# Improvement register: ideas scored value and effort" in after
    assert "# A: the laptop build is automated" in after
    head = before.split("register:")[0]
    assert after.startswith(head)  # everything above the register is byte for byte the same
    assert ws.save_votes(plan, {"R2": 1}, replace=True) == {"R2": 1}
    assert ws.save_votes(plan, {}) == {}


@pytest.mark.parametrize(
    ("votes", "message"),
    [({"R9": 1}, "no idea R9"), ({"R1": -1}, "not a whole number"), ({"R1": 1.5}, "whole")],
)
def test_save_votes_refuses_bad_votes_and_writes_nothing(cycle, votes, message):
    plan = cycle / "plan.yaml"
    before = plan.read_text()
    with pytest.raises(ConfigError, match=message):
        ws.save_votes(plan, votes)
    assert plan.read_text() == before


def test_voting_grid_is_people_by_ideas_one_click_per_dot(cycle):
    """Twelve participants vote in a grid sized from the room: a click places one dot."""
    from csi_lib.widgets.voting import DotVoting

    grid = DotVoting(cycle / "plan.yaml", dots=3, participants=12)
    assert [i.id for i in grid.ideas] == ["R1", "R2", "R3", "R4", "R5"]  # R6 is rejected
    assert len(grid.people) == 12 and len(grid.cells) == 12 * 5
    saved = []
    grid.on_saved.append(saved.append)
    # participants 1-11 put their three dots on R2, participant 12 two on R4 and one on R1
    for n in range(1, 12):
        for _ in range(3):
            grid.cells[f"Participant {n}", "R2"].click()
    grid.cells["Participant 12", "R4"].click()
    grid.cells["Participant 12", "R4"].click()
    grid.cells["Participant 12", "R1"].click()
    assert grid.cells["Participant 12", "R4"].description == "●●"
    assert grid.cells["Participant 1", "R2"].disabled  # no dot left: the row is done
    assert "0" in grid.left_labels["Participant 1"].value
    grid.cells["Participant 1", "R2"].click()  # a done row takes no more dots
    assert grid.tally == {"R1": 1, "R2": 33, "R3": 0, "R4": 2, "R5": 0}
    assert grid.round_cells["R2"].value == "33" and grid.recorded_cells["R2"].value == "8"
    grid.undo_buttons["Participant 12"].click()  # takes back the last dot (R1)
    assert grid.tally["R1"] == 0 and grid.dots_left["Participant 12"] == 1
    with pytest.raises(ConfigError, match="no dot left"):
        grid.vote("R3", "Participant 1")
    grid.save_button.click()
    assert "R2 now 41" in grid.status.value  # 8 + 33
    assert "plan.yaml" not in grid.status.value  # the room reads no file names
    votes = {r.id: r.votes for r in load_plan(cycle / "plan.yaml").ideas}
    assert votes["R2"] == 41 and votes["R4"] == 4 and votes["R1"] == 6
    assert saved == [{"R2": 41, "R4": 4}]
    assert grid.recorded_cells["R2"].value == "41" and grid.round_cells["R2"].value == "0"
    assert grid.dots_left == dict.fromkeys(grid.people, 3)  # a new round
    assert not list(cycle.glob(".*lock")) and not list(cycle.glob("*lock"))  # no lock left


# --------------------------------------------------------------------------- decisions


def test_record_and_read_decisions(cycle):
    t0 = dt.datetime(2026, 4, 15, 10, 30, 5, tzinfo=dt.UTC)
    path = ws.record_decision(cycle, "Promote R2 to an initiative", stage=3, author="Ana", now=t0)
    assert path == cycle / "decisions.md"
    first = path.read_text()
    ws.record_decision(
        cycle,
        "Keep T4 <script>alert(1)</script> & re-state it\n## not a heading",
        now=dt.datetime(2026, 4, 15, 11, 0),  # naive: UTC
    )
    text = path.read_text()
    assert text.startswith(first)  # append-only: the first entry is unchanged
    assert (
        "## 2026-04-15 10:30:05 UTC \u2014 stage 3: How do we get there? \u2014 recorded by Ana"
        in text
    )
    assert "&lt;script&gt;" in text and "<script>" not in text
    assert "\n> ## not a heading" in text
    table = ws.read_decisions(cycle)
    assert table.columns.tolist() == ["recorded_at", "stage", "stage_title", "author", "text"]
    assert table["recorded_at"].tolist() == [
        pd.Timestamp("2026-04-15 10:30:05", tz="UTC"),
        pd.Timestamp("2026-04-15 11:00:00", tz="UTC"),
    ]
    assert table["stage"].iloc[0] == 3 and pd.isna(table["stage"].iloc[1])
    assert table["author"].tolist() == ["Ana", ""]
    assert table["text"].iloc[1] == (
        "Keep T4 <script>alert(1)</script> & re-state it\n## not a heading"
    )
    shown = ws.decisions_html(table)
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert ws.decisions_html(table, stage=3).count("<li>") == 1


def test_decisions_of_a_new_cycle_and_bad_text(cycle, tmp_path):
    assert ws.read_decisions(cycle).empty
    with pytest.raises(ConfigError, match="empty"):
        ws.record_decision(cycle, "   ")
    with pytest.raises(ConfigError, match="at most 5000"):
        ws.record_decision(cycle, "x" * 5001)
    with pytest.raises(ConfigError, match="no stage '9'"):
        ws.record_decision(cycle, "ok", stage=9)
    with pytest.raises(ConfigError, match="does not exist"):
        ws.record_decision(tmp_path / "missing", "ok")
    assert not (cycle / "decisions.md").exists()


def test_decision_log_widget(cycle):
    from csi_lib.widgets.decisions import DecisionLog

    log = DecisionLog(cycle, stage=5)
    assert "No decision" in log.log.value
    log.text.value = "T4 not met: <b>re-state</b>"
    log.author.value = "Facilitator"
    log.button.click()
    assert log.text.value == "" and "Recorded in the decisions log" in log.status.value
    assert "&lt;b&gt;re-state&lt;/b&gt;" in log.log.value
    log.button.click()  # empty text: an error message, nothing written
    assert "empty" in log.status.value
    assert len(ws.read_decisions(cycle)) == 1
    room = DecisionLog(cycle, stage=5, controls=False)  # the room view: the list, no box
    assert "re-state" in room.log.value and room.text not in room.widget.children


def test_clock_counts_the_wall_clock_across_pauses():
    from csi_lib.workshop import Clock, format_clock

    assert (format_clock(754), format_clock(-3), format_clock(3725)) == ("12:34", "0:00", "1:02:05")
    clock = Clock(seconds=120)
    assert clock.left(now=0) == 120 and not clock.running
    clock.start(now=100.0)
    assert clock.left(now=145.0) == 75  # 45 s of the run
    clock.pause(now=150.0)
    assert clock.left(now=999.0) == 70 and not clock.running  # paused: time stands still
    clock.extend(300)
    assert clock.left(now=999.0) == 370
    clock.start(now=1000.0)
    assert clock.is_up(now=1370.0) and clock.left(now=2000.0) == 0
    assert Clock.from_dict(clock.to_dict()) == clock  # shared with the room view as JSON
    clock.reset()
    assert clock.left(now=0) == 420 and not clock.running


# --------------------------------------------------------------------------- commands


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    session.register(app)
    return app


@pytest.mark.parametrize("command", ["lab", "workshop", "slides"])
def test_every_command_has_help(command):
    result = CliRunner().invoke(_app(), [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "127.0.0.1" in result.output or "reveal.js" in result.output


def test_servers_listen_on_loopback_with_a_token():
    lab = session.lab_command(port=8899, root_dir="/r", open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in lab
    assert "--ServerApp.open_browser=False" in lab and "--ServerApp.root_dir=/r" in lab
    voila = session.workshop_command("w.ipynb", port=8866)
    assert "--Voila.ip=127.0.0.1" in voila and "--Voila.auto_token=True" in voila
    assert "--strip_sources=True" in voila and "--no-browser" in voila
    assert not any("0.0.0.0" in part for part in lab + voila)
    # the token travels in the environment, never on the command line (ps shows that)
    assert session.server_env("abc", base={})[session.TOKEN_ENV] == "abc"
    assert not any("token=" in part.lower() and "auto" not in part for part in lab + voila)
    assert "--ServerApp.allow_root=True" not in lab
    assert "--ServerApp.allow_root=True" in session.lab_command(
        port=1, root_dir="/r", allow_root=True
    )


@pytest.mark.parametrize("command", ["lab", "workshop"])
def test_servers_get_their_token_in_the_environment_and_refuse_root(command, cycle, monkeypatch):
    """The token never reaches the server's command line (every local user reads it with
    ps); as root the server starts only with an explicit --allow-root."""
    shutil.copy(SAMPLE.parent / "sample_requests.csv.gz", cycle.parent)
    started: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(session, "_run", lambda cmd, env=None: started.append((cmd, env)) or 0)
    monkeypatch.setattr(
        session, "_serve", lambda cmd, env, cleanup: started.append((cmd, env)) or 0
    )
    monkeypatch.setattr(session, "_check_port", lambda port: port)
    monkeypatch.setattr(session.os, "geteuid", lambda: 0)
    args = [command, *([str(cycle)] if command == "workshop" else []), "--no-browser"]
    result = CliRunner().invoke(_app(), args)
    assert isinstance(result.exception, ConfigError), result.output
    assert "running as root" in str(result.exception) and "--allow-root" in str(result.exception)
    assert started == []
    result = CliRunner().invoke(_app(), [*args, "--allow-root"])
    assert result.exit_code == 0, result.output
    ((cmd, env),) = started
    token = env[session.TOKEN_ENV]
    assert len(token) == 48 and f"token={token}" in result.output  # the URL printed carries it
    assert not any(token in part for part in cmd)
    assert ("--ServerApp.allow_root=True" in cmd) == (command == "lab")
    if command == "workshop":  # its runtime folder holds the Voila configuration it reads
        runtime = Path(env["CSI_WORKSHOP_RUNTIME"])
        assert cmd[cmd.index("--Voila.config_file_paths") + 1] == str(runtime)
        assert "prelaunch_hook = prelaunch" in (runtime / "voila.py").read_text()
        assert (
            "--template=csi-workshop" in cmd
            and "--MappingKernelManager.cull_idle_timeout=120" in cmd
        )


def test_workshop_refuses_a_bad_cycle_before_serving(tmp_path, cycle):
    app = _app()
    result = CliRunner().invoke(app, ["workshop", str(tmp_path / "nothing")])
    assert result.exit_code != 0 and "not a cycle folder" in str(result.exception)
    result = CliRunner().invoke(app, ["workshop", str(cycle), "--timeboxes", "1,2"])
    assert isinstance(result.exception, ConfigError)


def test_find_reveal(tmp_path, monkeypatch):
    monkeypatch.delenv("CSI_REVEAL_DIR", raising=False)
    fake = tmp_path / "reveal.js"
    (fake / "dist" / "theme").mkdir(parents=True)
    (fake / "dist" / "reveal.js").write_text("window.Reveal = {initialize() {}, on() {}};")
    (fake / "dist" / "reveal.css").write_text(".reveal {}")
    (fake / "dist" / "theme" / "white.css").write_text(".reveal {color: #222}")
    assert session.find_reveal(fake) == fake
    monkeypatch.setenv("CSI_REVEAL_DIR", str(fake))
    assert session.find_reveal() == fake
    with pytest.raises(ConfigError, match="no reveal.js"):
        session.find_reveal(tmp_path)
    monkeypatch.delenv("CSI_REVEAL_DIR")
    bundled = session.find_reveal()  # the copy that comes with the package: no CDN, no npm
    assert bundled == slides_module.REVEAL_BUNDLED
    files = slides_module._reveal_files(bundled)
    assert (
        "reveal.js 5." in files["reveal.js"][:200] and "sourceMappingURL" not in files["reveal.js"]
    )
    assert "@import" not in files["theme/white.css"]  # no web font looked for beside a deck


@pytest.mark.slow
def test_slides_share_one_plotly_and_reveal_in_their_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CSI_REVEAL_DIR", raising=False)
    fake = tmp_path / "reveal.js"
    (fake / "dist").mkdir(parents=True)
    (fake / "dist" / "reveal.js").write_text("window.Reveal = {initialize() {}, on() {}}; // FAKE")
    (fake / "dist" / "reveal.css").write_text(".reveal-fake {}")
    cycle = tmp_path / "sample-cycle"
    shutil.copytree(SAMPLE, cycle)
    shutil.copy(REPO / "data" / "sample_requests.csv.gz", tmp_path / "sample_requests.csv.gz")
    out = tmp_path / "slides"
    result = CliRunner().invoke(
        _app(),
        ["slides", str(cycle), "--out", str(out), "--as-of", "2026-04-15", "--stage", "0",
         "--stage", "1", "--reveal-dir", str(fake)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = out / "2025-h2" / "2026-04-15"
    html = (folder / "00_vision.slides.html").read_text()
    assert "What is the vision?" in html and "Objectives" in html and "Orphans" in html
    assert html.count("<section") >= 4  # title, direction, objectives, alignment, orphans
    assert "cycle = open_cycle(" not in html  # code hidden
    assert not re.search(r'<script[^>]+src="https?://|<link[^>]+href="https?://', html)  # no CDN
    # one plotly.js and one reveal.js (the one asked for) in assets/, loaded by relative paths
    assert (folder / "assets" / "reveal" / "reveal.js").read_text().endswith("// FAKE")
    assert (folder / "assets" / "reveal" / "reveal.css").read_text() == ".reveal-fake {}"
    assert (folder / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    for deck in ("00_vision", "01_where_are_we_now"):
        page = (folder / f"{deck}.slides.html").read_text()
        assert 'src="assets/plotly.min.js"' in page and 'src="assets/reveal/reveal.js"' in page
        assert "* plotly.js v" not in page and "// FAKE" not in page  # not inline
        assert (folder / f"{deck}.slides.html").stat().st_size < 600_000
    assert not any(p.name.startswith(".") for p in (out / "2025-h2").iterdir())  # no staging left
