"""Stage 2, "Where do we want to be?": SMART targets on catalogue KPIs.

A cycle's ``targets.yaml`` lists the targets; each names a KPI of the catalogue
(or a registered custom one), an optional scope, a kind, the value to reach
(absolute, or a change relative to the baseline such as ``"-20%"``), the due
date, the objective it serves and an owner::

    targets:
      - id: T1
        kpi: fulfil_median_h          # a key of csi_lib.kpis.kpi_catalogue()
        scope: {category: Laptop}     # optional; any dimension: value or [values]
        kind: minimize                # minimize | maximize | maintain_above | maintain_below | within
        value: 28                     # absolute value in the KPI's unit (hours here; a count
                                      # per month, or per week with freq: week) ...
        # change: "-20%"              # ... or a change relative to the baseline value
        due: 2025-12-31
        objective: O1
        owner: Head of End-User Services
        note: Laptops are the most requested item.

:func:`smart_check` gives, for every target and every letter, a verdict
(``pass`` / ``warn`` / ``fail``) and a one-sentence reason:

S (specific)
    the KPI and the scope exist and the scope selects data;
M (measurable)
    the KPI is computable on the data with enough coverage of its column;
A (achievable)
    the target against the baseline's natural process limits (XmR) and the
    best month ever observed up to the end of the baseline;
R (relevant)
    the target serves an objective of the vision;
T (time-bound)
    due after the baseline and on or before the end of the cycle.

The package has one module per responsibility: :mod:`.model` (the targets.yaml model, target values and met rules), :mod:`.context` (the baseline context of a target: series, XmR limits, best value), :mod:`.smart` (the S, M, A, R, T checks and the tables of stage 2).
"""

from __future__ import annotations

from .context import (  # noqa: F401
    TargetContext,
    _BaselineStats,
    _Evaluator,
    _extreme,
    _limit,
    _wanted_direction,
    _xmr,
    target_context,
)
from .model import (  # noqa: F401
    _BETTER_DIRECTION,
    _CHANGE,
    _COVERAGE,
    _ID_PATTERN,
    _KIND_DIRECTION,
    _NOT_DIMENSIONS,
    KINDS,
    LETTERS,
    MIN_SCOPE_REQUESTS,
    SEVERITY,
    Kind,
    Target,
    TargetsFile,
    Verdict,
    _closest,
    _Coverage,
    _get_kpi,
    _known_kpi_keys,
    _kpis,
    _scalar_text,
    _unknown_kpi_message,
    bin_mean,
    check_targets_file,
    complete_bins,
    count_per_bin,
    format_target_value,
    load_targets,
    parse_change,
    per_bin,
    period_target_value,
    register_coverage_column,
    resolve_target_value,
    scope_words,
    target_met,
    target_value_of,
    value_unit,
)
from .smart import (  # noqa: F401
    LETTER_CHECKS,
    _as_date,
    _check,
    _check_scope,
    _cycle_arguments,
    _dimensions,
    _fmt,
    _letter_a,
    _letter_m,
    _letter_r,
    _letter_s,
    _letter_t,
    _make_run,
    _month,
    _not_checked,
    _Run,
    _target_list,
    cycle_smart_check,
    cycle_target_contexts,
    smart_check,
    smart_table,
    targets_table,
)

__all__ = [
    "KINDS",
    "LETTERS",
    "Target",
    "TargetsFile",
    "TargetContext",
    "parse_change",
    "resolve_target_value",
    "per_bin",
    "bin_mean",
    "count_per_bin",
    "complete_bins",
    "target_value_of",
    "period_target_value",
    "value_unit",
    "format_target_value",
    "target_met",
    "target_context",
    "smart_check",
    "smart_table",
    "check_targets_file",
    "load_targets",
    "cycle_smart_check",
    "targets_table",
    "cycle_target_contexts",
    "register_coverage_column",
    "scope_words",
]
