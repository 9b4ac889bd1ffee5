"""What a pull met besides the records: malformed records (left out, or kept with a field
read as empty) with their reason, and notes for the user."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: The quarantine file's columns.
QUARANTINE_COLUMNS = ["record", "reason", "action", "data"]
LEFT_OUT = "left out of the store"


@dataclass
class Findings:
    """Quarantined records and notes of one pull.

    Examples
    --------
    >>> f = Findings()
    >>> f.quarantine(None, "no sys_id", {"number": "RITM1"})
    >>> f.note("the query's ORDERBY was removed"); f.note("the query's ORDERBY was removed")
    >>> f.left_out, f.notes
    (1, ["the query's ORDERBY was removed"])
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def quarantine(self, ident: Any, reason: str, data: Any, action: str = LEFT_OUT) -> None:
        """Record a malformed record: its id (if it has one), why, what was done with it."""
        try:
            text = json.dumps(data, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(data)
        self.rows.append(
            {
                "record": "" if ident in (None, "") else str(ident),
                "reason": reason,
                "action": action,
                "data": text[:2000],
            }
        )

    def note(self, text: str) -> None:
        """A sentence for the user (each said once)."""
        if text not in self.notes:
            self.notes.append(text)

    @property
    def left_out(self) -> int:
        """Records quarantined and left out of the store."""
        return sum(1 for r in self.rows if r["action"] == LEFT_OUT)
