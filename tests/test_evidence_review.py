"""Stage 5's verdict from the evidence, the ``evidence`` object of summary.json, and
``csi review``: the same verdicts and numbers in every output, at dates inside months."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from csi_lib import review
from csi_lib.cli import main
from csi_lib.cli.review import review_data
from csi_lib.cycle import open_cycle
from csi_lib.review import verdict

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample-cycle"
#: inside the action period, late in it, inside the review period, after it
AS_OF = ["2025-08-20", "2025-11-15", "2026-02-14", "2026-04-15"]


# ------------------------------------------------------------------ verdict words


@pytest.mark.parametrize(
    ("chart", "interval", "expected"),
    [
        ("improvement", "improvement", "real improvement"),
        ("concern", "concern", "real deterioration"),
        ("change", "change", "real change"),
        ("improvement", "none", "likely improvement"),
        ("none", "improvement", "likely improvement"),
        ("improvement", "n/a", "likely improvement"),  # a stock: the chart alone
        ("n/a", "concern", "likely deterioration"),
        ("change", "none", "likely change"),
        ("none", "change", "likely change"),
        ("improvement", "concern", "mixed evidence"),
        ("none", "none", "no evidence of change"),
        ("n/a", "none", "no evidence of change"),
        ("none", "n/a", "no evidence of change"),
        ("n/a", "n/a", "not enough data"),
    ],
)
def test_verdict_needs_chart_and_interval_for_real(chart, interval, expected):
    assert verdict(chart, interval) == expected


# ------------------------------------------------------------------ summary.json evidence


@pytest.fixture(scope="module")
def closed():
    return review.assess(open_cycle(SAMPLE, as_of="2026-04-15"))


def test_summary_evidence_object(closed):
    data = review.summary(closed)
    for t, tr in zip(data["targets"], closed, strict=True):
        ev, rec = tr.evidence, t["evidence"]
        assert rec["verdict"] == tr.verdict
        assert rec["method"] == ev.test and rec["estimate"] == pytest.approx(ev.effect)
        assert rec["interval"] == pytest.approx([ev.ci_low, ev.ci_high])
        assert len(rec["interval"]) == 2 and rec["interval"][0] < rec["interval"][1]
        assert rec["real"] == (rec["interval"][0] > 0 or rec["interval"][1] < 0)
        assert (rec["n_baseline"], rec["n_review"]) == (ev.n_baseline, ev.n_review)
        assert rec["signal"]["evidence"] == tr.chart_evidence
        assert rec["p_value"] is None or 0 <= rec["p_value"] <= 1
        # a "real" verdict has both pieces of evidence; never on the interval alone
        if rec["verdict"].startswith("real"):
            assert rec["real"] and rec["signal"]["text"]
        if not rec["real"]:
            assert not rec["verdict"].startswith("real")
    t1, t2, t4 = (data["targets"][i]["evidence"] for i in (0, 1, 3))
    assert (t1["unit"], t2["unit"]) == ("h", "percentage points")
    assert t1["method"] == "order-statistics interval of the difference in medians"
    assert t2["method"] == "Miettinen-Nurminen score interval"
    assert (t4["method"], t4["verdict"]) == ("Welch t test", "no evidence of change")
    json.dumps(data)  # plain JSON: no NaN, no numpy numbers
    assert "NaN" not in json.dumps(data)


def _sample_with_t6(tmp_path: Path, kpi: str, kind: str, value: float) -> Path:
    """A copy of the sample cycle with a sixth target."""
    folder = tmp_path / "cycle"
    shutil.copytree(SAMPLE, folder)
    text = (folder / "cycle.yaml").read_text(encoding="utf-8")
    data = (ROOT / "data" / "sample_requests.csv.gz").as_posix()
    (folder / "cycle.yaml").write_text(text.replace("../sample_requests.csv.gz", data), "utf-8")
    targets = (folder / "targets.yaml").read_text(encoding="utf-8")
    targets += (
        f"\n  - id: T6\n    kpi: {kpi}\n    kind: {kind}\n    value: {value}\n"
        "    due: 2026-03-31\n    objective: O1\n    owner: Service desk\n"
    )
    (folder / "targets.yaml").write_text(targets, encoding="utf-8")
    return folder


def test_a_backlog_target_is_judged_by_its_chart(tmp_path):
    folder = _sample_with_t6(tmp_path, "backlog", "minimize", 100)
    rv = review.assess(open_cycle(folder, as_of="2026-04-15"))
    tr = rv.target("T6")
    rec = review.summary(rv)["targets"][-1]["evidence"]
    assert rec["method"] == "process-behaviour chart" and rec["interval"] is None
    assert rec["p_value"] is None and "a stock is counted at one instant" in rec["reason"]
    assert rec["estimate"] == pytest.approx(tr.compared_value - tr.baseline_value)
    assert (rec["n_baseline"], rec["n_review"]) == (6, 3)  # monthly chart points
    # the chart alone never makes a "real" verdict
    assert tr.verdict in ("likely improvement", "likely deterioration", "no evidence of change")
    assert "a stock" in review.conclusion(tr) or tr.verdict == "no evidence of change"


# ------------------------------------------------------------------ csi review


def _run(capsys, *args):
    status = main(["review", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize("as_of", AS_OF)
def test_csi_review_agrees_with_stage_5_and_summary(capsys, as_of):
    status, out, err = _run(capsys, str(SAMPLE), "--as-of", as_of, "--format", "json")
    assert status == 0, err
    printed = json.loads(out)
    rv = review.assess(open_cycle(SAMPLE, as_of=as_of))
    summary = review.summary(rv)
    table = review.review_table(rv)
    assert printed["headline"] == summary["headline"]
    for t, s in zip(printed["targets"], summary["targets"], strict=True):
        assert t["id"] == s["id"] and t["evidence"] == s["evidence"]
    if rv.compared is not None:  # stage 5's table: the same verdict and sentence per target
        for t, (_, row) in zip(printed["targets"], table.iterrows(), strict=True):
            assert t["evidence"]["verdict"] == row["verdict"]
            assert t["evidence"]["sentence"] == row["evidence"]
    assert printed == review_data(SAMPLE, as_of)
    assert printed["benefits"] == summary["benefits"]  # what the changes were worth, alike


def test_csi_review_table(capsys):
    status, out, _ = _run(capsys, str(SAMPLE), "--as-of", "2026-02-14")
    assert status == 0
    for words in ("Verdict", "95% interval", "T1", "real improvement", "Welch t test"):
        assert words in out
    assert "Provisional" in out  # the headline, mid-review
    data = review_data(SAMPLE, "2026-02-14")
    flat = " ".join(out.split())  # the console wraps long lines
    assert " ".join(data["benefits"]["text"].split()) in flat
    for t in data["benefits"]["targets"]:
        assert " ".join(t["sentence"].split()) in flat


def test_csi_review_prints_a_count_per_day_as_stage_5_does(capsys, tmp_path):
    # a count is compared per day: the table printed "+8 a day", "+2 to +14 a day" (the
    # KPI's 0 decimals) beside stage 5's "+2.08 to +13.73 a day"
    folder = _sample_with_t6(tmp_path, "fulfilled", "maximize", 3000)
    status, out, _ = _run(capsys, str(folder), "--as-of", "2026-04-15")
    assert status == 0
    tr = review.assess(open_cycle(folder, as_of="2026-04-15")).target("T6")
    ev = tr.evidence
    assert ev.kind == "count" and ev.has_interval
    row = " ".join(line for line in out.splitlines() if "T6" in line)
    assert f"{ev.effect:+,.2f} a day" in row
    interval = f"{ev.ci_low:+,.2f} to {ev.ci_high:+,.2f} a day"
    assert interval in row and interval in review.conclusion(tr)


def test_a_count_that_fell_in_total_but_rose_per_day_says_both(tmp_path):
    # 6 baseline months against 3 review months: fewer requests fulfilled in total, more
    # per day, which the evidence compares; the conclusion read "fell from 8,859 to 5,087
    # (-43%) ... the fall is close to the process limit ... not chance" beside a real
    # improvement. A count target is now valued per month (tests/test_count_targets.py):
    # per month it rose, as per day, and the words say so once
    folder = _sample_with_t6(tmp_path, "fulfilled", "maximize", 3000)
    tr = review.assess(open_cycle(folder, as_of="2026-04-15")).target("T6")
    ev = tr.evidence
    assert tr.compared_value > tr.baseline_value and ev.effect > 0 and ev.significant
    text = review.conclusion(tr)
    assert text.startswith(
        f"Requests fulfilled rose from {tr.fmt(tr.baseline_value)} to {tr.fmt(tr.compared_value)}"
    )
    assert "requests a month" in text and "but per day" not in text
    assert "the fall" not in text and "the rise is" in text
    # a duration is compared as it is counted: no words per day
    t1 = review.conclusion(review.assess(open_cycle(folder, as_of="2026-04-15")).target("T1"))
    assert "per day" not in t1


def test_csi_review_errors_as_elsewhere(capsys, tmp_path):
    status, _, err = _run(capsys, str(tmp_path / "nowhere"))
    assert status == 2 and err.startswith("error: ") and "Traceback" not in err
    status, _, err = _run(capsys, str(SAMPLE), "--as-of", "15/02/2026")
    assert status == 2 and "YYYY-MM-DD" in err


# ------------------------------------------------------------------ the rendered page


@pytest.mark.slow
@pytest.mark.parametrize("as_of", AS_OF)
def test_stage_5_page_summary_and_csi_review_agree(tmp_path, as_of):
    out = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "csi_lib", "report", str(SAMPLE), "--as-of", as_of,
         "--stage", "5", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    folder = out / "2025-h2" / as_of
    page = (folder / "05_did_we_get_there.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    printed = review_data(SAMPLE, as_of)
    for t, s in zip(printed["targets"], summary["targets"], strict=True):
        assert t["evidence"] == s["evidence"], t["id"]
        ev = t["evidence"]
        if ev["sentence"]:  # the page's table shows the verdict and the same sentence
            assert ev["sentence"] in text, t["id"]
            assert ev["verdict"] in text
        if ev["interval"]:
            assert not math.isnan(ev["interval"][0])
    assert not re.search(r"<td[^>]*>\s*(none|n/a)\s*</td>", page)  # no key for "no signal"
