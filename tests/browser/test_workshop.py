"""The workshop as a facilitator runs it: ``csi workshop`` (Voilà) driven in Chromium.

A copy of the sample cycle (with ``../sample_requests.csv.gz`` beside it, as
its cycle.yaml says) is served by the real command; the test votes by
clicking, saves the votes, records a decision and starts a timebox, then reads
plan.yaml and decisions.md back from the disk.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from csi_lib.plan import load_plan
from csi_lib.workshop import read_decisions

from .conftest import free_port

REPO = Path(__file__).resolve().parents[2]
#: Runs the command module on a fresh typer app (independent of COMMAND_MODULES).
RUNNER = (
    "import typer; from csi_lib.cli import session; "
    "app = typer.Typer(add_completion=False); session.register(app); app()"
)
#: Console messages that are not errors of the workshop, each with why:
HARMLESS = (
    # Voila's page template links Font Awesome from a CDN; with no network it fails. The
    # widgets' icons come from JupyterLab's own bundle, so nothing is missing. The test
    # checks below that every failed request is one of these stylesheets.
    re.compile(r"^Failed to load resource: net::ERR_NAME_NOT_RESOLVED$"),
    # jupyterlab-plotly, after drawing a figure, caches a PNG of it into the notebook model
    # (model.setData); Voila's output models have no setData. The figure is drawn first.
    re.compile(r"^r\.setData is not a function$"),
)
#: The only requests allowed to fail (the CDN stylesheets of Voila's template).
CDN_FONT_AWESOME = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@"
DECISION = "Promote R2 to an initiative <b>now</b> & review R4 in May"


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)


@pytest.fixture
def workshop_server(tmp_path):
    """``csi workshop`` on a temporary copy of the sample cycle; yields (url, cycle_dir)."""
    cycle = tmp_path / "sample-cycle"
    shutil.copytree(REPO / "data" / "sample-cycle", cycle)
    shutil.copy(REPO / "data" / "sample_requests.csv.gz", tmp_path / "sample_requests.csv.gz")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUNNER,
            "workshop",
            str(cycle),
            "--port",
            str(port),
            "--no-browser",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: Voilà and its kernels end together
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    log: list[str] = []
    url = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and url is None:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, "csi workshop ended:\n" + "".join(log)
                continue
            log.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\w+", line)
            url = found.group(0) if found else None
        assert url, "csi workshop printed no URL:\n" + "".join(log)
        assert f":{port}/" in url
        while time.monotonic() < deadline:  # wait until the server answers
            try:
                urllib.request.urlopen(url.replace("/?", "/api/status?"), timeout=2)  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # an HTTP answer (Voilà has no /api/status: 404) is an answer
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("csi workshop did not answer within 60 s:\n" + "".join(log))
        yield url, cycle
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_workshop_votes_decisions_and_timebox_in_the_browser(workshop_server, page, artifacts):
    url, cycle = workshop_server
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    before = {r.id: r.votes for r in load_plan(cycle / "plan.yaml").ideas}
    # Voilà runs the whole notebook (about 5 s on an idle machine) before the page shows its
    # voting buttons: the test waits for the page's answer, then up to 120 s for the buttons.
    page.goto(url, timeout=120_000, wait_until="commit")
    vote_r2 = page.get_by_role("button", name="Vote R2")
    vote_r2.wait_for(timeout=120_000)
    assert "open_cycle(" not in page.inner_text("body")  # the code is hidden

    # the essentials of the stages are there, and plotly draws its charts (roadmap, what-if)
    body = page.inner_text("body")
    for heading in ("0. What is the vision?", "3. How do we get there?", "6. How do we keep"):
        assert heading in body
    assert "Proposed next cycle" in body and "4 of 5 targets met" in body
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() >= 2

    # dot-voting: participant 1 puts all three dots on R2, participant 2 one on R4
    voting = page.locator(".csi-voting")
    for _ in range(3):
        vote_r2.click()
    page.wait_for_function(
        "() => document.querySelector('.csi-voting').innerText.includes('0 of 3 dot(s) left')"
    )
    assert vote_r2.is_disabled()
    voting.locator("select").first.select_option("Participant 2")
    page.wait_for_function(
        "() => document.querySelector('.csi-voting').innerText.includes('Participant 2: 3 of 3')"
    )
    page.get_by_role("button", name="Vote R4").click()
    page.wait_for_function(
        "() => document.querySelector('.csi-voting').innerText.includes('Participant 2: 2 of 3')"
    )
    page.get_by_role("button", name="Save votes").click()
    page.wait_for_function(
        "() => document.querySelector('.csi-voting').innerText.includes('Votes saved')"
    )

    # the decisions log of stage 3: typed text, recorded, shown back escaped
    log3 = page.locator(".csi-decisions").filter(
        has=page.locator('textarea[placeholder="What did the room decide for stage 3?"]')
    )
    log3.locator("textarea").fill(DECISION)
    log3.get_by_role("button", name="Record decision").click()
    log3.get_by_text("Recorded in decisions.md").wait_for(timeout=15_000)
    shown = log3.locator("ul.csi-decisions li")
    shown.first.wait_for()
    assert DECISION in shown.first.inner_text()  # the markup is shown as text...
    assert log3.locator("ul.csi-decisions li b").count() == 1  # ...only the heading is bold

    # a timebox counts down once started
    clock = page.locator(".csi-timebox-clock").first
    assert "10:00 left (paused)" in clock.inner_text()
    page.locator(".csi-timebox").first.locator("button").first.click()  # the play button
    page.wait_for_function(
        "() => /9:5\\d left \\(running\\)/.test("
        "document.querySelector('.csi-timebox-clock').innerText)",
        timeout=15_000,
    )

    page.screenshot(path=str(artifacts / "workshop.png"), full_page=True)

    # what the room did is on the disk
    after = {r.id: r.votes for r in load_plan(cycle / "plan.yaml").ideas}
    assert after["R2"] == before["R2"] + 3  # 8 + 3 = 11
    assert after["R4"] == before["R4"] + 1  # 2 + 1 = 3
    assert {k: v for k, v in after.items() if k not in ("R2", "R4")} == {
        k: v for k, v in before.items() if k not in ("R2", "R4")
    }
    text = (cycle / "plan.yaml").read_text()
    assert "# Improvement register: ideas scored value and effort" in text  # comments kept
    decisions = read_decisions(cycle)
    assert decisions["text"].tolist() == [DECISION]
    assert decisions["stage"].tolist() == [3]
    assert "&lt;b&gt;now&lt;/b&gt;" in (cycle / "decisions.md").read_text()

    errors = [e for e in page.errors if not any(p.search(e) for p in HARMLESS)]
    assert errors == [], errors
    assert all(u.startswith(CDN_FONT_AWESOME) for u in failed), failed
