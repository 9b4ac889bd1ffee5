"""A cycle opened for a stage notebook: its files, periods cut at as_of, and its data."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..periods import Period
from ..plan import Plan
from ..vision import Vision, orphans
from ..yamlio import problems_error
from .check import _check
from .config import CycleConfig, _resolve
from .scaffold import _relative

# --------------------------------------------------------------------------- open


def _clip(period: Period, as_of_end: pd.Timestamp | None) -> Period:
    if as_of_end is not None and period.start < as_of_end < period.end:
        return Period(period.start, as_of_end)
    return period


@dataclass
class Cycle:
    """Everything a stage notebook needs about one cycle.

    Attributes
    ----------
    dir:
        The cycle folder.
    config, vision, targets, plan:
        The validated contents of ``cycle.yaml``, ``vision.yaml``,
        ``targets.yaml`` (the model of ``csi_lib.targets``) and ``plan.yaml``.
    periods:
        ``{"baseline", "action", "review"}`` -> :class:`Period`, each clipped to
        ``as_of`` when ``as_of`` falls inside it.
    planned_periods:
        The same, unclipped.
    as_of:
        The inclusive ``as_of`` date, or ``None``.
    load:
        The request data (:class:`csi_lib.sources.LoadResult`), loaded on first
        use; rejected rows go to ``quarantine_dir`` (none written when ``None``),
        never into the cycle folder.
    quarantine_dir:
        Where the quarantine file of rejected rows goes, or ``None``.
    """

    dir: Path
    config: CycleConfig
    vision: Vision
    targets: Any
    plan: Plan
    periods: dict[str, Period]
    planned_periods: dict[str, Period]
    as_of: dt.date | None = None
    source: str | Path | None = None
    preset: str | None = None
    mapping: str | Path | None = None
    quarantine_dir: Path | None = None

    @functools.cached_property
    def load(self) -> Any:
        """The requests of the cycle's data source (``LoadResult``), loaded once."""
        from ..sources import load_requests

        kwargs: dict[str, Any] = {
            "preset": self.preset,
            "mapping": self.mapping,
            "quarantine_dir": self.quarantine_dir,
        }
        if self.config.data.query is not None:
            kwargs["query"] = self.config.data.query
        if self.config.data.sheet is not None:
            kwargs["sheet"] = self.config.data.sheet
        return load_requests(self.source, **kwargs)

    @property
    def data(self) -> pd.DataFrame:
        """The canonical request frame (``self.load.data``)."""
        return self.load.data

    @property
    def baseline_dir(self) -> Path:
        return self.dir / "baseline"

    def status(self, name: str) -> str:
        """``"not started"``, ``"in progress"`` or ``"complete"`` of a period as of ``as_of``."""
        planned = self.planned_periods[name]
        if self.as_of is None:
            return "complete"
        end = Period.from_dates(self.as_of, self.as_of, self.config.timezone).end
        if end <= planned.start:
            return "not started"
        return "in progress" if end < planned.end else "complete"

    @property
    def standing(self) -> Any:
        """Where the cycle stands as of ``as_of`` (:class:`csi_lib.phases.Standing`)."""
        from ..phases import standing

        return standing(self)

    @property
    def phase(self) -> Any:
        """The cycle's :class:`csi_lib.phases.Phase` as of ``as_of``: baseline, action, review or closed."""
        return self.standing.phase

    def objectives_table(self) -> pd.DataFrame:
        from ..vision import objectives_table

        return objectives_table(self.vision)

    def orphans(self) -> pd.DataFrame:
        return orphans(self.vision, self.targets, self.plan)

    def baseline_snapshot(self) -> Any:
        """The cycle's baseline snapshot: loaded from ``baseline/``, or created and saved once.

        The snapshot covers the whole (unclipped) baseline period; it is
        immutable once saved.

        Raises
        ------
        ConfigError
            ``as_of`` falls inside the baseline period (it is not over yet).
        SnapshotError
            ``baseline/`` exists but its files do not match their fingerprints.
        """
        if self.baseline_dir.exists():
            from ..baseline import load_snapshot

            return load_snapshot(self.baseline_dir)
        if self.status("baseline") != "complete":
            raise ConfigError(
                f"the baseline period ({self.planned_periods['baseline'].label}) is not over "
                f"as of {self.as_of}, so no baseline snapshot is taken",
                file=str(self.dir / "cycle.yaml"),
                column="baseline",
                hint="run with a later as_of date, or shorten the baseline period",
            )
        from ..baseline import create_snapshot, row_counts

        load = self.load
        snapshot = create_snapshot(
            load.data,
            self.planned_periods["baseline"],
            source=_relative(load.source, self.dir),
            fingerprint=load.fingerprint,
            mapping=load.mapping,
            rows=row_counts(load),
            min_group_size=self.config.min_group_size,
        )
        snapshot.save(self.baseline_dir)
        return snapshot


def open_cycle(
    cycle_dir: str | Path,
    *,
    data: str | Path | None = None,
    preset: str | None = None,
    mapping: str | Path | None = None,
    as_of: str | dt.date | None = None,
    quarantine_dir: str | Path | None = None,
) -> Cycle:
    """Open a cycle folder for a stage notebook.

    Parameters
    ----------
    cycle_dir:
        The cycle folder.
    data, preset, mapping:
        Override the cycle's data source (``preset`` / ``mapping`` default to
        the cycle's own when only ``data`` is given).
    as_of:
        Inclusive date (``YYYY-MM-DD``) the analysis is run as of: periods it
        falls inside are clipped to it; ``None`` = no clipping.
    quarantine_dir:
        Where rejected rows of the data are written (a report's folder, a
        command's ``--quarantine-dir``); ``None`` writes no file (the counts and
        reasons are in ``cycle.load``). Never the cycle folder, which may be read-only.

    Raises
    ------
    ConfigError
        Any problem :func:`check_cycle` would report (all of them listed).

    Examples
    --------
    >>> cycle = open_cycle(sample_cycle, as_of="2025-10-15")   # the folder data/sample-cycle
    >>> cycle.periods["action"].label, cycle.status("action")
    ('2025-07-01 to 2025-10-15', 'in progress')
    """
    cycle_dir = Path(cycle_dir)
    checked = _check(cycle_dir, check_data=data is None)
    if checked.problems:
        raise problems_error(checked.problems, file=cycle_dir)
    config = checked.config
    if preset is not None and mapping is not None:
        raise ConfigError("give at most one of preset and mapping", hint="remove one of them")
    if preset is None and mapping is None:
        preset = config.data.preset
        mapping = _resolve(cycle_dir, config.data.mapping)
    source = data if data is not None else _resolve(cycle_dir, config.data.source)
    planned = config.periods()
    as_of_date: dt.date | None = None
    as_of_end = None
    if as_of is not None and not (isinstance(as_of, str) and not as_of.strip()):
        try:
            as_of_date = pd.Timestamp(as_of).date()
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"as_of '{as_of}' is not a date", column="as_of", hint="write it as YYYY-MM-DD"
            ) from exc
        as_of_end = Period.from_dates(as_of_date, as_of_date, config.timezone).end
    return Cycle(
        dir=cycle_dir,
        config=config,
        vision=checked.vision,
        targets=checked.targets,
        plan=checked.plan,
        periods={name: _clip(p, as_of_end) for name, p in planned.items()},
        planned_periods=planned,
        as_of=as_of_date,
        source=source,
        preset=preset,
        mapping=mapping,
        quarantine_dir=Path(quarantine_dir) if quarantine_dir is not None else None,
    )
