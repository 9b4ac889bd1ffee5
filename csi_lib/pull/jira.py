"""The Jira Service Management connector: issues found by a JQL query
(``GET /rest/api/3/search/jql``), flattened to the columns of the ``jira-sm`` preset."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .transport import _Http, _malformed

#: Jira field types (``schema.custom``) of the service-management fields pulled.
_JSM_TYPES = {
    "request_type": "com.atlassian.servicedesk:vp-origin",
    "sla": "com.atlassian.servicedesk:sla-field",
    "satisfaction": "com.atlassian.servicedesk:sd-request-feedback",
}


@dataclass
class JiraSource:
    """Jira Service Management issues found by a JQL query.

    Parameters
    ----------
    site:
        The site URL, e.g. ``https://acme.atlassian.net``.
    jql:
        The issues to pull (e.g. ``project = ITSD``); ``updated >= ...`` is added.
    page_size:
        Issues per page (``maxResults``).
    search_path:
        The search endpoint (``/rest/api/2/search`` on Data Center).
    sla_name:
        The SLA field whose breach gives ``SLA met`` (by name, as sites may have several).
    fields:
        Custom field ids to use instead of discovering them: keys ``request_type``,
        ``sla``, ``satisfaction``.
    """

    site: str
    jql: str
    page_size: int = 100
    search_path: str = "/rest/api/3/search/jql"
    sla_name: str = "Time to resolution"
    fields: dict[str, str] = field(default_factory=dict)

    tool = "jira"
    key = "Issue id"
    updated = "Updated"

    def describe(self) -> dict[str, str]:
        return {"tool": self.tool, "url": self.site.rstrip("/"), "jql": self.jql}

    def _custom_fields(self, http: _Http) -> dict[str, str]:
        found = dict(self.fields)
        missing = [k for k in _JSM_TYPES if k not in found]
        if not missing:
            return found
        body, _ = http.get(self.search_path.rsplit("/search", 1)[0] + "/field")
        if not isinstance(body, list):
            raise _malformed(self.tool, http.base_url, "the field list is not a list")
        for item in body:
            if not isinstance(item, dict):
                continue
            custom = (item.get("schema") or {}).get("custom")
            for key in missing:
                if custom == _JSM_TYPES[key] and key not in found:
                    if key == "sla" and item.get("name") != self.sla_name:
                        continue
                    found[key] = str(item.get("id"))
        return found

    def pages(self, http: _Http, since: pd.Timestamp | None) -> Iterator[list[dict[str, Any]]]:
        """Pages of flat issues updated at or after ``since`` (UTC, to the minute)."""
        custom = self._custom_fields(http)
        jql = f"({self.jql})" if self.jql.strip() else ""
        if since is not None:
            stamp = since.strftime("%Y-%m-%d %H:%M")
            jql = (jql + " AND " if jql else "") + f'updated >= "{stamp}"'
        jql += " ORDER BY updated ASC"
        names = ["created", "updated", "resolutiondate", "status", "resolution", "priority"]
        params: dict[str, Any] = {
            "jql": jql,
            "fields": ",".join([*names, *custom.values()]),
            "maxResults": self.page_size,
        }
        start = 0
        while True:
            body, _ = http.get(self.search_path, params)
            issues = body.get("issues") if isinstance(body, dict) else None
            if not isinstance(issues, list):
                raise _malformed(self.tool, http.base_url, "no 'issues' list")
            if issues:
                yield [_flat_jira(i, custom, http.base_url) for i in issues]
            token = body.get("nextPageToken")
            if token and not body.get("isLast", False):
                params = dict(params, nextPageToken=token)
            elif "total" in body and not token:
                start += len(issues)
                if not issues or start >= int(body["total"]):
                    return
                params = dict(params, startAt=start)
            else:
                return


def _name(value: Any, *keys: str) -> str | None:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return None if value in (None, "") else str(value)


def _jira_time(value: Any) -> str | None:
    """Jira's ``2025-03-12T10:15:30.000+0000`` as UTC ``2025-03-12 10:15:30``."""
    if not value:
        return None
    stamp = pd.to_datetime(str(value), utc=True, format="ISO8601")
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _sla_met(value: Any) -> str | None:
    """``true`` / ``false`` from the completed cycles of an SLA field; None while open."""
    cycles = value.get("completedCycles") if isinstance(value, dict) else None
    if not cycles:
        return None
    return "false" if any(bool(c.get("breached")) for c in cycles) else "true"


def _flat_jira(issue: Any, custom: dict[str, str], base_url: str) -> dict[str, str | None]:
    if not isinstance(issue, dict) or not isinstance(issue.get("fields"), dict):
        raise _malformed("jira", base_url, "an issue without fields")
    f = issue["fields"]
    try:
        return {
            "Issue id": str(issue["id"]),
            "Issue key": str(issue["key"]),
            "Created": _jira_time(f.get("created")),
            "Updated": _jira_time(f.get("updated")),
            "Resolved": _jira_time(f.get("resolutiondate")),
            "Status": _name(f.get("status"), "name"),
            "Status Category": _name(f.get("status"), "statusCategory", "name"),
            "Resolution": _name(f.get("resolution"), "name"),
            "Priority": _name(f.get("priority"), "name"),
            "Request Type": _name(f.get(custom.get("request_type", "")), "requestType", "name"),
            "SLA met": _sla_met(f.get(custom.get("sla", ""))),
            "Satisfaction rating": _name(f.get(custom.get("satisfaction", "")), "rating"),
        }
    except (KeyError, ValueError) as exc:
        raise _malformed("jira", base_url, f"an issue without a readable {exc}") from None
