"""Realistic synthetic service-request data, with a known improvement story.

:func:`generate_requests` draws canonical request rows (see ``DESIGN.md``,
"Canonical request data", and ``docs/architecture.md``, "Canonical frame")
fully vectorised with numpy, so a million rows take a few seconds.
:func:`to_servicenow` and :func:`to_jira` reshape such rows into the shape of a
ServiceNow ``sc_req_item`` export and a Jira Service Management CSV export
(with personal and free-text columns that the loader must drop), and
:func:`write_requests` saves canonical rows as CSV, gzipped CSV or Parquet.

One module per job: :mod:`.story` (catalogue items, priorities, channels and the
interventions), :mod:`.generate` (the draw, step by step), :mod:`.write` (files)
and :mod:`.exports` (ServiceNow and Jira shapes); every name is importable from
``csi_lib.sample``.

The story built into the data (dates in UTC, by ``opened_at``) is documented in
``data/README.md``:

- 2025-09-01 "Laptop build automation" works: Laptop median fulfilment time
  about -35 % and a much shorter tail (phased in over two weeks), so the share
  within SLA rises by about 4 points.
- 2025-10-01 "Approval rules simplified" works a little: assessment delay x0.76
  on its working-hours part (median time to assessment about -25 %).
- 2025-08-01 "Satisfaction survey follow-up" does nothing: satisfaction only
  moves with fulfilment time, as before.
- The decline rate drifts slowly down (about -8 % of itself a year), with no
  intervention behind it.

Examples
--------
>>> from csi_lib.sample import generate_requests
>>> df = generate_requests(rows=1_000, seed=1)
>>> len(df), str(df["opened_at"].dtype)
(1000, 'datetime64[ns, UTC]')
"""

from __future__ import annotations

from .exports import (
    JIRA_PRIORITIES,
    JIRA_REQUEST_TYPES,
    SERVICENOW_CHANNELS,
    to_jira,
    to_servicenow,
)
from .generate import generate_requests
from .story import CATEGORIES, CHANNELS, INTERVENTIONS, PRIORITIES, CategorySpec, PrioritySpec
from .write import ISO_UTC, WRITERS, write_requests

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "INTERVENTIONS",
    "ISO_UTC",
    "JIRA_PRIORITIES",
    "JIRA_REQUEST_TYPES",
    "PRIORITIES",
    "SERVICENOW_CHANNELS",
    "WRITERS",
    "CategorySpec",
    "PrioritySpec",
    "generate_requests",
    "to_jira",
    "to_servicenow",
    "write_requests",
]
