"""The vectorised KPI engine: populations per period bin and group, aggregated in one pass per KPI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..periods import Freq, Period, period_edges
from ..schema import CANONICAL_COLUMNS, CLOSED_OUTCOMES, COLUMNS, DIMENSION_COLUMNS
from . import memo
from .catalogue import _MAX, _NAT, KPI, MISSING_GROUP, POPULATIONS, _quantile_of

# --------------------------------------------------------------------------- data access


def _available_dimensions(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c in DIMENSION_COLUMNS or c not in COLUMNS]


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Check the required columns; add missing optional canonical columns (all missing)."""
    for name in ("opened_at", "outcome"):
        if name not in df.columns:
            raise InputError(
                "the request data has no such column, which the KPIs need",
                column=name,
                hint="load the data with csi_lib.sources.load_requests or map this column",
            )
    missing = [c for c in CANONICAL_COLUMNS if c.name not in df.columns]
    if not missing:
        return df
    extra = {}
    for c in missing:
        dtype = "datetime64[ns, UTC]" if c.dtype == "datetime" else c.dtype
        extra[c.name] = pd.Series(pd.NA if dtype != "float64" else np.nan, index=df.index).astype(
            dtype
        )
    return df.assign(**extra)


def _ns(df: pd.DataFrame, column: str) -> np.ndarray:
    """A datetime column as int64 nanoseconds since the epoch (UTC); NaT = int64 min."""
    s = df[column]
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, utc=True)
    values = s.array
    if values.unit != "ns":
        values = values.as_unit("ns")
    return values.asi8  # a view of the column (as_unit always copies): never written to


def _as_float(values: object, kpi: KPI, length: int) -> np.ndarray:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if len(s) != length:
        raise ConfigError(
            f"the measure of KPI '{kpi.key}' returned {len(s)} values for {length} rows",
            hint="a measure must return one value per row of the frame it gets",
        )
    return s.to_numpy(dtype="float64", na_value=np.nan)


def scope_filter(
    df: pd.DataFrame, scope: Mapping[str, str | int | float | Iterable[str]] | None
) -> pd.DataFrame:
    """Rows of ``df`` matching every ``{column: value or [values]}`` of ``scope``.

    Plain ``isin`` masks; nothing is evaluated. Values are matched as given or
    by their text (``priority: 1`` matches ``"1"``).

    Raises
    ------
    ConfigError
        A column that is not in the data, or a value that does not occur in it.

    Examples
    --------
    >>> laptops = scope_filter(df, {"category": "Laptop", "channel": ["Portal", "E-mail"]})
    >>> len(laptops), sorted(laptops["channel"].unique())
    (7489, ['E-mail', 'Portal'])
    """
    if not scope:
        return df
    if not isinstance(scope, Mapping):
        raise ConfigError(
            f"a scope is a mapping column: value(s), not {type(scope).__name__}",
            column="scope",
            hint='write e.g. {"category": "Laptop"}',
        )
    mask = np.ones(len(df), dtype=bool)
    for column, wanted in scope.items():
        if column not in df.columns:
            raise ConfigError(
                "the scope names a column that is not in the data",
                column=str(column),
                hint="available dimensions: " + ", ".join(_available_dimensions(df)),
            )
        values = [wanted] if isinstance(wanted, str | int | float | bool) else list(wanted)
        present = pd.unique(df[column].dropna())
        by_text = {str(v): v for v in present}
        present_set = set(present.tolist())
        resolved = []
        for v in values:
            if v in present_set:
                resolved.append(v)
            elif str(v) in by_text:
                resolved.append(by_text[str(v)])
            else:
                shown = sorted(by_text)[:20]
                raise ConfigError(
                    f"the scope value '{v}' does not occur in the data",
                    column=str(column),
                    hint="values present: " + ", ".join(shown),
                )
        mask &= df[column].isin(resolved).to_numpy(dtype=bool, na_value=False)
    return df[mask]


def _scoped(
    df: pd.DataFrame, scope: Mapping[str, str | int | float | Iterable[str]] | None
) -> pd.DataFrame:
    """:func:`scope_filter` for the engine's own calls: the rows of a scope are selected
    once per unchanged frame (and the sub-frame keeps its own memo, :mod:`.memo`)."""
    kept = memo.memo_of(df) if scope and isinstance(scope, Mapping) else None
    if kept is None:
        return scope_filter(df, scope)
    key = repr(sorted((str(c), repr(v)) for c, v in scope.items()))
    if "..." in key:  # a long value shown shortened: not a safe key
        return scope_filter(df, scope)
    return kept.scoped(key, lambda: scope_filter(df, scope))


# --------------------------------------------------------------------------- engine


@dataclass
class _Pop:
    """Rows of one population: positions into the frame, their cell, sizes per cell."""

    rows: np.ndarray
    cell: np.ndarray
    size: np.ndarray  # population size (n) per cell
    bins: np.ndarray | None = None  # open_at_end: bin of each materialised row
    occupied: np.ndarray | None = None  # rows per cell; None: np.bincount(cell)


@dataclass
class _Grid:
    """Engine output: values and n per KPI x bin x group."""

    kpis: list[KPI]
    starts: pd.DatetimeIndex
    ends: pd.DatetimeIndex
    labels: list | None
    value: np.ndarray  # (K, B, G)
    n: np.ndarray  # (K, B, G)
    active: np.ndarray  # (B, G): any request in any population
    received: np.ndarray  # (B, G)


def _groups(df: pd.DataFrame, by: str | None) -> tuple[np.ndarray | None, list | None]:
    if by is None:
        return None, None
    if (
        not isinstance(by, str)
        or by not in df.columns
        or by not in _available_dimensions(df) + ["outcome"]
    ):
        raise ConfigError(
            "this is not a breakdown dimension of the data",
            column=str(by),
            hint="available dimensions: " + ", ".join(_available_dimensions(df)),
        )
    s = df[by]
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        labels = list(s.cat.categories)
    else:
        codes, uniques = pd.factorize(s, sort=True)
        codes = codes.astype(np.int64)
        labels = list(uniques)
    if (codes < 0).any():
        codes[codes < 0] = len(labels)
        labels.append(MISSING_GROUP)
    return codes, labels


def _edges(period: Period, freq: Freq | None) -> np.ndarray:
    if not isinstance(period, Period):
        raise ConfigError(
            f"expected a Period, got {type(period).__name__}",
            hint="build one with csi_lib.periods.Period.from_dates(from, to)",
        )
    if freq is None:
        return np.array([period.start.as_unit("ns").value, period.end.as_unit("ns").value])
    return period_edges(period, freq).as_unit("ns").asi8


def _in_bins(t: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of timestamps in ``[edges[0], edges[-1])`` and their bin numbers."""
    if len(edges) == 2:
        rows = np.flatnonzero((t >= edges[0]) & (t < edges[1]))
        return rows, np.zeros(len(rows), dtype=np.int64)
    # the rows inside first (NaT is the smallest int64: outside), then their bins only
    rows = np.flatnonzero((t >= edges[0]) & (t < edges[-1]))
    return rows, np.searchsorted(edges, t[rows], side="right") - 1


def _closed_outcome(df: pd.DataFrame) -> np.ndarray:
    s = df["outcome"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        ok = np.isin(np.asarray(s.cat.categories, dtype=object), CLOSED_OUTCOMES)
        codes = s.cat.codes.to_numpy()
        return (codes >= 0) & ok[np.maximum(codes, 0)]
    return s.isin(CLOSED_OUTCOMES).to_numpy(dtype=bool, na_value=False)


def _closed_ns(df: pd.DataFrame) -> np.ndarray:
    """closed_at (int64 ns) of the requests closed with a closed outcome, NaT for the others;
    kept in the frame's memo (:mod:`.memo`), as every period's closed population needs it."""
    kept = memo.memo_of(df)
    if kept is not None and kept.closed_ns is not None:
        return kept.closed_ns
    t = np.where(_closed_outcome(df), _ns(df, "closed_at"), _NAT)
    if kept is not None:
        t.flags.writeable = False
        kept.closed_ns = t
    return t


def _population(
    df: pd.DataFrame,
    name: str,
    edges: np.ndarray,
    codes: np.ndarray | None,
    n_groups: int,
    *,
    rows_needed: bool = True,
) -> _Pop:
    """The rows of population ``name`` in each cell (bin x group).

    Without ``rows_needed`` (no KPI asked for measures the population's rows), the
    requests open at each bin's end are only counted per cell (``occupied``), with a
    running sum over the bins instead of one row per request and bin it is open in.
    """
    n_bins = len(edges) - 1
    n_cells = n_bins * n_groups
    if name == "open_at_end":
        if not rows_needed:
            return _open_counts(df, edges, codes, n_groups)
        ends = edges[1:]
        opened = _ns(df, "opened_at")
        closed = _ns(df, "closed_at")
        closed = np.where(closed == _NAT, _MAX, closed)
        first = np.searchsorted(ends, opened, side="right")  # first bin ending after opened_at
        last = (
            np.searchsorted(ends, closed, side="right") - 1
        )  # last bin ending at/before closed_at
        valid = (opened != _NAT) & (first < n_bins)
        g = codes if codes is not None else 0
        # n: requests opened before each bin's end (cumulated over the bins)
        firsts = (first * n_groups + g)[valid]
        size = np.bincount(firsts, minlength=n_cells).reshape(n_bins, n_groups).cumsum(0).ravel()
        span = np.where(valid, last - first + 1, 0).clip(min=0)
        rows = np.flatnonzero(span)
        span = span[rows]
        total = int(span.sum())
        offsets = np.repeat(np.cumsum(span) - span, span)
        rep = np.repeat(rows, span)
        bins = first[rep] + (np.arange(total) - offsets)
        cell = bins * n_groups + (codes[rep] if codes is not None else 0)
        return _Pop(rep, cell, size, bins)
    column = {"received": "opened_at", "closed": "closed_at", "assessed": "assessed_at"}[name]
    t = _closed_ns(df) if name == "closed" else _ns(df, column)
    rows, b = _in_bins(t, edges)
    cell = b * n_groups + codes[rows] if codes is not None else b
    return _Pop(rows, cell, np.bincount(cell, minlength=n_cells), None)


def _per_group(mask: np.ndarray, codes: np.ndarray | None, n_groups: int) -> np.ndarray:
    """How many rows of ``mask`` are in each group."""
    if codes is None:
        return np.array([np.count_nonzero(mask)], dtype=np.int64)
    return np.bincount(codes[mask], minlength=n_groups)


def _open_counts(
    df: pd.DataFrame, edges: np.ndarray, codes: np.ndarray | None, n_groups: int
) -> _Pop:
    """Requests open at each bin's end, counted per cell without materialising their rows.

    A request is in the population of bin ``b`` if it was opened before the bin's end
    (``size``, cumulated over the bins) and open at it if it was not closed before the
    end either (``occupied``: opened_at < end <= closed_at, a missing closed_at counting
    as never closed). One bin (a table, a breakdown) needs comparisons only.
    """
    ends = edges[1:]
    n_bins = len(ends)
    n_cells = n_bins * n_groups
    opened = _ns(df, "opened_at")
    closed = _ns(df, "closed_at")
    empty = np.empty(0, dtype=np.int64)
    if n_bins == 1:
        before = (opened < ends[0]) & (opened != _NAT)
        still = before & ((closed >= ends[0]) | (closed == _NAT))
        return _Pop(
            empty,
            empty,
            _per_group(before, codes, n_groups),
            None,
            _per_group(still, codes, n_groups),
        )
    first = np.searchsorted(ends, opened, side="right")  # first bin ending after opened_at
    after = np.searchsorted(ends, closed, side="right")  # first bin ending after closed_at
    after[closed == _NAT] = n_bins  # never closed: open at every later end
    valid = (opened != _NAT) & (first < n_bins)
    g = codes if codes is not None else 0
    firsts = first * n_groups + g
    size = np.bincount(firsts[valid], minlength=n_cells)
    size = size.reshape(n_bins, n_groups).cumsum(0).ravel()
    open_ = valid & (after > first)  # open at the end of bins first .. after - 1
    # +1 from the first bin it is open at the end of, -1 from the bin after the last
    start = firsts[open_]
    stop = (after * n_groups + g)[open_]
    diff = np.bincount(start, minlength=n_cells + n_groups) - np.bincount(
        stop, minlength=n_cells + n_groups
    )
    occupied = diff[:n_cells].reshape(n_bins, n_groups).cumsum(0).ravel()
    return _Pop(empty, empty, size, None, occupied)


def _populations(
    df: pd.DataFrame, kpis: list[KPI], edges: np.ndarray, codes: np.ndarray | None, n_groups: int
) -> dict[str, _Pop]:
    """Every population (each counts in a cell's activity); rows only where a KPI needs them."""
    needed = {"received", *(k.population for k in kpis)}
    if any(k.agg == "func" for k in kpis):  # ratios of the sizes of these populations
        needed.update(name for name in POPULATIONS if name != "open_at_end")
    return {
        name: _population(df, name, edges, codes, n_groups, rows_needed=name in needed)
        for name in POPULATIONS
    }


def _cell_quantiles(
    cell: np.ndarray, x: np.ndarray, n_cells: int, qs: list[float]
) -> dict[float, np.ndarray]:
    """Linear-interpolation quantiles of ``x`` per cell (pandas' default).

    Each cell's values are brought together (a counting sort of the cells) and only
    the order statistics needed are selected (``np.partition``), not fully sorted.
    """
    counts = np.bincount(cell, minlength=n_cells)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    c, s = counts[has], starts[has]
    pos = {}
    for q in qs:
        h = (c - 1) * q
        lo = np.floor(h).astype(np.int64)
        pos[q] = (lo, np.minimum(lo + 1, c - 1), h - lo)
    if n_cells <= 4096:
        xs = x.copy() if n_cells == 1 else x[np.argsort(cell.astype(np.int16), kind="stable")]
        for j in np.flatnonzero(counts[has] > 1):
            kth = sorted({int(pos[q][t][j]) for q in qs for t in (0, 1)})
            xs[s[j] : s[j] + c[j]].partition(kth)
    else:  # very many cells: one global sort is cheaper than a loop over them
        xs = x[np.lexsort((x, cell))]
    out = {}
    for q in qs:
        lo, hi, frac = pos[q]
        a, b = xs[s + lo], xs[s + hi]
        res = np.full(n_cells, np.nan)
        res[has] = a + frac * (b - a)
        out[q] = res
    return out


class _Measures:
    """Each KPI's measure of the rows, computed once and kept only while a later KPI needs it.

    ``full`` holds a measure over the whole frame (several populations share it);
    ``prepared`` per (population, measure) the cells and values of the rows whose
    measure is known, their count per cell (``n``) and, once computed, the
    aggregates later KPIs reuse (``true``, ``sum``, ``q``). Both are dropped after
    the last KPI that needs them, to keep the peak memory low.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        edges: np.ndarray,
        kpis: list[KPI],
        n_cells: int,
        kept: memo.FrameMemo | None = None,
    ):
        self.df, self.edges, self.n_cells, self.kept = df, edges, n_cells, kept
        self.full: dict[int, np.ndarray] = {}
        self.last_full = {id(k.measure): i for i, k in enumerate(kpis)}
        self.prep: dict[tuple[str, int], dict[str, object]] = {}
        self.last_prep = {(k.population, id(k.measure)): i for i, k in enumerate(kpis)}
        #: the quantiles wanted of each (population, measure), computed together
        self.wanted_q: dict[tuple[str, int], list[float]] = {}
        for k in kpis:
            q = _quantile_of(k.agg)
            if q is not None and k.agg != "func":
                self.wanted_q.setdefault((k.population, id(k.measure)), []).append(q)

    def _values(self, i: int, k: KPI, pop: _Pop) -> np.ndarray:
        """KPI ``i``'s measure for each row of its population (NaN where unknown)."""
        if k.population == "open_at_end":
            bin_end = pd.to_datetime(self.edges[1:][pop.bins], utc=True)
            frame = self.df.take(pop.rows).assign(bin_end=bin_end)
            return _as_float(k.measure(frame), k, len(frame))
        mid = id(k.measure)
        if mid not in self.full:
            self.full[mid] = self._measure(k)
        m = self.full[mid][pop.rows]
        if self.last_full[mid] == i:
            del self.full[mid]  # keep the peak memory low
        return m

    def _measure(self, k: KPI) -> np.ndarray:
        """The measure of every row of the frame (from the frame's memo, if kept there)."""
        found = self.kept.measure(k.measure) if self.kept is not None else None
        if found is None:
            found = _as_float(k.measure(self.df), k, len(self.df))
            if self.kept is not None:
                self.kept.keep_measure(k.measure, found)
        return found

    def prepared(self, i: int, k: KPI, pop: _Pop) -> dict[str, object]:
        """Cells (``c``) and values (``x``) of the rows whose measure is known, and their
        count per cell (``n``)."""
        key = (k.population, id(k.measure))
        if key not in self.prep:
            m = self._values(i, k, pop)
            known = ~np.isnan(m)
            c, x = (pop.cell, m) if known.all() else (pop.cell[known], m[known])
            self.prep[key] = {"c": c, "x": x, "n": np.bincount(c, minlength=self.n_cells)}
        return self.prep[key]

    def done(self, i: int, k: KPI) -> None:
        """KPI ``i`` is computed: drop what no later KPI needs."""
        key = (k.population, id(k.measure))
        if self.last_prep[key] == i:
            del self.prep[key]


def _aggregate(k: KPI, d: dict[str, object], n_cells: int, wanted_q: list[float] | None):
    """KPI ``k``'s aggregate per cell of the prepared rows ``d`` (count, pct, sum, mean
    or a quantile), reusing what an earlier KPI of the same rows computed."""
    c, x, n_known = d["c"], d["x"], d["n"]
    if k.agg in ("count", "pct") and "true" not in d:
        d["true"] = np.bincount(c, weights=x != 0, minlength=n_cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        if k.agg == "count":  # rows whose measure is true, over the whole population
            return d["true"]
        if k.agg == "pct":
            return 100.0 * d["true"] / n_known
        if k.agg in ("sum", "mean"):
            if "sum" not in d:
                d["sum"] = np.bincount(c, weights=x, minlength=n_cells)
            return d["sum"] / n_known if k.agg == "mean" else d["sum"]
        if "q" not in d:
            d["q"] = _cell_quantiles(c, x, n_cells, wanted_q)
        return d["q"][_quantile_of(k.agg)]


def _kpi_cells(
    i: int, k: KPI, pops: dict[str, _Pop], measures: _Measures
) -> tuple[np.ndarray, np.ndarray]:
    """(value, n) of KPI ``i`` in every cell: ``n`` is the population it is computed over
    (the rows whose measure is known, for a measure aggregated over them)."""
    pop = pops[k.population]
    n_cells = measures.n_cells
    if k.agg == "func":
        sizes = {
            name: p.size.astype("float64") for name, p in pops.items() if name != "open_at_end"
        }
        return np.asarray(k.func(sizes), dtype="float64"), pop.size
    if k.measure is None:
        return np.bincount(pop.cell, minlength=n_cells).astype("float64"), pop.size
    d = measures.prepared(i, k, pop)
    key = (k.population, id(k.measure))
    v = _aggregate(k, d, n_cells, measures.wanted_q.get(key))
    n_known = d["n"]
    if k.agg != "count":
        v = np.where(n_known > 0, v, np.nan)
    n = pop.size if k.agg == "count" or k.population == "open_at_end" else n_known
    measures.done(i, k)
    return v, n


def _kpi_ident(k: KPI) -> tuple[object, ...]:
    """What a KPI's cells depend on (its label, unit and words do not change them)."""
    return (k.key, k.population, k.measure, k.agg, k.func)


def _grouped_populations(
    df: pd.DataFrame,
    kpis: list[KPI],
    edges: np.ndarray,
    codes: np.ndarray | None,
    n_groups: int,
    kept: memo.FrameMemo | None,
    by: str | None,
) -> dict[str, _Pop]:
    """The populations of ``kpis`` per bin and group. The rows of a population do not
    depend on the grouping: when the frame's memo holds them for the same bins without
    one, only each row's group is looked up (no pass over the frame); the requests open
    at each end are counted again (one bin: comparisons only)."""
    base = kept.entries.get((edges.tobytes(), None)) if kept is not None and by else None
    if base is None or not base.pops or codes is None:
        return _populations(df, kpis, edges, codes, n_groups)
    n_cells = (len(edges) - 1) * n_groups
    out = {}
    for name, p in base.pops.items():
        if name == "open_at_end":
            needed = any(k.population == name for k in kpis)
            out[name] = _population(df, name, edges, codes, n_groups, rows_needed=needed)
        else:  # ungrouped, a row's cell is its bin
            cell = p.cell * n_groups + codes[p.rows]
            out[name] = _Pop(p.rows, cell, np.bincount(cell, minlength=n_cells), None)
    return out


def _fill_entry(
    df: pd.DataFrame,
    entry: memo.Entry,
    kpis: list[KPI],
    edges: np.ndarray,
    by: str | None,
    kept: memo.FrameMemo | None = None,
) -> None:
    """Compute the cells of ``kpis`` into ``entry``, with its populations (computed, or
    made again where a KPI needs the rows of a population kept as counts only)."""
    df = _prepare(df)
    n_bins = len(edges) - 1
    codes, labels = _groups(df, by)
    n_groups = len(labels) if labels is not None else 1
    n_cells = n_bins * n_groups
    entry.labels = labels
    counted = entry.pops.get("open_at_end")
    stale = (
        counted is not None
        and counted.occupied is not None
        and any(k.population == "open_at_end" for k in kpis)
    )
    if not entry.pops:
        entry.pops.update(_grouped_populations(df, kpis, edges, codes, n_groups, kept, by))
    elif stale:  # kept as counts only: again, with the rows of the requests open at each end
        entry.pops["open_at_end"] = _population(df, "open_at_end", edges, codes, n_groups)
    pops = entry.pops
    measures = _Measures(df, edges, kpis, n_cells, kept)
    for i, k in enumerate(kpis):
        v, n = _kpi_cells(i, k, pops, measures)
        entry.cells[_kpi_ident(k)] = (np.where(n > 0, v, np.nan), n)
    if entry.active is None:
        entry.received = pops["received"].size.reshape(n_bins, n_groups)
        entry.active = (
            sum(
                np.bincount(p.cell, minlength=n_cells) if p.occupied is None else p.occupied
                for p in pops.values()
            ).reshape(n_bins, n_groups)
            > 0
        )
    open_pop = pops["open_at_end"]
    if open_pop.occupied is None:  # rows of every bin a request is open in: not kept
        pops["open_at_end"] = _Pop(
            open_pop.rows[:0],
            open_pop.cell[:0],
            open_pop.size,
            None,
            np.bincount(open_pop.cell, minlength=n_cells),
        )


def _compute(
    df: pd.DataFrame,
    period: Period,
    kpis: list[KPI],
    *,
    freq: Freq | None = None,
    by: str | None = None,
) -> _Grid:
    """The one engine behind every public function (see the module docstring).

    Populations and KPI cells already computed over the same unchanged frame, bins
    and grouping are taken from the frame's memo (:mod:`.memo`), not computed again.
    """
    edges = _edges(period, freq)
    kept = memo.memo_of(df)
    key = (edges.tobytes(), by)
    entry = kept.entries.get(key) if kept is not None else None
    if entry is None:
        entry = memo.Entry(labels=None)
    missing = [k for k in kpis if _kpi_ident(k) not in entry.cells]
    if missing or entry.active is None:
        _fill_entry(df, entry, missing, edges, by, kept)
        if kept is not None:
            kept.entries[key] = entry
            kept.entries.move_to_end(key)
            memo.trim()
    elif kept is not None:
        kept.entries.move_to_end(key)
    labels = entry.labels
    n_bins = len(edges) - 1
    n_groups = len(labels) if labels is not None else 1
    cells = [entry.cells[_kpi_ident(k)] for k in kpis]
    value = np.array([v for v, _ in cells], dtype="float64").reshape(len(kpis), n_bins, n_groups)
    n_out = np.array([n for _, n in cells], dtype=np.int64).reshape(len(kpis), n_bins, n_groups)
    edges_ts = pd.to_datetime(edges, utc=True)
    return _Grid(
        kpis=kpis,
        starts=edges_ts[:-1],
        ends=edges_ts[1:],
        labels=labels,
        value=value,
        n=n_out,
        active=entry.active,
        received=entry.received,
    )


def _tidy(
    grid: _Grid, *, by: str | None, freq: Freq | None, min_group_size: int | None
) -> pd.DataFrame:
    n_kpis, n_bins, _ = grid.value.shape
    shown = None  # (kpi, group): the KPI's population in the group is large enough
    hidden_by_kpi: dict[str, int] = {}
    if grid.labels is None:
        keep = np.array([0])
        hidden = 0
    else:
        active = grid.active.any(0)
        keep_mask = active.copy()
        if min_group_size is not None:
            # each KPI's own population over the period (e.g. fulfilled requests for
            # fulfil_median_h), not the requests received
            size = grid.n.sum(1).astype("float64")
            for i, k in enumerate(grid.kpis):
                if k.population == "open_at_end" and k.measure is None:
                    # backlog: the requests still open at the end, not all those opened before
                    size[i] = np.nan_to_num(grid.value[i]).sum(0)
            shown = (size >= min_group_size) & active[None, :]
            keep_mask &= shown.any(0)
            # a group without a single request in the KPI's population hides no one (a KPI
            # the data does not measure, such as csat without a survey, hides nothing)
            hidden_by_kpi = {
                k.key: int((active & ~shown[i] & (np.nan_to_num(size[i]) > 0)).sum())
                for i, k in enumerate(grid.kpis)
            }
        keep = np.flatnonzero(keep_mask)
        hidden = int((active & ~keep_mask).sum())
    n_keep = len(keep)
    # order: bin, group, kpi
    value = grid.value[:, :, keep].transpose(1, 2, 0).ravel()
    n = grid.n[:, :, keep].transpose(1, 2, 0).ravel()
    cols: dict[str, object] = {}
    if freq is not None:
        cols["period_start"] = grid.starts.repeat(n_keep * n_kpis)
        cols["period_end"] = grid.ends.repeat(n_keep * n_kpis)
    if by is not None:
        kept_labels = [grid.labels[j] for j in keep]
        codes = np.tile(np.repeat(np.arange(n_keep), n_kpis), n_bins)
        cols[by] = pd.Categorical.from_codes(codes, categories=pd.Index(kept_labels))
    cols["kpi"] = pd.array(np.tile([k.key for k in grid.kpis], n_bins * n_keep), dtype="str")
    cols["value"] = value
    cols["n"] = n
    out = pd.DataFrame(cols)
    if shown is not None:
        mask = np.broadcast_to(shown[:, keep].T[None, :, :], (n_bins, n_keep, n_kpis)).ravel()
        if not mask.all():
            out = out[mask].reset_index(drop=True)
    if min_group_size is not None:
        out.attrs["hidden_groups"] = hidden
        out.attrs["hidden_by_kpi"] = hidden_by_kpi
        out.attrs["min_group_size"] = int(min_group_size)
    return out
