"""The cycle workspace: one folder per improvement cycle.

::

    cycles/2025-h2/
      cycle.yaml      id, title, data {source, preset | mapping, sheet}, baseline {from, to},
                      action {from, to}, review {from, to}, review_date, timezone, freq,
                      min_group_size
      vision.yaml     business_direction, vision, mission, objectives
      targets.yaml    targets
      plan.yaml       initiatives, register
      baseline/       the baseline snapshot (created on first use, never overwritten)

Rows of the data source that fail validation are never written into the cycle
folder (it may be a read-only checkout): a report writes them into its own
folder once per run, a command into ``--quarantine-dir`` (default
``./quarantine``), see :func:`open_cycle`.

Paths in ``cycle.yaml`` are relative to the cycle folder. Dates are inclusive
(``to: 2025-06-30`` covers the whole of 30 June) in the cycle's ``timezone``.

* :func:`new_cycle` scaffolds a folder with commented example files;
* :func:`check_cycle` validates every file and the links between them and
  returns *every* problem (file, line, field, message);
* :func:`open_cycle` loads what a stage notebook needs;
* :func:`cycle_history` lists the cycles of a workspace.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import os
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError, OutputError
from .periods import Period, check_date
from .plan import Plan
from .storage import atomic_write
from .vision import Vision, orphans, target_links
from .yamlio import Problem, load_yaml, problems_error, validate_file, validation_problems

__all__ = [
    "DateRange",
    "DataSource",
    "CycleConfig",
    "Cycle",
    "CYCLE_FILES",
    "PERIOD_NAMES",
    "load_config",
    "new_cycle",
    "check_cycle",
    "open_cycle",
    "cycle_history",
]

#: The YAML files of a cycle folder, in the order they are checked.
CYCLE_FILES: tuple[str, ...] = ("cycle.yaml", "vision.yaml", "targets.yaml", "plan.yaml")
#: The three periods of a cycle, in time order.
PERIOD_NAMES: tuple[str, ...] = ("baseline", "action", "review")


# --------------------------------------------------------------------------- models


class DateRange(BaseModel):
    """Inclusive dates ``from`` .. ``to`` (YAML keys ``from`` and ``to``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: dt.date = Field(alias="from")
    to: dt.date

    @field_validator("from_", "to")
    @classmethod
    def _calendar(cls, value: dt.date) -> dt.date:
        return check_date(value)

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_}); swap them")
        return self

    def period(self, tz: str = "UTC") -> Period:
        """The half-open UTC :class:`~csi_lib.periods.Period` of these dates in ``tz``."""
        return Period.from_dates(self.from_, self.to, tz)


class DataSource(BaseModel):
    """Where the cycle's request data comes from and how it is mapped.

    ``source`` is a file path relative to the cycle folder (or absolute) or a
    database URL; exactly one of ``preset`` (a built-in mapping name) and
    ``mapping`` (a mapping file, relative to the cycle folder) is given;
    ``sheet`` names the worksheet of an Excel file and ``query`` the SQL of a
    database source.
    """

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)
    preset: str | None = None
    mapping: str | None = None
    sheet: str | int | None = None
    query: str | None = None

    @model_validator(mode="after")
    def _one_mapping(self) -> DataSource:
        if (self.preset is None) == (self.mapping is None):
            raise ValueError(
                "give exactly one of 'preset' (a built-in mapping) and 'mapping' (a file)"
            )
        return self

    @property
    def is_url(self) -> bool:
        return "://" in self.source


class CycleConfig(BaseModel):
    """The contents of ``cycle.yaml``."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="e.g. 2025-h2")
    title: str = Field(min_length=1)
    data: DataSource
    baseline: DateRange
    action: DateRange
    review: DateRange
    review_date: dt.date | None = None
    timezone: str = "UTC"
    freq: Literal["month", "week"] = "month"
    min_group_size: int = Field(default=5, ge=1)

    @field_validator("review_date")
    @classmethod
    def _review_calendar(cls, value: dt.date | None) -> dt.date | None:
        return None if value is None else check_date(value)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone '{value}'; use an IANA name such as UTC or Europe/Paris"
            ) from exc
        return value

    def ranges(self) -> dict[str, DateRange]:
        """``{"baseline": ..., "action": ..., "review": ...}``."""
        return {name: getattr(self, name) for name in PERIOD_NAMES}

    def periods(self) -> dict[str, Period]:
        """The three periods as UTC :class:`Period` s (dates in the cycle's timezone)."""
        return {name: r.period(self.timezone) for name, r in self.ranges().items()}


def _order_problems(config: CycleConfig, file: str, line_of: dict[str, int]) -> list[Problem]:
    """baseline < action < review (each ends before the next starts)."""
    problems = []
    ranges = config.ranges()
    for before, after in zip(PERIOD_NAMES, PERIOD_NAMES[1:], strict=False):
        a, b = ranges[before], ranges[after]
        if b.from_ <= a.to:
            problems.append(
                Problem(
                    file,
                    line_of.get(f"{after}.from", line_of.get(after)),
                    f"{after}.from",
                    f"the {after} period starts ({b.from_}) before the {before} period ends "
                    f"({a.to}); the periods must be in the order baseline, action, review",
                )
            )
    if config.review_date is not None and config.review_date < config.review.from_:
        problems.append(
            Problem(
                file,
                line_of.get("review_date"),
                "review_date",
                f"the review date {config.review_date} is before the review period starts "
                f"({config.review.from_})",
            )
        )
    return problems


def load_config(cycle_dir: str | Path) -> CycleConfig:
    """Read and validate a cycle's ``cycle.yaml``; a :class:`ConfigError` lists every problem."""
    path = Path(cycle_dir) / "cycle.yaml"
    config, problems = validate_file(path, CycleConfig)
    if config is not None:
        _, line_of = load_yaml(path)
        problems += _order_problems(config, str(path), line_of)
    if problems:
        raise problems_error(problems, file=path)
    return config


def _resolve(cycle_dir: Path, value: str | None) -> str | Path | None:
    """A path of ``cycle.yaml`` relative to the cycle folder (URLs unchanged)."""
    if value is None or "://" in value:
        return value
    p = Path(value).expanduser()
    return p if p.is_absolute() else cycle_dir / p


# --------------------------------------------------------------------------- targets (other module)


def _targets_api() -> Any | None:
    """``csi_lib.targets`` if it is installed, else ``None`` (targets are then not checked)."""
    try:
        return importlib.import_module(f"{__package__}.targets")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith("targets"):
            return None
        raise


def _targets_model() -> type[BaseModel] | None:
    """The pydantic model of a whole ``targets.yaml`` (a ``targets`` list)."""
    module = _targets_api()
    if module is None:
        return None
    for name in ("TargetsFile", "TargetSet", "Targets", "TargetsConfig"):
        model = getattr(module, name, None)
        if (
            isinstance(model, type)
            and issubclass(model, BaseModel)
            and "targets" in model.model_fields
        ):
            return model
    return None


# --------------------------------------------------------------------------- check


@dataclass
class _Checked:
    """What :func:`_check` found: the models that validated and every problem."""

    config: CycleConfig | None = None
    vision: Vision | None = None
    targets: Any = None
    plan: Plan | None = None
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0


@dataclass
class _Loaded:
    """One file: its validated model (or None), its raw YAML data and the line of each field."""

    model: Any = None
    raw: Any = None
    line_of: dict[str, int] = field(default_factory=dict)


def _load_checked(path: Path, model: type[BaseModel] | None, out: _Checked) -> _Loaded:
    if not path.exists():
        out.problems.append(
            Problem(str(path), None, "", "the file is missing; 'csi cycle new' creates an example")
        )
        return _Loaded()
    out.files_checked += 1
    try:
        raw, line_of = load_yaml(path)
    except ConfigError as exc:
        message = exc.message.rstrip(".") + (f"; {exc.hint.rstrip('.')}" if exc.hint else "")
        out.problems.append(Problem(str(path), exc.row, exc.column or "", message))
        return _Loaded()
    if model is None:  # csi_lib.targets is not available: keep the raw entries
        return _Loaded({"targets": _raw_list(raw, "targets")}, raw, line_of)
    try:
        return _Loaded(model.model_validate(raw), raw, line_of)
    except ValidationError as exc:
        out.problems.extend(validation_problems(exc, file=path, line_of=line_of))
        return _Loaded(None, raw, line_of)


def _raw_list(raw: Any, key: str) -> list[Any]:
    """``raw[key]`` if it is a list (entries kept in place so indexes match the file), else []."""
    items = raw.get(key) if isinstance(raw, dict) else None
    return items if isinstance(items, list) else []


def _raw_ids(raw: Any, key: str) -> set[str]:
    return {str(i["id"]) for i in _raw_list(raw, key) if isinstance(i, dict) and "id" in i}


def _data_problems(
    config: CycleConfig, cycle_dir: Path, file: str, line_of: dict[str, int], check_data: bool
) -> list[Problem]:
    """The data file and mapping file exist; the preset is known."""
    problems = []
    data = config.data
    if check_data and not data.is_url:
        source = _resolve(cycle_dir, data.source)
        if not Path(source).exists():
            problems.append(
                Problem(
                    file,
                    line_of.get("data.source"),
                    "data.source",
                    f"the data file '{data.source}' does not exist (looked for {source}); "
                    "paths are relative to the cycle folder",
                )
            )
    if data.mapping is not None and not Path(_resolve(cycle_dir, data.mapping)).exists():
        problems.append(
            Problem(
                file,
                line_of.get("data.mapping"),
                "data.mapping",
                f"the mapping file '{data.mapping}' does not exist "
                "(paths are relative to the cycle folder)",
            )
        )
    presets = _known_presets() if data.preset is not None else None
    if presets is not None and data.preset not in presets:
        problems.append(
            Problem(
                file,
                line_of.get("data.preset"),
                "data.preset",
                f"unknown preset '{data.preset}'; known presets: {', '.join(presets)}",
            )
        )
    return problems


#: what a reference names -> the file that defines it
_DEFINED_IN = {"objective": "vision.yaml", "target": "targets.yaml"}


def _reference_problems(
    raw: Any,
    list_key: str,
    key: str,
    known: set[str],
    what: str,
    file: str,
    line_of: dict[str, int],
) -> list[Problem]:
    """Each ``raw[list_key][i][key]`` (a value or a list of values) must be in ``known``."""
    problems = []
    known_text = ", ".join(sorted(known)) or "none"
    for i, item in enumerate(_raw_list(raw, list_key)):
        if not isinstance(item, dict) or item.get(key) is None:
            continue
        values = item[key]
        many = isinstance(values, list)
        for j, value in enumerate(values if many else [values]):
            if str(value) in known:
                continue
            field_path = f"{list_key}[{i}].{key}"
            loc = field_path + (f"[{j}]" if many else "")
            problems.append(
                Problem(
                    file,
                    line_of.get(loc, line_of.get(field_path)),
                    loc,
                    f"the {what} '{value}' is not in {_DEFINED_IN[what]} (known: {known_text})",
                )
            )
    return problems


def _check(cycle_dir: Path, *, check_data: bool = True) -> _Checked:
    out = _Checked()
    if not cycle_dir.is_dir():
        out.problems.append(
            Problem(
                str(cycle_dir),
                None,
                "",
                "the cycle folder does not exist; create it with 'csi cycle new'",
            )
        )
        return out
    files = {name: str(cycle_dir / name) for name in CYCLE_FILES}

    cfg = _load_checked(cycle_dir / "cycle.yaml", CycleConfig, out)
    vision = _load_checked(cycle_dir / "vision.yaml", Vision, out)
    targets = _load_checked(cycle_dir / "targets.yaml", _targets_model(), out)
    plan = _load_checked(cycle_dir / "plan.yaml", Plan, out)
    out.config, out.vision, out.targets, out.plan = (
        cfg.model,
        vision.model,
        targets.model,
        plan.model,
    )

    if out.config is not None:
        out.problems += _order_problems(out.config, files["cycle.yaml"], cfg.line_of)
        out.problems += _data_problems(
            out.config, cycle_dir, files["cycle.yaml"], cfg.line_of, check_data
        )
    # cross-file references, checked on the raw entries so that they are
    # reported even when the same entry has other problems
    if isinstance(vision.raw, dict):
        known = _raw_ids(vision.raw, "objectives")
        out.problems += _reference_problems(
            targets.raw,
            "targets",
            "objective",
            known,
            "objective",
            files["targets.yaml"],
            targets.line_of,
        )
    if isinstance(targets.raw, dict):
        known = _raw_ids(targets.raw, "targets")
        out.problems += _reference_problems(
            plan.raw, "initiatives", "targets", known, "target", files["plan.yaml"], plan.line_of
        )
    order = {name: i for i, name in enumerate(CYCLE_FILES)}
    out.problems.sort(key=lambda p: (order.get(Path(p.file).name, 9), p.line or 0))
    return out


def _known_presets() -> list[str] | None:
    try:
        from .sources import list_presets
    except ImportError:
        return None
    return list(list_presets())


def check_cycle(cycle_dir: str | Path) -> list[Problem]:
    """Validate every file of a cycle folder and the links between them.

    Checks ``cycle.yaml``, ``vision.yaml``, ``targets.yaml`` and ``plan.yaml``
    (YAML syntax, tabs, unknown keys, types, dates), then the cross-file links:
    each target's objective is in the vision, each initiative's targets exist,
    the data file and mapping exist, and the periods are ordered baseline <
    action < review. Nothing stops at the first problem.

    Returns
    -------
    list[Problem]
        Every problem found, empty when the cycle is fine. ``str(problem)`` is
        ``"file:line: field: message"``.

    Examples
    --------
    >>> for problem in check_cycle("data/sample-cycle"):   # doctest: +SKIP
    ...     print(problem)
    """
    return _check(Path(cycle_dir)).problems


def count_files(cycle_dir: str | Path) -> int:
    """How many of the cycle's YAML files exist (for "OK: N files checked")."""
    return sum((Path(cycle_dir) / name).exists() for name in CYCLE_FILES)


# --------------------------------------------------------------------------- new


_CYCLE_TEMPLATE = """\
# Improvement cycle {id}. Dates are inclusive (YYYY-MM-DD) in the timezone below;
# paths are relative to this folder. Check the folder with: csi cycle check {dir_name}
id: {id}
title: {title}

data:
  source: {source}          # CSV (.csv, .csv.gz), Excel (.xlsx; add sheet:), Parquet, or a database URL
{mapping_line}

# Stage 1, "Where are we now?": the period of the baseline snapshot
baseline:
  from: {baseline_from}
  to: {baseline_to}

# Stage 4, "Take action": when the initiatives run
action:
  from: {action_from}
  to: {action_to}

# Stage 5, "Did we get there?": the period compared with the baseline
review:
  from: {review_from}
  to: {review_to}

timezone: UTC               # reporting timezone of the dates above (IANA name)
freq: month                 # series frequency: month or week
min_group_size: 5           # breakdown groups with fewer requests are hidden
"""

_VISION_TEMPLATE = """\
# Stage 0, "What is the vision?". Replace the example text with your own.
business_direction: >-
  Where the business is heading (from the organisation's strategy), e.g.
  grow without growing the service desk.
vision: >-
  The service we want, in one sentence, e.g. requests are fulfilled quickly and predictably.
mission: >-
  What we do to get there, e.g. we remove waiting and rework from request fulfilment.

# Each target in targets.yaml names the objective it serves.
objectives:
  - id: O1
    statement: Faster fulfilment of the most requested items
    owner: Service owner
#  - id: O2
#    statement: Predictable service within the SLA
#    owner: Service level manager
"""

_TARGETS_TEMPLATE = """\
# Stage 2, "Where do we want to be?": SMART targets on catalogue KPIs
# (list them with: csi kpi-list).  kind: minimize | maximize | maintain_above |
# maintain_below | within (a tolerance band). Give 'value' (absolute, in the
# KPI's unit) or 'change' (relative to the baseline, in %).
targets: []
#  - id: T1
#    kpi: fulfil_median_h
#    scope: {{category: Laptop}}
#    kind: maintain_below
#    value: 28
#    due: {action_to}
#    objective: O1
#    owner: Service owner
#    note: the median Laptop request is fulfilled within 28 hours
"""

_PLAN_TEMPLATE = """\
# Stage 3, "How do we get there?". way_of_working: daily work | sprint | project.
# Dates are inclusive; status: planned | in progress | done | stopped.
initiatives: []
#  - id: I1
#    title: Automate the laptop build
#    owner: End-user computing lead
#    targets: [T1]
#    way_of_working: project          # a project has stages
#    start: {action_from}
#    end: {action_to}
#    stages:
#      - {{name: Design, start: {action_from}, end: {action_from}}}
#    expected_effect: {{T1: "-30 % fulfilment time"}}
#    status: planned

# Improvement register: ideas scored value and effort 1..5, with votes.
# status: new | accepted | rejected | parked. Promote one with csi_lib.plan.promote.
register: []
#  - {{id: R1, idea: Self-service password reset, value: 4, effort: 2, votes: 0, status: new}}
"""


def _yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar (quoted when needed)."""
    import yaml

    return (
        yaml.safe_dump(value, default_flow_style=True, width=1000)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _relative(target: str | Path, start: Path) -> str:
    """``target`` relative to ``start`` (POSIX form) when on the same drive; URLs unchanged."""
    if "://" in str(target):
        return str(target)
    try:
        return Path(os.path.relpath(Path(target).resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return Path(target).resolve().as_posix()


def _add_months(day: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


def new_cycle(
    directory: str | Path,
    *,
    data: str | Path,
    preset: str | None = None,
    mapping: str | Path | None = None,
    baseline_from: str | dt.date,
    baseline_to: str | dt.date,
    id: str | None = None,  # noqa: A002 - the YAML key is "id"
    title: str | None = None,
) -> Path:
    """Create a cycle folder with ``cycle.yaml`` and commented example files.

    The action period defaults to the 6 months after the baseline and the
    review period to the 3 months after that (inclusive dates).

    Parameters
    ----------
    directory:
        The folder to create; an existing non-empty folder is refused.
    data:
        The request export (path as seen from the current directory; stored
        relative to the cycle folder) or a database URL.
    preset, mapping:
        Exactly one: a built-in mapping preset name or a mapping file.
    baseline_from, baseline_to:
        Inclusive dates of the baseline period (``YYYY-MM-DD``).
    id:
        The cycle id; default the folder's name.
    title:
        Default ``"Improvement cycle <id>"``.

    Returns
    -------
    Path
        The cycle folder.

    Examples
    --------
    >>> new_cycle("cycles/2025-h2", data="exports/requests.csv", preset="generic",
    ...           baseline_from="2025-01-01", baseline_to="2025-06-30")   # doctest: +SKIP
    PosixPath('cycles/2025-h2')

    With a baseline 2025-01-01..2025-06-30 the action period is
    2025-07-01..2025-12-31 and the review period 2026-01-01..2026-03-31.
    """
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OutputError(
            "the cycle folder exists already and is not empty",
            file=str(directory),
            hint="choose a new folder name; nothing was changed",
        )
    if (preset is None) == (mapping is None):
        raise ConfigError(
            "give exactly one of --preset (a built-in mapping) and --mapping (a mapping file)",
            hint="for a CSV with the canonical column names use --preset generic",
        )
    if "://" not in str(data) and not Path(data).exists():
        raise ConfigError("the data file does not exist", file=str(data), hint="check the path")
    if mapping is not None and not Path(mapping).exists():
        raise ConfigError(
            "the mapping file does not exist", file=str(mapping), hint="check the path"
        )
    try:
        b = DateRange.model_validate({"from": baseline_from, "to": baseline_to})
    except ValueError as exc:
        raise ConfigError(
            f"the baseline dates {baseline_from} .. {baseline_to} are not valid: {exc}",
            column="--baseline-from/--baseline-to",
            hint="write dates as YYYY-MM-DD, the first before the last",
        ) from exc
    action_from = b.to + dt.timedelta(days=1)
    action_to = _add_months(action_from, 6) - dt.timedelta(days=1)
    review_from = action_to + dt.timedelta(days=1)
    review_to = _add_months(review_from, 3) - dt.timedelta(days=1)
    cycle_id = id or directory.resolve().name
    config = {
        "id": cycle_id,
        "title": title or f"Improvement cycle {cycle_id}",
        "data": {"source": "x", "preset": preset} if preset else {"source": "x", "mapping": "x"},
        "baseline": {"from": b.from_, "to": b.to},
        "action": {"from": action_from, "to": action_to},
        "review": {"from": review_from, "to": review_to},
    }
    try:
        CycleConfig.model_validate(config)
    except ValueError as exc:
        raise ConfigError(
            f"the cycle cannot be created: {exc}", hint="use a simple id such as 2025-h2"
        ) from exc

    directory.mkdir(parents=True, exist_ok=True)
    if preset is not None:
        mapping_line = f"  preset: {_yaml_scalar(preset)}          # built-in mapping (csi presets)"
    else:
        mapping_line = f"  mapping: {_yaml_scalar(_relative(mapping, directory))}   # mapping file"
    dates = {
        "baseline_from": b.from_,
        "baseline_to": b.to,
        "action_from": action_from,
        "action_to": action_to,
        "review_from": review_from,
        "review_to": review_to,
    }
    texts = {
        "cycle.yaml": _CYCLE_TEMPLATE.format(
            id=_yaml_scalar(cycle_id),
            title=_yaml_scalar(config["title"]),
            dir_name=directory.as_posix(),
            source=_yaml_scalar(_relative(data, directory)),
            mapping_line=mapping_line,
            **dates,
        ),
        "vision.yaml": _VISION_TEMPLATE,
        "targets.yaml": _TARGETS_TEMPLATE.format(**dates),
        "plan.yaml": _PLAN_TEMPLATE.format(**dates),
    }
    for name, text in texts.items():
        atomic_write(directory / name, text)
    return directory


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
        from .sources import load_requests

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
        from .phases import standing

        return standing(self)

    @property
    def phase(self) -> Any:
        """The cycle's :class:`csi_lib.phases.Phase` as of ``as_of``: baseline, action, review or closed."""
        return self.standing.phase

    def objectives_table(self) -> pd.DataFrame:
        from .vision import objectives_table

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
            from .baseline import load_snapshot

            return load_snapshot(self.baseline_dir)
        if self.status("baseline") != "complete":
            raise ConfigError(
                f"the baseline period ({self.planned_periods['baseline'].label}) is not over "
                f"as of {self.as_of}, so no baseline snapshot is taken",
                file=str(self.dir / "cycle.yaml"),
                column="baseline",
                hint="run with a later as_of date, or shorten the baseline period",
            )
        from .baseline import create_snapshot, row_counts

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
    >>> cycle = open_cycle("data/sample-cycle", as_of="2025-10-15")   # doctest: +SKIP
    >>> cycle.periods["action"].label                                 # doctest: +SKIP
    '2025-07-01 to 2025-10-15'
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


# --------------------------------------------------------------------------- history


_HISTORY_COLUMNS = [
    "id",
    "title",
    "baseline_from",
    "baseline_to",
    "action_from",
    "action_to",
    "review_from",
    "review_to",
    "targets",
    "initiatives",
    "has_baseline",
    "dir",
    "problem",
]


def cycle_history(workspace_dir: str | Path) -> pd.DataFrame:
    """All cycle folders of a workspace (sub-folders holding a ``cycle.yaml``), oldest first.

    Returns
    -------
    pd.DataFrame
        One row per cycle: ``id``, ``title``, the inclusive dates of the three
        periods (``baseline_from`` .. ``review_to``), ``targets`` and
        ``initiatives`` (counts), ``has_baseline`` (a snapshot was saved),
        ``dir`` and ``problem`` (why the cycle could not be read, else empty).
    """
    workspace = Path(workspace_dir)
    if not workspace.is_dir():
        raise ConfigError(
            "the workspace folder does not exist", file=str(workspace), hint="check the path"
        )
    rows = []
    folders = [workspace] if (workspace / "cycle.yaml").exists() else []
    folders += sorted(p.parent for p in workspace.glob("*/cycle.yaml"))
    for folder in folders:
        row: dict[str, Any] = {"id": folder.name, "dir": str(folder), "problem": None}
        row["has_baseline"] = (folder / "baseline").is_dir()
        try:
            config = load_config(folder)
        except ConfigError as exc:
            row["problem"] = str(exc)
            rows.append(row)
            continue
        row.update(id=config.id, title=config.title)
        for name, r in config.ranges().items():
            row[f"{name}_from"], row[f"{name}_to"] = r.from_, r.to
        checked = _check(folder, check_data=False)
        row["targets"] = (
            len(target_links(checked.targets)) if checked.targets is not None else pd.NA
        )
        row["initiatives"] = len(checked.plan.initiatives) if checked.plan is not None else pd.NA
        if checked.problems:
            row["problem"] = f"{len(checked.problems)} problem(s); run 'csi cycle check'"
        rows.append(row)
    table = pd.DataFrame(rows, columns=_HISTORY_COLUMNS)
    for col in ("targets", "initiatives"):
        table[col] = table[col].astype("Int64")
    return table.sort_values("baseline_from", kind="stable", na_position="last").reset_index(
        drop=True
    )
