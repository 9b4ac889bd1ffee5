"""YAML files of a cycle: loading with line numbers, problem lists, safe round-trip edits.

Reading uses PyYAML's safe loader (``yaml.safe_load`` semantics) and records the
line of every key and list item, so that a validation error can be reported as
``file:line: field: message``. A pydantic :class:`~pydantic.ValidationError` is
turned into a list of :class:`Problem` (one per error), which lets
``csi cycle check`` report every problem at once.

Editing uses ruamel.yaml in round-trip mode, which keeps the other entries, the
key order and the comments of the file, and writes atomically.

Examples
--------
>>> data, line_of = load_yaml("data/sample-cycle/vision.yaml")   # doctest: +SKIP
>>> line_of["objectives[1].statement"]                            # doctest: +SKIP
14
"""

from __future__ import annotations

import contextlib
import datetime as dt
import numbers
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ConfigError
from .storage import atomic_path

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
]

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One problem in a cycle file.

    Parameters
    ----------
    file:
        The file, as given (e.g. ``"data/sample-cycle/targets.yaml"``).
    line:
        1-based line of the offending key or item, ``None`` when unknown.
    field:
        Path of the field, e.g. ``"targets[2].due"``; ``""`` for the whole file.
    message:
        What is wrong, in plain words.
    """

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


def format_loc(loc: Sequence[str | int]) -> str:
    """Field path of a location tuple: ``("targets", 2, "due")`` -> ``"targets[2].due"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --------------------------------------------------------------------------- reading


#: How many values aliases (``*name``) may add to a file, beyond the values written in it.
#: Configuration files never need aliases; a few small ones are harmless, a "billion
#: laughs" bomb (9 levels of 9 aliases: 387 million values) is refused while composing.
ALIAS_BOUND = 10_000


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that keeps an impossible date (``2025-13-01``) as its text,
    and records every alias (line, anchor, node) and the anchors still being composed.

    PyYAML raises a bare ``ValueError`` for such a date; keeping the text lets
    the model report it as an invalid date on its own line, with the others.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases: list[tuple[int, str, yaml.Node]] = []
        self._open: list[str] = []
        self.file = "<yaml>"

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # noqa: D102
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1
            if event.anchor in self._open:
                raise ConfigError(
                    f"the alias *{event.anchor} refers to the entry that contains it "
                    f"(&{event.anchor}), which would repeat without end",
                    file=self.file,
                    row=line,
                    hint="write the values out instead of using &anchors and *aliases",
                )
            node = super().compose_node(parent, index)
            self.aliases.append((line, str(event.anchor), node))
            return node
        anchor = getattr(event, "anchor", None)
        if anchor is None:
            return super().compose_node(parent, index)
        self._open.append(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open.pop()


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _check_aliases(loader: _Loader, root: yaml.Node, file: str) -> None:
    """Refuse a document whose aliases expand to more than :data:`ALIAS_BOUND` extra values.

    The sizes are counted on the composed graph (an alias is the same node as its
    anchor), each node once, so a bomb is refused in time linear in the file's length.
    """
    if not loader.aliases:
        return
    size: dict[int, int] = {}

    def count(node: yaml.Node) -> int:
        known = size.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(count(k) + count(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(count(v) for v in node.value)
        size[id(node)] = total
        return total

    expanded = count(root)
    unique = len(size)
    if expanded - unique <= ALIAS_BOUND:
        return
    line, anchor, node = max(loader.aliases, key=lambda a: (size.get(id(a[2]), 1), -a[0]))
    raise ConfigError(
        f"its aliases (*{anchor} and others) expand to {expanded:,} values, more than the "
        f"{unique + ALIAS_BOUND:,} allowed (a file written to exhaust memory?)",
        file=file,
        row=line,
        hint="write the values out instead of using &anchors and *aliases",
    )


def compose_yaml(text: str, file: str) -> yaml.Node | None:
    """Parse ``text`` into a node graph, refusing recursive or exploding aliases.

    Raises
    ------
    ConfigError
        An alias refers to the entry that contains it, or the aliases would expand
        the file beyond :data:`ALIAS_BOUND` extra values (file and line named).
    yaml.YAMLError
        The text is not valid YAML.
    """
    loader = _Loader(text)
    loader.file = file
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_aliases(loader, node, file)
        return node
    finally:
        loader.dispose()


def _tab_line(text: str) -> int | None:
    """1-based number of the first line indented with a tab, if any."""
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            return number
    return None


def _record_lines(
    node: yaml.Node, loc: tuple[str | int, ...], line_of: dict[str, int], file: str
) -> None:
    """Walk a composed node tree and record the 1-based line of every key and item."""
    line_of.setdefault(format_loc(loc), node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                raise ConfigError(
                    f"the key '{key}' appears twice (lines {seen[key]} and {line})",
                    file=file,
                    column=format_loc((*loc, key)),
                    row=line,
                    hint="keep only one of them",
                )
            seen[key] = line
            line_of[format_loc((*loc, key))] = line
            _record_lines(value_node, (*loc, key), line_of, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            line_of[format_loc((*loc, index))] = item.start_mark.line + 1
            _record_lines(item, (*loc, index), line_of, file)


def load_yaml(path: str | Path) -> tuple[Any, dict[str, int]]:
    """Read a YAML file with ``yaml.safe_load`` semantics and the line of every field.

    Parameters
    ----------
    path:
        The YAML file.

    Returns
    -------
    (data, line_of)
        ``data`` as ``yaml.safe_load`` gives it (``{}`` for an empty file) and
        ``line_of``, a dict from field path (``"targets[2].due"``; ``""`` is the
        document) to its 1-based line.

    Raises
    ------
    ConfigError
        The file is missing or unreadable, is not valid YAML (file and line
        named), is indented with a tab, or repeats a key.

    Examples
    --------
    >>> data, line_of = load_yaml("cycle.yaml")       # doctest: +SKIP
    >>> data["baseline"]["from"], line_of["baseline.from"]   # doctest: +SKIP
    (datetime.date(2025, 1, 1), 7)
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("the file does not exist", file=file, hint="check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"the file cannot be read ({exc})", file=file, hint="save it as UTF-8 text"
        ) from exc
    loader = _Loader("")
    try:
        node = compose_yaml(text, file)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        tab = _tab_line(text)
        if tab is not None and (line is None or tab <= line + 1):
            raise ConfigError(
                "a tab is used for indentation, which YAML does not allow",
                file=file,
                row=tab,
                hint="indent with spaces only (set your editor to insert spaces for the Tab key)",
            ) from exc
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        ctx = exc.context_mark
        if exc.context and ctx is not None and line is not None and ctx.line + 1 != line:
            problem += f" ({exc.context.strip()} that starts on line {ctx.line + 1})"
        raise ConfigError(
            f"this is not valid YAML: {problem}",
            file=file,
            row=line,
            hint="check the indentation, the colons after keys and the quotes around values "
            "on that line or the line above",
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"this is not valid YAML: {exc}", file=file) from exc
    finally:
        loader.dispose()
    line_of: dict[str, int] = {}
    if node is not None:
        _record_lines(node, (), line_of, file)
    return ({} if data is None else data), line_of


# --------------------------------------------------------------------------- validation


def _line_and_field(loc: tuple[Any, ...], line_of: Mapping[str, int], error_type: str):
    """Longest prefix of ``loc`` that exists in the file: its line, and the field to show."""
    for cut in range(len(loc), -1, -1):
        prefix = loc[:cut]
        key = format_loc(prefix)
        if key in line_of:
            shown = prefix
            if cut < len(loc) and error_type in ("missing", "extra_forbidden"):
                shown = loc[: cut + 1]
            return line_of[key], format_loc(shown)
    return None, format_loc(loc)


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_problems(
    exc: ValidationError, *, file: str | Path, line_of: Mapping[str, int]
) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into one :class:`Problem` per error.

    Parameters
    ----------
    exc:
        The error raised by ``Model.model_validate(data)``.
    file:
        The file the data came from.
    line_of:
        The second value returned by :func:`load_yaml`.

    Examples
    --------
    >>> try:                                                    # doctest: +SKIP
    ...     CycleConfig.model_validate(data)
    ... except ValidationError as exc:
    ...     problems = validation_problems(exc, file="cycle.yaml", line_of=line_of)
    >>> str(problems[0])                                        # doctest: +SKIP
    "cycle.yaml:9: action.to: Input should be a valid date (got '2025-13-01')"
    """
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        line, field = _line_and_field(loc, line_of, kind)
        msg = str(err.get("msg", "invalid value"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if kind == "missing":
            msg = "this required key is missing"
        elif kind == "extra_forbidden":
            msg = "unknown key (not allowed here; check its spelling and indentation)"
        elif "input" in err and not isinstance(err["input"], dict | list) and kind != "value_error":
            msg += f" (got {_short(err['input'])})"
        problems.append(Problem(str(file), line, field, msg))
    return problems


def validate_file(path: str | Path, model: type[ModelT]) -> tuple[ModelT | None, list[Problem]]:
    """Load ``path`` and validate it with ``model``; never raises for a user mistake.

    Returns
    -------
    (instance or None, problems)
        The validated model (``None`` when there is any problem) and the list of
        problems found (empty when the file is fine).
    """
    try:
        data, line_of = load_yaml(path)
    except ConfigError as exc:
        return None, [Problem(str(path), exc.row, exc.column or "", _error_text(exc))]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, validation_problems(exc, file=path, line_of=line_of)


def _error_text(exc: ConfigError) -> str:
    text = exc.message.rstrip(".")
    return f"{text}; {exc.hint.rstrip('.')}" if exc.hint else text


def problems_error(problems: Sequence[Problem], *, file: str | Path | None = None) -> ConfigError:
    """One :class:`ConfigError` that lists ``problems`` (first line of each, at most 20)."""
    shown = [str(p) for p in problems[:20]]
    more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
    return ConfigError(
        f"{len(problems)} problem(s) found: " + "; ".join(shown) + more,
        file=file,
        hint="fix them and run 'csi cycle check' on the cycle folder",
    )


# --------------------------------------------------------------------------- round-trip editing


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
    >>> with edit_yaml("plan.yaml") as doc:       # doctest: +SKIP
    ...     doc["register"][0]["votes"] += 1
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
    >>> update_yaml_list_item("targets.yaml", "targets", "T1",         # doctest: +SKIP
    ...     {"kpi": "fulfil_median_h", "kind": "maintain_below", "value": 28, "due": date(2025, 12, 31)})
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


def require_unique_ids(items: Sequence[Any], what: str) -> None:
    """Raise ``ValueError`` (for a pydantic validator) naming ids used more than once.

    Examples
    --------
    >>> from types import SimpleNamespace as N
    >>> require_unique_ids([N(id="T1"), N(id="T1")], "target")
    Traceback (most recent call last):
    ValueError: target id(s) T1 are used more than once
    """
    ids = [i.id for i in items]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"{what} id(s) {', '.join(dupes)} are used more than once")
