"""What changed since a channel was last told: events from this run's ``summary.json`` and
stages against the state kept beside the report folder.

A run is *observed* (:func:`observe`): per target its standing, its special-cause signals
(each an episode of one rule on complete periods, ``summary.json``'s ``signals``), its due
date and whether it meets the target so far; and which stages failed. Each channel keeps
what it was told (:class:`ChannelState`); :func:`changes` compares the two and gives one
:class:`Event` per rule and target per change:

=============  ===================================================================
rule           fires when
=============  ===================================================================
``signal``     a special-cause signal (improvement or concern) the channel was never
               told of: a rule, a direction and the period it starts in
``off_track``  a target turns off track (or, at the end of the cycle, not met)
``met``        a target turns met (the final verdict)
``due``        a target is due within ``due_within_days`` days and does not meet its
               target yet (once per due date)
``failed``     a stage or the run failed, and the previous run told of no such failure
=============  ===================================================================

A target that goes off track, back on track and off track again is two changes, told
twice; a signal or a due date is told once, ever. Partial periods are never judged
(``summary.json`` has no signal on them), so a mid-month run adds nothing new.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..storage import atomic_write
from .settings import NotifyRules

__all__ = [
    "RULE_ORDER",
    "STATE_FILE",
    "ChannelState",
    "Event",
    "Observed",
    "changes",
    "observe",
    "read_state",
    "write_state",
]

#: The state of the cycle's alerts, in ``<out>/<cycle id>/`` beside the dated report folders.
STATE_FILE = ".notify-state.json"
#: Version of the state file's layout.
STATE_VERSION = 1
#: Rules in the order a message tells them.
RULE_ORDER = ("failed", "off_track", "met", "due", "signal")
#: Standings the ``off_track`` rule tells of.
OFF_TRACK = frozenset({"off track", "not met"})


@dataclass(frozen=True)
class Event:
    """One change worth a message.

    ``rule`` (a key of :data:`RULE_ORDER`), ``key`` (what makes it this change, kept in
    the state), ``target_id`` (None for a failed run), ``label`` (the target's label),
    ``text`` (one sentence, without the label), ``variation`` (a signal's improvement or
    concern).
    """

    rule: str
    key: str
    target_id: str | None
    label: str
    text: str
    variation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Observed:
    """What one run shows: ``as_of``, ``summary`` (``summary.json``, None when stage 5 wrote
    none) and ``failed`` (failed stages as ``"stage N"``, or ``["run"]`` when the run
    failed before publishing)."""

    as_of: dt.date
    summary: dict[str, Any] | None
    failed: list[str] = field(default_factory=list)

    @property
    def targets(self) -> list[dict[str, Any]]:
        items = (self.summary or {}).get("targets") or []
        return [t for t in items if isinstance(t, dict) and t.get("id") is not None]


def observe(
    summary: dict[str, Any] | None,
    stages: Sequence[Mapping[str, Any]] = (),
    *,
    as_of: dt.date,
    run_failed: bool = False,
) -> Observed:
    """The run as the rules see it.

    Examples
    --------
    >>> o = observe(None, [{"number": 4, "title": "Take action", "ok": False}],
    ...             as_of=dt.date(2025, 10, 6))
    >>> o.failed, o.targets
    (['stage 4'], [])
    """
    failed = (
        ["run"] if run_failed else [f"stage {s['number']}" for s in stages if not s.get("ok", True)]
    )
    return Observed(as_of=as_of, summary=summary, failed=failed)


@dataclass
class ChannelState:
    """What a channel was told: the as-of date of the last run it heard of, per target its
    last standing, the signals and due dates it was told of, and the failure it was told of."""

    as_of: str | None = None
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any) -> ChannelState:
        if not isinstance(data, dict):
            return cls()
        targets = data.get("targets")
        failed = data.get("failed")
        return cls(
            as_of=data.get("as_of") if isinstance(data.get("as_of"), str) else None,
            targets={str(k): v for k, v in targets.items() if isinstance(v, dict)}
            if isinstance(targets, dict)
            else {},
            failed=[str(f) for f in failed] if isinstance(failed, list) else [],
        )

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "targets": self.targets, "failed": self.failed}

    def later_than(self, as_of: dt.date) -> bool:
        """True when the channel was told of a run later than ``as_of`` (a run for an
        earlier date, e.g. a report made again for last month, tells it nothing)."""
        return self.as_of is not None and self.as_of > as_of.isoformat()


def signal_key(signal: Mapping[str, Any]) -> str:
    """What makes a signal the same one from run to run: its rule, direction and the
    period it starts in (it may grow by more points, it stays one signal).

    >>> signal_key({"rule": "run_7", "variation": "improvement", "start": "2025-08-01"})
    'run_7|improvement|2025-08-01'
    """
    return f"{signal.get('rule')}|{signal.get('variation')}|{signal.get('start')}"


def _label(target: Mapping[str, Any]) -> str:
    return str(target.get("label") or target.get("id"))


def _now_and_target(target: Mapping[str, Any]) -> str:
    now, goal = target.get("now"), target.get("target")
    if now and goal and now != "—":
        return f" (now {now}, target {goal})"
    return f" (target {goal})" if goal else ""


def _signal_text(signal: Mapping[str, Any]) -> str:
    variation = str(signal.get("variation") or "")
    kind = {"improvement": "an improvement", "concern": "a concern"}.get(variation, "a change")
    text = signal.get("text") or signal.get("rule_label") or signal.get("rule")
    rule = signal.get("rule_label")
    return f"new special-cause signal, {kind}: {text}" + (f" ({rule})" if rule else "")


def _due_days(target: Mapping[str, Any], as_of: dt.date) -> int | None:
    try:
        due = dt.date.fromisoformat(str(target.get("due")))
    except ValueError:
        return None
    return (due - as_of).days


def _target_events(
    target: Mapping[str, Any], told: Mapping[str, Any], obs: Observed, rules: NotifyRules
) -> tuple[list[Event], dict[str, Any]]:
    """The events of one target and what the channel knows of it afterwards."""
    tid, label = str(target["id"]), _label(target)
    status = str(target.get("status") or "")
    before = told.get("status")
    events: list[Event] = []
    # off track (or not met at the end of the cycle), met: a change of standing
    if rules.off_track and status in OFF_TRACK and before != status:
        reason = f": {target['reason']}" if target.get("reason") else ""
        word = "is not met, the final verdict" if status == "not met" else "is off track"
        events.append(
            Event("off_track", status, tid, label, f"{word}{_now_and_target(target)}{reason}")
        )
    if rules.met and status == "met" and before != "met":
        events.append(Event("met", "met", tid, label, f"is met{_now_and_target(target)}"))
    # due soon and not met yet: once per due date
    due_told = [str(d) for d in told.get("due_told") or []]
    days = _due_days(target, obs.as_of)
    window = rules.due_within_days
    due = str(target.get("due"))
    if (
        window is not None
        and days is not None
        and 0 <= days <= window
        and target.get("meets_now") is not True
        and status not in ("met", "not met")
        and due not in due_told
    ):
        when = "today" if days == 0 else ("tomorrow" if days == 1 else f"in {days} days")
        events.append(
            Event(
                "due",
                due,
                tid,
                label,
                f"is due {when} ({due}) and does not meet its target yet"
                f"{_now_and_target(target)}; it stands {status or 'unknown'}",
            )
        )
        due_told.append(due)
    # signals: each once, ever
    seen = [str(k) for k in told.get("signals") or []]
    for signal in target.get("signals") or []:
        if not isinstance(signal, Mapping):
            continue
        key = signal_key(signal)
        if key in seen:
            continue
        seen.append(key)
        if rules.signal:
            events.append(
                Event("signal", key, tid, label, _signal_text(signal), signal.get("variation"))
            )
    return events, {"status": status, "signals": seen, "due_told": due_told}


def changes(
    told: ChannelState, obs: Observed, rules: NotifyRules
) -> tuple[list[Event], ChannelState]:
    """The events of ``obs`` for a channel that was told ``told``, and its state once told.

    Without a ``summary.json`` (stage 5 failed or did not run) the targets are left as
    the channel knew them: only a failure is told.

    Examples
    --------
    >>> rules = NotifyRules()
    >>> t = {"id": "T4", "label": "Mean satisfaction score", "status": "off track",
    ...      "now": "4.0", "target": "4.3", "due": "2026-03-31", "signals": []}
    >>> events, state = changes(ChannelState(), Observed(dt.date(2025, 10, 6), {"targets": [t]}), rules)
    >>> [(e.rule, e.target_id, e.text) for e in events]
    [('off_track', 'T4', 'is off track (now 4.0, target 4.3)')]
    >>> changes(state, Observed(dt.date(2025, 10, 13), {"targets": [t]}), rules)[0]   # told already
    []
    """
    events: list[Event] = []
    new = ChannelState(as_of=obs.as_of.isoformat(), targets=dict(told.targets), failed=[])
    if obs.summary is not None:
        new.targets = {}
        for target in obs.targets:
            found, known = _target_events(
                target, told.targets.get(str(target["id"]), {}), obs, rules
            )
            events += found
            new.targets[str(target["id"])] = known
    if obs.failed and obs.failed != told.failed and rules.failed:
        what = (
            "the report run failed before its report was published; its log says why"
            if obs.failed == ["run"]
            else ", ".join(obs.failed).capitalize()
            + " failed; its page in the report shows where it stopped"
        )
        events.append(Event("failed", ",".join(obs.failed), None, "Report run", what))
    new.failed = list(obs.failed)
    order = {rule: i for i, rule in enumerate(RULE_ORDER)}
    events.sort(key=lambda e: order[e.rule])
    return events, new


# --------------------------------------------------------------------------- state file


def read_state(folder: Path) -> dict[str, ChannelState]:
    """The channels' states kept in ``folder`` (``<out>/<cycle id>/``): empty when there is
    none or it cannot be read (every channel is then told everything that stands)."""
    try:
        data = json.loads((Path(folder) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    channels = data.get("channels") if isinstance(data, dict) else None
    if not isinstance(channels, dict):
        return {}
    return {str(k): ChannelState.from_dict(v) for k, v in channels.items()}


def write_state(folder: Path, states: Mapping[str, ChannelState], cycle_id: str) -> Path:
    """Write the channels' states to ``folder``/:data:`STATE_FILE`, atomically (private to
    the user that runs the reports)."""
    data = {
        "version": STATE_VERSION,
        "cycle": cycle_id,
        "channels": {k: v.to_dict() for k, v in sorted(states.items())},
    }
    path = atomic_write(
        Path(folder) / STATE_FILE, json.dumps(data, indent=2) + "\n", overwrite=True
    )
    os.chmod(path, 0o600)
    return path
