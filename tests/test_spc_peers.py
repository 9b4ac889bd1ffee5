"""Published test cases of NHS England's "Making Data Count" tools, ported to csi_lib.spc.

Sources (both MIT-licensed; cases ported, no code copied):

* NHSRplotthedots 0.2.2, the NHS-R Community's R package
  (https://github.com/nhs-r-community/NHSRplotthedots, commit 050b07d),
  ``tests/testthat/test-ptd_calculate_point_type.R``, ``test-ptd_spc_standard.R``
  and its snapshot ``_snaps/ptd_spc_standard.md``,
  ``test-ptd_calculate_assurance_type.R``.
  Copyright (c) 2021 NHS-R Community.
* nhspy-plotthedots, the NHS Python Community's port
  (https://github.com/nhs-pycom/nhspy-plotthedots, commit bfdefe4),
  ``tests/unittests/test_two_in_three.py``, ``test_seven_point_trend.py``,
  ``test_seven_point_one_side_mean.py``, ``test_limits_calculations.py``.
  Copyright (c) 2023 NHS Python Community.

MIT licence of both: "Permission is hereby granted, free of charge, to any person
obtaining a copy of this software and associated documentation files (the "Software"),
to deal in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the
Software [...] subject to the following conditions: The above copyright notice and this
permission notice shall be included in all copies or substantial portions of the
Software." The notices are kept above; csi-workbook is itself MIT-licensed (LICENSE).

The peers compute a rule from flags (``relative_to_mean``: -1/0/+1; ``close_to_limits``:
between 2 and 3 sigma). A case is ported by building values that have those flags on a
chart with centre 0 and sigma 1 (limits at +/-3): +/-1 for a point on its side, +/-2.5
for a point close to a limit, 0 for a point on the centre line. What the peers flag
differently is listed in docs/statistics.md ("Differences from NHSRplotthedots"); the
cases of those differences are tested here as differences, with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csi_lib.spc import assurance, xmr
from csi_lib.spc.rules import _rules_for

ROOT = Path(__file__).resolve().parents[1]


def rules(values, *, run=7, trend=7):
    """csi's four rules on a chart with centre 0, sigma 1, limits -3 .. 3.

    NHSRplotthedots (0.2.2) uses a trend of 7 points; csi's default is 6 (DESIGN.md)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    return _rules_for(
        x, np.zeros(n), np.ones(n), np.full(n, -3.0), np.full(n, 3.0), run=run, trend=trend
    )


def from_flags(close, relative_to_mean):
    """Values with the peers' flags: +/-2.5 close to a limit, +/-1 otherwise, 0 on the line."""
    close = np.asarray(close, dtype=bool)
    side = np.asarray(relative_to_mean, dtype=float)
    return side * np.where(close, 2.5, 1.0)


def part_of(flags, length=7):
    """NHSRplotthedots' ``ptd_part_of_seven_trend``: a point is part of a run or trend that
    the peer flags at its last point (the 7th) when one of the next ``length - 1`` points,
    or itself, is flagged."""
    v = np.abs(np.asarray(flags, dtype=float)) == 1
    padded = np.concatenate([v, np.zeros(length - 1, dtype=bool)])
    return [bool(padded[i : i + length].any()) for i in range(len(v))]


def test_part_of_is_the_peers_own_definition():
    # NHSRplotthedots test-ptd_calculate_point_type.R, "ptd_part_of_seven_trend works"
    assert part_of([]) == []
    assert part_of([0] * 6) == [False] * 6
    assert part_of([0] * 6 + [1, 0]) == [True] * 7 + [False]
    assert part_of([0] * 7 + [1, 0]) == [False] + [True] * 7 + [False]
    assert part_of([0] * 6 + [-1, 0]) == [True] * 7 + [False]
    assert part_of([0] * 7 + [-1, 0]) == [False] + [True] * 7 + [False]


# ------------------------------------------------------------------ two of three (2 in 3)

#: (close_to_limits, relative_to_mean, points the peer flags as "part of two in three")
TWO_IN_THREE_R = [
    # test-ptd_calculate_point_type.R, "ptd_two_in_three works as expected" and
    # "ptd_part_of_two_in_three works as expected" (the flagged points are the close ones)
    ([1, 0, 1], [1, 1, 1], [1, 0, 1]),
    ([0, 1, 1], [1, 1, 1], [0, 1, 1]),
    ([1, 1, 0], [1, 1, 1], [1, 1, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 0, 1, 0, 0]),
    ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 0, 1, 1, 0, 0, 0]),
    ([1, 0, 0, 1], [1] * 4, [0, 0, 0, 0]),
    ([1, 0, 0, 1, 1], [1] * 5, [0, 0, 0, 1, 1]),
    ([0, 0, 0], [1, 1, 1], [0, 0, 0]),
    # "... when points are on opposite sides of the mean" (issue #143)
    ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
    ([0, 1, 1], [1, -1, 1], [0, 0, 0]),
    ([1, 1, 0], [1, -1, 1], [0, 0, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1, -1, 1, -1, 1, -1, 1], [0] * 7),
    ([0, 0, 1, 1, 0, 0, 0], [-1, 1, -1, 1, -1, 1, -1], [0] * 7),
]

#: nhspy-plotthedots tests/unittests/test_two_in_three.py (two_in_three; every point close)
TWO_IN_THREE_PY_LARGE = [
    -1, -1, -1, -1, -1, 0, -1, -1, 1, -1, 0, -1, -1, 0, 0, -1, 0, 1, -1, 1, -1, -1, 1, 0, -1,
    1, 1, 0, -1, -1, 0, -1, 0, 0, -1, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 1, -1, 0, 1, 0, 0, 1,
    1, 1, -1, -1, 1, -1, 0, 1, -1, 1, 1, 0, -1, 1, 0, 0, 1, 0, 1, 1, 1, -1, 1, 1, 0, 1, 1, 1,
]  # fmt: skip
TWO_IN_THREE_PY_LARGE_EXPECTED = (
    [True] * 5 + [False] * 47 + [True] * 3 + [False] * 16 + [True] * 3 + [False] * 4 + [True] * 3
)


@pytest.mark.parametrize(("close", "rtm", "expected"), TWO_IN_THREE_R)
def test_two_in_three_as_nhsrplotthedots(close, rtm, expected):
    flags = rules(from_flags(close, rtm))["two_of_three"]
    assert (flags != 0).astype(int).tolist() == expected


@pytest.mark.parametrize(
    ("close", "rtm", "expected"),
    [
        ([1] * 81, TWO_IN_THREE_PY_LARGE,
         TWO_IN_THREE_PY_LARGE_EXPECTED),  # test_large
        ([1, 1, 1], [-1, -1, -1], [True] * 3),  # test_negative
        ([1, 1, 1], [1, -1, 1], [False] * 3),  # test_relative_to_mean
        ([0, 0, 0], [1, 1, 1], [False] * 3),  # test_close_to_limits
        ([], [], []),  # test_null_input
    ],
)  # fmt: skip
def test_two_in_three_as_the_python_port(close, rtm, expected):
    flags = rules(from_flags(close, rtm))["two_of_three"]
    assert (flags != 0).tolist() == expected


def test_two_in_three_opposite_sides_end_to_end_as_nhsrplotthedots():
    # test-ptd_spc_standard.R: "it only reports special cause for 2of3 points close to limits
    # when they are on the same side of the mean": 1, -1, ... with the 15th 5.5, the 16th -5.5
    data = np.tile([1.0, -1.0], 8)
    data[14], data[15] = 5.5, -5.5
    chart = xmr(pd.Series(data), screen_mr=True)
    assert chart["variation"].iloc[-2:].tolist() == ["common cause", "common cause"]


def test_two_in_three_difference_a_point_beyond_the_limit_counts_in_csi():
    # Difference (docs/statistics.md): the peers count only points between 2 and 3 sigma
    # ("close to limits", issue #153); DESIGN.md counts a point beyond a limit too. Values
    # 3.5 (beyond), 1, 2.5: the peer flags the 3.5 as beyond the limit only; csi also
    # flags both as two of three.
    found = rules([3.5, 1.0, 2.5])
    assert found["beyond_limits"].tolist() == [1, 0, 0]
    assert found["two_of_three"].tolist() == [1, 0, 1]


# ------------------------------------------------------------------ runs (7 on one side)

#: (relative_to_mean, seven_point_one_side_mean as the peer returns it at the 7th point)
RUNS = [
    # NHSRplotthedots, "ptd_seven_point_one_side_mean works as expected"
    ([], []),
    ([1] * 6, [0] * 6),
    ([1] * 6 + [-1], [0] * 7),
    ([1] * 8 + [-1], [0] * 6 + [1, 1, 0]),
    ([-1] * 8 + [1], [0] * 6 + [1, 1, 0]),
    # nhspy-plotthedots test_seven_point_one_side_mean.py
    ([1] * 7, [0] * 6 + [1]),  # test_above
    ([-1] * 7, [0] * 6 + [1]),  # test_below
    ([-1, 0, 1, 0, -1, 0, 1], [0] * 7),  # test_equal
    ([1, 0, -1], [0, 0, 0]),  # test_small_input
    ([1] * 10 + [-1] * 10, [0] * 6 + [1] * 4 + [0] * 6 + [1] * 4),  # test_large_input
    # (test_invalid feeds -10 .. 9 as "relative to mean", which no chart has: not ported)
]


@pytest.mark.parametrize(("rtm", "at_seventh"), RUNS)
def test_run_of_seven_as_the_peers(rtm, at_seventh):
    flags = rules(np.asarray(rtm, dtype=float))["run_7"]
    assert (flags != 0).tolist() == part_of(at_seventh)


def test_run_difference_points_on_the_centre_line():
    # Difference: the Python port's test_zero counts 7 points on the mean as a run
    # (its check "vp[i+6] != 0" is commented out); NHSRplotthedots and DESIGN.md say a
    # point on the centre line breaks a run, so csi flags nothing.
    assert not rules([0.0] * 7)["run_7"].any()


# ------------------------------------------------------------------ trends (7 in the peers)

TRENDS = [
    # NHSRplotthedots, "ptd_seven_point_trend works as expected" (flag at the 7th point)
    ([], []),
    (list(range(1, 7)), [0] * 6),
    ([1, 2, 3, 3, 4, 5, 6], [0] * 7),
    (list(range(1, 8)), [0] * 6 + [1]),
    ([2, *range(1, 8), 3], [0] * 7 + [1, 0]),
    (list(range(7, 0, -1)), [0] * 6 + [-1]),
    ([2, *range(7, 0, -1), 3], [0] * 7 + [-1, 0]),
    # nhspy-plotthedots test_seven_point_trend.py
    (list(range(1, 11)), [0] * 6 + [1] * 4),  # test_increasing_trend
    (list(range(10, 0, -1)), [0] * 6 + [-1] * 4),  # test_decreasing_trend
    ([1, 2, 3, 4, 5, 4, 3, 2, 1, 2], [0] * 10),  # test_no_trend
    ([1, 2, 3], [0] * 3),  # test_small_input
    (list(range(20)), [0] * 6 + [1] * 14),  # test_large_input
    ([1] * 7, [0] * 7),  # test_exact_seven_input
    ([1, 2, 3, 2, 1, 2, 3, 4, 5, 6, 7, 4, 3, 2, 1, 2], [0] * 10 + [1] + [0] * 5),  # mixed
    ([-1, -2, -3, -2, -1, -2, -3, -4, -5, -6, -7, -4, -3, -2, -1, -2],
     [0] * 10 + [-1] + [0] * 5),  # test_negative_input
]  # fmt: skip


@pytest.mark.parametrize(("values", "at_seventh"), TRENDS)
def test_trend_of_seven_as_the_peers(values, at_seventh):
    flags = rules(np.asarray(values, dtype=float) / 100)["trend_6"]  # inside the limits
    assert (flags != 0).tolist() == part_of(at_seventh)
    signs = {int(np.sign(v)) for v in at_seventh if v}
    assert {int(f) for f in flags if f} == signs  # rising +1, falling -1


def test_trend_difference_default_length():
    # Difference: the peers' trend is 7 points; DESIGN.md's is 6 (as the Making Data Count
    # Excel tool allows, NHSRplotthedots issue #202). With trend=7 csi equals the peers
    # (above); at its default 6 points rising are a trend.
    assert rules(list(np.arange(6) / 100), trend=6)["trend_6"].all()
    assert not rules(list(np.arange(6) / 100), trend=7)["trend_6"].any()


# ------------------------------------------------------------------ limits

#: nhspy-plotthedots test_limits_calculations.py: values -> (mean, lpl, upl); the port
#: always screens moving ranges (mr < 3.267 * mean mr), as xmr(screen_mr=True)
LIMITS_PY = [
    (list(range(1, 11)), (5.5, 2.84, 8.16)),
    (list(range(10, 0, -1)), (5.5, 2.84, 8.16)),
    ([1, 2, 3, 4, 5, 4, 3, 2, 1, 2], (2.7, 0.040000000000000036, 5.36)),
    ([1, 2, 3], (2.0, -0.6600000000000001, 4.66)),
    (list(range(20)), (9.5, 6.84, 12.16)),
    ([3, 1, 4, 1, 5, 9, 2], (3.5714285714285716, -6.625238095238096, 13.768095238095238)),
    ([1, 2, 3, 2, 1, 2, 3, 4, 5, 6, 7, 4, 3, 2, 1, 2],
     (3.0, -0.014666666666666828, 6.014666666666667)),
    ([-1, -2, -3, -2, -1, -2, -3, -4, -5, -6, -7, -4, -3, -2, -1, -2],
     (-3.0, -6.014666666666667, 0.014666666666666828)),
]  # fmt: skip

#: NHSRplotthedots test-ptd_spc_standard.R: set.seed(123); y <- rnorm(20) (R's values)
RNORM_123 = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621,
    -1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272,
    -0.55584113, 1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip


@pytest.mark.parametrize(("values", "expected"), LIMITS_PY)
def test_limits_as_the_python_port(values, expected):
    chart = xmr(pd.Series(values, dtype=float), screen_mr=True)
    row = chart.iloc[0]
    assert (row["centre"], row["lower"], row["upper"]) == pytest.approx(expected, abs=1e-9)


def test_limits_as_the_nhsrplotthedots_snapshots():
    # _snaps/ptd_spc_standard.md: r1 (screened), r2 (y[15] = 10, screened), r3 (unscreened)
    y = np.array(RNORM_123)
    r1 = xmr(pd.Series(y), screen_mr=True).iloc[0]
    assert (r1["centre"], r1["lower"], r1["upper"]) == pytest.approx(
        (0.1416238, -3.01138, 3.294627), abs=5e-7
    )
    y[14] = 10
    r2 = xmr(pd.Series(y), screen_mr=True).iloc[0]
    assert (r2["centre"], r2["lower"], r2["upper"]) == pytest.approx(
        (0.6694159, -2.383666, 3.722497), abs=5e-7
    )
    r3 = xmr(pd.Series(y)).iloc[0]
    assert (r3["lower"], r3["upper"]) == pytest.approx((-4.596625, 5.935457), abs=5e-7)
    assert not xmr(pd.Series(RNORM_123)).signal.any()  # the snapshot: 20 common cause


# ------------------------------------------------------------------ assurance


@pytest.mark.parametrize(
    ("better", "expected"),
    [
        ("higher", ["consistently fails", "consistently passes", "hit and miss"]),
        ("lower", ["consistently passes", "consistently fails", "hit and miss"]),
        ("neither", ["unknown", "unknown", "hit and miss"]),
    ],
)
def test_assurance_as_nhsrplotthedots(better, expected):
    # test-ptd_calculate_assurance_type.R: limits (1, 3), (5, 7), (1, 5), target 4
    # (a neutral direction gives NA in the peer: csi says "unknown" outside the limits)
    found = [
        assurance(pd.DataFrame({"lower": [lo], "upper": [hi]}), target=4, better=better)
        for lo, hi in ((1, 3), (5, 7), (1, 5))
    ]
    assert found == expected


# ------------------------------------------------------------------ provenance


def test_every_difference_is_listed_in_the_docs():
    text = (ROOT / "docs" / "statistics.md").read_text(encoding="utf-8")
    section = text.split("## Differences from NHSRplotthedots", 1)[1].split("\n## ", 1)[0]
    for topic in ("trend", "2 of 3", "centre line", "screen", "fewer than", "partial"):
        assert re.search(topic, section, re.IGNORECASE), topic
    assert "050b07d" in section and "bfdefe4" in section and "MIT" in section
