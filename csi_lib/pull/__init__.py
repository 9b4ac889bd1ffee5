"""Pull requests incrementally from a tool's REST API into a local Parquet store.

Two connectors:

- **ServiceNow** (REST Table API, ``GET /api/now/table/<table>``): records updated
  since the last pull (``sysparm_query=sys_updated_on>=...^ORDERBYsys_updated_on^ORDERBYsys_id``),
  the fields asked for (``sysparm_fields``), each field as its language-neutral value,
  with the display text of choices and references beside it in ``dv_<field>``
  (``sysparm_display_value=all``), page after page by ``sysparm_offset`` with
  overlapping pages (:mod:`.paging`), the ``Link`` header or ``X-Total-Count`` saying
  whether more follow.
- **Jira Service Management** (``GET /rest/api/3/search/jql`` on Cloud,
  ``/rest/api/2/search`` on Data Center): issues matching a JQL query (its ``ORDER BY``
  removed) and ``updated >= ...``, page after page (``nextPageToken``, or ``startAt`` /
  ``total``), with the request type, status category, resolution, priority, team, an
  SLA (``sd-sla-field``, chosen by name or id) and the satisfaction rating (custom fields
  found by their type through ``/rest/api/{2,3}/field``, or named by id).

A pull merges the records into the *store*, a Parquet file with one row per
request (the latest version wins) whose columns are named as the ``servicenow``
and ``jira-sm`` presets expect, so a cycle names the store as its ``data.source``.
The store's Parquet metadata keeps where it was pulled from, the high-water mark
of the update time, and an audit of every pull (when, since, records received,
new, updated, removed, quarantined, total). The new store is written beside the old one and renamed
onto it: a pull that fails at any point leaves the store as it was. One pull at a time
writes a store (a lock beside it; a second pull exits with status 3). ``prune=True``
(``--prune``) removes the requests the source no longer returns. Malformed records
(no id, no readable update time, ...) are written to a quarantine file beside the
store with their reason, and the pull goes on.

Every request is bounded (a whole answer within ``Limits.request_timeout``, the
whole pull within ``Limits.deadline``, answers at most ``Limits.max_bytes``); 429,
502, 503 and 504 are retried with backoff and ``Retry-After`` (a countdown is told);
credentials go only to the instance's origin (see :mod:`.transport`).

Credentials never come from the command line: from environment variables
(``CSI_SERVICENOW_USER`` + ``CSI_SERVICENOW_PASSWORD`` or ``CSI_SERVICENOW_TOKEN``;
``CSI_JIRA_EMAIL`` + ``CSI_JIRA_API_TOKEN`` or ``CSI_JIRA_TOKEN``), or from a
credentials file readable by its owner only (mode 0600).

Modules: ``credentials`` (:func:`credentials_for`), ``transport`` (HTTP with
bounds, retries and clear errors), ``paging`` (overlapping offset pages),
``servicenow`` and ``jira`` (the connectors: pages of flat records), ``findings``
(quarantined records and notes), ``store`` (the Parquet store, its lock and audit),
``incremental`` (:func:`pull`: one pull from the high-water mark, merged into the store).

Examples
--------
``pull(ServiceNowSource("https://acme.service-now.com"), "data/requests.parquet",
credentials_for("servicenow"))`` asks the instance for the records changed since the
last pull. Below, the pages come from a recording instead of the network (a source
yields pages of flat records, field -> text); the rest is the real pull:

>>> class Recorded(ServiceNowSource):
...     def pages(self, http, since, findings=None):
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
from .store import META_KEY, PullResult, StoreBusy, pull_history, read_store
from .transport import Limits

__all__ = [
    "Credentials",
    "credentials_for",
    "ServiceNowSource",
    "JiraSource",
    "PullResult",
    "StoreBusy",
    "Limits",
    "pull",
    "read_store",
    "pull_history",
    "LOOKBACK",
    "META_KEY",
    "SERVICENOW_FIELDS",
]
