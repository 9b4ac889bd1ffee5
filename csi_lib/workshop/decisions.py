"""The append-only ``decisions.md`` of a cycle folder: record a decision (the whole file
rewritten atomically under the lock), read them back as a table, show them as HTML."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..report.stages import Stage
from ..storage import atomic_write, read_bounded
from .environment import stage_of
from .lock import _locked

#: The decisions log of a cycle folder.
DECISIONS_FILE = "decisions.md"
_DECISIONS_HEADER = """\
# Decisions

What the improvement workshops of this cycle decided, oldest first. Each entry is
appended by the workshop (`csi workshop`): a heading with the time (UTC), the stage
and who recorded it, then the decision quoted. Do not edit the entries; add a new
decision that corrects an old one instead.
"""
_HEADING = re.compile(
    r"^## (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC"
    r"(?: \u2014 stage (?P<stage>\d+): [^\n\u2014]*?)?"
    r"(?: \u2014 recorded by (?P<author>.*))?$"
)
_DECISION_COLUMNS = ["recorded_at", "stage", "stage_title", "author", "text"]
#: Longest decision text accepted (characters).
MAX_DECISION_CHARS = 5000


def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(dt.UTC).replace(microsecond=0)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def record_decision(
    cycle_dir: str | Path,
    text: str,
    *,
    stage: int | str | Stage | None = None,
    author: str | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Append a timestamped decision to ``CYCLE_DIR/decisions.md`` (created if absent).

    The entry is a heading (UTC time, stage, author) and the text as a quote.
    ``<``, ``>`` and ``&`` are written as HTML entities, so any markdown viewer
    shows the text as typed and never runs markup from it; :func:`read_decisions`
    gives the original text back. The whole file is rewritten atomically under
    a lock (see the module's notes); earlier entries are never changed.

    Parameters
    ----------
    cycle_dir:
        The cycle folder.
    text:
        The decision, in the room's words (at most 5000 characters).
    stage:
        The stage it belongs to (0-6 or a notebook name), optional.
    author:
        Who recorded it (one line), optional.
    now:
        The time of the decision (default: now); naive times are taken as UTC.

    Returns
    -------
    Path
        The decisions file.

    Raises
    ------
    ConfigError
        The text is empty or too long, the stage is unknown, or the folder does not exist.

    Examples
    --------
    >>> path = record_decision(cycle_dir, "Promote R2", stage=3, author="Ana",
    ...                        now=dt.datetime(2026, 4, 15, 10, 30))
    >>> print(path.read_text().split("instead.")[1].strip())
    ## 2026-04-15 10:30:00 UTC — stage 3: How do we get there? — recorded by Ana
    <BLANKLINE>
    > Promote R2
    """
    cycle_dir = Path(cycle_dir)
    body = str(text or "").strip()
    if not body:
        raise ConfigError("the decision is empty", column="text", hint="type what the room decided")
    if len(body) > MAX_DECISION_CHARS:
        raise ConfigError(
            f"the decision is {len(body)} characters long (at most {MAX_DECISION_CHARS})",
            column="text",
            hint="keep the decision short and link to a document for the details",
        )
    if not cycle_dir.is_dir():
        raise ConfigError("the cycle folder does not exist", file=str(cycle_dir))
    chosen = stage_of(stage)
    heading = f"## {_utc(now):%Y-%m-%d %H:%M:%S} UTC"
    if chosen is not None:
        heading += f" \u2014 stage {chosen.number}: {chosen.title}"
    who = _one_line(author or "")
    if who:
        heading += f" \u2014 recorded by {html.escape(who, quote=False)}"
    quoted = "\n".join(f"> {line}".rstrip() for line in html.escape(body, quote=False).splitlines())
    path = cycle_dir / DECISIONS_FILE
    with _locked(path):
        old = _read_log(path) if os.path.lexists(path) else _DECISIONS_HEADER
        new = old.rstrip("\n") + "\n\n" + heading + "\n\n" + quoted + "\n"
        atomic_write(path, new, overwrite=True)
    return path


#: The largest decisions log read: thousands of decisions of MAX_DECISION_CHARS each.
DECISIONS_MAX_BYTES = 16 * 2**20


def _read_log(path: Path) -> str:
    """The text of ``decisions.md``: a regular file of at most :data:`DECISIONS_MAX_BYTES`
    (a named pipe, a device or a link leading nowhere is refused with a
    :class:`ConfigError`, never read)."""
    hint = "decisions.md is the text file the workshop writes; move this one away"
    data = read_bounded(
        path, DECISIONS_MAX_BYTES, error=ConfigError, what="decisions log", hint=hint
    )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            "the decisions log is not UTF-8 text", file=str(path), hint="save it as UTF-8"
        ) from None


def read_decisions(cycle_dir: str | Path) -> pd.DataFrame:
    """The decisions of a cycle, oldest first.

    Returns
    -------
    pd.DataFrame
        Columns ``recorded_at`` (UTC timestamp), ``stage`` (number or NA),
        ``stage_title``, ``author`` and ``text`` (as typed). Empty when the
        cycle has no ``decisions.md`` yet.

    Examples
    --------
    >>> read_decisions(cycle_dir).empty       # a copy of the sample: no decision yet
    True
    >>> _ = record_decision(cycle_dir, "Promote R2", stage=3, author="Ana",
    ...                     now=dt.datetime(2026, 4, 15, 10, 30))
    >>> read_decisions(cycle_dir)
                    recorded_at  stage          stage_title author        text
    0 2026-04-15 10:30:00+00:00      3  How do we get there?    Ana  Promote R2
    """
    path = Path(cycle_dir) / DECISIONS_FILE
    rows: list[dict[str, Any]] = []
    if os.path.lexists(path):
        current: dict[str, Any] | None = None
        lines: list[str] = []
        for line in _read_log(path).splitlines():
            match = _HEADING.match(line)
            if match:
                if current is not None:
                    rows.append({**current, "text": _unquote(lines)})
                stage = stage_of(match["stage"]) if match["stage"] else None
                current = {
                    "recorded_at": pd.Timestamp(match["at"], tz="UTC"),
                    "stage": stage.number if stage else pd.NA,
                    "stage_title": stage.title if stage else "",
                    "author": html.unescape(match["author"] or ""),
                }
                lines = []
            elif current is not None:
                lines.append(line)
        if current is not None:
            rows.append({**current, "text": _unquote(lines)})
    table = pd.DataFrame(rows, columns=_DECISION_COLUMNS)
    table["stage"] = table["stage"].astype("Int64")
    return table


def _unquote(lines: list[str]) -> str:
    quoted = [ln[2:] if ln.startswith("> ") else ln.removeprefix(">") for ln in lines]
    return html.unescape("\n".join(quoted).strip("\n"))


def decisions_html(table: pd.DataFrame, *, stage: int | None = None) -> str:
    """The decisions (of one stage, or all) as an HTML list, every user text escaped."""
    if stage is not None and not table.empty:
        table = table[table["stage"] == stage]
    if table.empty:
        return "<i>No decision recorded yet.</i>"
    items = []
    for row in table.itertuples(index=False):
        meta = f"{row.recorded_at:%Y-%m-%d %H:%M} UTC"
        if not pd.isna(row.stage):
            meta += f", stage {int(row.stage)}"
        if row.author:
            meta += f", {row.author}"
        text = html.escape(row.text).replace("\n", "<br>")
        items.append(f"<li><b>{html.escape(meta)}</b>: {text}</li>")
    return "<ul class='csi-decisions'>" + "".join(items) + "</ul>"
