"""The status line of a control: an action's error in red, its result in green.

Every control that saves or records something (what-if, dot-voting, decisions
log) runs the action through :func:`attempt`, so a :class:`~csi_lib.errors.CsiError`
reaches the room as one red sentence instead of a traceback.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, TypeVar

from ..charts.theme import RAG
from ..errors import CsiError

__all__ = ["attempt", "done_html", "error_html", "in_words"]

T = TypeVar("T")


def error_html(message: str) -> str:
    """``message`` (plain text, escaped here) in the "fail" colour."""
    return f"<span style='color:{RAG['fail']}'>{html.escape(message)}</span>"


def done_html(text: str) -> str:
    """``text`` (HTML, escaped by the caller) in the "pass" colour."""
    return f"<span style='color:{RAG['pass']}'>{text}</span>"


def in_words(exc: CsiError) -> str:
    """The error as a control shows it: what is wrong and what to do, without the file,
    column or row the command line names (the person at the control sees the field).

    Examples
    --------
    >>> in_words(CsiError("the due date '31/03' is not a date", column="due",
    ...                   hint="write it as YYYY-MM-DD"))
    "The due date '31/03' is not a date. Write it as YYYY-MM-DD."
    """
    text = exc.message.rstrip(".")
    text = text[:1].upper() + text[1:] + "."
    if exc.hint:
        hint = exc.hint.rstrip(".")
        text += " " + hint[:1].upper() + hint[1:] + "."
    return text


def attempt(status: Any, action: Callable[[], T]) -> tuple[bool, T | None]:
    """Run ``action``; a :class:`CsiError` is written in red, in words (:func:`in_words`),
    into ``status`` (an ``ipywidgets.HTML``). Returns (succeeded, the action's result or None)."""
    try:
        return True, action()
    except CsiError as exc:
        status.value = error_html(in_words(exc))
        return False, None
