"""The short public API: import csi_lib as csi."""

from __future__ import annotations

import pydoc
import subprocess
import sys

import pandas as pd
import pytest

import csi_lib as csi
from csi_lib.errors import ConfigError
from csi_lib.kpis import kpi_table
from csi_lib.periods import Period, as_period


@pytest.fixture(scope="module")
def res():
    return csi.load(csi.SAMPLE_DATA)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("2025", "2025-01-01 to 2025-12-31"),
        ("2025-H1", "2025-01-01 to 2025-06-30"),
        ("2025-h2", "2025-07-01 to 2025-12-31"),
        ("2025-Q1", "2025-01-01 to 2025-03-31"),
        ("2025-Q4", "2025-10-01 to 2025-12-31"),
        ("2024-02", "2024-02-01 to 2024-02-29"),
        ("2025-12", "2025-12-01 to 2025-12-31"),
        (("2025-01-01", "2025-06-30"), "2025-01-01 to 2025-06-30"),
        (["2025-03-05", "2025-03-05"], "2025-03-05 to 2025-03-05"),
    ],
)
def test_as_period_forms(value, label):
    assert as_period(value).label == label


def test_as_period_keeps_a_period_and_uses_the_timezone():
    p = Period.from_dates("2025-01-01", "2025-01-31")
    assert as_period(p) is p
    assert as_period("2025-07", tz="Europe/London").start == pd.Timestamp(
        "2025-06-30 23:00", tz="UTC"
    )


@pytest.mark.parametrize(
    "value", ["2025-H3", "2025-Q5", "2025-13", "last year", 2025, ("2025-01-01",)]
)
def test_as_period_refuses_other_forms_with_the_forms_it_knows(value):
    with pytest.raises(ConfigError) as err:
        as_period(value)
    assert "2025-H1" in str(err.value)


def test_kpis_tidy_is_kpi_table(res):
    tidy = csi.kpis(res, "2025-H1", by="category")
    expected = kpi_table(res.data, as_period("2025-H1"), by="category")
    pd.testing.assert_frame_equal(tidy, expected)


def test_kpis_wide_has_one_row_per_group_and_one_column_per_kpi(res):
    tidy = csi.kpis(res.data, ("2025-01-01", "2025-06-30"), by="category")
    wide = csi.kpis(res.data, ("2025-01-01", "2025-06-30"), by="category", wide=True)
    assert list(wide.columns) == ["category", *dict.fromkeys(tidy["kpi"])]
    assert len(wide) == tidy["category"].nunique()
    back = wide.melt(id_vars="category", var_name="kpi", value_name="value")
    merged = tidy.merge(back, on=["category", "kpi"], suffixes=("", "_wide"))
    assert len(merged) == len(tidy)
    pd.testing.assert_series_equal(merged["value"], merged["value_wide"], check_names=False)


def test_kpis_wide_by_month_keeps_the_bins(res):
    wide = csi.kpis(res, "2025-Q1", freq="month", kpis=["received", "backlog"], wide=True)
    assert list(wide.columns) == ["period_start", "period_end", "received", "backlog"]
    assert len(wide) == 3
    whole = csi.kpis(res, "2025-Q1", kpis="received", wide=True)
    assert whole.loc[0, "received"] == wide["received"].sum()


def test_kpis_labels_name_columns_by_label_and_unit(res):
    wide = csi.kpis(
        res, "2025-H1", kpis=["fulfil_median_h", "pct_fulfilled"], wide=True, labels=True
    )
    k = csi.catalogue().set_index("key")
    assert list(wide.columns) == [
        f"{k.loc['fulfil_median_h', 'label']} (hours)",
        f"{k.loc['pct_fulfilled', 'label']} (%)",
    ]


def test_modules_stay_modules_and_are_callable(res):
    from csi_lib import baseline, kpis, review

    assert callable(kpis) and hasattr(kpis, "kpi_table")
    assert callable(review) and hasattr(review, "assess")
    assert callable(baseline) and hasattr(baseline, "create_snapshot")
    assert csi.kpis is kpis
    assert "wide" in str(__import__("inspect").signature(csi.kpis))


def test_xmr_carries_the_kpi_metadata_for_its_figure(res):
    chart = csi.xmr(res, "fulfil_median_h", "2025", baseline="2025-H1")
    assert len(chart) == 12
    assert chart["baseline"].sum() == 6
    assert chart.attrs["better"] == "lower"
    fig = csi.xmr_figure(chart)
    assert "hours" in (fig.layout.yaxis.title.text or "")


def test_baseline_saves_a_snapshot_once(res, tmp_path):
    snap = csi.baseline(res, "2025-H1", out=tmp_path / "b", kpis=["received", "fulfil_median_h"])
    assert (tmp_path / "b" / "manifest.json").exists()
    assert (
        snap.kpi_values["received"]
        == csi.kpis(res, "2025-H1", kpis="received", wide=True).loc[0, "received"]
    )
    with pytest.raises(Exception, match="exists|already"):
        csi.baseline(res, "2025-H1", out=tmp_path / "b", kpis=["received"])


def test_review_of_the_sample_cycle():
    cycle = csi.open_cycle(csi.SAMPLE_DATA.parent / "sample-cycle", as_of="2026-04-15")
    assert csi.review.headline(csi.review(cycle)).startswith("4 of 5 targets met")


def test_help_lists_the_api():
    text = pydoc.render_doc(csi, renderer=pydoc.plaintext)
    for name in (
        "load",
        "quality",
        "kpis",
        "baseline",
        "open_cycle",
        "review",
        "xmr",
        "xmr_figure",
        "breakdown_figure",
        "Period",
    ):
        assert name in text
    assert set(csi.__all__) <= set(dir(csi))


def test_import_is_light():
    code = (
        "import sys, csi_lib; "
        "print(','.join(m for m in ('pandas', 'plotly', 'statsmodels', 'scipy', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        csi.nope  # noqa: B018
