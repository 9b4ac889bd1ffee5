"""The workshop server checks the ``Host`` header as JupyterLab does (issue 23).

Voilà itself accepts any ``Host`` (its settings turn Jupyter Server's check off), so
a page of another site whose name resolves to 127.0.0.1 (DNS rebinding) could drive
a workshop whose token it knew. ``csi workshop`` turns the check back on in the
Voilà configuration it writes (``csi_lib.cli.session.VOILA_CONFIG``): a ``Host`` that
is not ``localhost`` or a loopback address gets 403, with or without the token.
No browser is needed: raw HTTP requests to the real ``csi workshop``.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

import pytest

from .conftest import free_port
from .test_workshop import REPO


def status(url: str, host: str) -> int:
    """The HTTP status of GET ``url`` sent with the header ``Host: host``."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.putrequest("GET", f"{parts.path or '/'}?{parts.query}", skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.fixture
def workshop_url(tmp_path):
    """The real ``csi workshop`` (``python -m csi_lib``) on a copy of the sample cycle: its
    URL (with the token)."""
    shutil.copytree(REPO / "data" / "sample-cycle", tmp_path / "cycle")
    shutil.copy(REPO / "data" / "sample_requests.csv.gz", tmp_path / "sample_requests.csv.gz")
    port = free_port()
    args = ["workshop", str(tmp_path / "cycle"), "--port", str(port), "--no-browser"]
    log = tmp_path / "workshop.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "csi_lib", *args, *(["--allow-root"] if os.geteuid() == 0 else [])],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\w+", log.read_text())
            if found:
                try:
                    status(found[0], f"127.0.0.1:{port}")
                    break
                except OSError:
                    pass
            assert proc.poll() is None, log.read_text()
            time.sleep(0.3)
        else:
            pytest.fail("csi workshop did not answer within 60 s:\n" + log.read_text())
        yield found[0]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_a_host_that_is_not_this_machine_is_refused(workshop_url):
    port = urllib.parse.urlsplit(workshop_url).port
    for host in (f"evil.example:{port}", "attacker.invalid", f"192.0.2.7:{port}"):
        assert status(workshop_url, host) == 403, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert status(workshop_url, host) == 200, host
