"""What the KPI engine computed over a frame, kept while the frame is alive and unchanged.

A report stage asks the engine many times about one frame: each target's KPI over the
same baseline and review periods, then the headline, the table and the charts ask
again. The requests in each period bin (the *populations*) are the costly part (one
pass over every row each) and do not depend on the KPI, so they are computed once per
(frame, bins, grouping) and kept here, together with each KPI's cells.

Nothing is kept for a frame that changes: the memo holds a shallow copy of the frame,
and under pandas' copy-on-write any change to the frame (a value set, a column added
or replaced, the index replaced) gives the frame new blocks, so its *signature* (the
identity of its columns' arrays and of its index) no longer matches and the memo is
dropped. The memo goes when the frame is garbage-collected.

The measures of the rows (hours to fulfil, SLA met...) are kept too, from the second
time one is computed over the frame (one pass, as ``csi kpis`` makes, keeps none).

Memory is bounded: at most :data:`MAX_ENTRIES` sets of populations per frame,
:data:`MAX_BYTES` of their row positions and :data:`MAX_MEASURE_BYTES` of measures in
all; the oldest go first.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Sets of populations (one per distinct bins and grouping) kept per frame.
MAX_ENTRIES = 6
#: Bytes of population rows kept over all frames (the oldest sets go first).
MAX_BYTES = 768 * 2**20
#: Bytes of measures (one float per row each) kept over all frames.
MAX_MEASURE_BYTES = 512 * 2**20
#: Scoped sub-frames (:func:`csi_lib.kpis.scope_filter`) kept per frame.
MAX_SCOPES = 4


@dataclass
class Entry:
    """The populations of one (bins, grouping) of a frame and each KPI's cells in them."""

    labels: list[Any] | None
    pops: dict[str, Any] = field(default_factory=dict)
    cells: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    active: np.ndarray | None = None  # cells with any request in any population
    received: np.ndarray | None = None  # requests received per cell

    def nbytes(self) -> int:
        return sum(p.rows.nbytes + p.cell.nbytes for p in self.pops.values())


def _signature(df: pd.DataFrame) -> tuple[Any, ...] | None:
    """What changes whenever the frame's content does (None: not known for this frame)."""
    try:
        blocks = df._mgr.blocks  # pandas internals: each block's array object
        return (
            tuple(df.columns),
            id(df.index),
            len(df),
            tuple((id(b.values), b.mgr_locs.as_array.tobytes()) for b in blocks),
        )
    except Exception:  # another pandas layout: nothing is kept, everything is computed
        return None


class FrameMemo:
    """The engine's results over one frame (see the module docstring)."""

    def __init__(self, df: pd.DataFrame, signature: tuple[Any, ...]):
        # holding a shallow copy makes any later change to ``df`` copy its blocks
        self._snapshot = df.copy(deep=False)
        self.signature = signature
        self.entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self.scopes: OrderedDict[str, pd.DataFrame] = OrderedDict()
        #: closed_at of the requests closed with a closed outcome (int64 ns, NaT otherwise)
        self.closed_ns: np.ndarray | None = None
        #: each measure's values over the frame; None: computed once, not kept
        self.measures: OrderedDict[Any, np.ndarray | None] = OrderedDict()

    def measure(self, func: Any) -> np.ndarray | None:
        """The kept values of measure ``func`` over the frame (read-only), if kept."""
        found = self.measures.get(func)
        if found is not None:
            self.measures.move_to_end(func)
        return found

    def keep_measure(self, func: Any, values: np.ndarray) -> None:
        """Keep the values of a measure from the second time it is computed: a single
        pass (``csi kpis``) never holds them longer than it needs them."""
        if func not in self.measures:
            self.measures[func] = None
            return
        values.flags.writeable = False
        self.measures[func] = values
        self.measures.move_to_end(func)
        _trim_measures()

    def scoped(self, key: str, make: Any) -> pd.DataFrame:
        """The sub-frame of scope ``key``, made by ``make()`` once."""
        if key not in self.scopes:
            self.scopes[key] = make()
            while len(self.scopes) > MAX_SCOPES:
                self.scopes.popitem(last=False)
        self.scopes.move_to_end(key)
        return self.scopes[key]


_MEMOS: dict[int, tuple[weakref.ref, FrameMemo]] = {}


def memo_of(df: pd.DataFrame) -> FrameMemo | None:
    """The memo of ``df`` (made on first use; renewed if the frame changed since)."""
    signature = _signature(df)
    if signature is None:
        return None
    key = id(df)
    found = _MEMOS.get(key)
    if found is not None and found[0]() is df and found[1].signature == signature:
        return found[1]
    try:
        ref = weakref.ref(df, lambda _r, k=key: _forget(k, _r))
    except TypeError:
        return None
    memo = FrameMemo(df, signature)
    _MEMOS[key] = (ref, memo)
    return memo


def _forget(key: int, ref: weakref.ref) -> None:
    found = _MEMOS.get(key)
    if found is not None and found[0] is ref:
        del _MEMOS[key]


def trim() -> None:
    """Drop the oldest sets of populations until every frame keeps at most
    :data:`MAX_ENTRIES` and all keep at most :data:`MAX_BYTES` of rows."""
    for _ref, memo in _MEMOS.values():
        while len(memo.entries) > MAX_ENTRIES:
            memo.entries.popitem(last=False)
    _trim_measures()
    total = sum(e.nbytes() for _r, m in _MEMOS.values() for e in m.entries.values())
    while total > MAX_BYTES:
        oldest = [(m, k) for _r, m in _MEMOS.values() for k, e in m.entries.items() if e.pops]
        if not oldest:
            return
        memo, key = oldest[0]
        total -= memo.entries[key].nbytes()
        memo.entries[key].pops.clear()


def _trim_measures() -> None:
    """Drop the oldest measures until all keep at most :data:`MAX_MEASURE_BYTES`."""
    kept = [(m, f) for _r, m in _MEMOS.values() for f, v in m.measures.items() if v is not None]
    held = sum(m.measures[f].nbytes for m, f in kept)
    for memo, func in kept:
        if held <= MAX_MEASURE_BYTES:
            break
        held -= memo.measures[func].nbytes
        memo.measures[func] = None


def clear() -> None:
    """Forget everything kept (for tests and benchmarks)."""
    _MEMOS.clear()
