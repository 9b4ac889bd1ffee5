"""``csi`` data commands: ``kpis``, ``validate``, ``baseline``, ``sample``, ``presets``."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ConfigError
from .usage import iso_date, time_zone

if TYPE_CHECKING:  # pandas is imported when a command runs, not for --help
    import pandas as pd

DataArg = Annotated[
    str, typer.Argument(help="Export file (CSV, CSV.gz, Excel, Parquet, zip) or a SQLAlchemy URL.")
]
PresetOpt = Annotated[
    str | None,
    typer.Option(help="Built-in mapping: servicenow, jira-sm or generic (see csi presets)."),
]
MappingOpt = Annotated[Path | None, typer.Option(help="Your own mapping file (YAML, see docs).")]
QueryOpt = Annotated[
    str | None, typer.Option(help="SQL query (or table name) when DATA is a database URL.")
]
SheetOpt = Annotated[str | None, typer.Option(help="Excel sheet name (default: the first sheet).")]
FromOpt = Annotated[
    str | None,
    typer.Option("--from", parser=iso_date, help="First date of the period, YYYY-MM-DD."),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", parser=iso_date, help="Last date of the period (inclusive), YYYY-MM-DD."),
]
TzOpt = Annotated[
    str,
    typer.Option(
        "--tz", parser=time_zone, help="Reporting time zone of --from/--to (default UTC)."
    ),
]
QuarantineOpt = Annotated[
    Path | None,
    typer.Option(
        help="Folder for the quarantine file of rejected rows (default: beside the output or ./quarantine)."
    ),
]


class EngineChoice(StrEnum):
    auto = "auto"
    pandas = "pandas"
    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"


EngineOpt = Annotated[
    EngineChoice,
    typer.Option(
        metavar="ENGINE",
        help="Who computes: auto, pandas (load the data), duckdb (in place, no server), postgres "
        "(in the database of a postgresql:// URL) or spark (a Spark session); auto: postgres for "
        "a PostgreSQL URL, duckdb for a Parquet file of 64 MB or more, else pandas.",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        envvar="CSI_SPARK_MASTER",
        show_envvar=False,
        help="Spark master URL for --engine spark (or CSI_SPARK_MASTER; default local[*]).",
    ),
]


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class FreqChoice(StrEnum):
    month = "month"
    week = "week"


def _load(data, preset, mapping, query, sheet, quarantine_dir, *, quiet: bool = False, cache=None):
    from ..sources import load_requests

    if preset is None and mapping is None:
        preset = "generic"
    options = {"preset": preset, "mapping": str(mapping) if mapping else None, "sheet": sheet}
    if cache is not None and query is None:  # opt-in: the validated load of an unchanged file
        from ..runstore import cached_load

        result = cached_load(data, cache, quarantine_dir=quarantine_dir, **options)
    else:
        result = load_requests(data, query=query, quarantine_dir=quarantine_dir, **options)
    if not quiet:
        s = result.summary()
        line = _rows_text(s)
        if result.quarantine_path:
            line += f" (see {result.quarantine_path})"
        typer.echo(line, err=True)
        for w in s.get("warnings", []):
            typer.echo(f"warning: {w}", err=True)
    return result


def _period(df: pd.DataFrame, date_from: str | None, date_to: str | None, tz: str):
    from ..periods import Period

    if date_from is None or date_to is None:
        if df.empty:
            raise ConfigError(
                "the data has no rows to take a period from", hint="give --from and --to"
            )
        first = df["opened_at"].min().tz_convert(tz).date()
        last = _last_event(df).tz_convert(tz).date()
        date_from = date_from or str(first)
        date_to = date_to or str(last)
    return Period.from_dates(date_from, date_to, tz=tz)


def _last_event(df: pd.DataFrame) -> pd.Timestamp:
    """The last opening or closing of ``df`` (NaT without one): where its data ends, as
    a SQL engine's :meth:`~csi_lib.engines.Relational.date_range` says it."""
    return max(df["opened_at"].max(), df["closed_at"].max())


def _day_end(last: pd.Timestamp | None, tz: str) -> pd.Timestamp | None:
    """The end, in ``tz``, of the day holding ``last`` (None without one)."""
    import pandas as pd

    from ..run import _end_of_day

    return None if last is None or pd.isna(last) else _end_of_day(last.tz_convert(tz).date(), tz)


def _clean(value: float) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
    )


def kpis(
    data: DataArg,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    query: QueryOpt = None,
    sheet: SheetOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = "UTC",
    by: Annotated[
        str | None, typer.Option(help="Break down by this column (category, group, channel, ...).")
    ] = None,
    freq: Annotated[FreqChoice | None, typer.Option(help="Give a series by month or week.")] = None,
    kpi: Annotated[
        list[str] | None,
        typer.Option("--kpi", help="Only this KPI (repeatable); see csi kpi-list."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
    min_group_size: Annotated[
        int,
        typer.Option(
            help="Hide a group's KPI value when the KPI's own population in the group "
            "(e.g. fulfilled requests for fulfil_median_h) is smaller."
        ),
    ] = 5,
    quarantine_dir: QuarantineOpt = None,
    engine: EngineOpt = EngineChoice.auto,
    spark_master: SparkMasterOpt = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            envvar="CSI_CACHE_DIR",
            show_envvar=False,
            help="Cache folder (or CSI_CACHE_DIR): keep the validated data of a file there and "
            "read it on the next call while the file and mapping are unchanged.",
        ),
    ] = None,
) -> None:
    """Print KPI values of DATA over a period (default: all of the data).

    With --format json and no --by/--freq, prints one JSON object {kpi: value}
    (null for a missing value) and nothing else on stdout.
    """
    from .. import kpis as K
    from ..engines import choose_engine

    chosen = choose_engine(data, engine.value)
    if chosen != "pandas":
        _kpis_in_engine(
            data, chosen, preset, mapping, query, sheet, date_from, date_to, tz, by, freq, kpi,
            fmt, min_group_size, spark_master,
        )  # fmt: skip
        return
    result = _load(
        data,
        preset,
        mapping,
        query,
        sheet,
        quarantine_dir or Path("quarantine"),
        quiet=fmt is Format.json,
        cache=cache,
    )
    df = result.data
    period = _period(df, date_from, date_to, tz)
    if by is None and freq is None:
        values = K.kpi_values(df, period, kpis=kpi)
        if fmt is Format.json:
            typer.echo(json.dumps({k: _clean(v) for k, v in values.items()}))
            return
        table = K.kpi_catalogue().set_index("key").loc[values.index, ["label", "unit"]]
        table.insert(0, "value", values.round(3))
        frame = table.reset_index().rename(columns={"index": "kpi"})
    elif by is not None and freq is None:
        frame = K.breakdown(df, period, by=by, kpis=kpi, min_group_size=min_group_size)
        hidden = K.hidden_text(frame)  # by each KPI's own population, not requests received
        if hidden and fmt is not Format.json:
            typer.echo(hidden, err=True)
    else:
        frame = K.kpi_table(
            df,
            period,
            by=by,
            freq=freq.value,
            kpis=kpi,
            min_group_size=min_group_size if by else None,
        )
        frame = _with_partial(frame, freq.value, period, _day_end(_last_event(df), tz))
    _emit(frame, fmt, title=f"KPIs, {period.label}", tz=tz)


def _kpis_in_engine(
    data, engine, preset, mapping, query, sheet, date_from, date_to, tz, by, freq, kpi, fmt,
    min_group_size, spark_master,
) -> None:  # fmt: skip
    """``csi kpis`` computed by a SQL engine: only the aggregates come back."""
    from .. import kpis as K
    from ..engines import open_source
    from ..periods import Period

    if preset is None and mapping is None:
        preset = "generic"
    rel = open_source(data, engine=engine, preset=preset, mapping=mapping, query=query,
                      sheet=sheet, spark_master=spark_master,
                      columns=[by] if by else ())  # fmt: skip
    if fmt is not Format.json:
        events = rel.mapping.events is not None
        typer.echo(_engine_counts(rel.counts(), engine, events=events), err=True)
        for w in rel.warnings:
            typer.echo(f"warning: {w}", err=True)
    if date_from is None or date_to is None:
        first, last = rel.date_range()
        if first is None:
            raise ConfigError(
                "the data has no rows to take a period from", hint="give --from and --to"
            )
        date_from = date_from or str(first.tz_convert(tz).date())
        date_to = date_to or str(last.tz_convert(tz).date())
    period = Period.from_dates(date_from, date_to, tz=tz)
    if by is None and freq is None:
        values = rel.kpi_values(period, kpis=kpi)
        if fmt is Format.json:
            typer.echo(json.dumps({k: _clean(v) for k, v in values.items()}))
            return
        table = K.kpi_catalogue().set_index("key").loc[values.index, ["label", "unit"]]
        table.insert(0, "value", values.round(3))
        frame = table.reset_index().rename(columns={"index": "kpi"})
    elif by is not None and freq is None:
        frame = rel.breakdown(period, by=by, kpis=kpi, min_group_size=min_group_size)
        hidden = K.hidden_text(frame)
        if hidden and fmt is not Format.json:
            typer.echo(hidden, err=True)
    else:
        frame = rel.kpi_table(period, by=by, freq=freq.value, kpis=kpi,
                              min_group_size=min_group_size if by else None)  # fmt: skip
        frame = _with_partial(frame, freq.value, period, _day_end(rel.date_range()[1], tz))
    rel.close()
    _emit(frame, fmt, title=f"KPIs, {period.label}", tz=tz)


def _rows_text(s: dict[str, Any], *, word: str = " rows") -> str:
    """What a load made of the source's rows, from a load's summary (or the same keys):
    an event log's events read and requests formed; else the rows read, those merged
    (updates of one request, identical copies) and the empty ones skipped; then the
    requests kept and quarantined."""
    if s.get("events"):
        ev = s["events"]
        head = [f"{ev['events_read']:,} events read", f"{ev['requests_formed']:,} requests formed"]
    else:
        merged = s.get("rows_deduplicated", 0) + s.get("rows_collapsed", 0)
        head = [f"{s['rows_read']:,}{word} read"]
        if merged:
            head.append(f"{merged:,} merged (event-log updates or identical duplicates)")
        if s.get("rows_blank"):
            head.append(f"{s['rows_blank']:,} empty skipped")
    return ", ".join([*head, f"{s['rows_kept']:,} kept", f"{s['rows_quarantined']:,} quarantined"])


#: The engines' names as their makers write them
ENGINE_NAMES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "spark": "Spark"}


def _engine_counts(c: Any, engine: str, *, events: bool = False) -> str:
    """The line on the rows a SQL engine read, kept and rejected (``events``: an event
    log's events and the requests formed of them); where it rejected any, how to see
    them (the SQL engines write no quarantine file)."""
    s = {"rows_read": c.rows_read, "rows_kept": c.rows_kept,
         "rows_quarantined": c.rows_quarantined,
         "rows_deduplicated": 0 if events else c.rows_read - c.rows_blank - c.requests_formed,
         "rows_blank": c.rows_blank,
         "events": {"events_read": c.rows_read, "requests_formed": c.requests_formed}
         if events else None}  # fmt: skip
    line = f"{_rows_text(s)} (computed by {ENGINE_NAMES.get(engine, engine)}"
    if c.rows_quarantined:
        line += "; csi validate on the same data writes the rejected rows to a quarantine file"
    return line + ")"


def _with_partial(
    frame: pd.DataFrame, freq: str, period: Any, data_end: pd.Timestamp | None
) -> pd.DataFrame:
    """A series with ``partial``: whether each bin is cut short by the period or not over
    by the end of the data's last day (:func:`csi_lib.periods.partial_bins`), so a reader
    does not compare half a month with whole ones."""
    import pandas as pd

    from ..periods import partial_bins

    if frame.empty:
        return frame.assign(partial=pd.Series(dtype=bool))
    until = period.end if data_end is None else min(period.end, data_end)
    return frame.assign(
        partial=partial_bins(
            frame["period_start"], frame["period_end"], freq, complete_until=until, tz=period.tz
        )  # fmt: skip
    )


def _readable(frame: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """A breakdown or series for the table a reader sees: each KPI's label beside its key,
    its unit beside its value, ``n`` named for what it counts, and a bin as its inclusive
    dates in ``tz`` (marked where partial)."""
    from .. import kpis as K
    from ..periods import Period

    if "kpi" not in frame.columns or "value" not in frame.columns:
        return frame
    meta = K.kpi_catalogue().set_index("key")
    out = frame.copy()
    out.insert(out.columns.get_loc("kpi") + 1, "label", out["kpi"].map(meta["label"]))
    out.insert(out.columns.get_loc("value") + 1, "unit", out["kpi"].map(meta["unit"]))
    if {"period_start", "period_end"} <= set(out.columns):
        bins = [
            Period(a, b, tz).label
            for a, b in zip(out["period_start"], out["period_end"], strict=True)
        ]
        out = out.drop(columns=["period_start", "period_end"])
        out.insert(0, "period", bins)
        if "partial" in out.columns:
            out["partial"] = out["partial"].map({True: "partial", False: ""})
    return out.rename(columns={"n": "population"})


def _emit(frame: pd.DataFrame, fmt: Format, *, title: str, tz: str = "UTC") -> None:
    import pandas as pd

    from ..safe import neutralise_csv_frame

    if fmt is Format.json:
        typer.echo(frame.to_json(orient="records", date_format="iso"))
    elif fmt is Format.csv:
        neutralise_csv_frame(frame).to_csv(sys.stdout, index=False)
    else:
        from rich.console import Console
        from rich.table import Table

        frame = _readable(frame, tz)
        table = Table(title=title)
        for col in frame.columns:
            table.add_column(
                str(col), justify="right" if pd.api.types.is_numeric_dtype(frame[col]) else "left"
            )
        for row in frame.itertuples(index=False):
            table.add_row(*["" if pd.isna(v) else _number(v) for v in row])
        Console(width=max(130, Console().width)).print(table)


def _number(v: object) -> str:
    """A table cell: floats to 3 decimals without trailing zeros, whole numbers with
    thousands separators, anything else as text."""
    import numbers

    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _cell(value: object) -> str:
    """A data-quality cell: dates to the minute, shares to one decimal."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def validate(
    data: DataArg,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    query: QueryOpt = None,
    sheet: SheetOpt = None,
    quarantine_dir: QuarantineOpt = None,
) -> None:
    """Print a data-quality report: rows read, kept, quarantined by reason, coverage, date range."""
    from rich.console import Console
    from rich.table import Table

    from ..sources import data_quality

    result = _load(
        data, preset, mapping, query, sheet, quarantine_dir or Path("quarantine"), quiet=True
    )
    s = result.summary()
    console = Console(width=max(130, Console().width))
    # soft_wrap: a long source (path, URL) is never broken inside a word, so it can be copied
    console.print(
        f"[bold]Source[/]: {s['source']}  [bold]mapping[/]: {s['mapping']}", soft_wrap=True
    )
    console.print(f"[bold]Rows[/]: {_rows_text({**s, 'events': None}, word='')}")
    if s.get("events"):
        ev = s["events"]
        console.print(
            f"[bold]Events[/]: {ev['events_read']:,} read, {ev['requests_formed']:,} requests "
            f"formed, {ev['requests_quarantined']:,} quarantined"
        )
    if s["rows_quarantined"]:
        reasons = Table(title="Quarantined rows by reason")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        for reason, count in sorted(s["quarantined_by_reason"].items(), key=lambda kv: -kv[1]):
            reasons.add_row(reason, f"{count:,}")
        console.print(reasons)
        console.print(f"Quarantine file: {s['quarantine_path']}")
    for w in s.get("warnings", []):
        console.print(f"[yellow]warning[/]: {w}")
    quality = data_quality(result)
    table = Table(title="Columns: coverage and range")
    for col in quality.columns:
        table.add_column(str(col), no_wrap=col in ("column", "source"))
    for row in quality.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)


def baseline(
    data: DataArg,
    out: Annotated[Path, typer.Option(help="Folder of the new snapshot (must not exist).")],
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    query: QueryOpt = None,
    sheet: SheetOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = "UTC",
    min_group_size: Annotated[
        int, typer.Option(help="Hide breakdown groups with fewer requests.")
    ] = 5,
) -> None:
    """Write an immutable baseline snapshot of DATA over a period to --out."""
    from ..baseline import create_snapshot, row_counts

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        from ..errors import SnapshotError

        raise SnapshotError(
            "a snapshot exists there already; snapshots are immutable"
            if out.is_dir()
            else "this is a file, and a snapshot is a folder; nothing saved is overwritten",
            file=str(out),
            hint="choose another --out folder (one that does not exist yet)",
        )
    result = _load(data, preset, mapping, query, sheet, out.parent / f"{out.name}-quarantine")
    period = _period(result.data, date_from, date_to, tz)
    snap = create_snapshot(
        result.data,
        period,
        source=result.source,
        fingerprint=result.fingerprint,
        mapping=result.mapping.model_dump(mode="json"),
        rows=row_counts(result),
        min_group_size=min_group_size,
    )
    snap.save(out)
    typer.echo(f"baseline snapshot of {period.label} written to {out}")


def sample(
    out: Annotated[
        Path, typer.Option(help="File to write: .csv, .csv.gz or .parquet (must not exist).")
    ],
    rows: Annotated[int, typer.Option(help="Number of requests.", min=1)] = 40_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 42,
    start: Annotated[
        str, typer.Option(parser=iso_date, help="First day of the data, YYYY-MM-DD.")
    ] = "2024-07-01",
    end: Annotated[
        str, typer.Option(parser=iso_date, help="Last day of the data, YYYY-MM-DD.")
    ] = "2026-06-30",
) -> None:
    """Write realistic synthetic service-request data (canonical columns)."""
    from ..sample import generate_requests, write_requests

    df = generate_requests(rows=rows, seed=seed, start=start, end=end)
    write_requests(df, out)
    typer.echo(f"{len(df):,} requests written to {out}")


def presets() -> None:
    """List the built-in mapping presets."""
    from ..sources import list_presets

    for name in list_presets():
        typer.echo(name)


def kpi_list() -> None:
    """List the KPI catalogue: key, label, unit, better direction."""
    from ..kpis import kpi_catalogue

    _emit(
        kpi_catalogue()[["key", "label", "unit", "better", "description"]],
        Format.table,
        title="KPI catalogue",
    )


def register(app: typer.Typer) -> None:
    """Add the data commands to ``app``."""
    app.command("kpis")(kpis)
    app.command("validate")(validate)
    app.command("baseline")(baseline)
    app.command("sample")(sample)
    app.command("presets")(presets)
    app.command("kpi-list")(kpi_list)
