"""User-written text is inert in the report: script payloads in every field, opened in Chromium.

A temporary copy of the sample cycle gets payloads in its vision, mission,
business direction, objectives, target notes and owners, initiative titles and
improvement ideas, and a small data file gets a category named after a payload.
The report (stages 0-3) is built, every page is opened from disk in Chromium, and
``window.__xss`` must stay undefined while the payload text shows as text.
A personal column with a marker in the data file must not appear anywhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from csi_lib.report import build_report
from csi_lib.sample import generate_requests, write_requests

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload="window.__xss=1">',
]
#: A personal value in the export that must never reach the report.
PERSON = "Zedediah Q. Secretname"


def tag(field: str, i: int) -> str:
    """Field text with payload ``i``: a visible marker, then the payload."""
    return f"XSS-{field} {PAYLOADS[i % len(PAYLOADS)]}"


def inject(cycle: Path) -> list[str]:
    """Put payloads in the cycle's user-written fields; returns every text injected."""
    texts: list[str] = []

    def put(value: str) -> str:
        texts.append(value)
        return value

    vision = yaml.safe_load((cycle / "vision.yaml").read_text())
    for i, key in enumerate(("business_direction", "vision", "mission")):
        vision[key] = put(tag(key, i))
    for i, obj in enumerate(vision["objectives"]):
        obj["statement"] = put(tag(f"objective-{obj['id']}", i))
        obj["owner"] = put(tag(f"owner-{obj['id']}", i + 1))
    (cycle / "vision.yaml").write_text(yaml.safe_dump(vision, sort_keys=False))

    targets = yaml.safe_load((cycle / "targets.yaml").read_text())
    for i, t in enumerate(targets["targets"]):
        t["note"] = put(tag(f"note-{t['id']}", i))
        t["owner"] = put(tag(f"target-owner-{t['id']}", i + 2))
    (cycle / "targets.yaml").write_text(yaml.safe_dump(targets, sort_keys=False))

    plan = yaml.safe_load((cycle / "plan.yaml").read_text())
    for i, ini in enumerate(plan["initiatives"]):
        ini["title"] = put(tag(f"initiative-{ini['id']}", i))
        ini["owner"] = put(tag(f"initiative-owner-{ini['id']}", i + 1))
    for i, idea in enumerate(plan.get("register", [])):
        idea["idea"] = put(tag(f"idea-{idea['id']}", i))
    (cycle / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    return texts


@pytest.fixture(scope="module")
def xss_report(browser, tmp_path_factory):
    base = tmp_path_factory.mktemp("xss")
    cycle = base / "cycle"
    shutil.copytree(SAMPLE_CYCLE, cycle)
    shutil.rmtree(cycle / "baseline")  # taken again from the data below on first use
    df = generate_requests(rows=6000, seed=3, start="2025-01-01", end="2026-03-31")
    category = tag("category", 1)
    df["category"] = df["category"].cat.rename_categories({"Peripheral": category})
    df["requested_for"] = PERSON  # a personal column the generic preset does not map
    write_requests(df, base / "requests.csv")
    text = (cycle / "cycle.yaml").read_text()
    (cycle / "cycle.yaml").write_text(text.replace("../sample_requests.csv.gz", "../requests.csv"))
    texts = [*inject(cycle), category]
    result = build_report(
        cycle, as_of="2026-04-15", out=base / "reports", stages=["0", "1", "2", "3"]
    )
    assert result.ok, [r.error for r in result.failed]
    return result.folder, texts


def test_payloads_are_inert_and_shown_as_text(xss_report, page, artifacts):
    folder, texts = xss_report
    pages = sorted(folder.glob("*.html"))
    assert len(pages) == 5  # cover + stages 0..3
    shown = ""
    executed = []
    for html in pages:
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # onerror handlers of broken images fire after load
        if page.evaluate("() => typeof window.__xss") != "undefined":
            executed.append(html.name)
        shown += page.inner_text("body") + "\n"
        # and no payload became a real element
        injected = page.evaluate(
            "() => document.querySelectorAll('img[src=\"x\"], svg[onload], [onerror]').length"
        )
        assert injected == 0, html.name
        page.screenshot(path=str(artifacts / f"xss-{html.stem}.png"), full_page=False)
    visible = [t for t in texts if t in shown]
    print("not shown verbatim:", [t.split(" ")[0] for t in texts if t not in visible])
    inert = 0 if executed else len(texts)
    print(
        f"\nXSS: {len(texts)} payloads tried ({len(PAYLOADS)} kinds) over {len(pages)} pages; "
        f"{inert} inert; {len(visible)} shown as plain text"
    )
    assert executed == [], f"a payload ran in {executed}"
    # every kind of field shows its payload as plain text somewhere in the report
    for field in ("vision", "mission", "objective-O1", "note-T1", "initiative-I1", "category"):
        assert any(t.startswith(f"XSS-{field} ") for t in visible), (field, visible[:5])


def test_personal_column_is_nowhere_in_the_report(xss_report):
    folder, _ = xss_report
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".ipynb", ".json", ".csv"):
            assert PERSON not in path.read_text(encoding="utf-8", errors="replace"), path.name
