"""Pull requests incrementally from a tool's REST API into a local Parquet store.

Two connectors:

- **ServiceNow** (REST Table API, ``GET /api/now/table/<table>``): records updated
  since the last pull (``sysparm_query=sys_updated_on>=...^ORDERBYsys_updated_on``),
  the fields asked for (``sysparm_fields``), each field as its display value except
  dates, which keep their UTC value (``sysparm_display_value=all``), page after page
  (the ``Link: rel="next"`` header, else ``sysparm_offset`` / ``sysparm_limit``).
- **Jira Service Management** (``GET /rest/api/3/search/jql``): issues matching a JQL
  query and ``updated >= ...``, page after page (``nextPageToken``, or ``startAt`` /
  ``total`` on servers that page that way), with the request type, status category,
  resolution, priority, the "Time to resolution" SLA and the satisfaction rating
  (custom fields found by their type through ``/rest/api/3/field``).

A pull merges the records into the *store*, a Parquet file with one row per
request (the latest version wins) whose columns are named as the ``servicenow``
and ``jira-sm`` presets expect, so a cycle names the store as its ``data.source``.
The store's Parquet metadata keeps where it was pulled from, the high-water mark
of the update time, and an audit of every pull (when, since, records received,
new, updated, total). The new store is written beside the old one and renamed
onto it: a pull that fails at any point leaves the store as it was.

Credentials never come from the command line: from environment variables
(``CSI_SERVICENOW_USER`` + ``CSI_SERVICENOW_PASSWORD`` or ``CSI_SERVICENOW_TOKEN``;
``CSI_JIRA_EMAIL`` + ``CSI_JIRA_API_TOKEN`` or ``CSI_JIRA_TOKEN``), or from a
credentials file readable by its owner only (mode 0600).

Modules: ``credentials`` (:func:`credentials_for`), ``transport`` (HTTP with
retries and clear errors), ``servicenow`` and ``jira`` (the connectors: pages of
flat records), ``store`` (the Parquet store and its audit), ``incremental``
(:func:`pull`: one pull from the high-water mark, merged into the store).

Examples
--------
``pull(ServiceNowSource("https://acme.service-now.com"), "data/requests.parquet",
credentials_for("servicenow"))`` asks the instance for the records changed since the
last pull. Below, the pages come from a recording instead of the network (a source
yields pages of flat records, field -> text); the rest is the real pull:

>>> class Recorded(ServiceNowSource):
...     def pages(self, http, since):
...         yield [{"sys_id": "a1", "number": "RITM0010001", "sys_updated_on": "2025-03-01 09:00:00"},
...                {"sys_id": "a2", "number": "RITM0010002", "sys_updated_on": "2025-03-01 11:00:00"}]
>>> src = Recorded("https://acme.service-now.com")
>>> credentials = credentials_for("servicenow", environ={"CSI_SERVICENOW_TOKEN": "t0ken"})
>>> result = pull(src, tmp / "requests.parquet", credentials)
>>> result.new, result.updated, result.total
(2, 0, 2)
>>> read_store(tmp / "requests.parquet")[1]["watermark"]   # the next pull asks from here
'2025-03-01T11:00:00+00:00'
"""

from __future__ import annotations

from .credentials import Credentials, credentials_for
from .incremental import LOOKBACK, pull
from .jira import JiraSource
from .servicenow import SERVICENOW_FIELDS, ServiceNowSource
from .store import META_KEY, PullResult, pull_history, read_store

__all__ = [
    "Credentials",
    "credentials_for",
    "ServiceNowSource",
    "JiraSource",
    "PullResult",
    "pull",
    "read_store",
    "pull_history",
    "LOOKBACK",
    "META_KEY",
    "SERVICENOW_FIELDS",
]
