"""The ServiceNow connector: a table read through the REST Table API
(``GET /api/now/table/<table>``), records flattened to field -> text.

Every page is asked with the same query, fields and display settings
(``sysparm_display_value=all``: each field comes as its language-neutral ``value`` and
its ``display_value`` in the API user's language). A field keeps its value under its
own name and its display text under ``dv_<field>`` (the ``dv_`` prefix is
ServiceNow's own for display values). Dates keep
their value, which is UTC. The ``servicenow`` preset maps outcomes on the value of
``state``, so an instance in any language gives the same outcomes, and reads
categories, groups, channels and priorities from their display text.

Pages follow each other by offset over the records ordered by ``sys_updated_on`` then
``sys_id``, each overlapping the previous one (:mod:`.paging`), so that records updated
during the pull are neither lost nor left behind. The ``Link`` header
(``Response.links``) or ``X-Total-Count`` says whether there are more; the link itself
is never followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .findings import Findings
from .paging import Page, anchored_pages
from .transport import _Http

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
#: Prefix of the column holding a field's display text.
DISPLAY_PREFIX = "dv_"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if text != "" else None


def flatten_record(
    record: Any, key: str = "sys_id", updated: str = "sys_updated_on"
) -> tuple[dict[str, str | None] | None, str | None]:
    """One record of ``sysparm_display_value=all`` as field -> text (see the module's
    docstring), or None and the reason it cannot be stored.

    Examples
    --------
    >>> flatten_record({"sys_id": {"value": "a1", "display_value": "a1"},
    ...                 "state": {"value": "3", "display_value": "Geschlossen, abgeschlossen"},
    ...                 "sys_updated_on": {"value": "2025-03-01 09:00:00",
    ...                                    "display_value": "01.03.2025 10:00:00"}})[0]
    {'sys_id': 'a1', 'state': '3', 'dv_state': 'Geschlossen, abgeschlossen', 'sys_updated_on': '2025-03-01 09:00:00'}
    >>> flatten_record({"number": "RITM1"})
    (None, 'no sys_id')
    """
    if not isinstance(record, dict):
        return None, "a record that is not an object"
    out: dict[str, str | None] = {}
    for name, cell in record.items():
        name = str(name)
        if isinstance(cell, dict):
            value, shown = _text(cell.get("value")), _text(cell.get("display_value"))
        else:
            value, shown = _text(cell), None
        out[name] = value
        if (
            shown is not None
            and name not in (key, updated)
            and not (value and _SN_DATE.match(value))
        ):
            out[DISPLAY_PREFIX + name] = shown
    if not out.get(key):
        return None, f"no {key}"
    stamp = out.get(updated)
    if not stamp:
        return None, f"no {updated}"
    if not _SN_DATE.match(stamp):
        return None, f"{updated} '{stamp[:40]}' is not a date (YYYY-MM-DD hh:mm:ss)"
    return out, None


def split_orderby(query: str) -> tuple[str, list[str]]:
    """An encoded query without its ``ORDERBY``/``ORDERBYDESC``/``GROUPBY`` parts, and
    those parts (a pull orders by update time itself).

    Examples
    --------
    >>> split_orderby("active=true^ORDERBYDESCnumber^priority=1")
    ('active=true^priority=1', ['ORDERBYDESCnumber'])
    """
    kept, dropped = [], []
    for part in query.split("^"):
        if part.startswith(("ORDERBY", "GROUPBY")):
            dropped.append(part)
        elif part:
            kept.append(part)
    return "^".join(kept), dropped


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
        An extra encoded query ANDed to the update filter (e.g. ``active=true``); its
        ``ORDERBY`` parts are removed, with a note.
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

    @property
    def address(self) -> str:
        return self.instance

    def describe(self) -> dict[str, str]:
        """Where the store comes from (kept in its metadata)."""
        return {"tool": self.tool, "url": self.instance.rstrip("/"), "table": self.table}

    def query_text(self) -> str:
        """The user's filter, as the store's metadata keeps it."""
        return self.query or ""

    def _query(self, since: pd.Timestamp | None, findings: Findings) -> str:
        parts = []
        if since is not None:
            parts.append(f"{self.updated}>={since.strftime('%Y-%m-%d %H:%M:%S')}")
        if self.query:
            query, dropped = split_orderby(self.query.strip())
            if dropped:
                findings.note(
                    f"the query's {', '.join(dropped)} was removed: a pull orders the records "
                    "by update time itself"
                )
            if query:
                parts.append(query)
        parts += [f"ORDERBY{self.updated}", f"ORDERBY{self.key}"]
        return "^".join(parts)

    def _pages(
        self,
        http: _Http,
        params: dict[str, Any],
        findings: Findings,
    ) -> Iterator[list[dict[str, Any]]]:
        url = f"/api/now/table/{self.table}"

        def fetch(offset: int) -> Page:
            answer = http.get(url, {**params, "sysparm_offset": offset})
            body = answer.body
            result = body.get("result") if isinstance(body, dict) else None
            if not isinstance(result, list):
                raise http.error(
                    "the servicenow server sent a malformed page (no 'result' list)",
                    "check the address and the table",
                )
            records = []
            for raw in result:
                flat, why = flatten_record(raw, self.key, self.updated)
                if flat is None:
                    ident = raw.get(self.key) if isinstance(raw, dict) else None
                    if isinstance(ident, dict):
                        ident = ident.get("value")
                    findings.quarantine(ident, why or "unreadable", raw)
                else:
                    records.append(flat)
            return Page(records, len(result), _more(answer, offset, len(result)), self.page_size)

        yield from anchored_pages(
            fetch,
            self.key,
            self.updated,
            overlap=max(1, min(20, self.page_size // 20)),
            error=lambda msg: http.error(msg, "check the instance; ask its administrators"),
            offset_name="sysparm_offset",
        )

    def pages(
        self, http: _Http, since: pd.Timestamp | None, findings: Findings | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of flat records (field -> text) updated at or after ``since`` (UTC)."""
        findings = findings if findings is not None else Findings()
        fields = list(dict.fromkeys([self.key, self.updated, *self.fields]))
        params = {
            "sysparm_query": self._query(since, findings),
            "sysparm_fields": ",".join(fields),
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_limit": self.page_size,
        }
        yield from self._pages(http, params, findings)

    def keys(self, http: _Http, findings: Findings) -> set[str]:
        """The ids of every record the table (and ``query``) returns now (for ``--prune``)."""
        params = {
            "sysparm_query": self._query(None, findings),
            "sysparm_fields": f"{self.key},{self.updated}",
            "sysparm_display_value": "false",
            "sysparm_limit": self.page_size,
        }
        sweep = Findings()
        return {r[self.key] for page in self._pages(http, params, sweep) for r in page}


def _more(answer: Any, offset: int, got: int) -> bool | None:
    """Whether the server says more records follow: its ``Link`` header (a ``next``
    relation), else ``X-Total-Count``; None if it says neither."""
    if answer.links:
        return "next" in answer.links
    total = str(answer.headers.get("X-Total-Count", "")).strip()
    if total.isdigit():
        return offset + got < int(total)
    return None
