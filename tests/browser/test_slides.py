"""``csi slides`` decks shown with the network cut: reveal.js and plotly.js come from the folder.

Two stages of the sample cycle are exported by :func:`csi_lib.cli.slides.build_slides`
with the bundled reveal.js; each deck is opened from disk in Chromium with every
request that is not a ``file:`` URL aborted (as on a laptop in a room without
Wi-Fi). The deck must start (reveal.js ready, slides counted), draw its charts,
and ask for nothing off the machine. A screenshot of each goes to
``test-artifacts/screenshots/slides-<stage>.png``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from csi_lib.cli.slides import build_slides

REPO = Path(__file__).resolve().parents[2]
DECKS = ("00_vision", "04_take_action")


@pytest.fixture(scope="module")
def decks(browser, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("slides")
    shutil.copytree(REPO / "data" / "sample-cycle", tmp / "sample-cycle")
    shutil.copy(REPO / "data" / "sample_requests.csv.gz", tmp / "sample_requests.csv.gz")
    folder, runs = build_slides(
        tmp / "sample-cycle", out=tmp / "slides", as_of="2026-04-15", stages=["0", "4"]
    )
    assert all(r.ok for r in runs), [r.error for r in runs]
    return folder


@pytest.mark.parametrize("name", DECKS)
def test_a_deck_runs_offline_from_its_folder(decks, browser, artifacts, name):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    asked: list[str] = []

    def offline(route):
        asked.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith("file:"), offline)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto((decks / f"{name}.slides.html").as_uri())
        page.wait_for_function("() => window.Reveal && window.Reveal.isReady()", timeout=20_000)
        assert page.evaluate("Reveal.getTotalSlides()") >= 3
        if name == "04_take_action":  # its charts: drawn by the folder's plotly.js
            page.wait_for_function("() => window.Plotly !== undefined", timeout=10_000)
            while not page.locator(".reveal .present .js-plotly-plot").count():
                assert not page.evaluate("Reveal.isLastSlide()"), "no chart on any slide"
                page.evaluate("Reveal.next()")
            chart = page.locator(".reveal .present .js-plotly-plot").first
            chart.locator(".main-svg").first.wait_for(timeout=10_000)
            chart.scroll_into_view_if_needed()
            assert chart.bounding_box()["width"] > 300
        page.wait_for_timeout(1_000)  # the slide transition (0.8 s) has ended
        page.screenshot(path=str(artifacts / f"slides-{name}.png"))
        assert asked == [], asked  # nothing fetched from the network
        assert errors == [], errors
    finally:
        context.close()
