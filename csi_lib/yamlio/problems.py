"""Problems in cycle files: :class:`Problem` (file, line, field, message), pydantic errors
turned into problem lists with lines, and one :class:`ConfigError` listing them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError


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
    >>> from csi_lib.cycle.config import CycleConfig
    >>> from csi_lib.yamlio import load_yaml
    >>> data, line_of = load_yaml(sample_cycle / "cycle.yaml")
    >>> data["action"]["to"] = "2025-13-01"                   # as if the file said so
    >>> try:
    ...     CycleConfig.model_validate(data)
    ... except ValidationError as exc:
    ...     problems = validation_problems(exc, file="cycle.yaml", line_of=line_of)
    >>> print(problems[0])
    cycle.yaml:19: action.to: Input should be a valid date or datetime, month value is outside
    expected range of 1-12 (got '2025-13-01')
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
