"""The canonical request frame: columns, dtypes, outcome vocabulary, validation.

One row per service request. Times are timezone-aware UTC. See DESIGN.md,
"Canonical request data".
"""

from __future__ import annotations

from dataclasses import dataclass

#: Outcomes a request can have.
OUTCOMES: tuple[str, ...] = ("fulfilled", "declined", "cancelled", "open")
#: Outcomes that mean the request is closed.
CLOSED_OUTCOMES: tuple[str, ...] = ("fulfilled", "declined", "cancelled")


@dataclass(frozen=True)
class Column:
    """A canonical column: its name, pandas dtype, whether it is required, its meaning."""

    name: str
    dtype: str
    required: bool
    meaning: str


#: The canonical columns, in order. dtypes: "datetime" = datetime64[ns, UTC].
CANONICAL_COLUMNS: tuple[Column, ...] = (
    Column("request_id", "string", True, "unique id"),
    Column("opened_at", "datetime", True, "received"),
    Column("assessed_at", "datetime", False, "first assessment / triage / approval decision"),
    Column("closed_at", "datetime", False, "fulfilled, declined or cancelled; empty while open"),
    Column("outcome", "category", True, "one of fulfilled, declined, cancelled, open"),
    Column("category", "category", False, "catalogue item or request type"),
    Column("channel", "category", False, "breakdown dimension"),
    Column("priority", "category", False, "breakdown dimension"),
    Column("group", "category", False, "breakdown dimension (assignment group)"),
    Column("sla_due_at", "datetime", False, "when the SLA expires"),
    Column("sla_met", "boolean", False, "given by the source; else derived from sla_due_at"),
    Column("csat", "float64", False, "satisfaction score 1..5"),
    Column("reopen_count", "Int64", False, "times reopened"),
)

COLUMNS: dict[str, Column] = {c.name: c for c in CANONICAL_COLUMNS}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in CANONICAL_COLUMNS if c.required)
DATETIME_COLUMNS: tuple[str, ...] = tuple(c.name for c in CANONICAL_COLUMNS if c.dtype == "datetime")
#: Canonical columns usable as breakdown dimensions (extra kept source columns are too).
DIMENSION_COLUMNS: tuple[str, ...] = ("category", "channel", "priority", "group")
