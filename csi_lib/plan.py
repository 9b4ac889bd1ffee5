"""Stage 3, "How do we get there?": the cycle's ``plan.yaml``.

The plan lists the *initiatives* that should move the targets, each run as
``daily work``, a ``sprint`` (a timebox of N weeks) or a ``project`` (with
stages), and an *improvement register* of ideas scored by value and effort
(1..5) and votes. An idea can be promoted into an initiative with
:func:`promote`, which edits the file in place and keeps its comments.

Example ``plan.yaml``::

    initiatives:
      - id: I1
        title: Laptop build automation
        owner: End-user computing lead
        targets: [T1, T2]
        way_of_working: project
        start: 2025-07-01
        end: 2025-09-30
        stages:
          - {name: Design, start: 2025-07-01, end: 2025-07-31}
        expected_effect: {T1: "-35 % fulfilment time"}
        benefits:                       # expected, in the KPI's unit (csi_lib.benefits)
          - {target: T1, change: -20, value: customer_hour}
        status: in progress
    register:
      - {id: R1, idea: Self-service password reset, value: 4, effort: 2, votes: 5, status: new}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .benefits.model import Benefit
from .errors import ConfigError
from .vision import target_links
from .words import plural
from .yamlio import (
    append_list_item,
    delete_list_item,
    edit_yaml,
    problems_error,
    require_unique_ids,
    validate_file,
)

__all__ = [
    "Stage",
    "Initiative",
    "RegisterItem",
    "Plan",
    "WAYS_OF_WORKING",
    "load_plan",
    "initiatives_table",
    "plan_warnings",
    "initiatives_per_target",
    "register_table",
    "promote",
    "plan_text",
]

WayOfWorking = Literal["daily work", "sprint", "project"]
InitiativeStatus = Literal["planned", "in progress", "done", "stopped"]
RegisterStatus = Literal["new", "accepted", "rejected", "parked"]

#: The ways an initiative can be run.
WAYS_OF_WORKING: tuple[str, ...] = ("daily work", "sprint", "project")

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Stage(BaseModel):
    """A stage of a project initiative (inclusive dates)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Stage:
        if self.end < self.start:
            raise ValueError(
                f"the stage '{self.name}' ends ({self.end}) before it starts ({self.start})"
            )
        return self


class Initiative(BaseModel):
    """One initiative of the plan.

    ``start`` and ``end`` are inclusive dates; ``stages`` only for a project,
    ``timebox_weeks`` only for a sprint; ``expected_effect`` maps a target id to
    a number (in the KPI's unit) or a short text; ``benefits`` are the expected
    benefits (:class:`csi_lib.benefits.Benefit`), each tied to one of ``targets`` or to
    a KPI.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID_PATTERN)
    title: str = Field(min_length=1)
    owner: str | None = None
    targets: list[str] = Field(default_factory=list)
    way_of_working: WayOfWorking = "daily work"
    start: dt.date
    end: dt.date
    stages: list[Stage] = Field(default_factory=list)
    timebox_weeks: int | None = Field(default=None, ge=1, le=52)
    expected_effect: dict[str, float | str] = Field(default_factory=dict)
    benefits: list[Benefit] = Field(default_factory=list)
    status: InitiativeStatus = "planned"

    @field_validator("benefits", mode="before")
    @classmethod
    def _no_benefits(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("targets", mode="before")
    @classmethod
    def _one_target_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Initiative:
        if self.end < self.start:
            raise ValueError(f"the initiative ends ({self.end}) before it starts ({self.start})")
        if self.stages and self.way_of_working != "project":
            raise ValueError("only a 'project' initiative has stages; set way_of_working: project")
        if self.timebox_weeks is not None and self.way_of_working != "sprint":
            raise ValueError(
                "only a 'sprint' initiative has timebox_weeks; set way_of_working: sprint"
            )
        unknown = sorted(set(self.expected_effect) - set(self.targets))
        if unknown:
            raise ValueError(
                f"expected_effect names target(s) {', '.join(unknown)} that are not in this "
                "initiative's targets"
            )
        return self


class RegisterItem(BaseModel):
    """An idea of the improvement register: value and effort 1..5, votes."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID_PATTERN)
    idea: str = Field(min_length=1)
    value: int = Field(ge=1, le=5)
    effort: int = Field(ge=1, le=5)
    votes: int = Field(default=0, ge=0)
    status: RegisterStatus = "new"


class Plan(BaseModel):
    """The contents of ``plan.yaml``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    initiatives: list[Initiative] = Field(default_factory=list)
    #: the improvement register (YAML key ``register``; ``BaseModel`` owns that name)
    ideas: list[RegisterItem] = Field(default_factory=list, alias="register")

    @field_validator("initiatives", "ideas", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("initiatives")
    @classmethod
    def _unique_initiatives(cls, items: list[Initiative]) -> list[Initiative]:
        require_unique_ids(items, "initiative")
        return items

    @field_validator("ideas")
    @classmethod
    def _unique_register(cls, items: list[RegisterItem]) -> list[RegisterItem]:
        require_unique_ids(items, "register")
        return items


def load_plan(path: str | Path) -> Plan:
    """Read and validate a ``plan.yaml``; a :class:`ConfigError` lists every problem."""
    plan, problems = validate_file(path, Plan)
    if problems:
        raise problems_error(problems, file=path)
    return plan


# --------------------------------------------------------------------------- tables


def initiatives_table(plan: Plan) -> pd.DataFrame:
    """One row per initiative: ``id``, ``title``, ``owner``, ``way_of_working``,
    ``start``, ``end`` (dates), ``weeks`` (length in weeks), ``targets`` (comma list),
    ``stages`` (count), ``status``."""
    rows = [
        {
            "id": i.id,
            "title": i.title,
            "owner": i.owner,
            "way_of_working": i.way_of_working,
            "start": i.start,
            "end": i.end,
            "weeks": round(((i.end - i.start).days + 1) / 7, 1),
            "targets": ", ".join(i.targets),
            "stages": len(i.stages),
            "status": i.status,
        }
        for i in plan.initiatives
    ]
    cols = [
        "id",
        "title",
        "owner",
        "way_of_working",
        "start",
        "end",
        "weeks",
        "targets",
        "stages",
        "status",
    ]
    return pd.DataFrame(rows, columns=cols)


def _as_date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def plan_warnings(plan: Plan, targets: Any) -> pd.DataFrame:
    """Things in the plan that deserve a second look (not errors).

    * a target no initiative works on;
    * an initiative that ends after the due date of a target it serves;
    * a project stage that starts before or ends after its initiative.

    Parameters
    ----------
    plan:
        The plan.
    targets:
        The targets model of ``targets.yaml`` (or a list of targets / dicts with
        ``id`` and ``due``).

    Returns
    -------
    pd.DataFrame
        Columns ``kind`` (``"target"``, ``"initiative"``, ``"stage"``), ``id``
        and ``warning``.
    """
    rows: list[dict[str, str]] = []
    tl = target_links(targets)
    due = {t: _as_date(d) for t, d in zip(tl["target_id"], tl["due"], strict=True)}
    worked_on = {t for i in plan.initiatives for t in i.targets}
    for tid in tl["target_id"]:
        if tid not in worked_on:
            rows.append(
                {"kind": "target", "id": tid, "warning": "no initiative works on this target"}
            )
    for ini in plan.initiatives:
        for tid in ini.targets:
            if due.get(tid) is not None and ini.end > due[tid]:
                rows.append(
                    {
                        "kind": "initiative",
                        "id": ini.id,
                        "warning": f"ends {ini.end}, after the due date {due[tid]} of target {tid}",
                    }
                )
        for stage in ini.stages:
            if stage.start < ini.start or stage.end > ini.end:
                rows.append(
                    {
                        "kind": "stage",
                        "id": f"{ini.id}/{stage.name}",
                        "warning": f"the stage ({stage.start} to {stage.end}) lies outside its "
                        f"initiative ({ini.start} to {ini.end})",
                    }
                )
    table = pd.DataFrame(rows, columns=["kind", "id", "warning"])
    table.attrs["labels"] = {"kind": "About", "id": "Which"}  # not a target's kind
    return table


def initiatives_per_target(plan: Plan, targets: Any) -> pd.DataFrame:
    """How many initiatives work on each target, and which.

    Returns
    -------
    pd.DataFrame
        Columns ``target_id``, ``kpi``, ``due``, ``n_initiatives`` (count) and
        ``initiatives`` (comma-separated ids), in the order of ``targets.yaml``.
    """
    tl = target_links(targets)
    by_target: dict[str, list[str]] = {}
    for ini in plan.initiatives:
        for tid in ini.targets:
            by_target.setdefault(tid, []).append(ini.id)
    out = tl[["target_id", "kpi", "due"]].copy()
    out["n_initiatives"] = [len(by_target.get(t, [])) for t in out["target_id"]]
    out["initiatives"] = [", ".join(by_target.get(t, [])) for t in out["target_id"]]
    out = out.reset_index(drop=True)
    out.attrs["labels"] = {"n_initiatives": "Number of initiatives"}
    return out


def register_table(plan: Plan) -> pd.DataFrame:
    """The improvement register, best ideas first.

    ``score`` = value / effort (both 1..5); sorted by score, then votes, both
    descending. Example: value 4, effort 2 -> score 2.0 comes before value 5,
    effort 5 -> score 1.0.
    """
    cols = ["id", "idea", "value", "effort", "score", "votes", "status"]
    rows = [{**r.model_dump(), "score": r.value / r.effort} for r in plan.ideas]
    table = pd.DataFrame(rows, columns=cols)
    table = table.sort_values(["score", "votes"], ascending=False, kind="stable")
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------- promote


def promote(
    plan_path: str | Path,
    register_id: str,
    *,
    initiative_id: str | None = None,
    title: str | None = None,
    owner: str | None = None,
    targets: Sequence[str] = (),
    way_of_working: WayOfWorking = "daily work",
    start: dt.date | str,
    end: dt.date | str,
    timebox_weeks: int | None = None,
    status: InitiativeStatus = "planned",
) -> Initiative:
    """Move an idea of the improvement register into the initiatives of ``plan.yaml``.

    The register entry is removed and a new initiative appended; the other
    entries and the comments of the file are kept and the file is written
    atomically. The resulting plan is validated before anything is written.

    Parameters
    ----------
    plan_path:
        The cycle's ``plan.yaml``.
    register_id:
        Id of the idea, e.g. ``"R3"``.
    initiative_id:
        Id of the new initiative; default the next free ``I<n>``.
    title:
        Default: the idea's text.
    owner, targets, way_of_working, start, end, timebox_weeks, status:
        As in :class:`Initiative` (inclusive dates).

    Returns
    -------
    Initiative
        The new initiative.

    Examples
    --------
    >>> import shutil
    >>> plan_file = shutil.copy(cycle.dir / "plan.yaml", tmp / "plan.yaml")
    >>> promote(plan_file, "R1", targets=["T2"], start="2025-10-01", end="2025-11-30").id
    'I4'
    """
    plan_path = Path(plan_path)
    current = load_plan(plan_path)
    idea = next((r for r in current.ideas if r.id == register_id), None)
    if idea is None:
        known = ", ".join(r.id for r in current.ideas) or "none"
        raise ConfigError(
            f"the improvement register has no idea '{register_id}'",
            file=str(plan_path),
            column="register",
            hint=f"known ids: {known}",
        )
    taken = {i.id for i in current.initiatives}
    if initiative_id is None:
        n = len(taken) + 1
        while f"I{n}" in taken:
            n += 1
        initiative_id = f"I{n}"
    elif initiative_id in taken:
        raise ConfigError(
            f"the initiative id '{initiative_id}' is taken",
            file=str(plan_path),
            column="initiatives",
            hint="choose another id",
        )
    fields: dict[str, Any] = {
        "id": initiative_id,
        "title": title or idea.idea,
        "owner": owner,
        "targets": list(targets),
        "way_of_working": way_of_working,
        "start": _as_date(start),
        "end": _as_date(end),
        "timebox_weeks": timebox_weeks,
        "status": status,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    try:
        initiative = Initiative.model_validate(fields)
    except ValueError as exc:
        raise ConfigError(
            f"the new initiative is not valid: {exc}",
            file=str(plan_path),
            hint="check the dates, the way of working and the targets",
        ) from exc
    entry = initiative.model_dump(
        exclude_defaults=True, exclude={"stages", "expected_effect", "benefits"}
    )
    entry = {"id": entry.pop("id"), "title": entry.pop("title"), **entry}
    with edit_yaml(plan_path) as doc:
        register = doc["register"]
        index = next(i for i, r in enumerate(register) if str(r.get("id")) == register_id)
        delete_list_item(register, index)
        if doc.get("initiatives") is None:
            doc["initiatives"] = []
        append_list_item(doc["initiatives"], entry)
    return initiative


def plan_text(plan: Plan, targets: Any) -> str:
    """One markdown paragraph summing up the plan: initiatives by way of working, coverage.

    Examples
    --------
    >>> print(plan_text(cycle.plan, cycle.targets))
    3 initiatives (1 project, 1 sprint, 1 daily work) work on 4 of the 5 targets; ...
    """
    ways = pd.Series([i.way_of_working for i in plan.initiatives], dtype="object").value_counts()
    mix = ", ".join(f"{n} {w}" for w, n in ways.items())
    per_target = initiatives_per_target(plan, targets)
    covered = int((per_target["n_initiatives"] > 0).sum())
    text = (
        f"{plural(len(plan.initiatives), 'initiative')} ({mix or 'none'}) "
        f"{'works' if len(plan.initiatives) == 1 else 'work'} on {covered} of the "
        f"{plural(len(per_target), 'target')}; the improvement register holds "
        f"{plural(len(plan.ideas), 'idea')}."
    )
    missing = per_target.loc[per_target["n_initiatives"] == 0, "target_id"].tolist()
    if missing:
        text += f" No initiative works on {', '.join(missing)} yet."
    return text
