"""What a load returns: the canonical frame, the quarantine and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..events import EventCounts
from .mapping import Mapping

# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What :func:`load_requests` returns.

    Attributes
    ----------
    data:
        The canonical frame (see docs/architecture.md), one row per request.
    quarantine:
        Rejected rows: ``source_row`` (1-based data row of the source, header not
        counted), ``request_id``, ``column``, ``reason`` (several joined by ``"; "``),
        then the row as read in every source column the mapping reads (untrimmed,
        ``NULL`` as written): fixed, the quarantine file loads again with the same mapping.
    source:
        The file path, or the database URL with its password hidden.
    mapping:
        The :class:`Mapping` used.
    fingerprint:
        SHA-256 hex of the source file's bytes (SQL: of the result as CSV).
    rows_read, rows_kept, rows_quarantined:
        Counts (rows). ``rows_read = rows_kept + rows_quarantined + rows_deduplicated
        + rows_collapsed + rows_blank``.
    quarantine_path:
        Where the quarantine was written, if it was.
    warnings:
        Things the user should know (encoding guessed, sheet chosen, optional column absent).
    rows_deduplicated:
        Event rows superseded by a later row of the same request (``dedupe``), or
        folded into their request (``events``).
    rows_collapsed:
        Exact duplicate rows collapsed into one.
    rows_blank:
        Rows with nothing in any column the mapping reads (a workbook's formatted but
        empty rows, a CSV line of delimiters only): skipped (an event log quarantines them).
    columns_used:
        Canonical or kept column -> the source column it came from
        (``"derived from sla_due_at"`` for a derived sla_met).
    events:
        For an event log (``events:``): events read, requests formed, requests
        quarantined, events without a readable time; else None.
    adjusted_values:
        Values kept or read as missing (with a warning) rather than quarantined, counted
        by what happened: a date outside 1677..2262 in an optional column read as missing,
        a local time in a skipped daylight-saving hour moved forward, an sla_met value
        that is neither true nor false read as unknown.
    """

    data: pd.DataFrame
    quarantine: pd.DataFrame
    source: str
    mapping: Mapping
    fingerprint: str
    rows_read: int
    rows_kept: int
    rows_quarantined: int
    quarantine_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    rows_deduplicated: int = 0
    rows_collapsed: int = 0
    columns_used: dict[str, str] = field(default_factory=dict)
    events: EventCounts | None = None
    adjusted_values: dict[str, int] = field(default_factory=dict)
    rows_blank: int = 0
    #: The as-of cut a run applied (:func:`csi_lib.run.as_known_at`): ``{"at": ISO instant,
    #: "left_out", "not_closed_yet", "not_assessed_yet", "data_end": where the data ends}``,
    #: or None (no cut).
    as_of_cut: dict[str, Any] | None = None

    def __repr__(self) -> str:
        from ..displays import load_repr

        return load_repr(self)

    def _repr_html_(self) -> str:
        """In a notebook: where the rows came from and what became of them (a short table)."""
        from ..displays import load_html

        return load_html(self)

    def quarantined_by_reason(self) -> dict[str, int]:
        """Rows per reason (a row with two reasons counts under both), largest first."""
        if self.quarantine.empty:
            return {}
        counts = self.quarantine["reason"].str.split("; ").explode().value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def summary(self) -> dict[str, Any]:
        """Everything ``csi validate`` prints, as plain JSON-able values.

        Examples
        --------
        >>> csv = tmp / "export.csv"
        >>> _ = csv.write_text("request_id,opened_at,closed_at,outcome,csat\\n"
        ...                    "R1,2025-03-01 09:00,2025-03-02 09:00,fulfilled,5\\n"
        ...                    "R2,2025-03-03 10:00,2025-03-01 10:00,fulfilled,4\\n"
        ...                    "R3,2025-03-04 11:00,2025-03-05 11:00,fulfilled,9\\n")
        >>> res = csi.load(csv)
        >>> res.summary()["quarantined_by_reason"]
        {'closed before opened': 1, 'csat out of range 1..5': 1}
        """
        return {
            "source": self.source,
            "mapping": self.mapping.name,
            "mapping_file": self.mapping.path,
            "fingerprint": self.fingerprint,
            "rows_read": self.rows_read,
            "rows_deduplicated": self.rows_deduplicated,
            "rows_collapsed": self.rows_collapsed,
            "rows_blank": self.rows_blank,
            "rows_kept": self.rows_kept,
            "rows_quarantined": self.rows_quarantined,
            "quarantined_by_reason": self.quarantined_by_reason(),
            "quarantine_path": str(self.quarantine_path) if self.quarantine_path else None,
            "warnings": list(self.warnings),
            "columns": dict(self.columns_used),
            "events": self.events.as_dict() if self.events else None,
            "adjusted_values": dict(self.adjusted_values),
        }
