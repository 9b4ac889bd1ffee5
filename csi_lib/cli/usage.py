"""Usage mistakes on the command line: one short message and exit status 2.

Whatever typer and click are installed: typer up to 0.2x raises click's
exceptions, typer 0.29 raises those of its own copy of click
(``typer._click``), and a check against ``click.ClickException`` alone misses
them. :func:`usage_error_types` finds the classes of both.

The option values with a fixed form are checked before the command runs:
dates (:func:`iso_date`, ISO ``YYYY-MM-DD`` only, never guessed) and time
zones (:func:`time_zone`, IANA names).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from typing import Any

import typer

__all__ = ["iso_date", "time_zone", "usage_error_types", "usage_message"]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EXTRA = re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)")


def iso_date(value: str) -> str:
    """Check an option's date: ``YYYY-MM-DD``, a real calendar day, inside the workbook's dates.

    The dates the workbook computes with are those of :func:`csi_lib.periods.check_date`
    (1900-01-01 to 2199-12-31).

    Any other form (``15/04/2026``, ``01/07/2025``, ``2026-4-15``) is refused,
    never guessed. Returns the date as given.

    Examples
    --------
    >>> iso_date("2026-04-15")
    '2026-04-15'
    >>> iso_date("01/07/2025")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    typer._click.exceptions.BadParameter: '01/07/2025' is not a date in the form YYYY-MM-DD (for example 2026-04-15)
    """
    text = value.strip()
    if not _ISO_DATE.fullmatch(text):
        raise typer.BadParameter(
            f"'{value}' is not a date in the form YYYY-MM-DD (for example 2026-04-15)"
        )
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"'{value}' is not a day of the calendar (write YYYY-MM-DD, for example 2026-04-15)"
        ) from None
    from ..periods import check_date

    try:
        check_date(date)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return text


def time_zone(value: str) -> str:
    """Check an option's time zone: an IANA name such as ``UTC`` or ``Europe/London``.

    Examples
    --------
    >>> time_zone("Europe/London")
    'Europe/London'
    >>> time_zone("Europe/Londn")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    typer._click.exceptions.BadParameter: unknown time zone 'Europe/Londn' (did you mean Europe/London?): give an IANA name such as UTC or Europe/London
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise typer.BadParameter(
            f"unknown time zone '{value}'{hint}: give an IANA name such as UTC or Europe/London"
        ) from None
    return value


def usage_error_types() -> tuple[type[BaseException], ...]:
    """The ``ClickException`` classes of the installed typer and of click (when installed)."""
    found = {c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"}
    try:
        import click

        found.add(click.ClickException)
    except ImportError:  # pragma: no cover - typer 0.29 needs no click
        pass
    return tuple(found)


def _switch_before(extra: str, argv: Sequence[str], command: Any) -> str | None:
    """The switch (``--pdf``) given just before the unexpected argument, if any."""
    switches = {
        name: param
        for param in getattr(command, "params", [])
        if getattr(param, "is_flag", False)
        for name in [*param.opts, *getattr(param, "secondary_opts", [])]
    }
    first = extra.split()[0].strip("'\"") if extra.split() else extra
    for before, token in zip(argv, argv[1:], strict=False):
        if token == first and before in switches:
            return before
    return None


def usage_message(exc: Exception, argv: Sequence[str]) -> str:
    """One short line for a usage mistake: what is wrong, with which option, and where to look.

    ``exc`` is a click (or typer's click) exception; ``argv`` the arguments given.
    """
    text = exc.format_message()  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command", None)
    extra = _EXTRA.match(text)
    if extra and command is not None:
        switch = _switch_before(extra.group(1), argv, command)
        if switch is not None:
            text = (
                f"{switch} is a switch and takes no value (got '{extra.group(1)}'): "
                f"write {switch} to turn it on, or leave it out"
            )
    if text.startswith("No such command") and "did you mean" not in text.lower():
        name = text.split("'")[1] if text.count("'") >= 2 else ""
        names = command.list_commands(ctx) if command is not None else []
        close = difflib.get_close_matches(name, names, n=2)
        if close:
            text += " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    path = getattr(ctx, "command_path", None) or "csi"
    return f"error: {text} (see {path} --help)"
