"""Page-load benchmark: how long each page of a report folder takes to open in Chromium.

Opens every ``*.html`` page of a report folder from disk (``file://``, as a
reader opens it) in headless Debian Chromium, with every request that is not a
local file refused (offline), and times from navigation to the moment every
plotly chart of the page has drawn its SVG. Each page is opened ``--repeat``
times in a fresh browser context (no cache); the median is printed, with the
page's size and its number of charts, and the folder's total size. With
``--warm`` the pages are opened one after the other in one context, as a
reader clicks through the report (the browser's cache is kept).

    .venv/bin/python benchmarks/bench_page_load.py reports/2025-h2/latest
    .venv/bin/python benchmarks/bench_page_load.py /tmp/before/2025-h2/2026-04-15 --repeat 5

A script, not a test: the times depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from csi_lib.report.pdf import CHARTS_DRAWN, CHROMIUM_ARGS, chromium_path  # noqa: E402


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _context(browser):
    """A browser context that refuses every request that is not a local file (offline)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
    )
    return context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a report folder (with index.html)")
    parser.add_argument("--repeat", type=int, default=3, help="opens per page (median)")
    parser.add_argument("--warm", action="store_true", help="one context for all pages")
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    pages = sorted(folder.glob("*.html"))
    if not pages:
        print(f"no HTML pages in {folder}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    print(f"{folder}: {_folder_size(folder) / 1e6:.1f} MB in all")
    print(f"{'page':<34} {'size':>9} {'charts':>6} {'load (median)':>14}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium_path()), headless=True, args=CHROMIUM_ARGS
        )
        try:
            shared = _context(browser) if args.warm else None
            for page_path in pages:
                times, charts = [], 0
                for _ in range(args.repeat):
                    context = shared or _context(browser)
                    page = context.new_page()
                    start = time.perf_counter()
                    page.goto(page_path.as_uri(), wait_until="load", timeout=120_000)
                    page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
                    times.append(time.perf_counter() - start)
                    charts = page.evaluate(
                        "() => document.querySelectorAll('.js-plotly-plot').length"
                    )
                    page.close()
                    if shared is None:
                        context.close()
                size = page_path.stat().st_size / 1e6
                print(
                    f"{page_path.name:<34} {size:>7.2f} MB {charts:>6} "
                    f"{statistics.median(times):>12.2f} s"
                )
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
