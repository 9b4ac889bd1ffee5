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
from .periods import Period, partial_bins
from .present import present
from .run import Run, start_run
from .sources import LoadResult, data_quality
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
    #: The :class:`csi_lib.run.Run` (its as-of cut says which bins are partial).
    run: Any = None
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
            f"**{s['rows_quarantined']:,}** quarantined. Period: **{self.period.label}** "
            f"({self.period.tz})."
        )
        cut = getattr(self.load, "as_of_cut", None)
        if cut and self.run is not None:
            text += (
                f" The data is taken as it stood at the end of **{self.run.as_of}** "
                f"({self.run.timezone}): {cut['left_out']:,} requests opened later are left out, "
                f"and {cut['not_closed_yet']:,} closed later count as still open."
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
        return scorecard(self.values(), not_measured=self.not_measured())

    def series(self, freq: str = "month") -> pd.DataFrame:
        """Every KPI as a monthly (or weekly) series over the period, with ``partial``: a
        first or last month or week the period cuts short, or not complete at the as-of
        date or the end of the data, is drawn and labelled partial, never compared."""
        key = f"series_{freq}"
        if key not in self._cache:
            series = K.kpi_series(self.df, self.period, freq=freq)
            complete = self.run.complete_until if self.run is not None else None
            series["partial"] = partial_bins(
                series["period_start"], series["period_end"], freq,
                complete_until=complete, tz=self.period.tz,
            )  # fmt: skip
            self._cache[key] = series
        return self._cache[key]

    def not_measured(self) -> dict[str, str]:
        """KPI key -> why the data cannot measure it (no SLA column, no survey...)."""
        used = getattr(self.load, "columns_used", None)
        found = {k.key: K.not_measured(self.df, k, columns_used=used) for k in K.REGISTRY.values()}
        return {key: why for key, why in found.items() if why}

    def dimension(self, by: str) -> str:
        """``by`` when the data has values in it, else the first breakdown dimension that
        has (an export without categories is broken down by group, say)."""
        from .widgets.explorer import available_dimensions

        if by in self.df and self.df[by].notna().any():
            return by
        found = [d for d in available_dimensions(self.df) if self.df[d].notna().any()]
        return found[0] if found else by

    def breakdown(self, by: str) -> pd.DataFrame:
        """Every KPI per group of ``by`` (small groups hidden); a dimension without any value
        in the data gives way to one that has (:meth:`dimension`)."""
        by = self.dimension(by)
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


def prepare(run: Run | None = None, /, *, min_group_size: int = 5, **parameters: Any) -> StageOne:
    """The data and the period of "Where are we now?", from the stage's run.

    Parameters
    ----------
    run:
        The :class:`csi_lib.run.Run` (a report's saved run, or one built live). Without
        one, it is built from ``parameters``: the notebook's ``cycle_dir``, ``data_path``,
        ``preset``, ``mapping``, ``query``, ``period_from``, ``period_to``, ``as_of`` and
        ``output_dir`` (:func:`csi_lib.run.start_run`).
    min_group_size:
        Breakdown groups smaller than this are hidden (without a cycle; a cycle has its own).

    With a cycle, the period is the cycle's baseline period (so far, while it runs);
    without one, the period asked for (default: all of the data up to ``as_of``). The
    snapshot goes to the cycle's ``baseline/``, or without a cycle to the output folder.
    """
    if run is None:
        run = start_run(parameters.pop("run_dir", None), **parameters)
    elif parameters:
        raise TypeError("give either a run or the notebook's parameters, not both")
    if run.config is not None:
        from .cycle import open_cycle

        cycle = open_cycle(run)
        return StageOne(
            load=cycle.load,
            period=cycle.periods["baseline"],
            min_group_size=cycle.config.min_group_size,
            cycle=cycle,
            run=run,
        )
    out = run.output_dir
    return StageOne(
        load=run.load(),
        period=run.clip(run.period) or run.period,
        min_group_size=min_group_size,
        snapshot_dir=(out / "baseline") if out else None,
        run=run,
    )


def snapshot_text(snapshot: Snapshot | None) -> str:
    """One paragraph (markdown) saying where the snapshot is and what it fingerprints."""
    from .displays import instant_words

    if snapshot is None:
        return "No snapshot was written (no output folder was given)."
    m = snapshot.manifest
    return (
        f"Baseline snapshot of **{Period.from_dict(m['period']).label}** "
        f"({m['rows']['kept']:,} requests), source fingerprint `sha256:{m['fingerprint'][:16]}…`, "
        f"taken {instant_words(m['created_at'])} with csi-workbook {m['library_version']}. "
        "Snapshots are immutable: later stages read this one back and verify its files."
    )
