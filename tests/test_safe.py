"""Formula neutralisation for CSV/Excel and HTML escaping."""

from __future__ import annotations

import pandas as pd

from csi_lib.safe import escape, neutralise_cell, neutralise_csv_frame


def test_formula_prefixes_are_neutralised():
    for payload in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x"):
        assert neutralise_cell(payload) == "'" + payload
    assert neutralise_cell("Laptop") == "Laptop"
    assert neutralise_cell(-3) == -3  # numbers are not formulas


def test_frame_neutralises_text_and_categories_only():
    df = pd.DataFrame(
        {
            "category": pd.Categorical(['=HYPERLINK("x")', "Laptop"]),
            "value": [-1.5, 2.0],
            "note": ["@a", "b"],
        }
    )
    out = neutralise_csv_frame(df)
    assert out["category"].tolist() == ['\'=HYPERLINK("x")', "Laptop"]
    assert out["note"].tolist() == ["'@a", "b"]
    assert out["value"].tolist() == [-1.5, 2.0]
    assert df["note"].tolist() == ["@a", "b"]  # input untouched


def test_escape():
    assert escape('<img src=x onerror="a">') == "&lt;img src=x onerror=&quot;a&quot;&gt;"
    assert escape(None) == ""
