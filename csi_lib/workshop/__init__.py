"""The improvement workshop: timeboxes, dot-voting on the register, a decisions log.

A facilitator walks the room through the seven questions of the continual
improvement model with ``csi workshop CYCLE_DIR`` (the facilitation notebook
``notebooks/workshop.ipynb`` served by Voilà). This module holds the logic
behind its controls, as plain functions that need no browser:

* :data:`TIMEBOXES` - minutes per stage, :func:`timeboxes` to override them;
* :func:`cast_votes` / :func:`save_votes` - dot-voting on the ideas of the
  improvement register (``plan.yaml``, key ``register``, field ``votes``);
* :func:`record_decision` / :func:`read_decisions` - the append-only
  ``decisions.md`` of the cycle folder, so what the room decided becomes the
  input of the next stage.

Voilà does not run papermill: it executes the notebook as it is, so the
command passes its arguments through environment variables
(:data:`ENV_CYCLE_DIR` and the others below). The notebook's ``parameters``
cell stays plain assignments; its first code cell calls :func:`settings`,
which prefers an environment variable when it is set.

Writing ``decisions.md``: the old content is read and the whole new content
written through :func:`csi_lib.storage.atomic_write` (temporary file, fsync,
rename), under a lock file. Appending in place (``open(..., "a")`` + fsync)
could leave half an entry behind if the kernel dies mid-write; the atomic
rewrite never does. The lock makes the read-modify-write safe when two
browser tabs (two Voilà kernels) record at the same moment. ``save_votes``
takes the same lock around its round-trip edit of ``plan.yaml``.

Modules: ``environment`` (the settings of a workshop from its parameters and
environment), ``votes`` (dot-voting), ``decisions`` (the decisions log), ``lock``
(one writer at a time; lock files in the runtime folder, never in the cycle folder),
``meeting`` (the agenda and the next cycle's proposal).

Examples
--------
>>> record_decision(cycle_dir, "Promote R2 to an initiative", stage=3).name  # a copy of the sample
'decisions.md'
>>> read_decisions(cycle_dir)[["stage", "text"]]
   stage                         text
0      3  Promote R2 to an initiative
"""

from __future__ import annotations

from .clock import Clock, format_clock
from .decisions import (
    DECISIONS_FILE,
    MAX_DECISION_CHARS,
    decisions_html,
    read_decisions,
    record_decision,
)
from .environment import (
    ENV_AS_OF,
    ENV_CYCLE_DIR,
    ENV_DOTS,
    ENV_PARTICIPANTS,
    ENV_TIMEBOXES,
    TIMEBOXES,
    Settings,
    resolve_cycle_dir,
    settings,
    stage_of,
    timeboxes,
)
from .lock import ENV_RUNTIME, lock_path, runtime_dir
from .meeting import (
    QUESTIONS,
    Question,
    agenda,
    agenda_text,
    next_cycle_id,
    next_cycle_proposal,
    next_cycle_targets,
    next_cycle_text,
)
from .room import RoomState, read_state, saved_stamp, write_state
from .votes import cast_votes, new_tally, save_votes

__all__ = [
    "ENV_CYCLE_DIR",
    "ENV_AS_OF",
    "ENV_TIMEBOXES",
    "ENV_DOTS",
    "ENV_PARTICIPANTS",
    "ENV_RUNTIME",
    "runtime_dir",
    "lock_path",
    "TIMEBOXES",
    "DECISIONS_FILE",
    "MAX_DECISION_CHARS",
    "Settings",
    "resolve_cycle_dir",
    "settings",
    "timeboxes",
    "stage_of",
    "new_tally",
    "cast_votes",
    "save_votes",
    "record_decision",
    "read_decisions",
    "decisions_html",
    "next_cycle_id",
    "next_cycle_proposal",
    "next_cycle_text",
    "next_cycle_targets",
    "agenda",
    "agenda_text",
    "QUESTIONS",
    "Question",
    "Clock",
    "format_clock",
    "RoomState",
    "read_state",
    "write_state",
    "saved_stamp",
]
