"""Dot-voting on the ideas of the improvement register (``plan.yaml``, key ``register``,
field ``votes``): a tally in memory, saved by a round-trip edit under the lock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..plan import load_plan
from ..yamlio import edit_yaml
from .lock import _locked


def new_tally(ideas: Sequence[Any]) -> dict[str, int]:
    """An empty tally: every idea id (``RegisterItem`` or dict with ``id``) at 0 dots."""
    return {str(i["id"] if isinstance(i, Mapping) else i.id): 0 for i in ideas}


def cast_votes(
    tally: Mapping[str, int], idea_id: str, dots_left: int
) -> tuple[dict[str, int], int]:
    """Place one dot on ``idea_id``; returns the new tally and the dots left.

    The tally given is not changed. A participant may put several dots on one idea.

    Parameters
    ----------
    tally:
        Dots per idea id so far (:func:`new_tally` makes one).
    idea_id:
        The idea voted for; it must be a key of ``tally``.
    dots_left:
        The dots this participant still has.

    Raises
    ------
    ConfigError
        No dot left, or an unknown idea.

    Examples
    --------
    >>> cast_votes({"R1": 0, "R2": 1}, "R2", 3)
    ({'R1': 0, 'R2': 2}, 2)
    """
    if idea_id not in tally:
        known = ", ".join(tally) or "none"
        raise ConfigError(
            f"the improvement register has no idea '{idea_id}'",
            column="register",
            hint=f"known ids: {known}",
        )
    if dots_left <= 0:
        raise ConfigError(
            "this participant has no dot left",
            hint="pick the next participant, or clear the dots to vote again",
        )
    new = dict(tally)
    new[idea_id] = int(new[idea_id]) + 1
    return new, int(dots_left) - 1


def save_votes(
    plan_path: str | Path, votes: Mapping[str, int], *, replace: bool = False
) -> dict[str, int]:
    """Write dot-votes into the ``votes`` of the register entries of ``plan.yaml``.

    By default the dots are *added* to the votes already recorded (a register
    keeps a running total across workshops and breakout groups); with
    ``replace=True`` they replace them. Ideas with no dot are left as they are.
    The edit is a ruamel round trip (comments, order and flow style kept),
    written atomically under a lock.

    Parameters
    ----------
    plan_path:
        The cycle's ``plan.yaml``.
    votes:
        Dots per register id (counts, >= 0).

    Returns
    -------
    dict[str, int]
        The new ``votes`` of every entry that was changed.

    Raises
    ------
    ConfigError
        An id not in the register, a negative or non-integer count, or a broken file.

    Examples
    --------
    >>> save_votes(cycle_dir / "plan.yaml", {"R2": 3, "R4": 1})   # R2 had 8 votes, R4 2
    {'R2': 11, 'R4': 3}
    """
    plan_path = Path(plan_path)
    counts: dict[str, int] = {}
    for idea_id, n in votes.items():
        if isinstance(n, bool) or not float(n).is_integer() or n < 0:
            raise ConfigError(
                f"the vote count {n!r} of idea '{idea_id}' is not a whole number >= 0",
                file=str(plan_path),
                column="register",
            )
        if int(n):
            counts[str(idea_id)] = int(n)
    known = {r.id for r in load_plan(plan_path).ideas}
    unknown = sorted(set(counts) - known)
    if unknown:
        raise ConfigError(
            f"the improvement register has no idea {', '.join(unknown)}",
            file=str(plan_path),
            column="register",
            hint=f"known ids: {', '.join(sorted(known)) or 'none'}",
        )
    if not counts:
        return {}
    totals: dict[str, int] = {}
    with _locked(plan_path), edit_yaml(plan_path) as doc:
        for entry in doc.get("register") or []:
            idea_id = str(entry.get("id"))
            if idea_id in counts:
                before = 0 if replace else int(entry.get("votes") or 0)
                entry["votes"] = before + counts[idea_id]
                totals[idea_id] = entry["votes"]
    return totals
