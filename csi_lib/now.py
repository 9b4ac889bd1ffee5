"""Stage 1, "Where are we now?": everything its notebook shows, in one object.

The notebook calls :func:`prepare` with its parameters and then one method per
section. With a cycle folder, the period is the cycle's baseline period and
the snapshot is the cycle's ``baseline/``; without one, the period comes from
the parameters (default: all of the data up to ``as_of``) and the snapshot is
written to the report folder.

Examples
--------
>>> stage = prepare(data_path=SAMPLE_DATA, preset="generic",     # data/sample_requests.csv.gz
...                 period_from="2025-01-01", period_to="2025-06-30")
>>> stage.period.label
'2025-01-01 to 2025-06-30'
>>> stage.scorecard().head(3)
                  KPI  Value              Better
0   Requests received  9,980            – demand
1  Requests fulfilled  8,859  ↑ higher is better
2   Requests declined    481   ↓ lower is better
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import kpis as K
from . import shipped
from .baseline import Snapshot, create_snapshot, load_snapshot, row_counts
from .periods import Period
from .present import present
from .sources import LoadResult, data_quality, load_requests
from .tables import scorecard

#: The bundled sample data, used when neither a cycle nor a data file is given.
SAMPLE_DATA = shipped.SAMPLE_DATA

#: KPIs shown as small multiples on the overview chart.
OVERVIEW_KPIS: tuple[str, ...] = (
    "received",
    "backlog",
    "pct_fulfilled",
    "fulfil_median_h",
    "assess_median_h",
    "pct_within_sla",
    "pct_declined",
    "csat_mean",
    "pct_reopened",
)


@dataclass
class StageOne:
    """Data, period and results of "Where are we now?"."""

    load: LoadResult
    period: Period
    min_group_size: int = 5
    snapshot_dir: Path | None = None
    cycle: Any = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def df(self) -> pd.DataFrame:
        """The canonical request frame."""
        return self.load.data

    def summary_text(self) -> str:
        """One paragraph (markdown) on the data: rows read, kept, quarantined, period."""
        s = self.load.summary()
        text = (
            f"**{s['rows_read']:,}** rows read from `{Path(str(s['source'])).name}` "
            f"(mapping *{s['mapping']}*): **{s['rows_kept']:,}** kept, "
            f"**{s['rows_quarantined']:,}** quarantined. Period: **{self.period.label}** (UTC)."
        )
        if s["rows_quarantined"]:
            reasons = ", ".join(f"{r} ({n:,})" for r, n in s["quarantined_by_reason"].items())
            text += f" Quarantined rows by reason: {reasons}."
        return text

    def snapshot_text(self, snapshot: Snapshot | None) -> str:
        """One paragraph (markdown) on the snapshot (:func:`snapshot_text`), or while the
        baseline period is not over, when it will be taken."""
        if snapshot is None and self.baseline_pending:
            c = self.cycle.config
            return (
                f"**The baseline period is not over** (it runs {c.baseline.from_} to "
                f"{c.baseline.to}; as of {self.cycle.as_of}): the figures above are the baseline "
                "so far. The baseline snapshot is taken, once and for good, by the first run "
                f"after {c.baseline.to}."
            )
        return snapshot_text(snapshot)

    def quality(self) -> pd.DataFrame:
        """Coverage of each canonical column, as a table for readers.

        The tidy frame is :func:`csi_lib.sources.data_quality`; here headers are
        words, "In the source" reads yes/no and an em dash marks "none"
        (no source column, no lowest/highest value for text columns).
        """
        return present(data_quality(self.load), kpi_column=None)

    def values(self) -> pd.Series:
        """All KPI values over the period."""
        if "values" not in self._cache:
            self._cache["values"] = K.kpi_values(self.df, self.period)
        return self._cache["values"]

    def scorecard(self) -> pd.DataFrame:
        """The KPI scorecard of the period, formatted with units and directions."""
        return scorecard(self.values())

    def series(self, freq: str = "month", *, whole_bins: bool = True) -> pd.DataFrame:
        """Every KPI as a monthly (or weekly) series over the period.

        With ``whole_bins`` (default) a first or last month/week that the period
        cuts short is left out, so a partial bin does not look like a drop.
        """
        key = f"series_{freq}_{whole_bins}"
        if key not in self._cache:
            series = K.kpi_series(self.df, self.period, freq=freq)
            if whole_bins:
                series = series[whole_bin_mask(series, freq)].reset_index(drop=True)
            self._cache[key] = series
        return self._cache[key]

    def breakdown(self, by: str) -> pd.DataFrame:
        """Every KPI per group of ``by`` (small groups hidden)."""
        key = f"breakdown_{by}"
        if key not in self._cache:
            self._cache[key] = K.breakdown(
                self.df, self.period, by=by, min_group_size=self.min_group_size
            )
        return self._cache[key]

    @property
    def baseline_pending(self) -> bool:
        """True for a cycle whose baseline period is not over and has no snapshot yet."""
        c = self.cycle
        return c is not None and not c.baseline_dir.exists() and c.status("baseline") != "complete"

    def save_snapshot(self) -> Snapshot | None:
        """The baseline snapshot: the cycle's (created once, then re-read and verified) or a new one.

        None while the cycle's baseline period is not over (the snapshot is
        taken by the first run after it ends) or without an output folder.
        """
        if self.baseline_pending:
            return None
        if self.cycle is not None:
            return self.cycle.baseline_snapshot()
        if self.snapshot_dir is None:
            return None
        if self.snapshot_dir.exists() and any(self.snapshot_dir.iterdir()):
            return load_snapshot(self.snapshot_dir)
        snap = create_snapshot(
            self.df,
            self.period,
            source=self.load.source,
            fingerprint=self.load.fingerprint,
            mapping=self.load.mapping.model_dump(mode="json"),
            rows=row_counts(self.load),
            min_group_size=self.min_group_size,
        )
        snap.save(self.snapshot_dir)
        return load_snapshot(self.snapshot_dir)


def whole_bin_mask(series: pd.DataFrame, freq: str) -> pd.Series:
    """True for rows whose bin is a whole calendar month (or a whole 7-day week)."""
    start, end = series["period_start"], series["period_end"]
    if freq == "week":
        return (end - start) == pd.Timedelta(days=7)
    return (start.dt.day == 1) & (start.dt.hour == 0) & (end == start + pd.offsets.MonthBegin(1))


def _default_period(
    df: pd.DataFrame, period_from: str | None, period_to: str | None, as_of: str | None
) -> Period:
    if period_from and period_to:
        return Period.from_dates(period_from, period_to)
    if df.empty:
        return Period.from_dates(period_from or "1970-01-01", period_to or "1970-01-01")
    first = str(df["opened_at"].min().date())
    last = max(df["opened_at"].max(), df["closed_at"].max())
    last_date = str(last.date())
    if as_of and as_of < last_date:
        last_date = as_of
    return Period.from_dates(period_from or first, period_to or last_date)


def prepare(
    *,
    cycle_dir: str | None = None,
    data_path: str | None = None,
    preset: str | None = None,
    mapping: str | None = None,
    query: str | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
    as_of: str | None = None,
    output_dir: str | None = None,
    min_group_size: int = 5,
) -> StageOne:
    """Load the data and fix the period of "Where are we now?".

    Parameters
    ----------
    cycle_dir:
        A cycle folder: its data source and baseline period are used.
    data_path, preset, mapping:
        The export and how to map it (override the cycle's source).
    query:
        The SQL query or table name when ``data_path`` is a database URL (without a cycle).
    period_from, period_to:
        Inclusive dates of the period (without a cycle); default all data up to ``as_of``.
    output_dir:
        Where the quarantine file goes (and the snapshot, without a cycle); never
        into the cycle folder.
    """
    if cycle_dir:
        from .cycle import open_cycle

        # the report's quarantine file: in its folder, once per run (this stage loads the data)
        quarantine = Path(output_dir) / "quarantine" if output_dir else None
        cycle = open_cycle(
            cycle_dir, data=data_path, preset=preset, mapping=mapping, as_of=as_of,
            quarantine_dir=quarantine,
        )  # fmt: skip
        return StageOne(
            load=cycle.load,
            period=cycle.periods["baseline"],
            min_group_size=cycle.config.min_group_size,
            cycle=cycle,
        )
    out = Path(output_dir) if output_dir else None
    if data_path is None:
        data_path = str(SAMPLE_DATA)
    if preset is None and mapping is None:
        preset = "generic"
    load = load_requests(
        data_path,
        preset=preset,
        mapping=mapping,
        query=query,
        quarantine_dir=(out / "quarantine") if out else None,
    )
    period = _default_period(load.data, period_from, period_to, as_of)
    return StageOne(
        load=load,
        period=period,
        min_group_size=min_group_size,
        snapshot_dir=(out / "baseline") if out else None,
    )


def snapshot_text(snapshot: Snapshot | None) -> str:
    """One paragraph (markdown) saying where the snapshot is and what it fingerprints."""
    if snapshot is None:
        return "No snapshot was written (no output folder was given)."
    m = snapshot.manifest
    return (
        f"Baseline snapshot of **{Period.from_dict(m['period']).label}** "
        f"({m['rows']['kept']:,} requests), source fingerprint `sha256:{m['fingerprint'][:16]}…`, "
        f"created {m['created_at']} with csi-workbook {m['library_version']}. "
        "Snapshots are immutable: later stages read this one back and verify its files."
    )
