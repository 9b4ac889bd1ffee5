"""The cycle's ``spc:`` settings (cycle.yaml): run and trend lengths, checked and used."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from csi_lib import review
from csi_lib.cycle import load_config, open_cycle
from csi_lib.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample-cycle"


def cycle_with(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "cycle"
    shutil.copytree(SAMPLE, folder)
    text = (folder / "cycle.yaml").read_text(encoding="utf-8")
    data = (ROOT / "data" / "sample_requests.csv.gz").as_posix()
    text = text.replace("../sample_requests.csv.gz", data) + extra
    (folder / "cycle.yaml").write_text(text, encoding="utf-8")
    return folder


def test_defaults_are_designs():
    spc = load_config(SAMPLE).spc
    assert (spc.run, spc.trend) == (7, 6)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("spc: {run: 3}\n", r"spc\.run.*greater than or equal to 5"),
        ("spc: {trend: 13}\n", r"spc\.trend.*less than or equal to 12"),
        ("spc: {trend: six}\n", r"spc\.trend.*integer"),
        ("spc: {run: 7.5}\n", r"spc\.run.*integer"),
        ("spc: {runs: 7}\n", r"spc\.runs"),
    ],
)
def test_bad_settings_are_errors_with_the_line(tmp_path, extra, message):
    folder = cycle_with(tmp_path, extra)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(folder)
    assert "cycle.yaml:" in str(err.value)


def test_the_review_charts_use_the_cycles_lengths(tmp_path):
    default = review.assess(open_cycle(SAMPLE, as_of="2026-04-15")).target("T2").chart
    folder = cycle_with(tmp_path, "spc: {run: 8, trend: 7}\n")
    chart = review.assess(open_cycle(folder, as_of="2026-04-15")).target("T2").chart
    assert (chart.attrs["run"], chart.attrs["trend"]) == (8, 7)
    assert (default.attrs["run"], default.attrs["trend"]) == (7, 6)
    # T2's run after the baseline is 7 months long: a signal at 7, none at 8
    assert default["run_7"].sum() == 7 and chart["run_7"].sum() == 0
