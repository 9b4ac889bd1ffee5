"""JupyterLab exploration for real: each stage notebook opened in Chromium and run.

One JupyterLab server (the command line of ``csi lab``: loopback, a token) on a
temporary copy of ``notebooks/`` and ``data/``, so nothing is written into the
repository. For each stage notebook present: run all cells from the Run menu,
wait until the kernel is idle and no cell waits (``[*]``), check that no cell
shows an error and that plotly drew its charts, and save a screenshot. In
"Where are we now?" the breakdown explorer is driven: choosing another
breakdown redraws its chart with the new title.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from csi_lib.cli.session import lab_command, server_env
from csi_lib.report.stages import STAGES

from .conftest import ARTIFACTS, free_port

REPO = Path(__file__).resolve().parents[2]
TOKEN = "csi-browser-test-token"
NOTEBOOKS = [s.slug for s in STAGES if (REPO / "notebooks" / s.notebook).exists()]
#: Notebook settings for the test server: every cell stays in the page (no virtual
#: scrolling), so the prompts and outputs of all cells can be read.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
#: stderr text that is not an error (none known).
HARMLESS_STDERR: tuple[str, ...] = ()
#: JavaScript: True when every code cell has run ("[n]:" prompts, none "[*]" or empty).
ALL_RAN = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')];
  return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""
STARTED = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
  .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
KERNEL_IDLE = """() => {
  const s = document.querySelector('.jp-Notebook');
  const bar = document.querySelector('#jp-main-statusbar');
  return s !== null && bar !== null && /Idle/.test(bar.textContent);
}"""


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """JupyterLab on a free loopback port, rooted in a copy of notebooks/ and data/."""
    root = tmp_path_factory.mktemp("lab")
    (root / "notebooks").mkdir()
    for notebook in (REPO / "notebooks").glob("*.ipynb"):  # notebooks only (no kernel sockets)
        shutil.copy(notebook, root / "notebooks" / notebook.name)
    shutil.copytree(REPO / "data", root / "data")
    settings = root / ".settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    cmd = lab_command(port=port, root_dir=root, open_browser=False, allow_root=os.geteuid() == 0)
    assert "--ServerApp.ip=127.0.0.1" in cmd
    cmd += [
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={root / '.workspaces'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = open(root / "lab.log", "w")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the server and its kernels end together
        env=server_env(TOKEN, {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (root / "lab.log").read_text()
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)  # noqa: S310
                break
            except OSError:
                assert time.monotonic() < deadline, (root / "lab.log").read_text()
                time.sleep(0.5)
        yield base, root
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """End the server's process group (the server and the kernels it started)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _open_and_run_all(page, base: str, name: str) -> None:
    # a workspace of its own: only this notebook open, nothing restored from another test
    url = f"{base}/lab/workspaces/test-{name}/tree/notebooks/{name}.ipynb?reset&token={TOKEN}"
    page.goto(url, timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook has the focus
    for _attempt in range(3):  # the menu may act before the kernel is attached: try again
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(STARTED, timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    try:
        page.wait_for_function(ALL_RAN, timeout=150_000, polling=500)
    except PlaywrightTimeout:
        page.screenshot(path=str(ARTIFACTS / f"lab-{name}-timeout.png"))
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        pytest.fail(f"{name}: not every cell ran: prompts {prompts}; shown {_errors_shown(page)}")
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)


def _errors_shown(page) -> list[str]:
    stderr = page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).all_inner_texts()
    return [t for t in stderr if not any(h in t for h in HARMLESS_STDERR)]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stage_notebook_runs_in_jupyterlab(lab_server, page, artifacts, name):
    base, root = lab_server
    _open_and_run_all(page, base, name)

    assert _errors_shown(page) == []
    figures = page.locator(".js-plotly-plot")
    if name != "06_keep_momentum":  # a one-cycle history is a table, not a chart (issue 25)
        figures.first.wait_for(timeout=30_000)  # every other stage draws a plotly chart
        assert figures.count() >= 1

    if name == "01_where_are_we_now":
        explorer = (
            page.locator(".jp-OutputArea-output .widget-vbox")
            .filter(has=page.locator("label", has_text="Breakdown"))
            .last
        )
        title = explorer.locator(".gtitle")
        title.wait_for(timeout=30_000)
        before = title.text_content()
        options = explorer.locator("select").first.locator("option").all_inner_texts()
        assert options[0] == "Category" and "category" not in options  # dimensions in words
        other = next(o for o in options if o.lower() not in before.lower())
        explorer.locator("select").first.select_option(label=other)
        expect(explorer.locator(".gtitle")).to_have_text(
            re.compile(f"by {other}$", re.IGNORECASE), timeout=30_000
        )
        assert explorer.locator(".gtitle").text_content() != before
        explorer.screenshot(path=str(artifacts / "lab-01-explorer.png"))

    page.screenshot(path=str(artifacts / f"lab-{name}.png"))
    assert page.errors == [], page.errors
