"""Reading a cycle's YAML: PyYAML's safe loader, every key's and list item's line
recorded (``targets[2].due`` -> 14), impossible dates kept as text, alias bombs and
tabs refused with the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from ..storage import read_bounded
from .problems import Problem, _error_text, format_loc, validation_problems

ModelT = TypeVar("ModelT", bound=BaseModel)

#: The largest YAML file read (bytes): cycle and mapping files hold a few kilobytes.
YAML_MAX_BYTES = 16 * 2**20

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
        The file is missing or unreadable, not a regular file (a named pipe, a
        device such as ``/dev/zero``) or larger than :data:`YAML_MAX_BYTES`, is
        not valid YAML (file and line named), is indented with a tab, or repeats
        a key.

    Examples
    --------
    >>> data, line_of = load_yaml(sample_cycle / "cycle.yaml")   # data/sample-cycle/cycle.yaml
    >>> data["baseline"]["from"], line_of["baseline.from"]
    (datetime.date(2025, 1, 1), 13)
    """
    path = Path(path)
    file = str(path)
    try:
        text = read_bounded(
            path,
            YAML_MAX_BYTES,
            error=ConfigError,
            what="YAML file",
            hint="a cycle or mapping file holds a few kilobytes of text; check the path",
        ).decode("utf-8")
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
