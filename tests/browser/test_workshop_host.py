"""The workshop server checks the ``Host`` header as JupyterLab does (issue 23).

Voilà itself accepts any ``Host`` (its settings turn Jupyter Server's check off), so
a page of another site whose name resolves to 127.0.0.1 (DNS rebinding) could drive
a workshop whose token it knew. ``csi workshop`` turns the check back on in the
Voilà configuration it writes (``csi_lib.cli.session.VOILA_CONFIG``): a ``Host`` that
is not ``localhost`` or a loopback address gets 403, with or without the token. No browser is needed: raw HTTP requests.
"""

from __future__ import annotations

import http.client
import urllib.parse

import pytest

from .test_workshop import workshop_server  # noqa: F401 - the fixture: csi workshop running


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


@pytest.mark.slow
def test_a_host_that_is_not_this_machine_is_refused(workshop_server):  # noqa: F811
    url, _ = workshop_server
    port = urllib.parse.urlsplit(url).port
    for host in (f"evil.example:{port}", "attacker.invalid", f"192.0.2.7:{port}"):
        assert status(url, host) == 403, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert status(url, host) == 200, host
