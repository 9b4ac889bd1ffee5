"""The baseline context of a target: its KPI series, XmR limits, best value ever observed and what the target asks of the process."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ConfigError, CsiError
from ..periods import Period, natural_bin, partial_bins
from ..schema import CLOSED_OUTCOMES
from .model import (
    _KIND_DIRECTION,
    Target,
    _get_kpi,
    _kpis,
    _unknown_kpi_message,
    resolve_target_value,
    target_value_of,
)

# --------------------------------------------------------------------------- baseline context


@dataclass
class TargetContext:
    """Where a target stands against its baseline.

    Attributes
    ----------
    series:
        The KPI's monthly (or weekly) series over the baseline, scope applied
        (columns of :func:`csi_lib.kpis.kpi_series`).
    chart:
        The XmR frame of that series (``centre``, ``lower``, ``upper``...), or
        None when the baseline has fewer than two values.
    baseline_value, baseline_n:
        The KPI over the whole baseline period (a count KPI: its mean per month or
        week over the baseline's complete bins, :func:`~csi_lib.targets.model.per_bin`)
        and the size of its population.
    target_value:
        The absolute value the target asks for (NaN if it cannot be resolved).
    best_value, best_period:
        The best month (in the direction the target asks for) from the start of
        the data to the end of the baseline, and that month's start.
    """

    target: Target
    kpi: Any
    series: pd.DataFrame
    chart: pd.DataFrame | None
    baseline_value: float
    baseline_n: int
    target_value: float
    best_value: float = float("nan")
    best_period: pd.Timestamp | None = None
    freq: str = "month"
    centre: float = float("nan")
    lower: float = float("nan")
    upper: float = float("nan")
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Why the data cannot measure the KPI at all (:func:`csi_lib.kpis.not_measured`), or None.
    not_measured: str | None = None

    @property
    def has_limits(self) -> bool:
        return not (pd.isna(self.lower) or pd.isna(self.upper))


def _limit(chart: pd.DataFrame, name: str) -> float:
    if chart is None or name not in chart.columns:
        return float("nan")
    values = pd.to_numeric(chart[name], errors="coerce").dropna()
    # limits computed on the baseline are constant; take the last one
    return float(values.iloc[-1]) if len(values) else float("nan")


@dataclass
class _BaselineStats:
    series: pd.DataFrame
    history: pd.DataFrame
    chart: pd.DataFrame | None
    value: float
    n: int
    lowest: tuple[float, pd.Timestamp | None]
    highest: tuple[float, pd.Timestamp | None]


def _extreme(history: pd.DataFrame, how: str) -> tuple[float, pd.Timestamp | None]:
    values = pd.to_numeric(history.get("value", pd.Series(dtype=float)), errors="coerce")
    values = values.dropna()
    if values.empty:
        return float("nan"), None
    idx = values.idxmin() if how == "min" else values.idxmax()
    start = history.loc[idx, "period_start"] if "period_start" in history.columns else None
    return float(values.loc[idx]), (pd.Timestamp(start) if start is not None else None)


class _Evaluator:
    """Computes (and caches) baseline statistics per KPI and scope for one data set."""

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        baseline_period: Period,
        freq: str = "month",
    ) -> None:
        self.df = df
        #: the load's canonical column -> source column (an absent column from an empty one)
        self.columns_used: dict[str, str] | None = None
        self.baseline_period = baseline_period
        self.freq = freq
        self._scoped: dict[Any, pd.DataFrame] = {}
        self._stats: dict[Any, _BaselineStats] = {}
        tz = baseline_period.tz
        opened = df["opened_at"].dropna() if "opened_at" in df.columns else pd.Series(dtype=object)
        first = pd.Timestamp(opened.min()) if len(opened) else baseline_period.start
        start = min(first, baseline_period.start)
        first_bin, _ = natural_bin(start, freq, tz)
        self.history_period = Period(min(first_bin, baseline_period.start), baseline_period.end, tz)

    @staticmethod
    def _key(scope: Mapping[str, Any] | None) -> tuple:
        if not scope:
            return ()
        return tuple(
            sorted((k, tuple(v) if isinstance(v, list) else (v,)) for k, v in scope.items())
        )

    def scoped(self, scope: Mapping[str, Any] | None) -> pd.DataFrame:
        key = self._key(scope)
        if key not in self._scoped:
            self._scoped[key] = self.df if not scope else _kpis().scope_filter(self.df, dict(scope))
        return self._scoped[key]

    def received_in_baseline(self, scope: Mapping[str, Any] | None) -> int:
        data = self.scoped(scope)
        return int(self.baseline_period.contains(data["opened_at"]).sum())

    def closed_in_baseline(self, scope: Mapping[str, Any] | None) -> pd.DataFrame:
        data = self.scoped(scope)
        mask = self.baseline_period.contains(data["closed_at"]) & data["outcome"].isin(
            CLOSED_OUTCOMES
        )
        return data[mask.fillna(False)]

    def stats(self, kpi_key: str, scope: Mapping[str, Any] | None) -> _BaselineStats:
        key = (kpi_key, self._key(scope))
        if key not in self._stats:
            self._compute_stats([kpi_key], scope)
        return self._stats[key]

    def prefetch(self, targets: Iterable[Target]) -> None:
        """Compute the statistics of every target's (KPI, scope) in one pass per scope.

        One KPI table and one series per scope, for all the KPIs the targets of that
        scope ask for, instead of one of each per target (every KPI's values are
        the same either way). A scope the data cannot serve is left to :meth:`stats`,
        which raises when that target is checked.
        """
        wanted: dict[tuple, tuple[Mapping[str, Any] | None, list[str]]] = {}
        for target in targets:
            key = self._key(target.scope)
            if _get_kpi(target.kpi) is None or (target.kpi, key) in self._stats:
                continue
            kpi_keys = wanted.setdefault(key, (target.scope, []))[1]
            if target.kpi not in kpi_keys:
                kpi_keys.append(target.kpi)
        for scope, kpi_keys in wanted.values():
            try:
                self._compute_stats(kpi_keys, scope)
            except CsiError:
                continue

    def _compute_stats(self, kpi_keys: list[str], scope: Mapping[str, Any] | None) -> None:
        kpis = _kpis()
        data = self.scoped(scope)
        table = kpis.kpi_table(data, self.baseline_period, kpis=kpi_keys)
        histories = kpis.kpi_series(data, self.history_period, freq=self.freq, kpis=kpi_keys)
        for kpi_key in kpi_keys:
            row = table[table["kpi"] == kpi_key]
            history = histories[histories["kpi"] == kpi_key].reset_index(drop=True)
            self._stats[(kpi_key, self._key(scope))] = self._baseline_stats(kpi_key, row, history)

    def _baseline_stats(
        self, kpi_key: str, row: pd.DataFrame, history: pd.DataFrame
    ) -> _BaselineStats:
        value = float(row["value"].iloc[0]) if len(row) else float("nan")
        n = int(row["n"].fillna(0).iloc[0]) if len(row) and "n" in row.columns else 0
        history = history.assign(
            partial=partial_bins(
                history["period_start"], history["period_end"], self.freq,
                complete_until=self.baseline_period.end, tz=self.baseline_period.tz,
            )
        )  # fmt: skip
        in_baseline = history["period_start"] >= self.baseline_period.start
        series = history[in_baseline].reset_index(drop=True)
        chart = None
        values = pd.Series(
            pd.to_numeric(series["value"], errors="coerce").to_numpy(dtype="float64"),
            index=pd.DatetimeIndex(series["period_start"]),
            name=kpi_key,
        )
        complete = ~series["partial"].to_numpy(dtype=bool)
        if values[complete].notna().sum() >= 2:
            chart = _xmr(values, _kpis().get_kpi(kpi_key), ~complete)
        whole = history[~history["partial"]]  # a partial month is never the best one
        return _BaselineStats(
            series=series,
            history=history,
            chart=chart,
            # a count: per month (or week) over the baseline's complete bins, the chart's unit
            value=target_value_of(_kpis().get_kpi(kpi_key), value, series),
            n=n,
            lowest=_extreme(whole, "min"),
            highest=_extreme(whole, "max"),
        )

    def context(self, target: Target) -> TargetContext:
        kpi = _get_kpi(target.kpi)
        if kpi is None:
            raise ConfigError(_unknown_kpi_message(target.kpi), column="kpi")
        st = self.stats(target.kpi, target.scope)
        tv = resolve_target_value(target, st.value)
        direction = _wanted_direction(target, st.value, tv)
        best_value, best_period = st.lowest if direction < 0 else st.highest
        return TargetContext(
            target=target,
            kpi=kpi,
            series=st.series,
            chart=st.chart,
            baseline_value=st.value,
            baseline_n=st.n,
            target_value=tv,
            best_value=best_value,
            best_period=best_period,
            freq=self.freq,
            centre=_limit(st.chart, "centre"),
            lower=_limit(st.chart, "lower"),
            upper=_limit(st.chart, "upper"),
            history=st.history,
            not_measured=_kpis().not_measured(self.df, kpi, columns_used=self.columns_used),
        )


def _xmr(values: pd.Series, kpi: Any, partial: Any = None) -> pd.DataFrame:
    """The baseline's XmR chart: limits clipped to the values the KPI can take (a share is
    never below 0 %), partial months taking no part."""
    from .. import spc

    floor, ceiling = kpi.value_range
    return spc.xmr(values, better=kpi.better, floor=floor, ceiling=ceiling, partial=partial)


def _wanted_direction(target: Target, baseline_value: float, target_value: float) -> int:
    """-1 when the target asks the KPI to go (or stay) down, +1 up; ``within`` from the baseline."""
    direction = _KIND_DIRECTION[target.kind]
    if direction == 0:
        if pd.isna(baseline_value) or pd.isna(target_value):
            return -1
        return -1 if baseline_value > target_value else 1
    return direction


def target_context(
    target: Target, *, df: pd.DataFrame, baseline_period: Period, freq: str = "month"
) -> TargetContext:
    """The baseline series, its XmR limits, the baseline value and the best month of a target.

    Parameters
    ----------
    target:
        The target (its KPI must be registered).
    df:
        The canonical request frame (all data; the best month is searched from
        its first month up to the end of the baseline).
    baseline_period:
        The baseline :class:`~csi_lib.periods.Period`.
    freq:
        ``"month"`` or ``"week"``: the series' frequency.

    Examples
    --------
    >>> ctx = target_context(target, df=cycle.data, baseline_period=cycle.periods["baseline"])
    >>> [round(v, 1) for v in (ctx.baseline_value, ctx.target_value, ctx.lower, ctx.upper)]
    [41.8, 28.0, 32.8, 49.8]
    """
    return _Evaluator(df, baseline_period=baseline_period, freq=freq).context(target)
