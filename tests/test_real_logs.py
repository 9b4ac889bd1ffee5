"""Public real event logs: each shipped mapping gives the KPIs of an independent SQL fold.

For every log the events are folded into requests a second time in DuckDB (window
functions over the raw events: first event, first event in a status, last event's
status, status changes out of a listed value; ties broken by the file line) and the
KPIs are computed in SQL with DESIGN.md's definitions. ``load_requests`` with the
mapping alone must give the same values.

The helpdesk log and the BPI Challenge 2013 extract ship in data/eventlogs/; the UCI
log is read from ../shared/datasets and the test skips without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from csi_lib import kpis as K
from csi_lib.periods import Period
from csi_lib.sources import load_requests

ROOT = Path(__file__).resolve().parents[1]
MAPPINGS = ROOT / "data" / "mappings"
LOGS = ROOT / "data" / "eventlogs"
UCI_ZIP = ROOT.parent / "shared" / "datasets" / "incident_event_log.zip"

#: The KPIs compared (every one whose inputs these logs have).
COMPARED = (
    "received",
    "fulfilled",
    "cancelled",
    "pct_fulfilled",
    "backlog",
    "throughput_ratio",
    "assess_median_h",
    "assess_p90_h",
    "fulfil_median_h",
    "fulfil_p90_h",
    "fulfil_mean_h",
    "pct_reopened",
    "pct_within_sla",
)


@dataclass
class Log:
    """One real log: its file, its mapping and the same rules written for SQL."""

    file: Path
    mapping: str
    case: str
    time_source: str  # the event time column
    time: str  # a DuckDB expression turning its text "t" into TIMESTAMPTZ
    status: str
    assessed: tuple[str, ...]
    closing: tuple[str, ...]
    reopen_from: tuple[str, ...]
    outcome_column: str
    fulfilled: tuple[str, ...]
    cancelled: tuple[str, ...] = ()
    sla_column: str | None = None
    periods: list[tuple[str, str]] = field(default_factory=list)


LOGS_UNDER_TEST = {
    "helpdesk": Log(
        file=LOGS / "helpdesk.csv.gz",
        mapping="helpdesk-event-log.yaml",
        case="case:concept:name",
        time_source="time:timestamp",
        time="CAST(t AS TIMESTAMPTZ)",
        status="concept:name",
        assessed=("Take in charge ticket",),
        closing=("Closed",),
        reopen_from=("Resolve ticket", "Closed"),
        outcome_column="concept:name",
        fulfilled=("Closed",),
        periods=[("2010-01-01", "2013-12-31"), ("2011-01-01", "2011-06-30")],
    ),
    "bpi2013": Log(
        file=LOGS / "bpi2013-incidents-extract.csv.gz",
        mapping="bpi2013-incidents.yaml",
        case="SR Number",
        time_source="Change Date+Time",
        time="CAST(t AS TIMESTAMPTZ)",
        status="Status",
        assessed=("Accepted",),
        closing=("Completed",),
        reopen_from=("Completed",),
        outcome_column="Sub Status",
        fulfilled=("Resolved", "Closed", "In Call"),
        cancelled=("Cancelled",),
        periods=[("2010-01-01", "2012-12-31"), ("2012-04-01", "2012-05-31")],
    ),
    "uci": Log(
        file=UCI_ZIP,
        mapping="uci-incident-event-log.yaml",
        case="number",
        time_source="sys_updated_at",
        time="CAST(strptime(t, '%d/%m/%Y %H:%M') AS TIMESTAMP) AT TIME ZONE 'UTC'",
        status="incident_state",
        assessed=("Active",),
        closing=("Closed", "Resolved"),
        reopen_from=("Resolved", "Closed"),
        outcome_column="incident_state",
        fulfilled=("Closed", "Resolved"),
        sla_column="made_sla",
        periods=[("2016-02-29", "2016-05-13"), ("2016-03-01", "2016-03-31")],
    ),
}


def _in(values: tuple[str, ...]) -> str:
    return (
        "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"
        if values
        else "('')"
    )


def sql_requests(con: duckdb.DuckDBPyConnection, log: Log, events: pd.DataFrame) -> None:
    """Fold ``events`` into the DuckDB table ``req`` (one row per request)."""
    frame = pd.DataFrame(
        {
            "case_id": events[log.case],
            "t": events[log.time_source],
            "status": events[log.status],
            "outcome_raw": events[log.outcome_column],
            "sla_raw": events[log.sla_column] if log.sla_column else None,
            "line": range(len(events)),
        }
    )
    con.register("raw", frame)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE req AS
        WITH ev AS (
            SELECT case_id, {log.time} AS t, status, outcome_raw, sla_raw, line
            FROM raw WHERE case_id IS NOT NULL AND t IS NOT NULL
        ), ordered AS (
            SELECT *,
                row_number() OVER w AS k,
                count(*) OVER (PARTITION BY case_id) AS n,
                lead(status) OVER w AS next_status
            FROM ev WINDOW w AS (PARTITION BY case_id ORDER BY t, line)
        )
        SELECT case_id,
            min(t) AS opened_at,
            min(t) FILTER (WHERE status IN {_in(log.assessed)}) AS assessed_at,
            max(CASE WHEN k = n AND status IN {_in(log.closing)} THEN t END) AS closed_at,
            count(*) FILTER (
                WHERE status IN {_in(log.reopen_from)}
                AND next_status IS NOT NULL AND next_status NOT IN {_in(log.reopen_from)}
            ) AS reopen_count,
            CASE
                WHEN max(CASE WHEN k = n THEN outcome_raw END) IN {_in(log.fulfilled)}
                    THEN 'fulfilled'
                WHEN max(CASE WHEN k = n THEN outcome_raw END) IN {_in(log.cancelled)}
                    THEN 'cancelled'
                ELSE 'open'
            END AS outcome,
            max(CASE WHEN k = n THEN sla_raw END) AS sla_raw
        FROM ordered GROUP BY case_id
        """
    )


def sql_kpis(con: duckdb.DuckDBPyConnection, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """DESIGN.md's KPI definitions in SQL over ``req`` for [start, end)."""
    s, e = f"TIMESTAMPTZ '{start.isoformat()}'", f"TIMESTAMPTZ '{end.isoformat()}'"
    row = con.execute(
        f"""
        WITH c AS (
            SELECT *, epoch(closed_at - opened_at) / 3600 AS fulfil_h FROM req
            WHERE outcome <> 'open' AND closed_at >= {s} AND closed_at < {e}
        ), a AS (
            SELECT epoch(assessed_at - opened_at) / 3600 AS h FROM req
            WHERE assessed_at >= {s} AND assessed_at < {e}
        )
        SELECT
            (SELECT count(*) FROM req WHERE opened_at >= {s} AND opened_at < {e}) AS received,
            (SELECT count(*) FILTER (WHERE outcome = 'fulfilled') FROM c) AS fulfilled,
            (SELECT count(*) FILTER (WHERE outcome = 'cancelled') FROM c) AS cancelled,
            (SELECT 100.0 * count(*) FILTER (WHERE outcome = 'fulfilled') / nullif(count(*), 0)
                FROM c) AS pct_fulfilled,
            (SELECT count(*) FROM req WHERE opened_at < {e}
                AND (closed_at IS NULL OR closed_at >= {e})) AS backlog,
            (SELECT count(*) FROM c) AS closed,
            (SELECT quantile_cont(h, 0.5) FROM a) AS assess_median_h,
            (SELECT quantile_cont(h, 0.9) FROM a) AS assess_p90_h,
            (SELECT quantile_cont(fulfil_h, 0.5) FROM c WHERE outcome = 'fulfilled')
                AS fulfil_median_h,
            (SELECT quantile_cont(fulfil_h, 0.9) FROM c WHERE outcome = 'fulfilled')
                AS fulfil_p90_h,
            (SELECT avg(fulfil_h) FROM c WHERE outcome = 'fulfilled') AS fulfil_mean_h,
            (SELECT 100.0 * avg(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END) FROM c)
                AS pct_reopened,
            (SELECT 100.0 * avg(CASE WHEN sla_raw = 'true' THEN 1 ELSE 0 END) FROM c
                WHERE sla_raw IN ('true', 'false')) AS pct_within_sla
        """
    ).fetchdf()
    out = {k: (None if pd.isna(v) else float(v)) for k, v in row.iloc[0].items()}
    closed = out.pop("closed")
    out["throughput_ratio"] = closed / out["received"] if out["received"] else None
    return out


def compare(name: str) -> list[tuple[str, str, float | None, float | None]]:
    """(period, kpi, workbook value, SQL value) for every compared KPI of a log."""
    log = LOGS_UNDER_TEST[name]
    res = load_requests(log.file, mapping=MAPPINGS / log.mapping)
    events = pd.read_csv(log.file, dtype=str, keep_default_na=False, na_values=["", "?"])
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sql_requests(con, log, events)
    assert con.execute("SELECT count(*) FROM req").fetchone()[0] == res.events.requests_formed
    rows = []
    for first, last in log.periods:
        period = Period.from_dates(first, last)
        ours = K.kpi_values(res.data, period)
        theirs = sql_kpis(con, period.start, period.end)
        for key in COMPARED:
            value = ours[key]
            rows.append((period.label, key, None if pd.isna(value) else float(value), theirs[key]))
    return rows


@pytest.mark.parametrize(
    "name", ["helpdesk", "bpi2013", pytest.param("uci", marks=pytest.mark.slow)]
)
def test_mapping_alone_gives_the_kpis_of_an_sql_fold(name):
    if not LOGS_UNDER_TEST[name].file.exists():
        pytest.skip(f"{LOGS_UNDER_TEST[name].file} not available")
    rows = compare(name)
    assert rows
    for period, key, ours, theirs in rows:
        if theirs is None:
            assert ours is None, (period, key, ours)
        else:
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9), (period, key, ours, theirs)
    # the logs do exercise the rules: something was assessed, closed and reopened
    values = {key: ours for _, key, ours, _ in rows}
    assert values["fulfilled"] and values["assess_median_h"] is not None
    assert values["pct_reopened"] is not None


def test_shipped_logs_load_without_quarantine():
    for name in ("helpdesk", "bpi2013"):
        log = LOGS_UNDER_TEST[name]
        res = load_requests(log.file, mapping=MAPPINGS / log.mapping)
        assert res.rows_quarantined == 0 and res.events.requests_quarantined == 0
        assert res.data["request_id"].is_unique
        assert (res.data["closed_at"].isna() == (res.data["outcome"] == "open")).all()
        assert (res.data["reopen_count"] > 0).any()
    helpdesk = load_requests(LOGS / "helpdesk.csv.gz", mapping=MAPPINGS / "helpdesk-event-log.yaml")
    assert (helpdesk.events.events_read, helpdesk.events.requests_formed) == (21_348, 4_580)
