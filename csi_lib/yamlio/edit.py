"""Round-trip edits of a cycle's YAML with ruamel.yaml: the other entries, the key order
and the comments are kept, and the file is written atomically."""

from __future__ import annotations

import contextlib
import datetime as dt
import numbers
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..storage import atomic_path
from .read import load_yaml


def _round_trip():
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.width = 4096  # never re-wrap the lines a person wrote
    return rt


def _plain(value: Any) -> Any:
    """Convert numpy scalars, tuples and Timestamps into plain YAML-friendly values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | str | dt.date) or value is None:
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime()
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


@contextlib.contextmanager
def edit_yaml(path: str | Path) -> Iterator[Any]:
    """Yield the round-trip document of ``path``; on success write it back atomically.

    Comments, key order and the other entries are kept. Nothing is written if
    the block raises.

    Examples
    --------
    >>> plan = cycle_dir / "plan.yaml"            # a copy of data/sample-cycle/plan.yaml
    >>> with edit_yaml(plan) as doc:
    ...     doc["register"][0]["votes"] += 1
    >>> print([line for line in plan.read_text().splitlines() if "id: R1" in line][0])
      - {id: R1, idea: Automatic reminders to approvers after one working day, value: 4, effort: 1, votes: 7, status: accepted}
    >>> plan.read_text().startswith("# Stage 3")    # comments kept
    True
    """
    path = Path(path)
    rt = _round_trip()
    load_yaml(path)  # clear ConfigError (file and line) if the file is broken
    with open(path, encoding="utf-8") as fh:
        doc = rt.load(fh)
    if doc is None:
        from ruamel.yaml.comments import CommentedMap

        doc = CommentedMap()
    yield doc
    with atomic_path(path, overwrite=True) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        rt.dump(doc, fh)


def _to_ruamel(value: Any) -> Any:
    """Plain values as ruamel nodes: mappings as block maps, lists of scalars in flow style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, Mapping):
        return CommentedMap((str(k), _to_ruamel(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_to_ruamel(v) for v in value)
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _last_slot(node: Any) -> tuple[Any, Any, int] | None:
    """Where ruamel keeps the comment after ``node``'s last scalar: ``(node, key, slot)``."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap) and len(node):
        key, slot = list(node)[-1], 2
    elif isinstance(node, CommentedSeq) and len(node):
        key, slot = len(node) - 1, 0
    else:
        return None
    inner = _last_slot(node[key])
    if inner is not None and (
        _comment_at(*inner) is not None or _comment_at(node, key, slot) is None
    ):
        return inner
    return node, key, slot


def _comment_at(node: Any, key: Any, slot: int) -> Any:
    holder = node.ca.items.get(key)
    return holder[slot] if holder and len(holder) > slot else None


def _pop_comment_lines(node: Any) -> str:
    """Remove the comment *lines* after ``node``'s last value (ruamel keeps the comment
    lines that follow a list there) and return them; an end-of-line comment stays."""
    where = _last_slot(node)
    token = _comment_at(*where) if where is not None else None
    if token is None:
        return ""
    head, sep, rest = token.value.partition("\n")
    if not rest.strip():
        return ""
    token.value = head + sep
    return rest


def _push_comment_lines(node: Any, lines: str) -> None:
    """Put comment ``lines`` after ``node``'s last value."""
    import copy

    from ruamel.yaml.tokens import CommentToken

    where = _last_slot(node) if lines else None
    if where is None:
        return
    target, key, slot = where
    holder = target.ca.items.setdefault(key, [None, None, None, None])
    token = holder[slot]
    if token is None:
        holder[slot] = CommentToken("\n" + lines, copy.copy(_NO_MARK), None)
    else:
        token.value = token.value + lines


class _Mark:
    """Minimal stand-in for a ruamel start mark (only its column is read)."""

    line = 0
    column = 0


_NO_MARK = _Mark()


def append_list_item(items: Any, item: Mapping[str, Any]) -> None:
    """Append ``item`` to a round-trip list, keeping the comment lines that followed the list."""
    node = _to_ruamel(item)
    if hasattr(items, "fa") and items.fa.flow_style():
        items.fa.set_block_style()  # "targets: []" becomes a block list
    lines = _pop_comment_lines(items)
    items.append(node)
    _push_comment_lines(items, lines)


def delete_list_item(items: Any, index: int) -> None:
    """Delete ``items[index]``, keeping the comment lines that followed the list."""
    lines = _pop_comment_lines(items) if index == len(items) - 1 else ""
    del items[index]
    _push_comment_lines(items, lines)


def _list_of(doc: Any, list_key: str, path: Path) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    if not isinstance(doc, Mapping):
        raise ConfigError(
            "the file is not a mapping of keys", file=str(path), hint="see the example files"
        )
    if doc.get(list_key) is None:
        doc[list_key] = CommentedSeq()
    items = doc[list_key]
    if not isinstance(items, list):
        raise ConfigError(
            f"'{list_key}' is not a list",
            file=str(path),
            column=list_key,
            hint="write one '- id: ...' entry per item",
        )
    return items


def update_yaml_list_item(
    path: str | Path, list_key: str, item_id: str, new_item: Mapping[str, Any]
) -> Path:
    """Add or replace the entry ``id: item_id`` of the list ``list_key`` in a YAML file.

    The file's other entries and its comments are kept (ruamel.yaml round-trip).
    An existing entry is updated key by key, so comments inside it survive too;
    keys absent from ``new_item`` are removed from it. The file is written
    atomically.

    Parameters
    ----------
    path:
        The YAML file, e.g. a cycle's ``targets.yaml``.
    list_key:
        Top-level key of the list, e.g. ``"targets"``.
    item_id:
        The ``id`` of the entry to replace (or add).
    new_item:
        The entry's keys and values; its ``id`` is set to ``item_id``.

    Examples
    --------
    >>> import datetime as dt
    >>> path = update_yaml_list_item(cycle_dir / "targets.yaml", "targets", "T6",  # a new entry
    ...     {"kpi": "fulfil_median_h", "kind": "maintain_below", "value": 28,
    ...      "due": dt.date(2026, 3, 31), "objective": "O1"})
    >>> [t["id"] for t in load_yaml(path)[0]["targets"]]
    ['T1', 'T2', 'T3', 'T4', 'T5', 'T6']
    >>> load_yaml(path)[0]["targets"][-1]
    {'id': 'T6', 'kpi': 'fulfil_median_h', 'kind': 'maintain_below', 'value': 28,
     'due': datetime.date(2026, 3, 31), 'objective': 'O1'}
    """
    path = Path(path)
    item = {"id": item_id, **{k: v for k, v in _plain(dict(new_item)).items() if k != "id"}}
    with edit_yaml(path) as doc:
        items = _list_of(doc, list_key, path)
        for existing in items:
            if isinstance(existing, Mapping) and str(existing.get("id")) == str(item_id):
                for key in [k for k in existing if k not in item]:
                    del existing[key]
                for key, value in item.items():
                    if existing.get(key) != value:
                        existing[key] = _to_ruamel(value)
                break
        else:
            append_list_item(items, item)
    return path


def remove_yaml_list_item(path: str | Path, list_key: str, item_id: str) -> dict[str, Any]:
    """Remove the entry ``id: item_id`` of ``list_key``; returns it as a plain dict.

    Raises
    ------
    ConfigError
        No entry has that id.
    """
    path = Path(path)
    with edit_yaml(path) as doc:
        items = _list_of(doc, list_key, path)
        for index, existing in enumerate(items):
            if isinstance(existing, Mapping) and str(existing.get("id")) == str(item_id):
                removed = dict(existing)
                delete_list_item(items, index)
                return removed
        known = ", ".join(str(i.get("id")) for i in items if isinstance(i, Mapping)) or "none"
        raise ConfigError(
            f"no entry of '{list_key}' has the id '{item_id}'",
            file=str(path),
            column=list_key,
            hint=f"known ids: {known}",
        )
