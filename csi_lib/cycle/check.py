"""Checking a cycle folder: every problem of every file at once, with file and line."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from ..errors import ConfigError, CsiError, InputError
from ..plan import Plan
from ..storage import broken_link, require_regular_file
from ..vision import Vision
from ..yamlio import Problem, load_yaml, validation_problems
from .config import CYCLE_FILES, CycleConfig, _order_problems, _resolve, _targets_model

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
    if not os.path.lexists(path):  # a link that leads nowhere is named by load_yaml
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
    if data.is_url:  # a web or file address, or no database dialect: the report refuses it
        from ..sources.sql import url_problem

        problem = url_problem(data.source)
        if problem is not None:
            problems.append(Problem(file, line_of.get("data.source"), "data.source", problem))
    if data.engine == "spark" or data.master is not None:
        problems += _engine_problems(data, cycle_dir, file, line_of, check_data)
    if check_data and not data.is_url and data.engine != "spark":
        source = _resolve(cycle_dir, data.source)
        if not Path(source).exists() and not broken_link(source):
            problems.append(
                Problem(
                    file,
                    line_of.get("data.source"),
                    "data.source",
                    f"the data file '{data.source}' does not exist (looked for {source}); "
                    "paths are relative to the cycle folder",
                )
            )
        else:  # a folder, a pipe, a device or a link leading nowhere: what the load refuses
            try:
                require_regular_file(source, what="export")
            except InputError as exc:
                message = f"the data file '{data.source}': {exc.message}"
                problems.append(Problem(file, line_of.get("data.source"), "data.source", message))
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


def _notify_problems(
    config: CycleConfig, cycle_dir: Path, file: str, line_of: dict[str, int]
) -> list[Problem]:
    """``notify:``: the SMTP credentials file exists and only its owner can read it."""
    if config.notify is None:
        return []
    from ..notify.settings import notify_problems

    found = notify_problems(config.notify, cycle_dir, line_of)
    return [Problem(file, line, where, message) for line, where, message in found]


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
        out.problems += _notify_problems(out.config, cycle_dir, files["cycle.yaml"], cfg.line_of)
        if not out.problems:
            # a midnight the reporting timezone skips or repeats: said (a CsiNote), not refused
            with contextlib.suppress(CsiError):
                out.config.periods()
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
    if isinstance(plan.raw, dict):  # expected benefits against the targets, values, KPIs
        from ..benefits.check import benefit_problems

        out.problems += benefit_problems(
            plan.raw, files["plan.yaml"], plan.line_of, targets.raw, cfg.raw, "cycle.yaml"
        )
    order = {name: i for i, name in enumerate(CYCLE_FILES)}
    out.problems.sort(key=lambda p: (order.get(Path(p.file).name, 9), p.line or 0))
    return out


#: A table of a Spark catalogue: ``name`` or ``database.name``.
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def _engine_problems(
    data: Any, cycle_dir: Path, file: str, line_of: dict[str, int], check_data: bool
) -> list[Problem]:
    """``engine: spark``: the source is a Parquet file or folder, or a table's name;
    ``master`` only with it."""
    if data.engine != "spark":
        message = "'master' names a Spark master URL: give it with engine: spark"
        return [Problem(file, line_of.get("data.master"), "data.master", message)]
    where = (file, line_of.get("data.source"), "data.source")
    if data.is_url:
        return [Problem(*where, "the spark engine reads a Parquet file or folder, or a table "
                                "of its catalogue, not a URL")]  # fmt: skip
    source = Path(_resolve(cycle_dir, data.source))
    if source.is_file() and source.suffix.lower() in (".parquet", ".pq"):
        return []
    if source.is_dir() and any(source.glob("*.parquet")):
        return []
    if source.exists():
        return [Problem(*where, f"'{data.source}' is not Parquet: the spark engine reads a "
                                "Parquet file, a folder of them or a table; leave engine out "
                                "to read other files")]  # fmt: skip
    from ..sources.readers import READERS

    named_file = any(data.source.lower().endswith(s) for s in READERS)
    if (_TABLE.fullmatch(data.source) and not named_file) or not check_data:
        return []  # a table of the Spark session's catalogue, looked up when loading
    return [Problem(*where, f"the data file '{data.source}' does not exist (looked for "
                            f"{source}); paths are relative to the cycle folder")]  # fmt: skip


def _known_presets() -> list[str] | None:
    try:
        from ..sources import list_presets
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
    >>> check_cycle(sample_cycle)          # the folder data/sample-cycle: no problem
    []
    >>> import shutil
    >>> broken = shutil.copytree(sample_cycle, tmp / "broken")
    >>> _ = (broken / "cycle.yaml").write_text(
    ...     (broken / "cycle.yaml").read_text().replace("to: 2025-12-31", "to: 2025-13-31"))
    >>> for problem in check_cycle(broken):
    ...     print(problem)
    /.../broken/cycle.yaml:19: action.to: Input should be a valid date or datetime, month value
    is outside expected range of 1-12 (got '2025-13-31')
    """
    return _check(Path(cycle_dir)).problems


def count_files(cycle_dir: str | Path) -> int:
    """How many of the cycle's YAML files exist (for "OK: N files checked")."""
    return sum((Path(cycle_dir) / name).exists() for name in CYCLE_FILES)
