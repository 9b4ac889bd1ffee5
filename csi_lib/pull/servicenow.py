"""The ServiceNow connector: a table read through the REST Table API
(``GET /api/now/table/<table>``), records flattened to field -> text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import pandas as pd

from .transport import _Http, _malformed

#: Default ServiceNow fields: what the servicenow preset maps, plus the key and update time.
SERVICENOW_FIELDS: tuple[str, ...] = (
    "sys_id",
    "number",
    "opened_at",
    "approval_set",
    "closed_at",
    "state",
    "cat_item",
    "contact_type",
    "priority",
    "assignment_group",
    "made_sla",
    "sys_updated_on",
)
_SN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@dataclass
class ServiceNowSource:
    """A ServiceNow table read through the REST Table API.

    Parameters
    ----------
    instance:
        The instance URL, e.g. ``https://acme.service-now.com``.
    table:
        The table (``sc_req_item``: requested items; any other table works).
    fields:
        The fields to fetch (``sysparm_fields``); ``sys_id`` and ``sys_updated_on``
        are always added.
    query:
        An extra encoded query ANDed to the update filter (e.g. ``active=true``).
    page_size:
        Records per page (``sysparm_limit``).
    """

    instance: str
    table: str = "sc_req_item"
    fields: tuple[str, ...] = SERVICENOW_FIELDS
    query: str | None = None
    page_size: int = 1000

    tool = "servicenow"
    key = "sys_id"
    updated = "sys_updated_on"

    def describe(self) -> dict[str, str]:
        return {"tool": self.tool, "url": self.instance.rstrip("/"), "table": self.table}

    def pages(self, http: _Http, since: pd.Timestamp | None) -> Iterator[list[dict[str, Any]]]:
        """Pages of flat records (field -> text) updated at or after ``since`` (UTC)."""
        fields = list(dict.fromkeys([self.key, self.updated, *self.fields]))
        parts = []
        if since is not None:
            parts.append(f"{self.updated}>={since.strftime('%Y-%m-%d %H:%M:%S')}")
        if self.query:
            parts.append(self.query)
        params: dict[str, Any] | None = {
            "sysparm_query": "^".join(parts) + f"^ORDERBY{self.updated}",
            "sysparm_fields": ",".join(fields),
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_limit": self.page_size,
            "sysparm_offset": 0,
        }
        url = f"/api/now/table/{self.table}"
        offset = 0
        while True:
            body, headers = http.get(url, params)
            result = body.get("result") if isinstance(body, dict) else None
            if not isinstance(result, list):
                raise _malformed(self.tool, http.base_url, "no 'result' list")
            records = [_flat_servicenow(r, http.base_url) for r in result]
            if records:
                yield records
            nxt = _link_next(headers.get("Link", ""))
            if nxt:
                url, params = urljoin(http.base_url, nxt), None
            elif len(result) < self.page_size or not result:
                return
            else:
                offset += len(result)
                params = dict(params or {}, sysparm_offset=offset)


def _link_next(link: str) -> str | None:
    """The ``rel="next"`` URL of a Link header, if any."""
    for part in link.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


def _flat_servicenow(record: Any, base_url: str) -> dict[str, str | None]:
    """One record of ``sysparm_display_value=all`` as field -> text: dates keep their
    UTC value, every other field its display value."""
    if not isinstance(record, dict):
        raise _malformed("servicenow", base_url, "a record that is not an object")
    out: dict[str, str | None] = {}
    for name, cell in record.items():
        if isinstance(cell, dict):
            value, shown = cell.get("value"), cell.get("display_value")
            text = value if isinstance(value, str) and _SN_DATE.match(value) else shown
        else:
            text = cell
        out[name] = None if text in (None, "") else str(text)
    return out
