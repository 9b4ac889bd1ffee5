"""KPI tables computed by a SQL engine: the same populations, cells and tidy frames as
:mod:`csi_lib.kpis`, with only the aggregates coming back from the engine.

For a period cut into bins (``freq``) and split by a dimension (``by``), each population
(``received``, ``closed``, ``assessed``) is one ``GROUP BY bin, group`` query holding
every KPI over it: the population size, and per measure the rows whose measure is
known, the true ones, the sum and the exact quantiles (linear interpolation:
``quantile_cont`` in DuckDB, ``percentile_cont`` in PostgreSQL, ``percentile`` in Spark).
The requests open at each bin's end (``backlog``) are counted from one more query
grouped by the bin a request was opened in and the bin it was closed in. PostgreSQL,
which keeps no rows between queries, runs these four as one statement that validates the
requests once (:func:`_in_one_statement`). The cells go
into the grid :func:`csi_lib.kpis.engine._tidy` turns into the same tidy frame as the
pandas engine, small groups hidden by each KPI's own population alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..kpis.catalogue import KPI, MISSING_GROUP, _quantile_of, _resolve_kpis
from ..kpis.engine import _edges, _Grid, _tidy
from ..periods import Freq, Period
from ..schema import CLOSED_OUTCOMES, COLUMNS, DIMENSION_COLUMNS
from .view import UTC, one_of

if TYPE_CHECKING:
    from . import Relational

_TIME = {"received": "opened_at", "closed": "closed_at", "assessed": "assessed_at"}


def _ts(ns: int) -> Any:
    return ibis.literal(pd.Timestamp(ns, tz="UTC").to_pydatetime(), type=UTC)


def _bin(col: Any, edges: np.ndarray, *, last: int | None = None) -> Any:
    """The bin of ``col`` (0 for ``[e0, e1)``, ...): ``col < e1`` -> 0, ``col < e2`` -> 1, ...
    (the caller keeps ``col < e_n``); ``last`` for a time at or after every end."""
    ends = edges[1:]
    if len(ends) == 1 and last is None:
        return ibis.literal(0)
    return ibis.cases(*[(col < _ts(e), i) for i, e in enumerate(ends)],
                      else_=ibis.literal(last) if last is not None else ibis.null("int64"))  # fmt: skip


def _missing_relational(k: KPI, engine: str) -> ConfigError:
    return ConfigError(
        f"the KPI '{k.key}' has only a pandas function, so the {engine} engine cannot compute it",
        column="kpi",
        hint="add its relational definition, e.g. KPI(..., relational=lambda t: "
        't.priority == "1 - Critical") (an Ibis expression over the canonical columns, '
        "see csi_lib.kpis.KPI), or use --engine pandas",
    )


def _as_float(expr: Any) -> Any:
    if expr.type().is_boolean():
        expr = expr.cast("int32")
    return expr.cast("float64")


def check_kpis(kpis: list[KPI], engine: str) -> None:
    """Every KPI with a measure has a relational definition (else a clear error)."""
    for k in kpis:
        if k.measure is not None and k.relational is None:
            raise _missing_relational(k, engine)


def available_dimensions(t: Any) -> list[str]:
    return [c for c in t.columns if c in DIMENSION_COLUMNS or c not in COLUMNS]


def _group(t: Any, by: str | None) -> Any:
    if by is None:
        return ibis.literal("")
    if (
        not isinstance(by, str)
        or by not in t.columns
        or by
        not in [
            *available_dimensions(t),
            "outcome",
        ]
    ):
        raise ConfigError(
            "this is not a breakdown dimension of the data",
            column=str(by),
            hint="available dimensions: " + ", ".join(available_dimensions(t)),
        )
    return t[by].cast("string")


def _measure(k: KPI, t: Any) -> Any:
    return _as_float(k.relational(t))


def _population_query(t: Any, name: str, kpis: list[KPI], edges: np.ndarray, by: str | None,
                      *, together: bool = False):  # fmt: skip
    """One population's cells. ``together``: the quantiles of one measure as one aggregate
    of several fractions (DuckDB's ``quantile_cont(x, [0.5, 0.9])``: the values are kept
    and sorted once, not once per quantile), split by :func:`_split_quantiles`."""
    col = t[_TIME[name]]
    f = t.filter(col >= _ts(edges[0]), col < _ts(edges[-1]))
    if name == "closed":
        f = f.filter(one_of(f.outcome, CLOSED_OUTCOMES))
    f = f.mutate(_csi_bin=_bin(f[_TIME[name]], edges), _csi_grp=_group(f, by))
    aggs: dict[str, Any] = {"_size": f.count()}
    for j, k in enumerate(_measured(kpis)):
        m = _measure(k, f)
        # only the cells the KPIs of this measure read (:func:`_aggregate`): the rows whose
        # measure is known always, the true ones for a count or a share, the sum for a sum
        # or a mean (each aggregate read every row of the population)
        used = {o.agg for o in kpis if o.relational is k.relational}
        aggs[f"n{j}"] = m.count()
        if used & {"count", "pct"}:
            aggs[f"t{j}"] = (m != 0).cast("int32").sum()
        if used & {"sum", "mean"}:
            aggs[f"s{j}"] = m.sum()
        qs = _quantiles(kpis, k)
        if together and len(qs) > 1:
            aggs[f"qs{j}"] = m.quantile(qs)
            continue
        for q in qs:
            aggs[f"q{j}_{round(q * 1e6)}"] = m.quantile(q)
    return f.group_by(["_csi_bin", "_csi_grp"]).aggregate(**aggs)


def _split_quantiles(frame: pd.DataFrame, kpis: list[KPI]) -> pd.DataFrame:
    """The columns ``qs<j>`` of :func:`_population_query` (a list of quantiles per cell,
    NULL without values) as one column ``q<j>_<fraction>`` per quantile."""
    for j, k in enumerate(_measured(kpis)):
        name = f"qs{j}"
        if name not in frame.columns:
            continue
        cells = frame.pop(name).tolist()
        for i, q in enumerate(_quantiles(kpis, k)):
            frame[f"q{j}_{round(q * 1e6)}"] = [
                np.nan
                if c is None or (np.ndim(c) == 0 and pd.isna(c)) or c[i] is None
                else float(c[i])
                for c in cells
            ]
    return frame


def _measured(kpis: list[KPI]) -> list[KPI]:
    """One KPI per distinct measure (its cells serve every KPI of that measure)."""
    seen: dict[Any, KPI] = {}
    for k in kpis:
        if k.measure is not None and k.agg != "func":
            seen.setdefault(k.relational, k)
    return list(seen.values())


def _quantiles(kpis: list[KPI], k: KPI) -> list[float]:
    return sorted(
        {
            q
            for o in kpis
            if o.relational is k.relational
            and o.agg != "func"
            and (q := _quantile_of(o.agg)) is not None
        }
    )


class _Cells:
    """Query results placed on the (bin, group) grid, groups as they come."""

    def __init__(self, n_bins: int):
        self.n_bins = n_bins
        self.labels: dict[str, int] = {}
        self.frames: list[tuple[str, pd.DataFrame]] = []

    def add(self, name: str, frame: pd.DataFrame) -> None:
        for g in frame["_csi_grp"].tolist():
            key = MISSING_GROUP if g is None or (isinstance(g, float) and np.isnan(g)) else g
            self.labels.setdefault(key, len(self.labels))
        self.frames.append((name, frame))

    def order(self, by: str | None) -> list[str]:
        if by is None:
            return [""]
        present = [g for g in self.labels if g != MISSING_GROUP]
        return sorted(present) + ([MISSING_GROUP] if MISSING_GROUP in self.labels else [])


def _place(frame: pd.DataFrame, column: str, bins: np.ndarray, groups: np.ndarray, shape):
    out = np.zeros(shape, dtype="float64")
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    np.add.at(out, (bins, groups), np.nan_to_num(values))
    return out


def _place_nan(frame: pd.DataFrame, column: str, bins, groups, shape) -> np.ndarray:
    out = np.full(shape, np.nan)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    out[bins, groups] = values
    return out


def _open_query(t: Any, edges: np.ndarray, by: str | None) -> Any:
    """Requests opened before the last end, by the bin they were opened in (the first
    bin whose end is after opened_at) and the first bin whose end is after closed_at
    (``n_bins`` while open at every end)."""
    n_bins = len(edges) - 1
    f = t.filter(t.opened_at < _ts(edges[-1]))
    f = f.mutate(
        _csi_first=_bin(f.opened_at, edges, last=n_bins),
        _csi_after=ibis.ifelse(f.closed_at.isnull(), n_bins, _bin(f.closed_at, edges, last=n_bins)),
        _csi_grp=_group(f, by),
    )
    return f.group_by(["_csi_first", "_csi_after", "_csi_grp"]).aggregate(_size=f.count())


def _open_measure_rows(t: Any, k: KPI, edges: np.ndarray, by: str | None) -> list[Any]:
    """For a custom measure over the requests open at each end: one query per bin end,
    the rows open at it with their ``bin_end``."""
    queries = []
    for b, end in enumerate(edges[1:]):
        e = _ts(end)
        f = t.filter(t.opened_at < e, t.closed_at.isnull() | (t.closed_at >= e))
        f = f.mutate(bin_end=e)
        m = _measure(k, f)
        aggs = {"n": m.count(), "t": (m != 0).cast("int32").sum(), "s": m.sum()}
        for q in _quantiles([k], k):
            aggs[f"q_{round(q * 1e6)}"] = m.quantile(q)
        f = f.mutate(_csi_grp=_group(f, by))
        queries.append((b, f.group_by("_csi_grp").aggregate(**aggs)))
    return queries


#: Engines that keep no validated rows between queries (PostgreSQL: the connection
#: creates nothing), so that each query would read and validate the source again: a
#: grid's queries run there as one statement, which computes the rows once.
ONE_STATEMENT = frozenset({"postgres"})

#: The name the rows of :func:`_in_one_statement` go by inside its statement.
_ROWS_ONCE = "csi_requests_once"


def _in_one_statement(rel: Relational, t: Any, build: Any) -> dict[str, pd.DataFrame]:
    """The queries ``build(rows)`` makes of the rows ``t``, run as one statement: ``t`` is
    a common table expression (which PostgreSQL computes once, being read by more than one
    query) and the queries one ``UNION ALL``, each query's columns its own (NULL in the
    rows of the others) and each row tagged with its query. Returns each query's frame.

    On a table of 1M requests with ISO 8601 dates as text, the four queries of a KPI table
    took 78 s one after another, 24 s as one statement; typed, 9.2 s and 5.9 s."""
    stand_in = ibis.table(t.schema(), name=_ROWS_ONCE)
    queries = build(stand_in)
    columns = [(name, c, typ) for name, q in queries.items() for c, typ in q.schema().items()]
    parts = []
    for i, (name, q) in enumerate(queries.items()):
        cells = {f"c{j}": q[c] if owner == name else ibis.null(typ)
                 for j, (owner, c, typ) in enumerate(columns)}  # fmt: skip
        parts.append(q.select(_csi_query=ibis.literal(i, type="int16"), **cells))
    union = ibis.union(*parts, distinct=False)
    # the connection's own compiler (backends._postgres_compiler), not Ibis' default
    body = rel.backend.compile(union).strip()
    rows = f"{_ROWS_ONCE} AS ({rel.backend.compile(t)})"
    sql = f"WITH {rows}, {body[4:]}" if body[:5].upper() == "WITH " else f"WITH {rows} {body}"
    got = rel.execute(rel.backend.sql(sql, schema=union.schema()))
    frames = {}
    for i, (name, q) in enumerate(queries.items()):
        mine = {f"c{j}": c for j, (owner, c, _) in enumerate(columns) if owner == name}
        frame = got.loc[got["_csi_query"] == i, list(mine)].rename(columns=mine)
        frame = frame.reset_index(drop=True)
        for c, typ in q.schema().items():  # an integer column of NULLs elsewhere came as float
            if typ.is_integer() and not frame[c].isna().any():
                frame[c] = frame[c].astype("int64")
        frames[name] = frame
    return frames


def grid(
    rel: Relational,
    t: Any,
    period: Period,
    kpis: list[KPI],
    *,
    freq: Freq | None,
    by: str | None,
) -> _Grid:
    """Every KPI's (value, n) per bin and group, computed by the engine."""
    check_kpis(kpis, rel.engine)
    edges = _edges(period, freq)
    n_bins = len(edges) - 1
    t = t.mutate(csat_in_data=ibis.literal(rel.csat_in_data(t)))
    cells = _Cells(n_bins)
    results: dict[str, pd.DataFrame] = {}
    plain = [k for k in kpis if k.population != "open_at_end"]

    def queries(rows: Any) -> dict[str, Any]:
        out = {name: _population_query(rows, name, [k for k in plain if k.population == name],
                                       edges, by, together=rel.engine == "duckdb")
               for name in ("received", "closed", "assessed")}  # fmt: skip
        out["open_at_end"] = _open_query(rows, edges, by)
        return out

    if rel.engine in ONE_STATEMENT:
        # only the columns the queries read: PostgreSQL holds every column of the rows
        # while the queries read them (on disk beyond work_mem)
        read = {*_TIME.values(), "outcome", "csat_in_data", *columns_read(rel, kpis, by=by)}
        frames = _in_one_statement(rel, t.select(*[c for c in t.columns if c in read]), queries)
    else:
        frames = {name: rel.execute(q) for name, q in queries(t).items()}
    for name in ("received", "closed", "assessed"):
        wanted = [k for k in plain if k.population == name]
        results[name] = _split_quantiles(frames[name], wanted)
        cells.add(name, results[name])
    open_frame = frames["open_at_end"]
    cells.add("open_at_end", open_frame)
    open_measured = {
        k.key: [(b, rel.execute(q)) for b, q in _open_measure_rows(t, k, edges, by)]
        for k in kpis
        if k.population == "open_at_end" and k.measure is not None
    }
    labels = cells.order(by)
    index = {g: i for i, g in enumerate(labels)}
    n_groups = len(labels)
    shape = (n_bins, n_groups)

    def groups_of(frame: pd.DataFrame) -> np.ndarray:
        keys = [MISSING_GROUP if g is None or (isinstance(g, float) and np.isnan(g)) else g
                for g in frame["_csi_grp"].tolist()] if by is not None else [""] * len(frame)  # fmt: skip
        return np.array([index[g] for g in keys], dtype=np.int64)

    sizes, where = {}, {}
    for name, frame in results.items():
        bins = frame["_csi_bin"].to_numpy(dtype=np.int64)
        groups = groups_of(frame)
        where[name] = (bins, groups)
        sizes[name] = _place(frame, "_size", bins, groups, shape)
    first = open_frame["_csi_first"].to_numpy(dtype=np.int64)
    after = open_frame["_csi_after"].to_numpy(dtype=np.int64)
    g_open = groups_of(open_frame)
    count = open_frame["_size"].to_numpy(dtype="float64")
    opened_by = np.zeros((n_bins + 1, n_groups))
    np.add.at(opened_by, (first, g_open), count)
    closed_by = np.zeros((n_bins + 1, n_groups))
    np.add.at(closed_by, (after, g_open), count)
    open_size = opened_by[:n_bins].cumsum(0)
    occupied = open_size - closed_by[:n_bins].cumsum(0)

    value = np.full((len(kpis), n_bins, n_groups), np.nan)
    n_out = np.zeros((len(kpis), n_bins, n_groups), dtype=np.int64)
    measured = {name: _measured([k for k in plain if k.population == name]) for name in results}
    for i, k in enumerate(kpis):
        if k.agg == "func":
            size_f = {name: sizes[name].ravel() for name in sizes}
            v = np.asarray(k.func(size_f), dtype="float64").reshape(shape)
            n = sizes[k.population] if k.population != "open_at_end" else open_size
        elif k.population == "open_at_end":
            n = open_size
            if k.measure is None:
                v = occupied
            else:
                v, known = _open_cells(k, open_measured[k.key], index, by, shape)
                if k.agg != "count":
                    v = np.where(known > 0, v, np.nan)
        elif k.measure is None:
            v = n = sizes[k.population]
        else:
            frame = results[k.population]
            bins, groups = where[k.population]
            j = next(
                x for x, o in enumerate(measured[k.population]) if o.relational is k.relational
            )
            known = _place(frame, f"n{j}", bins, groups, shape)
            v = _aggregate(k, frame, j, known, bins, groups, shape)
            n = sizes[k.population] if k.agg == "count" else known
            if k.agg != "count":
                v = np.where(known > 0, v, np.nan)
        n = np.asarray(n)
        value[i] = np.where(n > 0, v, np.nan)
        n_out[i] = n.astype(np.int64)
    active = (sum(sizes.values()) + occupied) > 0
    edges_ts = pd.to_datetime(edges, utc=True)
    return _Grid(
        kpis=kpis,
        starts=edges_ts[:-1],
        ends=edges_ts[1:],
        labels=labels if by is not None else None,
        value=value,
        n=n_out,
        active=active,
        received=sizes["received"].astype(np.int64),
    )


def _aggregate(k: KPI, frame, j: int, known, bins, groups, shape) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if k.agg == "count":
            return _place(frame, f"t{j}", bins, groups, shape)
        if k.agg == "pct":
            return 100.0 * _place(frame, f"t{j}", bins, groups, shape) / known
        if k.agg == "sum":
            return _place(frame, f"s{j}", bins, groups, shape)
        if k.agg == "mean":
            return _place(frame, f"s{j}", bins, groups, shape) / known
        q = _quantile_of(k.agg)
        return _place_nan(frame, f"q{j}_{round(q * 1e6)}", bins, groups, shape)


def _open_cells(k: KPI, per_bin, index, by, shape) -> tuple[np.ndarray, np.ndarray]:
    v = np.full(shape, np.nan)
    known = np.zeros(shape)
    for b, frame in per_bin:
        for row in frame.to_dict("records"):
            g = row["_csi_grp"] if by is not None else ""
            g = MISSING_GROUP if g is None else g
            col = index[g]
            n = float(row["n"] or 0)
            known[b, col] = n
            t = float(row["t"] or 0)
            s = float(row["s"] or 0) if row["s"] is not None else 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                if k.agg == "count":
                    v[b, col] = t
                elif k.agg == "pct":
                    v[b, col] = 100.0 * t / n if n else np.nan
                elif k.agg == "sum":
                    v[b, col] = s
                elif k.agg == "mean":
                    v[b, col] = s / n if n else np.nan
                else:
                    q = row[f"q_{round(_quantile_of(k.agg) * 1e6)}"]
                    v[b, col] = np.nan if q is None else float(q)
    if k.agg == "count":
        v = np.nan_to_num(v)
    return v, known


# --------------------------------------------------------------------------- public


def scope_filter(rel: Relational, t: Any, scope: Mapping[str, object] | None) -> Any:
    """Rows matching every ``{column: value or [values]}`` (values matched by their text);
    a column not in the data or a value that does not occur is a ConfigError, as in
    :func:`csi_lib.kpis.scope_filter`."""
    if not scope:
        return t
    if not isinstance(scope, Mapping):
        raise ConfigError(
            f"a scope is a mapping column: value(s), not {type(scope).__name__}",
            column="scope",
            hint='write e.g. {"category": "Laptop"}',
        )
    cond = ibis.literal(True)
    for column, wanted in scope.items():
        if column not in t.columns:
            raise ConfigError(
                "the scope names a column that is not in the data",
                column=str(column),
                hint="available dimensions: " + ", ".join(available_dimensions(rel.table)),
            )
        values = [wanted] if isinstance(wanted, str | int | float | bool) else list(wanted)
        texts = [str(v) for v in values]
        col = t[column].cast("string")
        found = set(rel.execute(t.filter(col.isin(texts)).select(v=col).distinct())["v"])
        for v in texts:
            if v not in found:
                present = rel.execute(t.select(v=col).distinct().order_by("v").limit(20))["v"]
                raise ConfigError(
                    f"the scope value '{v}' does not occur in the data",
                    column=str(column),
                    hint="values present: " + ", ".join(str(x) for x in present if x is not None),
                )
        cond = cond & col.isin(texts)
    return t.filter(cond)


def columns_read(rel: Relational, kpis: Iterable[KPI], *, by: str | None = None,
                 scope: Mapping[str, object] | None = None) -> set[str]:  # fmt: skip
    """The columns of the view that ``kpis`` (their relational definitions), ``by`` and
    ``scope`` read: what the engine's table of validated rows must hold."""
    import ibis.expr.operations as ops

    full = rel.table
    probe = full.mutate(csat_in_data=ibis.literal(True), bin_end=_ts(0))
    names = {by} if isinstance(by, str) else set()
    if isinstance(scope, Mapping):
        names |= {str(c) for c in scope}
    for k in kpis:
        if k.relational is None:
            continue
        try:
            expr = k.relational(probe)
            top = probe.op()
            names |= {f.name for f in expr.op().find(ops.Field) if f.rel == top}
        except Exception:  # noqa: BLE001 - the query itself reports a definition's error
            names |= set(full.columns)
    return names & set(full.columns)


def _rows(rel: Relational, kpis: list[KPI], by: str | None, scope: Any) -> Any:
    return rel.rows(columns_read(rel, kpis, by=by, scope=scope))


def kpi_table(
    rel: Relational,
    period: Period,
    *,
    by: str | None = None,
    freq: Freq | None = None,
    kpis: str | KPI | Iterable[str | KPI] | None = None,
    min_group_size: int | None = None,
    scope: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """:func:`csi_lib.kpis.kpi_table`, computed by the engine of ``rel``."""
    chosen = _resolve_kpis(kpis)
    _group(rel.table, by)  # a dimension the data does not have is named as such
    t = scope_filter(rel, _rows(rel, chosen, by, scope), scope)
    g = grid(rel, t, period, chosen, freq=freq, by=by)
    return _tidy(g, by=by, freq=freq, min_group_size=min_group_size)


def observations(
    rel: Relational, period: Period, kpi: str | KPI, *, scope: Mapping[str, object] | None = None
) -> pd.Series:
    """:func:`csi_lib.kpis.observations` computed by the engine: the per-request values
    of one period (what stage 5's tests need), in no particular order."""
    from ..kpis.catalogue import get_kpi

    k = get_kpi(kpi)
    if k.func is not None:
        raise ConfigError(
            f"KPI '{k.key}' combines two populations and has no per-request values",
            column="kpi",
            hint="compare its monthly series instead",
        )
    check_kpis([k], rel.engine)
    t = scope_filter(rel, _rows(rel, [k], None, scope), scope)
    t = t.mutate(csat_in_data=ibis.literal(rel.csat_in_data(t)))
    edges = _edges(period, None)
    start, end = _ts(edges[0]), _ts(edges[1])
    if k.population == "open_at_end":
        f = t.filter(t.opened_at < end)
        still = f.closed_at.isnull() | (f.closed_at >= end)
        if k.measure is None:
            values = f.select(v=_as_float(still))
        else:
            f = f.filter(still).mutate(bin_end=end)
            values = f.select(v=_measure(k, f))
    else:
        col = t[_TIME[k.population]]
        f = t.filter(col >= start, col < end)
        if k.population == "closed":
            f = f.filter(one_of(f.outcome, CLOSED_OUTCOMES))
        if k.measure is None:
            values = f.select(v=ibis.literal(1.0))
        else:
            m = _measure(k, f)
            if k.agg in ("count", "pct"):
                m = _as_float(m != 0)
                if k.agg == "count":
                    m = m.fill_null(0.0)
            values = f.select(v=m)
    out = rel.execute(values.filter(values.v.notnull()))["v"]
    return pd.Series(out.to_numpy(dtype="float64"), name=k.key, dtype="float64")
