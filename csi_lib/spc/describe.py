"""An XmR chart in words: :func:`summary` gives the latest point, the limits, the
assurance, every signal (runs and trends as one episode) and one sentence about the
most recent signal."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .chart import assurance, xmr  # noqa: F401 - xmr: for the docstring example
from .inputs import _check_better
from .rules import _VARIATION, RULES, RUN_LENGTH, TREND_LENGTH, rule_labels


def _label_formatter(index: pd.Index):
    if isinstance(index, pd.DatetimeIndex):
        monthly = len(index) > 0 and bool(
            ((index.day == 1) & (index.hour == 0) & (index.minute == 0)).all()
        )
        fmt = "%Y-%m" if monthly else "%Y-%m-%d"
        return lambda label: pd.Timestamp(label).strftime(fmt)
    return lambda label: f"point {label}"


def _episodes(chart: pd.DataFrame, rule: str) -> list[tuple[int, int]]:
    """(first, last) row positions of consecutive flagged points of ``rule``.

    Runs and trends are reported as one episode; the other rules per point.
    Missing points inside a run do not split it.
    """
    flagged = chart[rule].to_numpy()
    present = chart["x"].notna().to_numpy()
    pos = np.flatnonzero(flagged)
    if rule not in ("run_7", "trend_6"):
        return [(p, p) for p in pos]
    episodes: list[tuple[int, int]] = []
    side = chart["side"].to_numpy()
    x = chart["x"].to_numpy()
    for p in pos:
        if episodes:
            a, b = episodes[-1]
            between = present[b + 1 : p]
            same_seg = chart["segment"].iat[p] == chart["segment"].iat[b]
            if rule == "trend_6":  # a rise followed by a fall is two trends
                same_way = a == b or np.sign(x[p] - x[b]) == np.sign(x[b] - x[a])
            else:
                same_way = side[p] == side[b]
            if not between.any() and same_seg and same_way:
                episodes[-1] = (a, p)
                continue
            if rule == "trend_6" and not between.any() and same_seg:
                episodes.append((b, p))  # the turning point belongs to both trends
                continue
        episodes.append((p, p))
    return episodes


def summary(chart: pd.DataFrame, better: str | None = None, *, target: float | None = None) -> dict:
    """Plain-language summary of an XmR chart.

    Parameters
    ----------
    chart:
        Output of :func:`xmr`.
    better:
        The KPI's better direction; defaults to ``chart.attrs["better"]``.
    target:
        Optional target (KPI unit) for the assurance; defaults to
        ``chart.attrs["target"]``.

    Returns
    -------
    dict
        ``latest_period`` (label of the last non-missing point of a complete
        period: a partial point is never the latest word),
        ``latest_value``, ``latest_variation``, ``centre``, ``lower``,
        ``upper`` (latest segment), ``assurance``, ``signals`` (a list of
        dicts: ``rule``, ``label``, ``start``, ``end``, ``points``, ``side``,
        ``variation``; runs and trends as one entry), and ``description``: one
        sentence about the most recent signal, e.g. "A sustained shift of 7
        points below the centre line since 2025-09: improvement."

    Examples
    --------
    >>> c = xmr(pd.Series([5.0, 5, 6, 5, 6, 5, 30]), better="lower")
    >>> summary(c)["description"]
    'A point above the upper process limit at point 6: concern.'
    """
    better = _check_better(better or chart.attrs.get("better", "neither"))
    if target is None:
        target = chart.attrs.get("target")
    judged = chart["x"].notna()
    if "partial" in chart:
        judged &= ~chart["partial"].astype(bool)
    present = chart[judged] if not chart.empty else chart
    result: dict[str, Any] = {
        "latest_period": None,
        "latest_value": np.nan,
        "latest_variation": None,
        "centre": np.nan,
        "lower": np.nan,
        "upper": np.nan,
        "assurance": assurance(chart, target=target, better=better),
        "signals": [],
        "description": "No data to chart.",
    }
    if present.empty:
        return result
    last = present.iloc[-1]
    result.update(
        latest_period=present.index[-1],
        latest_value=float(last["x"]),
        latest_variation=last["variation"],
        centre=float(chart["centre"].iloc[-1]),
        lower=float(chart["lower"].iloc[-1]),
        upper=float(chart["upper"].iloc[-1]),
    )
    signals = _signal_episodes(chart, better)
    if signals:
        result["description"] = _latest_signal_sentence(chart, signals[-1])
    elif pd.isna(result["lower"]):
        result["description"] = (
            f"Too few points for process limits; the latest value is {last['x']:.4g}."
        )
    else:
        result["description"] = (
            f"Common cause variation only: the process is stable around "
            f"{result['centre']:.4g} (limits {result['lower']:.4g} to {result['upper']:.4g})."
        )
    for s in signals:
        del s["_last"], s["_first"]
    result["signals"] = signals
    return result


def _signal_episodes(chart: pd.DataFrame, better: str) -> list[dict[str, Any]]:
    """Every signal of the chart, runs and trends as one episode, most recent last
    (with their first and last row positions in ``_first`` and ``_last``)."""
    signals = []
    labels = rule_labels(chart.attrs.get("run", RUN_LENGTH), chart.attrs.get("trend", TREND_LENGTH))
    for rule in RULES:
        for a, b in _episodes(chart, rule):
            first, final = chart.iloc[a], chart.iloc[b]
            points = int(chart["x"].iloc[a : b + 1].notna().sum())
            if rule == "trend_6":
                direction = 1 if final["x"] > first["x"] else -1
            else:
                direction = 1 if final["x"] > final["centre"] else -1
            signals.append(
                {
                    "rule": rule,
                    "label": labels[rule],
                    "start": chart.index[a],
                    "end": chart.index[b],
                    "points": points,
                    "side": "high" if direction > 0 else "low",
                    "variation": _VARIATION[better][direction],
                    "_last": b,
                    "_first": a,
                }
            )
    signals.sort(key=lambda s: (s["_last"], s["_last"] - s["_first"]))
    return signals


def _latest_signal_sentence(chart: pd.DataFrame, s: dict[str, Any]) -> str:
    """One sentence about a signal: what, where, since or from when, and its variation."""
    fmt = _label_formatter(chart.index)
    last_pos = len(chart) - 1
    while last_pos > 0 and pd.isna(chart["x"].iloc[last_pos]):
        last_pos -= 1
    ongoing = s["_last"] == last_pos
    where = "above" if s["side"] == "high" else "below"
    start, end = fmt(s["start"]), fmt(s["end"])
    when = f"since {start}" if ongoing and s["points"] > 1 else f"from {start} to {end}"
    texts = {
        "run_7": f"A sustained shift of {s['points']} points {where} the centre line {when}",
        "trend_6": f"A {'rising' if s['side'] == 'high' else 'falling'} trend of "
        f"{s['points']} points {when}",
        "beyond_limits": f"A point {where} the {'upper' if s['side'] == 'high' else 'lower'} "
        f"process limit at {end}",
        "two_of_three": f"A point close to the {'upper' if s['side'] == 'high' else 'lower'} "
        f"limit (2 of 3 beyond 2 sigma) at {end}",
    }
    return f"{texts[s['rule']]}: {s['variation']}."
