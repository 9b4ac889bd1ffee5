"""Benefits realisation (DESIGN.md "Benefits"): what a target's change was worth.

The plan states each initiative's *expected* benefits (``benefits:`` in ``plan.yaml``,
:class:`~.model.Benefit`), ``cycle.yaml`` the value of an hour and the currency
(``value:``, :class:`~.model.ValueSettings`); :mod:`.realised` computes the *realised*
benefits from the data, per target, per initiative and in total, with stage 5's
intervals and verdicts; :mod:`.rules` says which KPI's change is worth what;
:mod:`.check` finds the problems of the benefits of a cycle folder; :mod:`.pages` the
tables, sentences and ``summary.json`` object the stages show.

The models and rules are imported eagerly (the plan and the cycle configuration use
them); the rest on first use, so that importing :mod:`csi_lib.plan` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from .model import VALUE_NAMES, Benefit, ValueSettings
from .rules import RULES, Rule, gain_sign, no_rule_reason, rule_for

_LAZY = {
    "STATUS_WORDS": "realised",
    "CycleBenefits": "realised",
    "TargetBenefit": "realised",
    "assess_benefits": "realised",
    "expected_benefits": "realised",
    "initiative_benefits": "realised",
    "initiative_totals": "realised",
    "target_benefits": "realised",
    "totals": "realised",
    "money_text": "realised",
    "benefit_problems": "check",
    "benefits_note": "pages",
    "benefits_summary": "pages",
    "benefits_table": "pages",
    "cover_line": "pages",
    "cover_markdown": "pages",
    "expected_table": "pages",
    "expected_text": "pages",
    "initiative_sentences": "pages",
    "target_sentences": "pages",
}

__all__ = [
    "VALUE_NAMES",
    "Benefit",
    "RULES",
    "Rule",
    "ValueSettings",
    "gain_sign",
    "no_rule_reason",
    "rule_for",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
