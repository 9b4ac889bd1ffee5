"""``csi`` data commands: ``kpis``, ``validate``, ``baseline``, ``sample``, ``presets``."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
        line = f"{s['rows_read']:,} rows read, {s['rows_kept']:,} kept, {s['rows_quarantined']:,} quarantined"
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
        last = max(df["opened_at"].max(), df["closed_at"].max()).tz_convert(tz).date()
        date_from = date_from or str(first)
        date_to = date_to or str(last)
    return Period.from_dates(date_from, date_to, tz=tz)


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
    _emit(frame, fmt, title=f"KPIs, {period.label}")


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
        c = rel.counts()
        typer.echo(
            f"{c.rows_read:,} rows read, {c.rows_kept:,} kept, {c.rows_quarantined:,} "
            f"quarantined (computed by {engine}; run csi validate for the quarantined rows)",
            err=True,
        )
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
    rel.close()
    _emit(frame, fmt, title=f"KPIs, {period.label}")


def _emit(frame: pd.DataFrame, fmt: Format, *, title: str) -> None:
    import pandas as pd

    from ..safe import neutralise_csv_frame

    if fmt is Format.json:
        typer.echo(frame.to_json(orient="records", date_format="iso"))
    elif fmt is Format.csv:
        neutralise_csv_frame(frame).to_csv(sys.stdout, index=False)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for col in frame.columns:
            table.add_column(
                str(col), justify="right" if pd.api.types.is_numeric_dtype(frame[col]) else "left"
            )
        for row in frame.itertuples(index=False):
            table.add_row(
                *[
                    ""
                    if pd.isna(v)
                    else (f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v))
                    for v in row
                ]
            )
        Console(width=max(130, Console().width)).print(table)


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
    merged = s.get("rows_deduplicated", 0) + s.get("rows_collapsed", 0)
    console.print(
        f"[bold]Rows[/]: {s['rows_read']:,} read"
        + (f", {merged:,} merged (event-log updates or identical duplicates)" if merged else "")
        + (f", {s['rows_blank']:,} empty skipped" if s.get("rows_blank") else "")
        + f", {s['rows_kept']:,} kept, {s['rows_quarantined']:,} quarantined"
    )
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
