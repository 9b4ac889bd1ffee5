"""A cycle opened for a stage notebook: its files, and its run (data and periods cut at as_of)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..periods import Period
from ..plan import Plan
from ..run import Run, make_run, open_run
from ..vision import Vision, orphans
from ..yamlio import problems_error
from .check import _check
from .config import CycleConfig
from .scaffold import _relative

# --------------------------------------------------------------------------- open


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
    run:
        The :class:`csi_lib.run.Run`: the data source, the as-of cut, the timezone.
        Everything below that depends on the date comes from it.
    """

    dir: Path
    config: CycleConfig
    vision: Vision
    targets: Any
    plan: Plan
    run: Run

    @property
    def as_of(self) -> dt.date | None:
        """The inclusive as-of date, or None (all of the data)."""
        return self.run.as_of

    @property
    def planned_periods(self) -> dict[str, Period]:
        """``{"baseline", "action", "review"}`` -> :class:`Period`, whole."""
        return self.config.periods()

    @property
    def periods(self) -> dict[str, Period]:
        """The planned periods cut at the as-of date (a period not started yet is whole:
        see :meth:`status`)."""
        return {name: self.run.clip(p) or p for name, p in self.planned_periods.items()}

    @property
    def source(self) -> str:
        """The data source's file path or URL."""
        return self.run.source.location

    @property
    def preset(self) -> str | None:
        return self.run.source.preset

    @property
    def mapping(self) -> str | None:
        return self.run.source.mapping

    @property
    def load(self) -> Any:
        """The requests (``LoadResult``), cut at as-of, loaded once (rejected rows go to
        the run's quarantine folder, never into the cycle folder)."""
        return self.run.load()

    @property
    def data(self) -> pd.DataFrame:
        """The canonical request frame, cut at as-of."""
        return self.run.data

    @property
    def baseline_dir(self) -> Path:
        return self.dir / "baseline"

    def status(self, name: str) -> str:
        """``"not started"``, ``"in progress"`` or ``"complete"`` of a period as of ``as_of``."""
        planned = self.planned_periods[name]
        end = self.run.cut
        if end is None:
            return "complete"
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
    cycle_dir: str | Path | Run,
    *,
    data: str | Path | None = None,
    preset: str | None = None,
    mapping: str | Path | None = None,
    as_of: str | dt.date | None = None,
    quarantine_dir: str | Path | None = None,
    run_dir: str | Path | None = None,
) -> Cycle:
    """Open a cycle folder for a stage notebook.

    Parameters
    ----------
    cycle_dir:
        The cycle folder, or a :class:`csi_lib.run.Run` of a cycle (then the other
        arguments must be left out: the run settled them).
    data, preset, mapping:
        Override the cycle's data source (``preset`` / ``mapping`` default to
        the cycle's own when only ``data`` is given).
    as_of:
        Inclusive date (``YYYY-MM-DD``) the analysis is run as of: the data is cut at
        the end of that day in the cycle's timezone and periods it falls inside are
        clipped to it; ``None`` = all of the data.
    quarantine_dir:
        Where rejected rows of the data are written (a report's folder, a
        command's ``--quarantine-dir``); ``None`` writes no file (the counts and
        reasons are in ``cycle.load``). Never the cycle folder, which may be read-only.
    run_dir:
        The folder of a run ``csi report`` saved (a stage notebook's ``run_dir``): when
        given, it wins over every other argument (:func:`csi_lib.run.open_run`).

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
    if run_dir:
        cycle_dir, data, preset, mapping, as_of, quarantine_dir = (open_run(run_dir),) + (None,) * 5
    if isinstance(cycle_dir, Run):
        run = cycle_dir
        if run.cycle_dir is None:
            raise ConfigError(
                "this run has no cycle", hint="give a cycle folder (csi cycle new makes one)"
            )
        if any(v is not None for v in (data, preset, mapping, as_of, quarantine_dir)):
            raise ConfigError(
                "a run settles the data source and the as-of date",
                hint="pass either a run or the cycle folder with its options",
            )
        cycle_dir = run.cycle_dir
    else:
        run = None
    cycle_dir = Path(cycle_dir)
    checked = _check(cycle_dir, check_data=data is None and (run is None or run.folder is None))
    if checked.problems:
        raise problems_error(checked.problems, file=cycle_dir)
    if run is None:
        run = make_run(
            cycle_dir, data=data, preset=preset, mapping=mapping, as_of=as_of,
            quarantine_dir=quarantine_dir,
        )  # fmt: skip
    return Cycle(
        dir=cycle_dir,
        config=checked.config,
        vision=checked.vision,
        targets=checked.targets,
        plan=checked.plan,
        run=run,
    )
