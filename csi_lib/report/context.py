"""What a report run is about, for its pages: the cycle id, title and provenance lines.

:func:`_context` reads them off the run (:class:`csi_lib.run.Run`), before anything
runs (a missing data file exits 2 at once). A database URL is only ever shown with its
password hidden, and never reaches a notebook: the stages read the saved run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import __version__, shipped
from ..errors import CsiError
from ..run import Run
from ..storage import sha256_file

#: Sample data used when no data or cycle is given.
SAMPLE_DATA = shipped.SAMPLE_DATA


def _fingerprint(run: Run) -> str:
    """``sha256:...`` of a data file (exit 2 if it does not exist); SQL sources have none."""
    if run.source.is_url:
        return "n/a (SQL source)"
    path = Path(run.source.location)
    if not path.exists():
        raise CsiError(
            "the data file does not exist", file=str(path), hint="check the path or --data"
        )
    return "sha256:" + sha256_file(path)


def _periods(run: Run) -> list[tuple[str, str]]:
    """The provenance lines of the periods: a cycle's three, or the period asked for."""
    if run.config is not None:
        return [
            (f"{name.capitalize()} period", f"{r.from_} to {r.to}")
            for name, r in run.config.ranges().items()
        ]
    if run.period_from or run.period_to:
        first = run.period_from or "start of data"
        last = run.period_to or "end of data"
        return [("Period", f"{first} to {last}")]
    return []


def cut_words(run: Run) -> str:
    """The as-of cut in words: "2026-04-15 (the data up to the end of that day, Europe/Paris)".

    Examples
    --------
    >>> from csi_lib.run import make_run
    >>> cut_words(make_run(sample_cycle, as_of="2025-10-15"))
    '2025-10-15 (the data up to the end of that day, UTC)'
    """
    if run.as_of is None:
        return "all of the data"
    return f"{run.as_of.isoformat()} (the data up to the end of that day, {run.timezone})"


def _context(run: Run) -> dict[str, Any]:
    """Cycle id, title and the provenance lines every page shows."""
    if run.config is not None:
        cycle_id, title = run.config.id, run.config.title or run.config.id
    else:
        name = run.source.label
        # a database URL names its folder by the database's name, never by the URL
        cycle_id = Path(name).name.split(".")[0] or "report"
        title = f"Where are we now? {name}"
    source = run.source
    return {
        "cycle_id": cycle_id,
        "title": title,
        "provenance": [
            ("Data", source.label),
            ("Data fingerprint", _fingerprint(run)),
            ("Mapping", Path(source.mapping).name if source.mapping else f"preset {source.preset}"),
            *_periods(run),
            ("As of", cut_words(run)),
            ("csi-workbook", __version__),
        ],
    }
