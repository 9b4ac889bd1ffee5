"""YAML files of a cycle: loading with line numbers, problem lists, safe round-trip edits.

Reading uses PyYAML's safe loader (``yaml.safe_load`` semantics) and records the
line of every key and list item, so that a validation error can be reported as
``file:line: field: message``. A pydantic :class:`~pydantic.ValidationError` is
turned into a list of :class:`Problem` (one per error), which lets
``csi cycle check`` report every problem at once.

Editing uses ruamel.yaml in round-trip mode, which keeps the other entries, the
key order and the comments of the file, and writes atomically.

Modules: ``read`` (:func:`load_yaml`, :func:`compose_yaml`, :func:`validate_file`),
``problems`` (:class:`Problem`, :func:`validation_problems`, :func:`problems_error`), ``edit``
(:func:`edit_yaml` and the list-item edits).

Examples
--------
>>> data, line_of = load_yaml(sample_cycle / "vision.yaml")   # data/sample-cycle/vision.yaml
>>> data["objectives"][1]["id"], line_of["objectives[1].statement"]
('O2', 19)
"""

from __future__ import annotations

from .edit import (
    append_list_item,
    delete_list_item,
    edit_yaml,
    remove_yaml_list_item,
    update_yaml_list_item,
)
from .problems import (
    Problem,
    format_loc,
    problems_error,
    require_unique_ids,
    validation_problems,
)
from .read import ALIAS_BOUND, ModelT, compose_yaml, load_yaml, validate_file

__all__ = [
    "Problem",
    "format_loc",
    "load_yaml",
    "compose_yaml",
    "validation_problems",
    "validate_file",
    "problems_error",
    "edit_yaml",
    "update_yaml_list_item",
    "append_list_item",
    "delete_list_item",
    "remove_yaml_list_item",
    "require_unique_ids",
    "ALIAS_BOUND",
    "ModelT",
]
