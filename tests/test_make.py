"""The Makefile's user commands pass options to csi: ``make lab ARGS=--allow-root`` (a
container runs as root) and ``make workshop ARGS=...`` start their servers for real."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make")


def _stamp() -> str:
    """The Makefile's set-up stamp, so that a test never runs set-up (make -o: assume old)."""
    out = subprocess.run(
        "cat pyproject.toml constraints.txt | cksum", shell=True, cwd=ROOT, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    return f".venv/.installed-{out.split()[0]}"


def make(*args: str, dry_run: bool = False) -> list[str]:
    return ["make", "--no-print-directory", "-o", _stamp(), *(["-n"] if dry_run else []), *args]


def test_make_lab_and_workshop_pass_args_to_csi():
    for target, command in (("lab", "csi lab"), ("workshop", "csi workshop data/sample-cycle")):
        out = subprocess.run(
            make(target, "ARGS=--allow-root --port 8890", dry_run=True),
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        assert f".venv/bin/{command} --allow-root --port 8890" in out.splitlines()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make lab ARGS=--allow-root" in readme and "make workshop ARGS=" in readme


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(target: str, port: int, url_of) -> None:
    """Run ``make target`` with ARGS until its server answers on ``port``, then stop it."""
    args = f"ARGS=--allow-root --no-browser --port {port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    proc = subprocess.Popen(
        make(target, args), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        lines = [proc.stdout.readline() for _ in range(2)]  # make's echo, then csi's URL
        assert f"127.0.0.1:{port}" in lines[1], lines
        token = re.search(r"token=(\w+)", lines[1]).group(1)
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url_of(port, token), timeout=30) as response:
                    status = response.status
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert status == 200, f"{target} did not answer (exit {proc.poll()})"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # make and the server it started, nothing else
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()


@pytest.mark.slow
def test_make_lab_with_allow_root_starts_jupyterlab():
    pytest.importorskip("jupyterlab")
    _serve(
        "lab", _free_port(), lambda port, token: f"http://127.0.0.1:{port}/api/status?token={token}"
    )


@pytest.mark.slow
def test_make_workshop_with_args_serves_the_sample_cycle():
    pytest.importorskip("voila")
    _serve("workshop", _free_port(), lambda port, token: f"http://127.0.0.1:{port}/?token={token}")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="not root")
def test_make_lab_as_root_without_args_says_how_to_pass_allow_root():
    result = subprocess.run(make("lab"), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "make lab ARGS=--allow-root" in result.stderr
