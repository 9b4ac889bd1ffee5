"""Stage 1 helpers: partial bins, scorecard formatting."""

from __future__ import annotations

import pandas as pd

from csi_lib.periods import partial_bins
from csi_lib.tables import change_arrow, format_value


def test_partial_first_and_last_bins_are_masked():
    utc = "UTC"
    series = pd.DataFrame(
        {
            "period_start": pd.to_datetime(["2025-01-15", "2025-02-01", "2025-03-01"]).tz_localize(
                utc
            ),
            "period_end": pd.to_datetime(["2025-02-01", "2025-03-01", "2025-03-20"]).tz_localize(
                utc
            ),
        }
    )
    bins = (series["period_start"], series["period_end"])
    assert partial_bins(*bins, "month").tolist() == [True, False, True]
    weeks = pd.DataFrame(
        {
            "period_start": pd.to_datetime(["2025-01-01", "2025-01-06"]).tz_localize(utc),
            "period_end": pd.to_datetime(["2025-01-06", "2025-01-13"]).tz_localize(utc),
        }
    )
    assert partial_bins(weeks["period_start"], weeks["period_end"], "week").tolist() == [
        True,
        False,
    ]
    # a whole bin is partial too when the data (or the as-of cut) ends inside it
    cut = pd.Timestamp("2025-01-10", tz=utc)
    assert partial_bins(
        weeks["period_start"], weeks["period_end"], "week", complete_until=cut
    ).all()


def test_values_are_formatted_with_units_and_arrows():
    assert format_value(27.62, "hours") == "27.6 h"
    assert format_value(9980.0, "requests") == "9,980"
    assert format_value(86.503, "%") == "86.5 %"
    assert format_value(None, "%") == "—"
    assert change_arrow(40.0, 26.0, "lower") == "▼ better"
    assert change_arrow(86.0, 90.0, "higher") == "▲ better"
    assert change_arrow(4.0, 3.9, "higher") == "▼ worse"
    assert change_arrow(100, 120, "neither") == "▲"
