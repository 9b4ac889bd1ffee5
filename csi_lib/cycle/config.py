"""The cycle.yaml model: data source, periods, time zone, frequency; loading it with problems by line."""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ..benefits.model import ValueSettings
from ..notify.settings import NotifySettings
from ..periods import Period, check_date
from ..spc.rules import LENGTH_RANGE, RUN_LENGTH, TREND_LENGTH
from ..yamlio import Problem, load_yaml, problems_error, validate_file

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
    database source. ``engine: spark`` loads and validates the data in a Spark session
    (``master``: its master URL, default ``local[*]``): ``source`` is then a Parquet file
    or folder, or a table of the session's catalogue (:mod:`csi_lib.engines.rows`).
    """

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)
    preset: str | None = None
    mapping: str | None = None
    sheet: str | int | None = None
    query: str | None = None
    engine: Literal["pandas", "spark"] | None = None
    master: str | None = Field(default=None, min_length=1)

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


class SpcSettings(BaseModel):
    """The special-cause rules of the cycle's process-behaviour charts (``spc:`` in
    ``cycle.yaml``): ``run`` points on one side of the centre line and ``trend`` points
    rising or falling in a row make a signal. Defaults as DESIGN.md: 7 and 6; each 5..12.
    """

    model_config = ConfigDict(extra="forbid")

    run: int = Field(default=RUN_LENGTH, ge=LENGTH_RANGE[0], le=LENGTH_RANGE[1], strict=True)
    trend: int = Field(default=TREND_LENGTH, ge=LENGTH_RANGE[0], le=LENGTH_RANGE[1], strict=True)


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
    spc: SpcSettings = Field(default_factory=SpcSettings)
    #: what an hour is worth and the currency, for the money of the benefits (csi_lib.benefits)
    value: ValueSettings | None = None
    #: alerts after a scheduled run (csi_lib.notify): channels and rules; None = no alerts
    notify: NotifySettings | None = None

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
        return importlib.import_module(f"{__package__.rpartition('.')[0]}.targets")
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
