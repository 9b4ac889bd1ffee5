"""A new cycle folder with commented examples (csi cycle new)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, OutputError
from ..storage import atomic_write
from .config import CycleConfig, DateRange

# --------------------------------------------------------------------------- new


_CYCLE_TEMPLATE = """\
# Improvement cycle {id}. Dates are inclusive (YYYY-MM-DD) in the timezone below;
# paths are relative to this folder. Check the folder with: csi cycle check {dir_name}
id: {id}
title: {title}

data:
  source: {source}          # CSV (.csv, .csv.gz), Excel (.xlsx; add sheet:), Parquet, or a database URL
{mapping_line}

# Stage 1, "Where are we now?": the period of the baseline snapshot
baseline:
  from: {baseline_from}
  to: {baseline_to}

# Stage 4, "Take action": when the initiatives run
action:
  from: {action_from}
  to: {action_to}

# Stage 5, "Did we get there?": the period compared with the baseline
review:
  from: {review_from}
  to: {review_to}

timezone: UTC               # reporting timezone of the dates above (IANA name)
freq: month                 # series frequency: month or week
min_group_size: 5           # breakdown groups with fewer requests are hidden
# What a unit of the benefits is worth (stage 5): an hour a customer waits, an hour of an
# agent's work, and the currency of every amount (plan.yaml's benefits too)
# value: {{customer_hour: 30, agent_hour: 45, currency: EUR}}
# Alerts after each scheduled report (csi notify test {dir_name} tries them): e-mail and
# Teams, Slack or JSON webhooks; credentials: a chmod-600 YAML file with user: and password:
# (or CSI_SMTP_USER and CSI_SMTP_PASSWORD in the environment)
# notify:
#   email: {{smtp: "mail.example.org:587", starttls: true, from: csi@example.org, to: [owner@example.org], credentials: /etc/csi/smtp.yaml}}
#   webhooks:
#     - {{url: "https://example.webhook.office.com/...", format: teams}}   # teams, slack or json
#   rules: {{signal: true, off_track: true, met: true, due_within_days: 14, failed: true}}
"""

_VISION_TEMPLATE = """\
# Stage 0, "What is the vision?". Replace the example text with your own.
business_direction: >-
  Where the business is heading (from the organisation's strategy), e.g.
  grow without growing the service desk.
vision: >-
  The service we want, in one sentence, e.g. requests are fulfilled quickly and predictably.
mission: >-
  What we do to get there, e.g. we remove waiting and rework from request fulfilment.

# Each target in targets.yaml names the objective it serves.
objectives:
  - id: O1
    statement: Faster fulfilment of the most requested items
    owner: Service owner
#  - id: O2
#    statement: Predictable service within the SLA
#    owner: Service level manager
"""

_TARGETS_TEMPLATE = """\
# Stage 2, "Where do we want to be?": SMART targets on catalogue KPIs
# (list them with: csi kpi-list).  kind: minimize | maximize | maintain_above |
# maintain_below | within (a tolerance band). Give 'value' (absolute, in the
# KPI's unit) or 'change' (relative to the baseline, in %). A count (received,
# fulfilled, declined, cancelled) is per month, or per week with freq: week in
# cycle.yaml: the unit of its chart and process limits.
targets: []
#  - id: T1
#    kpi: fulfil_median_h
#    scope: {{category: Laptop}}
#    kind: maintain_below
#    value: 28
#    due: {action_to}
#    objective: O1
#    owner: Service owner
#    note: the median Laptop request is fulfilled within 28 hours
"""

_PLAN_TEMPLATE = """\
# Stage 3, "How do we get there?". way_of_working: daily work | sprint | project.
# Dates are inclusive; status: planned | in progress | done | stopped.
initiatives: []
#  - id: I1
#    title: Automate the laptop build
#    owner: End-user computing lead
#    targets: [T1]
#    way_of_working: project          # a project has stages
#    start: {action_from}
#    end: {action_to}
#    stages:
#      - {{name: Design, start: {action_from}, end: {action_from}}}
#    expected_effect: {{T1: "-30 % fulfilment time"}}
#    benefits:                        # expected; stage 5 sets the realised ones beside them
#      # change: in the KPI's unit (hours of the mean time, percentage points of a share,
#      # requests a month of a count); value: what a unit is worth (a number, or
#      # customer_hour / agent_hour of cycle.yaml's value:)
#      - {{target: T1, change: -10, value: customer_hour}}
#      # - {{kpi: pct_reopened, change: -0.5, value: agent_hour}}
#    status: planned

# Improvement register: ideas scored value and effort 1..5, with votes.
# status: new | accepted | rejected | parked. Promote one with csi_lib.plan.promote.
register: []
#  - {{id: R1, idea: Self-service password reset, value: 4, effort: 2, votes: 0, status: new}}
"""


def _yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar (quoted when needed)."""
    import yaml

    return (
        yaml.safe_dump(value, default_flow_style=True, width=1000)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _relative(target: str | Path, start: Path) -> str:
    """``target`` relative to ``start`` (POSIX form) when on the same drive; URLs unchanged."""
    if "://" in str(target):
        return str(target)
    try:
        return Path(os.path.relpath(Path(target).resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return Path(target).resolve().as_posix()


def _add_months(day: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


def new_cycle(
    directory: str | Path,
    *,
    data: str | Path,
    preset: str | None = None,
    mapping: str | Path | None = None,
    baseline_from: str | dt.date,
    baseline_to: str | dt.date,
    id: str | None = None,  # noqa: A002 - the YAML key is "id"
    title: str | None = None,
) -> Path:
    """Create a cycle folder with ``cycle.yaml`` and commented example files.

    The action period defaults to the 6 months after the baseline and the
    review period to the 3 months after that (inclusive dates).

    Parameters
    ----------
    directory:
        The folder to create; an existing non-empty folder is refused.
    data:
        The request export (path as seen from the current directory; stored
        relative to the cycle folder) or a database URL.
    preset, mapping:
        Exactly one: a built-in mapping preset name or a mapping file.
    baseline_from, baseline_to:
        Inclusive dates of the baseline period (``YYYY-MM-DD``).
    id:
        The cycle id; default the folder's name.
    title:
        Default ``"Improvement cycle <id>"``.

    Returns
    -------
    Path
        The cycle folder.

    Examples
    --------
    >>> folder = new_cycle(tmp / "2025-h2", data=csi.SAMPLE_DATA, preset="generic",
    ...                    baseline_from="2025-01-01", baseline_to="2025-06-30")
    >>> sorted(p.name for p in folder.iterdir())
    ['cycle.yaml', 'plan.yaml', 'targets.yaml', 'vision.yaml']

    With a baseline 2025-01-01..2025-06-30 the action period is
    2025-07-01..2025-12-31 and the review period 2026-01-01..2026-03-31:

    >>> from csi_lib.cycle import load_config
    >>> {name: p.label for name, p in load_config(folder).periods().items()}
    {'baseline': '2025-01-01 to 2025-06-30', 'action': '2025-07-01 to 2025-12-31',
     'review': '2026-01-01 to 2026-03-31'}
    """
    directory = Path(directory)
    _check_inputs(directory, data=data, preset=preset, mapping=mapping)
    dates = _cycle_dates(baseline_from, baseline_to)
    cycle_id = id or directory.resolve().name
    title = title or f"Improvement cycle {cycle_id}"
    config = {
        "id": cycle_id,
        "title": title,
        "data": {"source": "x", "preset": preset} if preset else {"source": "x", "mapping": "x"},
        **{
            period: {"from": dates[f"{period}_from"], "to": dates[f"{period}_to"]}
            for period in ("baseline", "action", "review")
        },
    }
    try:
        CycleConfig.model_validate(config)
    except ValueError as exc:
        raise ConfigError(
            f"the cycle cannot be created: {exc}", hint="use a simple id such as 2025-h2"
        ) from exc
    directory.mkdir(parents=True, exist_ok=True)
    texts = _cycle_files(directory, cycle_id, title, data, preset, mapping, dates)
    for name, text in texts.items():
        atomic_write(directory / name, text)
    return directory


def _check_inputs(
    directory: Path, *, data: str | Path, preset: str | None, mapping: str | Path | None
) -> None:
    """Refuse a non-empty folder, both or neither of preset and mapping, missing files."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OutputError(
            "the cycle folder exists already and is not empty",
            file=str(directory),
            hint="choose a new folder name; nothing was changed",
        )
    if (preset is None) == (mapping is None):
        raise ConfigError(
            "give exactly one of --preset (a built-in mapping) and --mapping (a mapping file)",
            hint="for a CSV with the canonical column names use --preset generic",
        )
    if "://" not in str(data) and not Path(data).exists():
        raise ConfigError("the data file does not exist", file=str(data), hint="check the path")
    if mapping is not None and not Path(mapping).exists():
        raise ConfigError(
            "the mapping file does not exist", file=str(mapping), hint="check the path"
        )


def _cycle_dates(baseline_from: str | dt.date, baseline_to: str | dt.date) -> dict[str, dt.date]:
    """Inclusive first and last days of the baseline, the 6-month action period after it
    and the 3-month review period after that (keys ``baseline_from`` .. ``review_to``)."""
    try:
        b = DateRange.model_validate({"from": baseline_from, "to": baseline_to})
    except ValueError as exc:
        raise ConfigError(
            f"the baseline dates {baseline_from} .. {baseline_to} are not valid: {exc}",
            column="--baseline-from/--baseline-to",
            hint="write dates as YYYY-MM-DD, the first before the last",
        ) from exc
    action_from = b.to + dt.timedelta(days=1)
    action_to = _add_months(action_from, 6) - dt.timedelta(days=1)
    review_from = action_to + dt.timedelta(days=1)
    return {
        "baseline_from": b.from_,
        "baseline_to": b.to,
        "action_from": action_from,
        "action_to": action_to,
        "review_from": review_from,
        "review_to": _add_months(review_from, 3) - dt.timedelta(days=1),
    }


def _cycle_files(
    directory: Path,
    cycle_id: str,
    title: str,
    data: str | Path,
    preset: str | None,
    mapping: str | Path | None,
    dates: dict[str, dt.date],
) -> dict[str, str]:
    """The text of ``cycle.yaml`` and of the commented example vision, targets and plan."""
    if preset is not None:
        mapping_line = f"  preset: {_yaml_scalar(preset)}          # built-in mapping (csi presets)"
    else:
        mapping_line = f"  mapping: {_yaml_scalar(_relative(mapping, directory))}   # mapping file"
    return {
        "cycle.yaml": _CYCLE_TEMPLATE.format(
            id=_yaml_scalar(cycle_id),
            title=_yaml_scalar(title),
            dir_name=directory.as_posix(),
            source=_yaml_scalar(_relative(data, directory)),
            mapping_line=mapping_line,
            **dates,
        ),
        "vision.yaml": _VISION_TEMPLATE,
        "targets.yaml": _TARGETS_TEMPLATE.format(**dates),
        "plan.yaml": _PLAN_TEMPLATE.format(**dates),
    }
