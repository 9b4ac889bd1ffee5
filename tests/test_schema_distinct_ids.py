"""The no-duplicate fast path of validation (Arrow sort of the ids) agrees with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csi_lib.schema import _all_distinct


@pytest.mark.parametrize(
    "ids, expected",
    [
        (pd.Series(["a", "b", "c"], dtype="string"), True),
        (pd.Series(["a", "b", "a"], dtype="string"), False),
        (pd.Series(["a", None, None, "b"], dtype="string"), True),  # missing ids are not equal ids
        (pd.Series(["a", None, "a"], dtype=object), False),
        (pd.Series([1, 2, 3], dtype="Int64"), True),
        (pd.Series([1, 2, 2], dtype="Int64"), False),
        (pd.Series([], dtype="string"), True),
        (pd.Series(["x", 1, 2.5], dtype=object), False),  # no one Arrow type: exact check
    ],
)
def test_all_distinct(ids, expected):
    assert _all_distinct(ids) is expected


def test_all_distinct_equals_pandas_on_random_ids():
    rng = np.random.default_rng(5)
    for size in (10, 1000, 50_000):
        ids = pd.Series(rng.integers(0, size * 3, size).astype(str), dtype="string")
        assert _all_distinct(ids) == (not ids.duplicated().any())
