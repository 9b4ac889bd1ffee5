"""The data-quality table's distinct counts equal pandas' nunique for every column."""

from __future__ import annotations

import numpy as np
import pandas as pd

import csi_lib as csi
from csi_lib.sources.quality import _distinct


def test_distinct_equals_nunique_on_the_sample():
    res = csi.load(csi.SAMPLE_DATA)
    table = csi.quality(res).set_index("column")
    for col in res.data.columns:
        assert table.loc[col, "distinct"] == res.data[col].nunique(dropna=True), col


def test_distinct_timestamps_unsorted_with_ties_and_missing():
    rng = np.random.default_rng(1)
    values = pd.to_datetime(rng.integers(0, 50, 1000), unit="D", utc=True)
    s = pd.Series(values).where(rng.random(1000) > 0.2)
    assert _distinct(s, "opened_at") == s.nunique() == 50
    assert _distinct(s.iloc[:0], "opened_at") == 0
    assert _distinct(pd.Series(pd.NaT, index=range(3), dtype="datetime64[ns, UTC]"), "x") == 0
