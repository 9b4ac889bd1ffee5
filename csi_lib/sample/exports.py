"""Canonical rows reshaped as a ServiceNow or a Jira Service Management export.

:func:`to_servicenow` and :func:`to_jira` give the columns, value spellings and
date formats of those tools' CSV exports, with personal and free-text columns
(fake people at example.com) that a loader must drop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "JIRA_PRIORITIES",
    "JIRA_REQUEST_TYPES",
    "SERVICENOW_CHANNELS",
    "to_jira",
    "to_servicenow",
]
_FIRST = np.array(
    [
        "Aisha",
        "Ben",
        "Chloe",
        "Daniel",
        "Elena",
        "Farid",
        "Grace",
        "Hannah",
        "Ivan",
        "Jade",
        "Kofi",
        "Laura",
        "Mateo",
        "Nadia",
        "Oliver",
        "Priya",
        "Quentin",
        "Rosa",
        "Samir",
        "Tomasz",
        "Uma",
        "Victor",
        "Wen",
        "Yusuf",
        "Zoe",
    ]
)
_LAST = np.array(
    [
        "Adeyemi",
        "Brown",
        "Chen",
        "Dubois",
        "Evans",
        "Fischer",
        "Garcia",
        "Hughes",
        "Iqbal",
        "Jansen",
        "Kowalski",
        "Lopez",
        "Murphy",
        "Nowak",
        "Okafor",
        "Patel",
        "Quinn",
        "Rossi",
        "Singh",
        "Taylor",
        "Usman",
        "Varga",
        "Walsh",
        "Yilmaz",
        "Zhang",
    ]
)
_COMMENTS = np.array(
    [
        "",
        "",
        "Please deliver to reception, I am in the office on Tuesdays.",
        "Urgent - my manager approved this by e-mail.",
        "Spoke to {name} on the phone, waiting for confirmation.",
        "Same as my previous request, thanks.",
        "Called {name} twice, no answer.",
        "Needed before the project starts next Monday.",
    ]
)


def _fake_people(rng: np.random.Generator, n: int) -> tuple[pd.Series, pd.Series]:
    """Fake full names and matching e-mails at example.com (reserved for examples)."""
    first = pd.Series(_FIRST[rng.integers(0, len(_FIRST), n)], dtype="string")
    last = pd.Series(_LAST[rng.integers(0, len(_LAST), n)], dtype="string")
    names = first + " " + last
    emails = (first + "." + last).str.lower() + "@example.com"
    return names, emails


def _naive(ts: pd.Series, timezone: str, fmt: str) -> pd.Series:
    """UTC timestamps as naive wall-clock strings in ``timezone``; "" where missing."""
    local = ts.dt.tz_convert(timezone)
    return local.dt.strftime(fmt).fillna("").astype("string")


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("")


def _lookup(values: pd.Series, table: dict[str, str]) -> pd.Series:
    """Map canonical values onto a tool's vocabulary (unknown values pass through)."""
    text = values.astype("string")
    return text.map(table).fillna(text).fillna("").astype("string")


#: ServiceNow contact_type display values for the canonical channels.
SERVICENOW_CHANNELS = {
    "Portal": "Self-service",
    "E-mail": "Email",
    "Phone": "Phone",
    "Walk-in": "Walk-in",
}
#: Jira priority names for the canonical priorities.
JIRA_PRIORITIES = {
    "1 - Critical": "Highest",
    "2 - High": "High",
    "3 - Moderate": "Medium",
    "4 - Low": "Low",
}
#: Jira Service Management request type names for the sample's catalogue items.
JIRA_REQUEST_TYPES = {
    "Access request": "Request access",
    "Software licence": "Request a software licence",
    "Laptop": "Request a laptop",
    "Peripheral": "Request a peripheral",
    "Mobile phone": "Request a mobile phone",
    "New starter": "Onboard a new employee",
    "Shared mailbox": "Request a shared mailbox",
    "Other": "Get IT help",
}


def to_servicenow(df: pd.DataFrame, *, timezone: str = "UTC", seed: int = 0) -> pd.DataFrame:
    """Reshape canonical rows into a ServiceNow requested-item (``sc_req_item``) list export.

    Columns: ``number`` (RITM0010001...), ``opened_at``, ``approval_set``,
    ``closed_at`` (``"YYYY-MM-DD HH:MM:SS"``, naive wall-clock time in
    ``timezone``; empty while open), ``state`` (Closed Complete / Closed
    Incomplete / Closed Skipped / Open / Work in Progress), ``approval``,
    ``cat_item``, ``assignment_group``, ``priority``, ``contact_type``,
    ``made_sla`` (true/false), and personal or free-text columns that a loader
    must drop: ``opened_by``, ``requested_for``, ``short_description``,
    ``comments`` (fake names at example.com). Matches the ``servicenow`` preset
    when ``timezone`` is the preset's (UTC).

    Parameters
    ----------
    df:
        Canonical rows, e.g. from :func:`generate_requests`.
    timezone:
        The exporting user's ServiceNow timezone.
    seed:
        Seed of the fake names and comments.

    Examples
    --------
    >>> from csi_lib.sample import generate_requests
    >>> sn = to_servicenow(generate_requests(rows=50, seed=1))
    >>> sn["number"].iloc[0]
    'RITM0010001'
    """
    rng = np.random.default_rng(seed)
    n = len(df)
    outcome = df["outcome"].astype("string")
    assessed = df["assessed_at"].notna()
    state = _lookup(
        outcome,
        {
            "fulfilled": "Closed Complete",
            "declined": "Closed Incomplete",
            "cancelled": "Closed Skipped",
        },
    ).mask(
        outcome.eq("open"),
        pd.Series(np.where(assessed, "Work in Progress", "Open"), index=df.index),
    )
    approval = pd.Series(
        np.where(assessed, "Approved", "Requested"), index=df.index, dtype="string"
    )
    approval = approval.mask(outcome.eq("declined"), "Rejected")
    opened_by, _ = _fake_people(rng, n)
    requested_for, _ = _fake_people(rng, n)
    opened_by.index = requested_for.index = df.index
    comment = pd.Series(
        _COMMENTS[rng.integers(0, len(_COMMENTS), n)], index=df.index, dtype="string"
    )
    parts = comment.str.partition("{name}")
    comment = parts[0] + opened_by.where(parts[1].ne(""), "") + parts[2]
    fmt = "%Y-%m-%d %H:%M:%S"
    made_sla = df["sla_met"].astype("boolean").map({True: "true", False: "false"}).fillna("")
    return pd.DataFrame(
        {
            "number": "RITM"
            + pd.Series(np.arange(10_001, 10_001 + n), index=df.index)
            .astype("string")
            .str.zfill(7),
            "opened_at": _naive(df["opened_at"], timezone, fmt),
            "approval_set": _naive(df["assessed_at"], timezone, fmt),
            "closed_at": _naive(df["closed_at"], timezone, fmt),
            "state": state,
            "approval": approval,
            "cat_item": _text(df["category"]),
            "assignment_group": _text(df["group"]),
            "priority": _text(df["priority"]),
            "contact_type": _lookup(df["channel"], SERVICENOW_CHANNELS),
            "made_sla": made_sla.astype("string"),
            "opened_by": opened_by,
            "requested_for": requested_for,
            "short_description": _text(df["category"]) + " for " + requested_for,
            "comments": comment,
        }
    ).reset_index(drop=True)


def _jira_dates(ts: pd.Series, timezone: str) -> pd.Series:
    """Jira's default export format, e.g. ``25/Jan/25 9:14 AM`` (hour not zero-padded)."""
    text = _naive(ts, timezone, "%d/%b/%y %I:%M %p")
    return text.str.replace(r" 0(\d):", r" \1:", regex=True)


def to_jira(df: pd.DataFrame, *, timezone: str = "UTC", seed: int = 0) -> pd.DataFrame:
    """Reshape canonical rows into a Jira Service Management CSV export (issue search).

    Columns: ``Issue key`` (SR-1...), ``Issue Type``, ``Summary`` (free text),
    ``Reporter`` (fake e-mail), ``Created``, ``Resolved`` (day-first
    ``"25/Jan/25 9:14 AM"`` in ``timezone``; empty while unresolved),
    ``Status``, ``Resolution`` (Done; Declined or Won't Do for declined;
    Cancelled; empty while open), ``Request Type``, ``Priority`` (Highest, High,
    Medium, Low), ``Satisfaction rating`` (1..5 or empty), ``Team``. Matches the
    ``jira-sm`` preset when ``timezone`` is the preset's (UTC).

    Parameters
    ----------
    df:
        Canonical rows, e.g. from :func:`generate_requests`.
    timezone:
        The exporting user's profile timezone.
    seed:
        Seed of the fake reporters and of the Declined / Won't Do split.

    Examples
    --------
    >>> from csi_lib.sample import generate_requests
    >>> jira = to_jira(generate_requests(rows=50, seed=1))
    >>> list(jira["Issue key"].iloc[:2])
    ['SR-1', 'SR-2']
    """
    rng = np.random.default_rng(seed)
    n = len(df)
    outcome = df["outcome"].astype("string")
    assessed = df["assessed_at"].notna().to_numpy()
    wont_do = rng.random(n) < 0.3
    resolution = np.select(
        [
            outcome.eq("fulfilled"),
            outcome.eq("declined") & wont_do,
            outcome.eq("declined"),
            outcome.eq("cancelled"),
        ],
        ["Done", "Won't Do", "Declined", "Cancelled"],
        default="",
    )
    status = np.select(
        [
            outcome.eq("fulfilled"),
            outcome.eq("declined"),
            outcome.eq("cancelled"),
            pd.Series(assessed, index=df.index),
        ],
        ["Resolved", "Declined", "Canceled", "In Progress"],
        default="Waiting for support",
    )
    names, emails = _fake_people(rng, n)
    names.index = emails.index = df.index
    request_type = _lookup(df["category"], JIRA_REQUEST_TYPES)
    csat = df["csat"].astype("Int64").astype("string").fillna("")
    return pd.DataFrame(
        {
            "Issue key": "SR-" + pd.Series(np.arange(1, n + 1), index=df.index).astype("string"),
            "Issue Type": pd.Series("Service Request", index=df.index, dtype="string"),
            "Summary": request_type + " - " + names,
            "Reporter": emails,
            "Created": _jira_dates(df["opened_at"], timezone),
            "Resolved": _jira_dates(df["closed_at"], timezone),
            "Status": pd.Series(status, index=df.index, dtype="string"),
            "Resolution": pd.Series(resolution, index=df.index, dtype="string"),
            "Request Type": request_type,
            "Priority": _lookup(df["priority"], JIRA_PRIORITIES),
            "Satisfaction rating": csat,
            "Team": _text(df["group"]),
        }
    ).reset_index(drop=True)
