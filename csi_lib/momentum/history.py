"""The history of the cycles of a workspace, read from the snapshots each cycle stored (never from its data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import cycle as cycle_mod
from ..errors import ConfigError
from ..review import CycleReview, TargetReview, assess
from ..targets import value_unit

_HISTORY_COLUMNS = [
    "cycle",
    "review_to",
    "target",
    "kpi",
    "label",
    "unit",
    "kind",
    "baseline",
    "target_value",
    "achieved",
    "met",
    "state",
]

#: Where a history row's values come from (the ``state`` column).
MEASURED = "measured on this cycle's data"
STORED = "from the stored baseline snapshots"
NO_BASELINE = "no baseline snapshot stored"
NO_REVIEW = "no stored review yet (the next cycle's baseline snapshot holds it)"
NOT_STORED = "not in the stored snapshot (scope or KPI)"
PARTIAL_BINS = (
    "the stored snapshot holds this scope's total only, and its period is not a whole number"
    " of {bins}: a count per {bin} cannot be taken from it"
)


def _stored_snapshot(folder: Path) -> tuple[Any, str | None]:
    """The sealed baseline snapshot of a cycle folder (files only, never its data), or why not."""
    from ..baseline import load_snapshot
    from ..errors import SnapshotError

    if not (folder / "baseline").is_dir():
        return None, NO_BASELINE
    try:
        return load_snapshot(folder / "baseline"), None
    except (SnapshotError, ConfigError, OSError, ValueError) as exc:
        return None, f"baseline snapshot unreadable ({getattr(exc, 'message', exc)})"


def _snapshot_value(
    snap: Any, kpi: str, scope: dict[str, Any] | None, freq: str = "month"
) -> tuple[float | None, str | None]:
    """``kpi`` over the snapshot's period, whole service or one group of one dimension
    (its breakdown), as a target values it (:func:`csi_lib.targets.target_value_of`: a
    count per month or week over the period's complete bins), and why not: (None, the
    state) when the snapshot does not hold it (NaN = held, no data)."""
    from ..kpis import get_kpi
    from ..targets import per_bin

    if not scope:
        found = snap.kpis[snap.kpis["kpi"] == kpi]
    else:
        if len(scope) != 1:
            return None, NOT_STORED
        ((dim, value),) = scope.items()
        values = value if isinstance(value, list) else [value]
        if len(values) != 1:
            return None, NOT_STORED
        b = snap.breakdowns
        found = b[(b["dimension"] == dim) & (b["group"] == str(values[0])) & (b["kpi"] == kpi)]
    if not len(found):
        return None, NOT_STORED
    whole = float(found["value"].iloc[0])
    if not per_bin(get_kpi(kpi)):
        return whole, None
    return _per_bin_stored(snap, kpi, whole, scoped=bool(scope), freq=freq)


def _per_bin_stored(
    snap: Any, kpi: str, whole: float, *, scoped: bool, freq: str
) -> tuple[float | None, str | None]:
    """A count of a snapshot per month or week over its period's complete bins: the mean of
    its stored series (whole service), or a breakdown's total over the number of bins when
    every bin of the period is complete (a breakdown stores no series); else (None, why)."""
    from ..kpis import get_kpi
    from ..periods import partial_bins, period_word
    from ..targets import target_value_of

    series = snap.series_week if period_word(freq) == "week" else snap.series_month
    series = series[series["kpi"] == kpi]
    if series.empty:
        return None, NOT_STORED
    period = snap.period
    partial = partial_bins(
        series["period_start"], series["period_end"], freq,
        complete_until=period.end, tz=period.tz,
    )  # fmt: skip
    if not scoped:
        return target_value_of(get_kpi(kpi), whole, series.assign(partial=partial)), None
    if partial.any():
        word = period_word(freq)
        return None, PARTIAL_BINS.format(bins=f"{word}s", bin=word)
    if pd.isna(whole):
        return None, NOT_STORED
    return whole / len(series), None


def _history_row(cycle_id: str, review_to: Any, tr: TargetReview, state: str) -> dict[str, Any]:
    return {
        "cycle": cycle_id,
        "review_to": review_to,
        "target": tr.id,
        "kpi": tr.kpi.key,
        "label": tr.label,
        "unit": value_unit(tr.kpi, tr.freq),
        "kind": tr.target.kind,
        "baseline": tr.baseline_value,
        "target_value": tr.target_value,
        "achieved": tr.review_value,
        "met": tr.met if tr.compared == "review" else None,
        "state": state,
    }


def _stored_rows(
    folder: Path, snapshots: dict[Path, tuple[Any, str | None]]
) -> list[dict[str, Any]]:
    """History rows of a cycle from what its folder and its successor's stored: the cycle's
    own baseline snapshot (baseline values) and the snapshot of its review period, the
    baseline of the next cycle (achieved values). Its data is never read."""
    from ..kpis import get_kpi
    from ..targets import resolve_target_value

    checked = cycle_mod._check(folder, check_data=False)
    config = checked.config
    planned = config.periods()
    base, why_base = snapshots[folder]
    review_period = planned["review"]
    after = next(
        (
            snap
            for snap, _ in snapshots.values()
            if snap is not None
            and (snap.period.start, snap.period.end) == (review_period.start, review_period.end)
        ),
        None,
    )
    rows = []
    for target in checked.targets.targets:
        kpi = get_kpi(target.kpi)
        tr = TargetReview(target=target, kpi=kpi, periods=dict(planned), freq=config.freq)
        states = []
        value, why = (
            (None, None)
            if base is None
            else _snapshot_value(base, kpi.key, target.scope, config.freq)
        )
        if base is None:
            states.append(why_base or NO_BASELINE)
        elif value is None:
            states.append(why or NOT_STORED)
        tr.baseline_value = float("nan") if value is None else value
        tr.target_value = resolve_target_value(target, tr.baseline_value)
        achieved, why = (
            (None, None)
            if after is None
            else _snapshot_value(after, kpi.key, target.scope, config.freq)
        )
        if after is None:
            states.append(NO_REVIEW)
        elif achieved is None and (why or NOT_STORED) not in states:
            states.append(why or NOT_STORED)
        tr.review_value = float("nan") if achieved is None else achieved
        tr.compared = "review" if achieved is not None else None
        rows.append(_history_row(config.id, config.review.to, tr, "; ".join(states) or STORED))
    return rows


def _measured_rows(rv: CycleReview) -> list[dict[str, Any]]:
    """History rows of the cycle this stage runs on, from its review (already measured)."""
    config = rv.cycle.config
    state = MEASURED
    if rv.periods.get("review") is None:
        state += ": the review period has not started"
    elif rv.status["review"] != "complete":
        state += ": the review period so far"
    return [_history_row(config.id, config.review.to, tr, state) for tr in rv]


def cycle_history(workspace_dir: str | Path, *, current: Any = None) -> pd.DataFrame:
    """Per cycle of a workspace and per target: baseline, target and achieved value.

    Every cycle's values come from what the cycle folders *stored*, never from
    loading their data again: the baseline from the cycle's sealed baseline snapshot
    (``baseline/``), the achieved value from the snapshot of its review period, which
    is the baseline snapshot of the next cycle (``csi cycle next`` and stage 1 write
    it). A value a snapshot does not hold (a scope of several values or dimensions, a
    KPI added since) or a snapshot not taken yet is left empty and the ``state``
    column says so. ``current`` (the cycle, or its review, that stage 6 runs on) is
    taken as measured on its own data instead.

    Wraps :func:`csi_lib.cycle.cycle_history` (which lists the cycle folders); cycles
    whose files cannot be read are skipped (that table says why). Nothing is written
    into the cycle folders.

    Parameters
    ----------
    workspace_dir:
        The folder holding the cycle folders.
    current:
        A :class:`~csi_lib.cycle.Cycle` or :class:`~csi_lib.review.CycleReview` already
        loaded and assessed; its folder's rows come from it. None: every cycle from
        its stored snapshots.

    Returns
    -------
    pandas.DataFrame
        ``cycle`` (id), ``review_to`` (date), ``target``, ``kpi``, ``label`` (KPI label
        and scope), ``unit``, ``kind``, ``baseline``, ``target_value``, ``achieved`` (the
        KPI over the review period; NaN when it is not known), ``met`` (bool, None
        without an achieved value) and ``state`` (where the values come from, or why
        one is missing), oldest cycle first. Values are in the KPI's unit; a count's per
        month or week over complete bins, as its target (``unit``: "requests a month").

    Examples
    --------
    >>> cycle_history(sample_cycle.parent)[["cycle", "target", "kind", "baseline", "met"]].round(1)
         cycle target            kind  baseline   met
    0  2025-h2     T1        minimize      41.8  None
    1  2025-h2     T2        maximize      86.5  None
    2  2025-h2     T3        minimize       1.9  None
    3  2025-h2     T4        maximize       4.0  None
    4  2025-h2     T5  maintain_below       4.9  None
    """
    folders = cycle_mod.cycle_history(workspace_dir)
    readable = [Path(d) for d in folders.loc[folders["problem"].isna(), "dir"]]
    rv = assess(current) if current is not None else None
    own = rv.cycle.dir.resolve() if rv is not None else None
    snapshots = {folder: _stored_snapshot(folder) for folder in readable}
    rows: list[dict[str, Any]] = []
    for folder in readable:
        if own is not None and folder.resolve() == own:
            rows += _measured_rows(rv)
        else:
            rows += _stored_rows(folder, snapshots)
    return pd.DataFrame(rows, columns=_HISTORY_COLUMNS)
