"""The sample's world: catalogue items, priorities, channels and the improvement story.

Every number :func:`csi_lib.sample.generate_requests` draws from is set here:
demand shares, fulfilment times (hours), SLAs, seasonality weights, outcome
probabilities and the three interventions of :data:`INTERVENTIONS`
(documented in ``data/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "INTERVENTIONS",
    "PRIORITIES",
    "CategorySpec",
    "PrioritySpec",
]

_NS_PER_H = 3_600_000_000_000


@dataclass(frozen=True)
class CategorySpec:
    """How one catalogue item behaves in the sample.

    ``work_h`` is the median hands-on fulfilment time in calendar hours
    (lognormal with log-sd ``sigma``) after assessment, for priority 3.
    ``decline`` multiplies the base decline probability. ``automation`` is the
    (median, log-sd) factor intervention A ("Laptop build automation") applies
    to the work time.
    """

    weight: float
    work_h: float
    sigma: float
    groups: dict[str, float]
    decline: float = 1.0
    priority: tuple[float, float, float, float] = (0.02, 0.13, 0.65, 0.20)
    automation: tuple[float, float] = (1.0, 1.0)


#: Catalogue items: share of demand, fulfilment time and who fulfils them.
CATEGORIES: dict[str, CategorySpec] = {
    "Access request": CategorySpec(
        0.23, 5.0, 1.0, {"Identity & Access": 0.9, "Service Desk": 0.1}, decline=1.8
    ),
    "Software licence": CategorySpec(
        0.15, 14.0, 0.9, {"Procurement": 0.55, "Service Desk": 0.45}, decline=1.5
    ),
    "Laptop": CategorySpec(
        0.22,
        21.0,
        1.2,
        {"End User Computing": 1.0},
        decline=0.6,
        priority=(0.01, 0.05, 0.86, 0.08),
        automation=(0.86, 0.45),  # automated builds are faster and more consistent
    ),
    "Peripheral": CategorySpec(0.13, 22.0, 0.8, {"End User Computing": 0.75, "Service Desk": 0.25}),
    "Mobile phone": CategorySpec(0.09, 36.0, 0.7, {"Mobile Team": 1.0}, decline=1.2),
    "New starter": CategorySpec(
        0.07,
        60.0,
        0.5,
        {"End User Computing": 0.7, "Service Desk": 0.3},
        decline=0.2,
        priority=(0.01, 0.10, 0.80, 0.09),
        automation=(0.7, 0.8),  # the new starter's kit includes a laptop build
    ),
    "Shared mailbox": CategorySpec(0.05, 10.0, 0.9, {"Identity & Access": 1.0}),
    "Other": CategorySpec(0.06, 12.0, 1.2, {"Service Desk": 1.0}),
}


@dataclass(frozen=True)
class PrioritySpec:
    """A priority's SLA and how it scales the work time.

    The SLA is ``hours`` round the clock from ``opened_at`` when
    ``working_days`` is 0; otherwise ``working_days`` working days (Monday to
    Friday) from the first office instant at or after ``opened_at``.
    """

    hours: float
    working_days: int
    work: float


#: Priorities: SLA (8 h and 24 h round the clock; 3 and 5 working days) and work factor.
PRIORITIES: dict[str, PrioritySpec] = {
    "1 - Critical": PrioritySpec(8.0, 0, 0.2),
    "2 - High": PrioritySpec(24.0, 0, 0.55),
    "3 - Moderate": PrioritySpec(72.0, 3, 1.0),
    "4 - Low": PrioritySpec(120.0, 5, 1.25),
}

#: Channels: share of requests, and how they scale the assessment delay.
CHANNELS: dict[str, tuple[float, float]] = {
    "Portal": (0.62, 1.0),
    "E-mail": (0.22, 1.5),
    "Phone": (0.12, 0.6),
    "Walk-in": (0.04, 0.5),
}

#: The improvement story: date (UTC, by opened_at) and what each action does.
INTERVENTIONS: dict[str, dict[str, str]] = {
    "A": {
        "date": "2025-09-01",
        "title": "Laptop build automation",
        "effect": "work time x CategorySpec.automation (Laptop: median x0.86, log-sd x0.45;"
        " New starter: median x0.7, log-sd x0.8), phased in over 14 days",
    },
    "B": {
        "date": "2025-10-01",
        "title": "Approval rules simplified",
        "effect": "working-hours part of the assessment delay x0.76",
    },
    "C": {
        "date": "2025-08-01",
        "title": "Satisfaction survey follow-up",
        "effect": "none (satisfaction keeps depending on fulfilment time only)",
    },
}

_AUTOMATION_RAMP_DAYS = 14.0
_APPROVAL_FACTOR = 0.76

_OFFICE_OPEN, _OFFICE_CLOSE = 8.0, 18.0
#: Weekday weights Monday..Sunday.
_WEEKDAY = np.array([1.15, 1.10, 1.05, 1.00, 0.85, 0.07, 0.05])
#: Month weights January..December.
_MONTH = np.array([1.20, 1.05, 1.05, 0.95, 1.00, 0.98, 0.90, 0.70, 1.25, 1.08, 1.02, 0.92])
_XMAS_WEIGHT = 0.30  # 22 December .. 1 January
_GROWTH_PER_YEAR = 0.08
_DECLINE_BASE, _DECLINE_DRIFT_PER_YEAR = 0.045, 0.08
_CANCEL = 0.026
_STALE = 0.006  # share waiting for stock or a vendor: work x15
#: Share of requests that stall (waiting on the user, forgotten) and are closed as
#: cancelled by a clean-up months later, if at all: median days, log-sd.
_STALLED, _STALLED_DAYS, _STALLED_SIGMA = 0.03, 200.0, 0.8
_CLOSE_IN_OFFICE = 0.85  # share of closures recorded in office hours
_REF = pd.Timestamp("2025-01-01", tz="UTC")
