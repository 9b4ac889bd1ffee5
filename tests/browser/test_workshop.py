"""The workshop as a facilitator runs it in front of a room: ``csi workshop`` (Voilà) in Chromium.

A copy of the sample cycle (with ``../sample_requests.csv.gz`` beside it, as its
cycle.yaml says) is served by the real command with ``--participants 12`` on a
1280x720 window, the size of a common projector. The test walks the seven
questions one screen at a time with the timer, votes in the grid for twelve
people, records a decision and saves a what-if on T1, and checks what the room
sees (text size, the pinned timer, tables redrawn after each save), what is on
the disk (``plan.yaml``, ``decisions.md``, ``targets.yaml``), that no request
leaves the machine, that a closed page ends its kernel (at once when the page
says so, by culling when it vanished) and that nothing is left behind at exit.
A second test follows the facilitator's page from a room view.
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

import psutil
import pytest
import yaml

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
    # jupyterlab-plotly, after drawing a figure, caches a PNG of it into the notebook model
    # (model.setData); Voila's output models have no setData. The figure is drawn first.
    re.compile(r"^r\.setData is not a function$"),
)
DECISION = "Promote R2 to an initiative <b>now</b> & review R4 in May"
CULL_AFTER_S = 5
VIEWPORT = {"width": 1280, "height": 720}
QUESTIONS = (
    "0. What is the vision?",
    "1. Where are we now?",
    "2. Where do we want to be?",
    "3. How do we get there?",
    "4. Take action",
    "5. Did we get there?",
    "6. How do we keep the momentum going?",
)
#: The dots of twelve participants: (participant, idea) clicks, one per dot (3 each).
VOTES = (
    [(p, "R2") for p in range(1, 7) for _ in range(3)]  # six people: all three dots on R2
    + [(p, idea) for p in range(7, 11) for idea in ("R4", "R4", "R1")]  # four: two R4, one R1
    + [(p, "R3") for p in (11, 12) for _ in range(3)]  # two: all on R3
)
#: JavaScript: the smallest font size (px) of any visible text of the presenter outside charts.
SMALLEST_TEXT = """() => {
  const sizes = [];
  const root = document.querySelector('.csi-presenter');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('svg, style')) continue;
    const box = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || cs.visibility === 'hidden') continue;
    sizes.push([parseFloat(cs.fontSize), node.textContent.trim().slice(0, 40)]);
  }
  sizes.sort((a, b) => a[0] - b[0]);
  return sizes[0];
}"""
BAR_TOP = "() => document.querySelector('.csi-bottombar').getBoundingClientRect().top"


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)


def _kernels(server: psutil.Process) -> list[psutil.Process]:
    """The kernels the server runs (its ipykernel processes)."""
    found = []
    for child in server.children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _wait_kernels(server: psutil.Process, n: int, timeout: float) -> float:
    """Seconds until the server runs ``n`` kernels (fails after ``timeout``)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if len(_kernels(server)) == n:
            return time.monotonic() - start
        time.sleep(0.5)
    pytest.fail(f"{len(_kernels(server))} kernels after {timeout} s, expected {n}")


@pytest.fixture(scope="module")
def workshop_server(tmp_path_factory):
    """``csi workshop --participants 12`` on a copy of the sample cycle.

    Yields ``(url, cycle_dir, process, runtime_dir)``; after the tests, stops the
    server with SIGTERM and checks it left nothing behind.
    """
    tmp = tmp_path_factory.mktemp("workshop")
    cycle = tmp / "sample-cycle"
    shutil.copytree(REPO / "data" / "sample-cycle", cycle)
    shutil.copy(REPO / "data" / "sample_requests.csv.gz", tmp / "sample_requests.csv.gz")
    before = sorted(p.name for p in cycle.iterdir())
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
            "--participants",
            "12",
            "--cull-after",
            str(CULL_AFTER_S),
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
        server = psutil.Process(proc.pid)
        voila = next(c for c in server.children(recursive=True) if "voila" in " ".join(c.cmdline()))
        runtime = Path(voila.environ()["CSI_WORKSHOP_RUNTIME"])
        assert runtime.is_dir() and cycle not in runtime.parents
        yield url, cycle, proc, runtime
        # a clean exit: SIGTERM to the command stops Voilà and its kernels, the runtime folder
        # (locks, the room's state) goes, and the cycle folder holds only the files the room saved
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) is not None
        assert not runtime.exists()
        after = sorted(p.name for p in cycle.iterdir())
        assert after == sorted([*before, "decisions.md"]), after  # no lock file, no state file
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _open(browser, url: str, failed: list[str]):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else failed.append(r.url)
        ),
    )
    # Voilà runs the whole notebook (about 8 s on an idle machine) before the page shows
    page.goto(url, timeout=120_000, wait_until="commit")
    page.locator(".csi-presenter .csi-step").first.wait_for(timeout=120_000)
    return context, page


def _title(page) -> str:
    return page.locator(".csi-question-title h1").inner_text()


def _clock(page) -> str:
    return page.locator(".csi-clock").inner_text().strip()


def _seconds(clock: str) -> int:
    minutes, seconds = clock.split(":")
    return int(minutes) * 60 + int(seconds)


def test_facilitator_runs_the_seven_questions_in_front_of_a_room(
    workshop_server, browser, artifacts
):
    url, cycle, proc, runtime = workshop_server
    server = psutil.Process(proc.pid)
    failed: list[str] = []
    plan_before = {r.id: r.votes for r in load_plan(cycle / "plan.yaml").ideas}
    context, page = _open(browser, url, failed)
    assert len(_kernels(server)) == 1
    body = page.inner_text("body")
    assert "open_cycle(" not in body and "Facilitation board" not in body  # no code, no notebook
    assert "For analysts" not in body

    # one question per screen, large text, the timer and the navigation pinned in view
    assert page.locator(".csi-question").count() == 1 and _title(page) == QUESTIONS[0]
    smallest = page.evaluate(SMALLEST_TEXT)
    assert smallest[0] >= 20, smallest
    bar = page.locator(".csi-bottombar")
    assert bar.locator(".csi-clock").inner_text() == "10:00"
    assert page.evaluate(BAR_TOP) + bar.bounding_box()["height"] <= VIEWPORT["height"] + 1
    page.screenshot(path=str(artifacts / "workshop-0.png"))

    # the timer: start, it counts down; pause, it stands still; the time left is kept per question
    page.locator(".csi-timer-toggle").click()  # Start
    page.wait_for_function(
        "() => /^9:5\\d$/.test(document.querySelector('.csi-clock').innerText.trim())",
        timeout=15_000,
    )
    assert "running" in page.locator(".csi-clock-note").inner_text()
    page.locator(".csi-timer-toggle", has_text="Pause").click()
    page.wait_for_function(
        "() => document.querySelector('.csi-clock-note').innerText.includes('paused')"
    )
    paused = _clock(page)
    page.wait_for_timeout(2_000)
    assert _clock(page) == paused and _seconds(paused) < 600

    # Next through the seven questions: each its own screen, the strip lit at it, text >= 20 px
    for number in range(1, 7):
        page.locator(".csi-next").click()
        page.wait_for_function(
            f"() => document.querySelector('.csi-question-title h1').innerText === {QUESTIONS[number]!r}"
        )
        assert page.locator(".csi-question").count() == 1
        page.wait_for_function(  # the strip lit at it, the questions before marked done
            "n => { const cur = document.querySelectorAll('.csi-step.csi-current');"
            " return cur.length === 1 && cur[0].innerText.startsWith(String(n))"
            " && document.querySelectorAll('.csi-step.csi-done').length === n; }",
            arg=number,
        )
        smallest = page.evaluate(SMALLEST_TEXT)
        assert smallest[0] >= 20, (number, smallest)
        page.screenshot(path=str(artifacts / f"workshop-{number}.png"))
    assert page.locator(".csi-next").is_disabled()
    body = page.inner_text(".csi-presenter")
    for developer_word in ("csi cycle", "fulfil_median_h", "maintain_below", "minimize", "(s)"):
        assert developer_word not in body, developer_word
    page.locator(".csi-step", has_text="0 Vision").click()  # back: question 0 kept its time
    page.wait_for_function(
        "() => document.querySelector('.csi-question-title h1').innerText.startsWith('0.')"
    )
    page.wait_for_function(  # question 6 has a 10-minute timebox too: wait for question 0's clock
        "t => document.querySelector('.csi-clock').innerText.trim() === t", arg=paused
    )

    # question 2: the what-if starts from T1; "T1 at 30 h" is a value typed and a save
    page.locator(".csi-step", has_text="2 Targets").click()
    page.locator(".csi-question-2 td.csi-date").first.wait_for()
    broken = page.evaluate(  # every due date on one line ("2025-" over "12-31" before)
        "() => Array.from(document.querySelectorAll('.csi-question-2 td.csi-date')).filter(td => {"
        " const r = document.createRange(); r.selectNodeContents(td);"
        " return r.getClientRects().length > 1; }).map(td => td.innerText)"
    )
    assert broken == [], broken
    page.get_by_role("button", name="What if?").click()
    whatif = page.locator(".csi-whatif")
    chosen = whatif.locator("select").first.evaluate("s => s.options[s.selectedIndex].text")
    assert chosen.replace("\xa0", " ") == "T1 · Median time to fulfil (Category: Laptop)"
    target = whatif.get_by_label("Target", exact=True)
    assert target.input_value() == "28"
    target.fill("30")
    target.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.csi-whatif').innerText.includes('target 30.0 h')"
    )
    page.screenshot(path=str(artifacts / "workshop-whatif.png"))
    whatif.get_by_role("button", name="Save target").click()
    whatif.get_by_text("Saved T1 in the cycle's targets.").wait_for(timeout=15_000)
    page.get_by_role("button", name="The targets").click()
    t1_row = page.locator(".csi-targets tr", has_text="T1 ·")
    assert "30.0 h" in t1_row.inner_text()  # the room's table shows the new value at once
    saved = yaml.safe_load((cycle / "targets.yaml").read_text())["targets"]
    assert saved[0]["id"] == "T1" and saved[0]["value"] == 30.0 and saved[0]["owner"]
    assert "# hours; the baseline median is about 42 h" in (cycle / "targets.yaml").read_text()

    # question 3: twelve participants vote in the grid, one click per dot
    page.locator(".csi-step", has_text="3 Plan").click()
    page.get_by_role("button", name="Vote", exact=True).click()
    grid = page.locator(".csi-voting")
    grid.locator('button[title^="Participant 12: "]').first.wait_for()
    rows = grid.locator(".csi-vote-person").all_inner_texts()
    assert [r for r in rows if r.startswith("Participant")] == [
        f"Participant {n}" for n in range(1, 13)
    ]
    for person, idea in VOTES:
        grid.locator(f'button[title^="Participant {person}: place a dot on {idea} "]').click()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.csi-vote-left')).every(e => e.innerText.trim() === '0')"
    )
    assert grid.locator('button[title^="Participant 7: place a dot on R4 "]').inner_text() == "●●"
    assert grid.locator('button[title^="Participant 1: place a dot on R1 "]').is_disabled()
    page.screenshot(path=str(artifacts / "workshop-votes.png"), full_page=True)
    grid.get_by_role("button", name="Save votes").click()
    grid.get_by_text("Votes saved in the plan").wait_for(timeout=15_000)
    plan_after = {r.id: r.votes for r in load_plan(cycle / "plan.yaml").ideas}
    added = {"R1": 4, "R2": 18, "R3": 6, "R4": 8}
    assert plan_after == {k: v + added.get(k, 0) for k, v in plan_before.items()}
    recorded = dict(
        zip(
            ["R1", "R2", "R3", "R4", "R5"],
            grid.locator(".csi-vote-recorded.csi-vote-total").all_inner_texts(),
            strict=True,
        )
    )
    assert recorded == {k: str(plan_after[k]) for k in recorded}
    page.get_by_role("button", name="Register").click()
    r2_row = page.locator(".csi-register tr", has_text="R2 ·")
    assert r2_row.locator("td").nth(1).inner_text() == str(plan_after["R2"])  # 8 + 18, at once

    # a decision of question 3: shown at once, escaped, and in decisions.md
    log3 = page.locator(".csi-question-3 .csi-decisions")
    log3.locator("textarea").fill(DECISION)
    log3.get_by_role("button", name="Record decision").click()
    log3.get_by_text("Recorded in the decisions log.").wait_for(timeout=15_000)
    shown = log3.locator("ul.csi-decisions li")
    assert (
        DECISION in shown.first.inner_text() and log3.locator("ul.csi-decisions li b").count() == 1
    )
    decisions = read_decisions(cycle)
    assert decisions["text"].tolist() == [DECISION] and decisions["stage"].tolist() == [3]
    assert "&lt;b&gt;now&lt;/b&gt;" in (cycle / "decisions.md").read_text()

    # the pinned bar stays at the bottom of the window when the long grid scrolls
    page.get_by_role("button", name="Vote", exact=True).click()
    top = page.evaluate(BAR_TOP)
    page.mouse.move(640, 360)
    page.mouse.wheel(0, 900)
    page.wait_for_timeout(500)
    assert abs(page.evaluate(BAR_TOP) - top) < 1 and top > VIEWPORT["height"] - 120
    page.screenshot(path=str(artifacts / "workshop-votes-scrolled.png"))

    errors = [e for e in page.errors if not any(p.search(e) for p in HARMLESS)]
    assert errors == [], errors
    assert failed == [], failed  # no CDN: icons and fonts come with the server

    # closing the page ends its kernel at once; a page that vanishes is culled
    page.close(run_before_unload=True)
    closed_in = _wait_kernels(server, 0, timeout=15)
    assert closed_in < 10
    context.close()
    context, page = _open(browser, url, failed)
    _wait_kernels(server, 1, timeout=30)
    page.close()  # no unload event: the page says nothing (a crashed browser)
    context.close()
    _wait_kernels(server, 0, timeout=CULL_AFTER_S + 40)


def test_the_room_view_follows_the_facilitator(workshop_server, browser, artifacts):
    url, cycle, proc, runtime = workshop_server
    failed: list[str] = []
    fctx, facilitator = _open(browser, url + "&view=facilitator", failed)
    rctx, room = _open(browser, url + "&view=room", failed)
    assert room.locator(".csi-next").count() == 0  # no controls
    assert room.locator("textarea").count() == 0
    assert facilitator.locator(".csi-note").count() == 1  # the facilitator's note
    facilitator.locator(".csi-step", has_text="1 Now").click()  # wherever the last page left it
    facilitator.locator(".csi-next").click()
    room.wait_for_function(
        "() => document.querySelector('.csi-question-title h1').innerText.startsWith('2.')",
        timeout=10_000,
    )
    facilitator.locator(".csi-timer-toggle", has_text="Start").click()
    room.wait_for_function(
        "() => document.querySelector('.csi-clock-note').innerText.includes('running')",
        timeout=10_000,
    )
    log2 = facilitator.locator(".csi-question-2 .csi-decisions")
    log2.locator("textarea").fill("Keep T4 and ask the survey team why scores are flat")
    log2.get_by_role("button", name="Record decision").click()
    room.locator(".csi-question-2 .csi-decisions li", has_text="survey team").wait_for(
        timeout=10_000
    )
    room.screenshot(path=str(artifacts / "workshop-room-view.png"))
    facilitator.screenshot(path=str(artifacts / "workshop-facilitator-view.png"))
    for page in (facilitator, room):
        errors = [e for e in page.errors if not any(p.search(e) for p in HARMLESS)]
        assert errors == [], errors
    assert failed == [], failed
    facilitator.close(run_before_unload=True)
    room.close(run_before_unload=True)
    fctx.close()
    rctx.close()
    _wait_kernels(psutil.Process(proc.pid), 0, timeout=15)
