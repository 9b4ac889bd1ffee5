"""User-facing errors.

Every problem a user can fix (a bad file, a bad mapping, a bad cycle file)
is raised as a :class:`CsiError`. Its message is one paragraph that names the
file, the column and, where it applies, the row, and says what to do. The
command line prints the message (never a traceback) and exits with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CsiError(Exception):
    """A problem with the user's input, explained in one paragraph.

    Parameters
    ----------
    message:
        What is wrong, in plain words.
    file:
        The file (or source) the problem is in, if any.
    column:
        The column (or YAML field) concerned, if any.
    row:
        The 1-based data row (or YAML line) concerned, if any.
    hint:
        What the user can do about it.
    """

    message: str
    file: str | Path | None = None
    column: str | None = None
    row: int | None = None
    hint: str | None = None
    exit_code: int = field(default=2, repr=False)

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file '{self.file}'")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        text = (", ".join(where) + ": " if where else "") + self.message.rstrip(".") + "."
        if self.hint:
            hint = self.hint.rstrip(".")
            text += " " + hint[:1].upper() + hint[1:] + ("" if hint.endswith("?") else ".")
        return text

    def __str__(self) -> str:
        return self.render()


class InputError(CsiError):
    """A data file (export) cannot be read or mapped."""


class ConfigError(CsiError):
    """A mapping file, cycle file or command-line option is wrong."""


class SnapshotError(CsiError):
    """A baseline snapshot exists already, or its files do not match their fingerprint."""


class OutputError(CsiError):
    """An output cannot be written (exists already, read-only folder, disk full)."""


class ConnectorError(CsiError):
    """A pull from a tool's API failed (unreachable, credentials refused, rate-limited too
    long, malformed page); the store it was pulling into is unchanged."""


class CsiNote(UserWarning):
    """Something the user should know that is not an error (a date moved to the first
    instant that exists, ...): issued with :func:`warnings.warn`; the command line prints
    each as one line, ``note: ...``, on standard error."""
