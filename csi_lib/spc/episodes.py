"""Special-cause episodes: each stretch of consecutive points one rule flags, with its variation.

A chart flags points (:func:`~csi_lib.spc.xmr`'s rule columns); an alert or a sentence
needs *episodes*: a run of 7 is one signal, not seven, and a point beyond a limit in
March after one in January is a second signal. A partial point is never flagged (it
takes no part in the rules), and a missing point is skipped: the points either side of
it are neighbours, as for the rules themselves.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .rules import RULES


def episodes(chart: pd.DataFrame, rules: tuple[str, ...] = RULES) -> list[dict[str, Any]]:
    """The special-cause episodes of an XmR chart frame, in time order.

    Parameters
    ----------
    chart:
        A frame of :func:`~csi_lib.spc.xmr` (or a slice of it, e.g. the points after the
        baseline).
    rules:
        The rule columns to read (default: all four).

    Returns
    -------
    list of dict
        ``rule``, ``start`` and ``end`` (index labels of the first and last point),
        ``points`` (how many) and ``variation`` ("improvement", "concern" or "neither");
        a change of variation inside a stretch starts a new episode.

    Examples
    --------
    >>> from csi_lib.spc import xmr
    >>> s = pd.Series([5.0, 6, 5, 6, 5, 6, 14, 5, 6, 15],
    ...               index=pd.date_range("2025-01-01", periods=10, freq="MS"))
    >>> chart = xmr(s, better="lower", baseline=("2025-01", "2025-06"))
    >>> [(e["rule"], str(e["start"].date()), e["points"], e["variation"])
    ...  for e in episodes(chart, rules=("beyond_limits",))]
    [('beyond_limits', '2025-07-01', 1, 'concern'), ('beyond_limits', '2025-10-01', 1, 'concern')]
    """
    present = chart[chart["x"].notna()]
    out: list[dict[str, Any]] = []
    labels = list(present.index)
    variations = present["variation"].tolist()
    for rule in rules:
        flagged = present[rule].fillna(False).astype(bool).tolist()
        current: dict[str, Any] | None = None
        for label, hit, variation in zip(labels, flagged, variations, strict=True):
            if hit and current is not None and current["variation"] == variation:
                current["end"], current["points"] = label, current["points"] + 1
                continue
            current = None
            if hit:
                current = {"rule": rule, "start": label, "end": label, "points": 1,
                           "variation": variation}  # fmt: skip
                out.append(current)
    order = {rule: i for i, rule in enumerate(RULES)}
    return sorted(out, key=lambda e: (e["start"], order.get(e["rule"], 9)))
