"""Stage 6, "How do we keep the momentum going?": the next cycle and the history of cycles.

When a cycle's review period is over it becomes the baseline of the next
cycle. :func:`propose_next` works out that next cycle without writing
anything (the notebook shows it as tables); :func:`write_next` writes it into
a new folder beside the old one; :func:`next_cycle` does both from a folder
path (what ``csi cycle next`` runs). The next cycle carries

* ``cycle.yaml``: the old review period as the new baseline, an action and a
  review period of the old lengths after it, the same data source, mapping,
  timezone, frequency and group size;
* ``vision.yaml``: copied byte for byte;
* ``targets.yaml``: each unmet target re-stated (same KPI, scope, kind and
  absolute value, a due date inside the new cycle), and for each met one a
  suggestion to *hold the gain* (``maintain_below`` / ``maintain_above`` at the
  new process limit of the review months, never looser than the target that
  was met), every entry with a comment saying where it came from;
* ``plan.yaml``: the unfinished initiatives (planned / in progress) moved to
  the new action period, the expected benefits not realised (not established, or
  short of what was expected: :mod:`csi_lib.benefits`) carried with the change left,
  into their initiative or into a proposed one after a finished initiative, and the
  whole improvement register (``cycle.yaml`` keeps the ``value:`` they name);
* ``baseline/``: a new baseline snapshot of the old review period.

The old cycle folder is never written to. :func:`cycle_history` lists every
cycle of a workspace with, per target, the baseline, target and achieved
values, read from the snapshots each cycle stored (never from its data), and :func:`csi_lib.charts.review.history_figure` draws each KPI across
cycles.

Modules: ``proposal`` (the next cycle worked out, nothing written), ``render``
(its files as text), ``write`` (writing it beside the old cycle: ``csi cycle
next``), ``history`` (the cycles of a workspace, from their stored snapshots).

Examples
--------
>>> from csi_lib.momentum import next_cycle, cycle_history
>>> next_cycle(cycle_dir, id="2026-h1")      # cycle_dir: tmp/sample-cycle, a copy of the sample
PosixPath('.../2026-h1')
>>> cycle_history(tmp)[["cycle", "target", "target_value", "achieved", "met"]].round(1)
     cycle target  target_value  achieved    met
0  2025-h2     T1          28.0      26.6   True
1  2025-h2     T2          90.0      90.6   True
2  2025-h2     T3           1.5       1.4   True
3  2025-h2     T4           4.3       4.0  False
4  2025-h2     T5           5.0       4.5   True
5  2026-h1     T1          28.0       NaN   None
6  2026-h1     T2          90.0       NaN   None
7  2026-h1     T3           1.4       NaN   None
8  2026-h1     T4           4.3       NaN   None
9  2026-h1     T5           5.0       NaN   None
"""

from __future__ import annotations

from .history import MEASURED, NO_BASELINE, NO_REVIEW, NOT_STORED, STORED, cycle_history
from .proposal import UNFINISHED, NextCycle, proposal_note, propose_next
from .render import texts
from .write import next_cycle, save_for_report, write_next

__all__ = [
    "NextCycle",
    "propose_next",
    "proposal_note",
    "save_for_report",
    "write_next",
    "next_cycle",
    "cycle_history",
    "texts",
    "UNFINISHED",
    "MEASURED",
    "STORED",
    "NO_BASELINE",
    "NO_REVIEW",
    "NOT_STORED",
]
