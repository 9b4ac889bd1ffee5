"""Browser fixtures: Debian's Chromium driven by Playwright (never `playwright install`).

Chromium is installed by ``scripts/install-browser.sh`` (``make test`` runs it).
Outside CI, the browser tests are skipped when it is missing; in CI they fail.
Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from csi_lib.report.pdf import CHROMIUM_ARGS  # one list of flags for the tests and --pdf

CHROMIUM = os.environ.get("CSI_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"{CHROMIUM} is missing: scripts/install-browser.sh should have installed it"
            )
        pytest.skip(f"{CHROMIUM} is missing (run scripts/install-browser.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and page errors in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.errors = []
    p.on("console", lambda msg: p.errors.append(msg.text) if msg.type == "error" else None)
    p.on("pageerror", lambda exc: p.errors.append(str(exc)))
    yield p
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def sample_report(browser, tmp_path_factory):
    """The sample cycle's report as of 2026-04-15, built once per session (needs Chromium to be worth it).

    Built with a webhook receiver on 127.0.0.1 in ``$CSI_WEBHOOK_URL``; what it
    received is ``sample_report.webhook``.
    """
    from csi_lib.report import build_report
    from csi_lib.report.digest import WEBHOOK_ENV
    from csi_lib.testing import local_webhook

    out = tmp_path_factory.mktemp("reports")
    root = Path(__file__).resolve().parents[2]
    before = os.environ.get(WEBHOOK_ENV)
    with local_webhook() as (url, received):
        os.environ[WEBHOOK_ENV] = url
        try:
            result = build_report(root / "data" / "sample-cycle", as_of="2026-04-15", out=out)
        finally:
            os.environ.pop(WEBHOOK_ENV)
            if before is not None:
                os.environ[WEBHOOK_ENV] = before
    result.webhook = list(received)
    return result
