"""What a workshop runs with: the cycle folder, the as-of date, the timeboxes, the dots
and participants, from the notebook's parameters or the environment ``csi workshop`` sets
(an environment variable wins)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..report.stages import STAGE_BY_KEY, STAGES, Stage

#: Environment variables ``csi workshop`` sets for the notebook's kernel.
ENV_CYCLE_DIR = "CSI_CYCLE_DIR"
ENV_AS_OF = "CSI_AS_OF"
ENV_TIMEBOXES = "CSI_TIMEBOXES"
ENV_DOTS = "CSI_DOTS"
ENV_PARTICIPANTS = "CSI_PARTICIPANTS"

#: Default timebox of each stage, in minutes (stage number -> minutes): 100 minutes in all.
TIMEBOXES: dict[int, float] = {0: 10, 1: 15, 2: 20, 3: 20, 4: 10, 5: 15, 6: 10}


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value is not None and value.strip() else None


def resolve_cycle_dir(cycle_dir: str | Path | None) -> Path:
    """The cycle folder of the workshop: ``$CSI_CYCLE_DIR`` when set, else ``cycle_dir``.

    Voilà runs the notebook as it is (no papermill parameters), so
    ``csi workshop CYCLE_DIR`` passes the folder in the environment variable
    :data:`ENV_CYCLE_DIR`; in JupyterLab the notebook's ``cycle_dir`` is used.

    Raises
    ------
    ConfigError
        No folder is given, or it is not a cycle folder (no ``cycle.yaml``).

    Examples
    --------
    >>> resolve_cycle_dir(sample_cycle) == sample_cycle     # the folder data/sample-cycle
    True
    >>> os.environ[ENV_CYCLE_DIR] = str(tmp)                # as csi workshop sets it
    >>> resolve_cycle_dir(sample_cycle)
    Traceback (most recent call last):
    ...
    csi_lib.errors.ConfigError: file '...': this is not a cycle folder (it has no cycle.yaml).
    Give the folder made by csi cycle new.
    """
    chosen = _env(ENV_CYCLE_DIR) or cycle_dir
    if chosen is None or not str(chosen).strip():
        raise ConfigError(
            "no cycle folder is given",
            column="cycle_dir",
            hint=f"set cycle_dir in the notebook or run csi workshop CYCLE_DIR ({ENV_CYCLE_DIR})",
        )
    path = Path(chosen).expanduser()
    if not (path / "cycle.yaml").is_file():
        raise ConfigError(
            "this is not a cycle folder (it has no cycle.yaml)",
            file=str(path),
            hint="give the folder made by csi cycle new",
        )
    return path


def timeboxes(minutes: Any = None) -> dict[int, float]:
    """Minutes per stage: :data:`TIMEBOXES` with ``minutes`` (or ``$CSI_TIMEBOXES``) applied.

    Parameters
    ----------
    minutes:
        ``None`` for the defaults; seven numbers (a list, or text such as
        ``"10,15,20,20,10,15,10"``) for stages 0..6; or a mapping
        ``{stage: minutes}`` overriding some of them. ``$CSI_TIMEBOXES``
        (text) wins when it is set.

    Raises
    ------
    ConfigError
        Not seven numbers, an unknown stage, or a duration not in 0 < minutes <= 240.

    Examples
    --------
    >>> timeboxes("5,5,5,5,5,5,5")[3]
    5.0
    >>> timeboxes({2: 30})[2], timeboxes({2: 30})[0]
    (30.0, 10)
    """
    minutes = _env(ENV_TIMEBOXES) or minutes
    out: dict[int, float] = dict(TIMEBOXES)
    if minutes is None:
        return out
    if isinstance(minutes, str):
        minutes = [m for m in re.split(r"[,\s]+", minutes.strip()) if m]
    if isinstance(minutes, Mapping):
        pairs = list(minutes.items())
    else:
        values = list(minutes)
        if len(values) != len(STAGES):
            raise ConfigError(
                f"{len(values)} timebox(es) given, {len(STAGES)} are needed (one per stage 0-6)",
                column="timeboxes",
                hint="write seven numbers of minutes, e.g. 10,15,20,20,10,15,10",
            )
        pairs = list(enumerate(values))
    for stage, value in pairs:
        try:
            number, mins = int(stage), float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"the timebox '{value}' of stage {stage} is not a number of minutes",
                column="timeboxes",
                hint="write minutes as numbers, e.g. 10,15,20,20,10,15,10",
            ) from exc
        if number not in TIMEBOXES:
            raise ConfigError(
                f"there is no stage {stage}", column="timeboxes", hint="stages are numbered 0-6"
            )
        if not 0 < mins <= 240:
            raise ConfigError(
                f"the timebox of stage {number} ({value} min) is not between 0 and 240 minutes",
                column="timeboxes",
                hint="give each stage a few minutes",
            )
        out[number] = mins
    return out


def _positive_int(value: Any, name: str, env: str) -> int:
    raw = _env(env) or value
    try:
        number = int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{name} '{raw}' is not a whole number", column=name, hint="give a number such as 3"
        ) from exc
    if not 1 <= number <= 100:
        raise ConfigError(f"{name} must be between 1 and 100 (got {number})", column=name)
    return number


@dataclass(frozen=True)
class Settings:
    """What the workshop runs on, after the environment overrides.

    Attributes
    ----------
    cycle_dir:
        The cycle folder.
    as_of:
        The workshop date (``YYYY-MM-DD``) or ``None``.
    minutes:
        Timebox per stage number, in minutes.
    dots:
        Dots each participant may place.
    participants:
        How many people vote.
    """

    cycle_dir: Path
    as_of: str | None
    minutes: dict[int, float] = field(default_factory=lambda: dict(TIMEBOXES))
    dots: int = 3
    participants: int = 6


def settings(
    cycle_dir: str | Path | None,
    *,
    as_of: str | None = None,
    minutes: Any = None,
    dots: int = 3,
    participants: int = 6,
) -> Settings:
    """Resolve the notebook's parameters against the environment set by ``csi workshop``.

    ``$CSI_CYCLE_DIR``, ``$CSI_AS_OF``, ``$CSI_TIMEBOXES``, ``$CSI_DOTS`` and
    ``$CSI_PARTICIPANTS`` win over the arguments when they are set.

    Examples
    --------
    >>> s = settings(sample_cycle, dots=3)     # the folder data/sample-cycle
    >>> s.minutes[2], s.dots                   # stage 2's timebox (minutes), dots per person
    (20, 3)
    >>> os.environ[ENV_DOTS] = "5"             # as ``csi workshop --dots 5`` sets it
    >>> settings(sample_cycle, dots=3).dots
    5
    """
    return Settings(
        cycle_dir=resolve_cycle_dir(cycle_dir),
        as_of=_env(ENV_AS_OF) or as_of,
        minutes=timeboxes(minutes),
        dots=_positive_int(dots, "dots", ENV_DOTS),
        participants=_positive_int(participants, "participants", ENV_PARTICIPANTS),
    )


def stage_of(stage: int | str | Stage | None) -> Stage | None:
    """The :class:`~csi_lib.report.stages.Stage` named by a number, a key or itself."""
    if stage is None or isinstance(stage, Stage):
        return stage
    found = STAGE_BY_KEY.get(str(stage))
    if found is None:
        raise ConfigError(
            f"there is no stage '{stage}'", column="stage", hint="name a stage by number, 0-6"
        )
    return found
