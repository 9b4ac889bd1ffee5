"""The cycle workspace: one folder per improvement cycle.

::

    cycles/2025-h2/
      cycle.yaml      id, title, data {source, preset | mapping, sheet}, baseline {from, to},
                      action {from, to}, review {from, to}, review_date, timezone, freq,
                      min_group_size
      vision.yaml     business_direction, vision, mission, objectives
      targets.yaml    targets
      plan.yaml       initiatives, register
      baseline/       the baseline snapshot (created on first use, never overwritten)

Rows of the data source that fail validation are never written into the cycle
folder (it may be a read-only checkout): a report writes them into its own
folder once per run, a command into ``--quarantine-dir`` (default
``./quarantine``), see :func:`open_cycle`.

Paths in ``cycle.yaml`` are relative to the cycle folder. Dates are inclusive
(``to: 2025-06-30`` covers the whole of 30 June) in the cycle's ``timezone``.

* :func:`new_cycle` scaffolds a folder with commented example files;
* :func:`check_cycle` validates every file and the links between them and
  returns *every* problem (file, line, field, message);
* :func:`open_cycle` loads what a stage notebook needs;
* :func:`cycle_history` lists the cycles of a workspace.


The package has one module per responsibility: :mod:`.config` (the cycle.yaml model), :mod:`.check` (every problem of a cycle folder at once), :mod:`.scaffold` (``csi cycle new``), :mod:`.workspace` (open a cycle for a stage), :mod:`.history` (every cycle of a workspace side by side). Every name is importable from ``csi_lib.cycle`` as before.
"""

from __future__ import annotations

from .check import (  # noqa: F401
    _DEFINED_IN,
    _check,
    _Checked,
    _data_problems,
    _known_presets,
    _load_checked,
    _Loaded,
    _raw_ids,
    _raw_list,
    _reference_problems,
    check_cycle,
    count_files,
)
from .config import (  # noqa: F401
    CYCLE_FILES,
    PERIOD_NAMES,
    CycleConfig,
    DataSource,
    DateRange,
    _order_problems,
    _resolve,
    _targets_api,
    _targets_model,
    load_config,
)
from .history import (  # noqa: F401
    _HISTORY_COLUMNS,
    cycle_history,
)
from .scaffold import (  # noqa: F401
    _CYCLE_TEMPLATE,
    _PLAN_TEMPLATE,
    _TARGETS_TEMPLATE,
    _VISION_TEMPLATE,
    _add_months,
    _relative,
    _yaml_scalar,
    new_cycle,
)
from .workspace import (  # noqa: F401
    Cycle,
    open_cycle,
)

__all__ = [
    "DateRange",
    "DataSource",
    "CycleConfig",
    "Cycle",
    "CYCLE_FILES",
    "PERIOD_NAMES",
    "load_config",
    "new_cycle",
    "check_cycle",
    "open_cycle",
    "cycle_history",
]
