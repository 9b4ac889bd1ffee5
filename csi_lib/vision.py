"""Stage 0, "What is the vision?": the cycle's ``vision.yaml`` and the alignment chain.

``vision.yaml`` holds the business direction, the vision, the mission and the
objectives. Every target of ``targets.yaml`` serves one objective and every
initiative of ``plan.yaml`` serves one or more targets; :func:`alignment` lists
that chain objective -> target -> initiative and :func:`orphans` flags the broken
links (an objective nobody works on, a target that serves no objective, an
initiative that serves no target).

Example ``vision.yaml``::

    business_direction: Grow the business without growing the service desk.
    vision: Requests are fulfilled quickly and predictably.
    mission: We remove waiting and rework from request fulfilment.
    objectives:
      - id: O1
        statement: Faster fulfilment of the most requested items
        owner: Head of End-User Services
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .words import join_words, plural
from .yamlio import problems_error, require_unique_ids, validate_file

__all__ = [
    "Objective",
    "Vision",
    "load_vision",
    "objectives_table",
    "alignment",
    "alignment_words",
    "alignment_table",
    "orphans",
    "target_links",
    "vision_text",
    "orphans_text",
]

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Objective(BaseModel):
    """One objective of the vision: an id (``O1``), what it says, who owns it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID_PATTERN, description="short id such as O1")
    statement: str = Field(min_length=1)
    owner: str | None = None


class Vision(BaseModel):
    """The contents of ``vision.yaml``."""

    model_config = ConfigDict(extra="forbid")

    business_direction: str = Field(min_length=1)
    vision: str = Field(min_length=1)
    mission: str = Field(min_length=1)
    objectives: list[Objective] = Field(default_factory=list)

    @field_validator("objectives")
    @classmethod
    def _unique_ids(cls, objectives: list[Objective]) -> list[Objective]:
        require_unique_ids(objectives, "objective")
        return objectives

    @property
    def objective_ids(self) -> list[str]:
        return [o.id for o in self.objectives]


def load_vision(path: str | Path) -> Vision:
    """Read and validate a ``vision.yaml``; a :class:`ConfigError` lists every problem."""
    vision, problems = validate_file(path, Vision)
    if problems:
        raise problems_error(problems, file=path)
    return vision


def objectives_table(vision: Vision) -> pd.DataFrame:
    """The objectives as a table: ``id``, ``statement``, ``owner``."""
    return pd.DataFrame(
        [o.model_dump() for o in vision.objectives], columns=["id", "statement", "owner"]
    )


# --------------------------------------------------------------------------- links


def _get(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _items(container: Any, name: str) -> list[Any]:
    """The list ``name`` of a model / mapping, or ``container`` itself if it is a list."""
    if container is None:
        return []
    if isinstance(container, Mapping):
        return list(container.get(name) or [])
    if isinstance(container, list | tuple):
        return list(container)
    return list(getattr(container, name, None) or [])


def target_links(targets: Any) -> pd.DataFrame:
    """``target_id``, ``objective_id``, ``kpi``, ``due`` of each target.

    ``targets`` is the targets model of ``targets.yaml`` (anything with a
    ``targets`` list), a list of target models, or a list of dicts.
    """
    rows = [
        {
            "target_id": str(_get(t, "id")),
            "objective_id": _get(t, "objective"),
            "kpi": _get(t, "kpi"),
            "due": _get(t, "due"),
        }
        for t in _items(targets, "targets")
    ]
    return pd.DataFrame(rows, columns=["target_id", "objective_id", "kpi", "due"])


def initiative_links(plan: Any) -> pd.DataFrame:
    """One row per (``initiative_id``, ``target_id``) link of the plan; target missing if none."""
    rows = []
    for ini in _items(plan, "initiatives"):
        targets = list(_get(ini, "targets") or [])
        for target in targets or [None]:
            rows.append({"initiative_id": str(_get(ini, "id")), "target_id": target})
    return pd.DataFrame(rows, columns=["initiative_id", "target_id"])


def alignment(vision: Vision, targets: Any, plan: Any) -> pd.DataFrame:
    """The alignment chain objective -> target -> initiative, one row per link.

    Objectives without targets, targets without initiatives, targets whose
    objective is not in the vision and initiatives that serve no target are all
    kept, with the missing side empty (``<NA>``), so nothing disappears.

    Returns
    -------
    pd.DataFrame
        Columns ``objective_id``, ``target_id``, ``initiative_id`` (strings,
        ``<NA>`` where the link is missing).

    Examples
    --------
    >>> alignment(cycle.vision, cycle.targets, cycle.plan).head(2)
      objective_id target_id initiative_id
    0           O1        T1            I1
    1           O1        T3            I2
    """
    objectives = pd.DataFrame({"objective_id": vision.objective_ids}, dtype="string")
    tlinks = target_links(targets)[["target_id", "objective_id"]].astype("string")
    ilinks = initiative_links(plan).astype("string")
    chain = objectives.merge(tlinks, on="objective_id", how="outer", sort=False)
    chain = chain.merge(ilinks, on="target_id", how="outer", sort=False)
    # an outer join on a missing target_id would pair "no target" with "no target"
    no_target = chain["target_id"].isna()
    obj_without_target = chain[no_target & chain["objective_id"].notna()][["objective_id"]]
    ini_without_target = chain[no_target & chain["initiative_id"].notna()][["initiative_id"]]
    chain = pd.concat(
        [
            chain[~no_target],
            obj_without_target.drop_duplicates(),
            ini_without_target.drop_duplicates(),
        ],
        ignore_index=True,
    )
    chain = chain.reindex(columns=["objective_id", "target_id", "initiative_id"]).astype("string")
    order = {oid: i for i, oid in enumerate(vision.objective_ids)}
    chain["_o"] = chain["objective_id"].map(order).astype("float").fillna(len(order))
    chain = chain.sort_values(
        ["_o", "target_id", "initiative_id"], na_position="last", kind="stable"
    )
    return chain.drop(columns="_o").drop_duplicates().reset_index(drop=True)


def alignment_words(vision: Vision, targets: Any, plan: Any) -> dict[tuple[str, str], str]:
    """What each objective, target and initiative of the chain is, in words (without its id).

    Keys are ``(kind, id)`` with kind ``"objective"`` (its statement), ``"target"`` (its
    KPI's label, and its scope when it has one) or ``"initiative"`` (its title). A target
    on a KPI the catalogue does not know keeps the KPI's key (``csi cycle check`` flags it).

    Examples
    --------
    >>> words = alignment_words(cycle.vision, cycle.targets, cycle.plan)
    >>> words[("target", "T1")], words[("initiative", "I2")]
    ('Median time to fulfil (Category: Laptop)', 'Approval simplification')
    """
    from .kpis import kpi_catalogue
    from .targets import scope_words

    catalogue = kpi_catalogue()
    labels = dict(zip(catalogue["key"].astype(str), catalogue["label"].astype(str), strict=True))
    words: dict[tuple[str, str], str] = {
        ("objective", str(o.id)): o.statement for o in vision.objectives
    }
    for t in _items(targets, "targets"):
        kpi = _get(t, "kpi")
        text = labels.get(str(kpi), str(kpi)) if kpi else ""
        scope = _get(t, "scope")
        if scope:
            text += f" ({scope_words(scope)})"
        words[("target", str(_get(t, "id")))] = text
    for ini in _items(plan, "initiatives"):
        words[("initiative", str(_get(ini, "id")))] = str(_get(ini, "title") or "")
    return words


def alignment_table(vision: Vision, targets: Any, plan: Any) -> pd.DataFrame:
    """:func:`alignment` for readers: each link's objective, target and initiative named by
    its id and its words ("T1 Median time to fulfil (Category: Laptop)"); a missing side
    stays empty.

    Examples
    --------
    >>> alignment_table(cycle.vision, cycle.targets, cycle.plan).iloc[0].tolist()
    ['O1 Faster fulfilment of the most requested items, starting with laptops', 'T1 Median time to fulfil (Category: Laptop)', 'I1 Laptop build automation']
    """
    chain = alignment(vision, targets, plan)
    words = alignment_words(vision, targets, plan)
    out = pd.DataFrame(index=chain.index)
    for kind, column in (("objective", "Objective"), ("target", "Target"),
                         ("initiative", "Initiative")):  # fmt: skip
        ids = chain[f"{kind}_id"]
        out[column] = pd.Series(
            [pd.NA if pd.isna(i) else f"{i} {words.get((kind, str(i)), '')}".strip() for i in ids],
            index=chain.index,
            dtype="string",
        )
    return out


def orphans(vision: Vision, targets: Any, plan: Any) -> pd.DataFrame:
    """Broken links of the alignment chain, one row each.

    Returns
    -------
    pd.DataFrame
        Columns ``kind`` (``"objective"``, ``"target"``, ``"initiative"``),
        ``id`` and ``problem`` (a sentence). Empty when every objective has a
        target, every target serves a known objective and every initiative
        serves a known target.
    """
    objective_ids = set(vision.objective_ids)
    tl = target_links(targets)
    il = initiative_links(plan)
    target_ids = set(tl["target_id"])
    rows: list[dict[str, str]] = []
    served = set(tl["objective_id"].dropna())
    for oid in vision.objective_ids:
        if oid not in served:
            rows.append(
                {"kind": "objective", "id": oid, "problem": "no target serves this objective"}
            )
    for tid, oid in zip(tl["target_id"], tl["objective_id"], strict=True):
        if oid is None or pd.isna(oid) or oid == "":
            rows.append({"kind": "target", "id": tid, "problem": "the target names no objective"})
        elif oid not in objective_ids:
            rows.append(
                {
                    "kind": "target",
                    "id": tid,
                    "problem": f"its objective '{oid}' is not in the vision",
                }
            )
    for iid, group in il.groupby("initiative_id", sort=False):
        linked = [t for t in group["target_id"] if t is not None and not pd.isna(t)]
        if not linked:
            rows.append(
                {"kind": "initiative", "id": iid, "problem": "the initiative serves no target"}
            )
        elif not any(t in target_ids for t in linked):
            names = join_words(map(str, linked))
            which = f"its target {names} is" if len(linked) == 1 else f"its targets {names} are"
            rows.append(
                {
                    "kind": "initiative",
                    "id": iid,
                    "problem": f"{which} not among the cycle's targets",
                }
            )
    return pd.DataFrame(rows, columns=["kind", "id", "problem"])


def vision_text(vision: Vision) -> str:
    """The business direction, vision and mission as markdown (for a notebook or report).

    Examples
    --------
    >>> print(vision_text(cycle.vision))
    **Business direction.** ...
    """
    return "\n\n".join(
        [
            f"**Business direction.** {vision.business_direction}",
            f"**Vision.** {vision.vision}",
            f"**Mission.** {vision.mission}",
        ]
    )


def orphans_text(found: pd.DataFrame) -> str:
    """One markdown paragraph about the result of :func:`orphans` (the table follows it only
    when there is a broken link: the notebook shows it with :func:`csi_lib.nb.nonempty`).

    Examples
    --------
    >>> orphans_text(pd.DataFrame(columns=["kind", "id", "problem"]))
    'Every objective has a target, every target serves an objective of the vision and every initiative serves a target: the plan is aligned.'
    >>> print(orphans_text(pd.DataFrame({"kind": ["target"], "id": ["T9"],
    ...                                  "problem": ["serves no objective of the vision"]})))
    1 broken link in the alignment chain, to fix before the plan is agreed: target **T9**: serves no objective of the vision.
    """
    if found.empty:
        return (
            "Every objective has a target, every target serves an objective of the vision and "
            "every initiative serves a target: the plan is aligned."
        )
    items = "; ".join(
        f"{k} **{i}**: {p}" for k, i, p in found[["kind", "id", "problem"]].itertuples(index=False)
    )
    return (
        f"{plural(len(found), 'broken link')} in the alignment chain, to fix before the plan is "
        f"agreed: {items}."
    )
