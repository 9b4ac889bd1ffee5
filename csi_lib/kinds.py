"""The kinds of target and what each means: the one place a kind is interpreted.

A target asks a KPI to move (``minimize``, ``maximize``) or to hold a level
(``maintain_below``, ``maintain_above``, ``within`` a tolerance band). Each kind is
data: its words for readers, the direction it asks for, whether it holds a level,
and one function, the *distance* of a value from meeting the target (0 = met).
Everything else derives from the distance: whether a value meets the target
(:func:`met`), the share of the gap closed, the projection, the SMART check. No
code elsewhere branches on a kind's name or words.

Examples
--------
>>> distance("minimize", 34.0, 28.0), met("minimize", 27.5, 28.0)
(6.0, True)
>>> KINDS["maintain_below"].words, KINDS["within"].holds
('Keep at or below', True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["KINDS", "KIND_WORDS", "TargetKind", "distance", "met"]


@dataclass(frozen=True)
class TargetKind:
    """One kind of target.

    Attributes
    ----------
    name:
        The key written in ``targets.yaml`` (``minimize``...).
    words:
        The kind for readers ("Keep at or below").
    direction:
        The way it asks the KPI to go or stay: -1 down / below, +1 up / above, 0 a band.
    holds:
        True for a kind that holds a level (maintain, within), False for one that moves.
    band:
        True for a kind whose target is a band (a value and a tolerance either side).
    gap:
        ``gap(value, target, tolerance)``: how far ``value`` is from meeting the target,
        in the KPI's unit (>= 0).
    """

    name: str
    words: str
    direction: int
    holds: bool
    gap: Callable[[float, float, float], float]
    band: bool = False


KINDS: dict[str, TargetKind] = {
    k.name: k
    for k in (
        TargetKind("minimize", "Lower is the aim", -1, False, lambda v, t, tol: max(0.0, v - t)),
        TargetKind("maximize", "Higher is the aim", 1, False, lambda v, t, tol: max(0.0, t - v)),
        TargetKind(
            "maintain_above", "Keep at or above", 1, True, lambda v, t, tol: max(0.0, t - v)
        ),
        TargetKind(
            "maintain_below", "Keep at or below", -1, True, lambda v, t, tol: max(0.0, v - t)
        ),
        TargetKind(
            "within",
            "Keep within a range",
            0,
            True,
            lambda v, t, tol: max(0.0, abs(v - t) - tol),
            band=True,
        ),
    )
}

#: Kind -> its words for readers.
KIND_WORDS: dict[str, str] = {name: k.words for name, k in KINDS.items()}


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x != x


def distance(
    kind: str, value: float | None, target_value: float | None, tolerance: float | None = None
) -> float:
    """How far ``value`` is from meeting a target of ``kind``, in the KPI's unit: 0 when it
    meets it (within a relative 1e-9, so rounding never decides), NaN when a value is missing.

    ``minimize`` / ``maintain_below``: ``max(0, value - target)``;
    ``maximize`` / ``maintain_above``: ``max(0, target - value)``;
    ``within``: ``max(0, |value - target| - tolerance)``.

    Raises
    ------
    KeyError
        An unknown kind (the targets file is checked before any kind is read).

    Examples
    --------
    >>> distance("within", 4.5, 4.0, 0.3)
    0.2
    """
    k = KINDS[kind]
    if _missing(value) or _missing(target_value):
        return math.nan
    t = float(target_value)
    tol = 0.0 if _missing(tolerance) else float(tolerance)
    raw = k.gap(float(value), t, tol)
    return 0.0 if raw <= 1e-9 * max(1.0, abs(t)) else round(raw, 12)


def met(
    kind: str, value: float | None, target_value: float | None, tolerance: float | None = None
) -> bool:
    """Whether ``value`` meets a target of ``kind``: its :func:`distance` is 0 (a missing
    value never does). The one rule for "met" in the workbook.

    Examples
    --------
    >>> met("minimize", 27.5, 28), met("within", 4.4, 4.0, 0.3), met("maximize", None, 90)
    (True, False, False)
    """
    return distance(kind, value, target_value, tolerance) == 0.0
