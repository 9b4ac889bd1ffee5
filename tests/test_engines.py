"""One KPI definition, several engines: every case through pandas, DuckDB, PostgreSQL and Spark.

Each case is a source and its mapping (the bundled sample, the bad-input corpus, the
shipped real event logs), put where each engine reads it: the file itself for DuckDB and
Spark, a table of the export's text cells for PostgreSQL (as a staging table of an export
would hold them). Every table the report needs (KPIs of a period, monthly and weekly
series, breakdowns with small groups hidden, per-request observations) must equal the
pandas engine's to 1e-9, in UTC and in a reporting time zone, and over periods with no
request. PostgreSQL comes from Debian's package, started by scripts/services.sh; Spark from
PyPI's pyspark on Java 17 (one session for the test session). In CI a service that cannot
start fails its tests with the reason.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from engines_support import (
    ROOT,
    SMALL_TABLES,
    assert_same,
    load_into_postgres,
    load_typed_into_postgres,
    spark_for,
    spark_or_unavailable,
)

from csi_lib import kpis as K
from csi_lib.engines import choose_engine, open_source
from csi_lib.errors import ConfigError, CsiError
from csi_lib.kpis import KPI, register_kpi
from csi_lib.periods import Period
from csi_lib.sources import load_requests
from csi_lib.sources.readers import ReadOptions, read_table

SAMPLE = ROOT / "data" / "sample_requests.csv.gz"
CORPUS = ROOT / "tests" / "bad_input"
LOGS = ROOT / "data" / "eventlogs"
MAPPINGS = ROOT / "data" / "mappings"
H1 = Period.from_dates("2025-01-01", "2025-06-30")
H1_BERLIN = Period.from_dates("2025-01-01", "2025-06-30", tz="Europe/Berlin")
EMPTY = Period.from_dates("2031-01-01", "2031-03-31")
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ibis.*"),
    pytest.mark.filterwarnings("ignore:.*future.infer_string.*"),
]


# --------------------------------------------------------------------------- services


@pytest.fixture
def spark(request):
    return spark_for(request)


class Opener:
    """Opens a source with one engine, putting it where that engine reads it."""

    def __init__(self, engine: str, request: pytest.FixtureRequest):
        self.engine = engine
        self.request = request
        self.loaded: dict[tuple[str, str], str] = {}

    def __call__(self, path: Path, *, typed: bool = False, **kw):
        """``typed``: the requests as a warehouse types them (a Parquet file for Spark, a
        typed table for PostgreSQL) instead of the export's text cells."""
        if typed:
            path = typed_copy(path)
        if self.engine == "duckdb":
            return open_source(path, engine="duckdb", **kw)
        if self.engine == "spark":
            self.request.getfixturevalue("spark")
            return open_source(path, engine="spark", **kw)
        url = self.request.getfixturevalue("postgres_url")
        table = f"t{abs(hash(str(path))) % 10**8}"
        if typed:
            if (url, table) not in self.loaded:
                load_typed_into_postgres(url, table, pd.read_parquet(path))
                self.loaded[(url, table)] = table
            return open_source(url, engine="postgres", query=table, **kw)
        if (url, table) not in self.loaded:
            # the cells as written (a database holds the text "N/A", not NULL)
            frame = read_table(path, ReadOptions(na_values=[""])).frame
            load_into_postgres(url, table, frame)
            self.loaded[(url, table)] = table
        return open_source(url, engine="postgres", query=table, **kw)


_TYPED: dict[Path, Path] = {}


def typed_copy(path: Path) -> Path:
    """The canonical frame of ``path`` written as Parquet (typed columns), once per session."""
    if path not in _TYPED:
        from csi_lib.sample import write_requests

        out = Path(tempfile.mkdtemp(prefix="csi-typed-")) / (path.name.split(".")[0] + ".parquet")
        write_requests(load_requests(path).data, out)
        _TYPED[path] = out
    return _TYPED[path]


# Spark's cases are slow (a JVM and a plan per query): `make test` and CI run them,
# land.sh's quick suite runs DuckDB and PostgreSQL.
@pytest.fixture(params=["duckdb", "postgres", pytest.param("spark", marks=pytest.mark.slow)])
def opener(request):
    return Opener(request.param, request)


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.slow),
        pytest.param("spark", marks=pytest.mark.slow),
    ]
)
def corpus_opener(request):
    return Opener(request.param, request)


def every_table(df: pd.DataFrame, rel, period: Period, *, by: str | None, week=True) -> None:
    """The tables a report asks for, pandas against the engine."""
    assert_same(K.kpi_table(df, period), rel.kpi_table(period))
    assert_same(K.kpi_series(df, period, freq="month"), rel.kpi_series(period, freq="month"))
    if week:
        assert_same(K.kpi_series(df, period, freq="week"), rel.kpi_series(period, freq="week"))
    if by:
        assert_same(K.breakdown(df, period, by=by, min_group_size=5),
                    rel.breakdown(period, by=by, min_group_size=5))  # fmt: skip
        assert_same(K.kpi_table(df, period, by=by, freq="month", min_group_size=5),
                    rel.kpi_table(period, by=by, freq="month", min_group_size=5))  # fmt: skip


# --------------------------------------------------------------------------- the sample


@pytest.mark.spark_defaults
def test_sample_every_table_utc_zone_and_empty(opener):
    """The bundled sample: every table over the baseline in UTC and in Berlin time, and
    over a period with no request (every value missing, n 0)."""
    df = load_requests(SAMPLE).data
    rel = opener(SAMPLE, typed=True)
    every_table(df, rel, H1, by="category")
    every_table(df, rel, H1_BERLIN, by="channel", week=False)
    every_table(df, rel, EMPTY, by=None, week=False)
    assert rel.kpi_values(EMPTY).drop("backlog").isna().all()


def test_sample_observations_and_scope(opener):
    """Stage 5's per-request values (same multiset) and a target's scope."""
    df = load_requests(SAMPLE).data
    rel = opener(SAMPLE, typed=True)
    for kpi in ("fulfil_median_h", "pct_within_sla", "fulfilled", "backlog", "csat_mean"):
        want = sorted(K.observations(df, H1, kpi).tolist())
        got = sorted(rel.observations(H1, kpi).tolist())
        assert pytest.approx(want, rel=1e-9, abs=1e-9) == got, kpi
    scope = {"category": ["Laptop", "Software licence"]}
    assert_same(K.kpi_table(df, H1, scope=scope), rel.kpi_table(H1, scope=scope))
    with pytest.raises(ConfigError, match="does not occur"):
        rel.kpi_table(H1, scope={"category": "No such thing"})


# --------------------------------------------------------------------------- real logs

LOG_CASES = [
    ("helpdesk.csv.gz", "helpdesk-event-log.yaml"),
    ("bpi2013-incidents-extract.csv.gz", "bpi2013-incidents.yaml"),
]


@pytest.mark.parametrize(("log", "mapping"), LOG_CASES, ids=[c[0] for c in LOG_CASES])
def test_real_event_logs_fold_in_sql(opener, log, mapping):
    """The events:/derive: fold written with window functions gives the same requests."""
    path, m = LOGS / log, MAPPINGS / mapping
    res = load_requests(path, mapping=m)
    rel = opener(path, mapping=m)
    c = rel.counts()
    assert c.rows_read == res.rows_read
    assert c.rows_kept == res.rows_kept
    first = res.data["opened_at"].min().strftime("%Y-%m-%d")
    last = res.data["closed_at"].max().strftime("%Y-%m-%d")
    period = Period.from_dates(first, last)
    assert_same(K.kpi_table(res.data, period), rel.kpi_table(period))
    assert_same(K.kpi_series(res.data, period, freq="month"), rel.kpi_series(period))
    by = "priority" if "priority" in rel.table.columns else None
    if by and res.data[by].notna().any():
        assert_same(K.breakdown(res.data, period, by=by), rel.breakdown(period, by=by))


def test_odd_events_fold_alike(opener, tmp_path):
    """An event log whose closing status holds a control character (``Closed\x7f``) and
    whose last event of another request has a time outside the range (``2300-01-01``):
    pandas cleans the status and leaves the out-of-range event out of the order; DuckDB
    read the status as written and took that event for the last (each request open where
    pandas closed it)."""
    frame = pd.read_csv(LOGS / "helpdesk.csv.gz", dtype=str, keep_default_na=False).head(600)
    closed = frame.index[frame["concept:name"] == "Closed"]
    frame.loc[closed[3], "concept:name"] = "Closed\x7f"
    frame.loc[closed[7] - 1, "time:timestamp"] = "2300-01-01 00:00:00+00:00"
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    m = MAPPINGS / "helpdesk-event-log.yaml"
    res = load_requests(path, mapping=m, quarantine_dir=None)
    rel = opener(path, mapping=m)
    assert rel.counts().rows_kept == res.rows_kept
    period = Period.from_dates("2010-01-01", "2011-12-31")
    assert_same(K.kpi_table(res.data, period), rel.kpi_table(period))
    if opener.engine == "duckdb":  # a Parquet file's text, cleaned by the engine itself
        parquet = tmp_path / "events.parquet"
        frame.to_parquet(parquet, index=False)
        assert_same(K.kpi_table(res.data, period), opener(parquet, mapping=m).kpi_table(period))


# --------------------------------------------------------------------------- bad input


def corpus_cases() -> list[tuple[str, dict]]:
    """Corpus files the pandas engine loads (the others are errors the tests of
    test_bad_input.py check), with their mapping where they need one."""
    mappings = {
        "dayfirst_ambiguous.csv": CORPUS / "dayfirst_mapping.yaml",
        "daylight_saving_times.csv": CORPUS / "berlin_mapping.yaml",
        "strict_outcome_export.csv": CORPUS / "strict_outcome_mapping.yaml",
    }
    out = []
    for f in sorted(CORPUS.iterdir()):
        if f.suffix.lower() not in (".csv", ".txt", ".gz", ".parquet", ".xlsx", ".zip"):
            continue
        if "bomb" in f.name:  # the reader's size limit (tests/test_hostile_input.py), not an
            continue  # engine's: 4 engines x 2 bombs took 4.5 of CI's 20 minutes
        kw = {"mapping": mappings[f.name]} if f.name in mappings else {}
        try:
            load_requests(f, quarantine_dir=None, **kw)
        except CsiError:
            continue
        out.append((f.name, kw))
    return out


CORPUS_CASES = corpus_cases()


@pytest.mark.parametrize(("name", "kw"), CORPUS_CASES, ids=[c[0] for c in CORPUS_CASES])
def test_bad_input_corpus(corpus_opener, name, kw):
    """Each corpus file the pandas engine loads: the same rows kept and the same KPIs, or a
    clear refusal (dates not in ISO 8601 and no datetime_format) that says what to add."""
    path = CORPUS / name
    res = load_requests(path, quarantine_dir=None, **kw)
    try:
        rel = corpus_opener(path, **kw)
    except ConfigError as exc:
        assert "datetime_format" in str(exc) and "--engine pandas" in str(exc)
        return
    c = rel.counts()
    assert c.rows_kept == res.rows_kept, c
    # the same line of rows: empty rows skipped, not quarantined (blank_rows.csv: 3 of 8)
    summary = res.summary()
    assert (c.rows_blank, c.rows_quarantined) == (
        summary.get("rows_blank", 0),
        res.rows_quarantined,
    ), (c, summary)
    if res.data.empty:
        assert rel.kpi_values(H1).drop("backlog").isna().all()
        return
    first = res.data["opened_at"].min().strftime("%Y-%m-%d")
    period = Period.from_dates(first, "2026-12-31")
    assert_same(K.kpi_table(res.data, period), rel.kpi_table(period))
    assert_same(K.kpi_series(res.data, period, freq="month"), rel.kpi_series(period))


def test_ids_written_as_numbers_are_the_same_ids(opener, tmp_path):
    """Ids a spreadsheet or Parquet wrote as floats (1.0, 10000000.0, " 125.0 ") are the
    ids validation forms ("1", "10000000", "125"), in every engine: Spark writes 1.0E7 for
    10000000.0 and its patterns have no ``\\1`` back-reference."""
    base = pd.read_csv(CORPUS / "float_ids.csv", dtype=str, keep_default_na=False)
    frame = base.assign(request_id=[1.0, 10000000.0, 2.5])
    path = tmp_path / "float_ids_large.parquet"
    frame.to_parquet(path, index=False)
    want = sorted(load_requests(path, quarantine_dir=None).data["request_id"].tolist())
    assert want == ["1", "10000000", "2.5"]
    for p in (path, CORPUS / "float_ids.csv"):
        rel = opener(p)
        t = rel.table
        got = sorted(rel.execute(t.select("request_id"))["request_id"].tolist())
        assert got == sorted(load_requests(p, quarantine_dir=None).data["request_id"].tolist())


def test_words_in_date_columns_are_unreadable_alike(opener, tmp_path):
    """Words the pandas engine cannot read as dates either ("TBD", "pending", "now", "-")
    and impossible dates (31 February, 24:00, an offset of +25:00) among ISO 8601 dates:
    every engine refuses the same requests as unparseable and computes the same tables,
    instead of refusing the whole source (or PostgreSQL failing on the cast)."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(600)
    frame.loc[[3, 40, 41, 42], "opened_at"] = ["TBD", "pending", "now", "2025-02-31 10:00"]
    frame.loc[[7, 90, 91], "assessed_at"] = ["today", "-", "2025-01-06 24:00"]
    frame.loc[[12, 300, 301], "closed_at"] = ["unknown", "TBD", "2025-03-01T10:00+25:00"]
    path = tmp_path / "words.csv"
    frame.to_csv(path, index=False)
    res = load_requests(path, quarantine_dir=None)
    assert res.rows_quarantined >= 5  # the required dates and the closed without a close
    rel = opener(path)
    assert rel.counts().rows_kept == res.rows_kept
    every_table(res.data, rel, H1, by="priority", week=False)


@pytest.mark.parametrize("fmt", ["%d/%m/%Y %H:%M", "%d %b %y %I:%M %p"])
def test_impossible_dates_in_a_datetime_format_are_unreadable_alike(opener, tmp_path, fmt):
    """Dates written in the mapping's datetime_format that name no time (31 February,
    29 February of 2025, month 13, 25 o'clock, a month called "Foo"): unparseable in every
    engine, as in pandas; PostgreSQL's to_timestamp would fail on them instead."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(400)
    for c in ("opened_at", "assessed_at", "closed_at", "sla_due_at"):
        when = pd.to_datetime(frame[c].replace("", None))
        frame[c] = when.dt.strftime(fmt).fillna("")
    if "%b" in fmt:
        bad = ["31 Feb 25 10:00 AM", "29 Feb 25 10:00 AM", "05 Foo 25 10:00 AM",
               "05 Jan 25 13:00 PM", "10 Jan 25 10:61 AM"]  # fmt: skip
        leap = "29 Feb 24 10:00 AM"
    else:
        bad = ["31/02/2025 10:00", "29/02/2025 10:00", "05/13/2025 10:00",
               "05/01/2025 25:00", "31/04/2025 10:00"]  # fmt: skip
        leap = "29/02/2024 10:00"
    frame.loc[[3, 4, 5, 6, 7], "opened_at"] = bad
    frame.loc[[8, 9], "assessed_at"] = bad[:2]
    frame.loc[[10], "opened_at"] = leap
    path = tmp_path / "formatted.csv"
    frame.to_csv(path, index=False)
    mapping = tmp_path / "format.yaml"
    text = (ROOT / "csi_lib" / "presets" / "generic.yaml").read_text()
    mapping.write_text(text.replace("datetime_format: null", f'datetime_format: "{fmt}"'))
    res = load_requests(path, mapping=mapping, quarantine_dir=None)
    assert (
        res.rows_quarantined >= 5
        and res.data["request_id"].isin([frame.loc[10, "request_id"]]).any()
    )
    rel = opener(path, mapping=mapping)
    assert rel.counts().rows_kept == res.rows_kept
    every_table(res.data, rel, H1, by=None, week=False)


def test_the_engines_strip_what_python_strips():
    """The characters the SQL engines trim are those Python's str.strip() removes."""
    from csi_lib.engines.dialects import WHITESPACE

    assert set(WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


@pytest.mark.parametrize(("engine", "trims"), [("postgres", 1), ("pyspark", 2)])
def test_a_cell_is_stripped_once_not_once_per_missing_spelling(engine, trims):
    """The stripped text of a cell is written once (PostgreSQL, whose nested NULLIFs read
    it once) or twice (Spark), not once per missing-value spelling: PostgreSQL shares no
    common expression, and trimmed every text cell eight times (a KPI query at 10M: 396 s).
    DuckDB trims only a cell whose ends may be white (the CASE branch of those cells)."""
    import ibis

    from csi_lib.engines.dialects import Dialect
    from csi_lib.engines.view import _text
    from csi_lib.sources.mapping import DEFAULT_NA_VALUES

    t = ibis.table({"group": "string"}, name="t")
    sql = ibis.to_sql(t.select(g=_text(t.group, DEFAULT_NA_VALUES, Dialect(engine))),
                      dialect=engine)  # fmt: skip
    assert str(sql).upper().count("TRIM(") == trims, sql


def test_postgres_strips_and_splits_each_date_once(tmp_path):
    """PostgreSQL repeats an expression wherever a query names it: a date written in a
    datetime_format was stripped, and its fields taken out, at every read of a field (and a
    month name compared twelve times): the view's SQL was 485 KB (458 TRIMs, 192 regular
    expression matches) and a KPI table of 400 rows took 10 s. Each text column is now
    stripped in a stage of its own, and each date's fields taken out once, as is whether it
    names its zone (read by three columns: a table of 1M text rows, 155 s -> 92 s)."""
    import ibis

    from csi_lib.engines.dialects import Dialect
    from csi_lib.engines.view import _AWARE_RE, canonical_view
    from csi_lib.sources import load_mapping

    mapping = tmp_path / "format.yaml"
    text = (ROOT / "csi_lib" / "presets" / "generic.yaml").read_text()
    mapping.write_text(
        text.replace("datetime_format: null", 'datetime_format: "%d %b %y %I:%M %p"')
    )
    cols = ["request_id", "opened_at", "assessed_at", "closed_at", "outcome", "category",
            "channel", "priority", "group", "sla_due_at", "sla_met", "csat", "reopen_count"]  # fmt: skip
    t = ibis.table({c: "string" for c in cols}, name="t")
    view = canonical_view(t, load_mapping(mapping=mapping), dialect=Dialect("postgres"), label="t")
    written = str(ibis.to_sql(view.table, dialect="postgres"))
    assert written.count(_AWARE_RE) == 4  # whether a date names its zone: once each
    sql = written.upper()
    assert sql.count("REGEXP_MATCH(") == 4, sql.count("REGEXP_MATCH(")
    assert sql.count("TRIM(") < 2 * len(cols), sql.count("TRIM(")


@pytest.mark.parametrize("typed", [False, True])
def test_times_within_a_second_count_alike(opener, tmp_path, typed):
    """Times to the microsecond (Jira and many APIs write milliseconds): the hours of
    fulfilment and assessment, their medians and a request's own hours equal pandas'.
    Spark read an instant's epoch in whole seconds (unix_timestamp), so an hour measure
    differed by up to a second (an assessment of 1.23 s was 1 s)."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    frame = frame[frame["opened_at"].str.startswith("2025-0")].head(400).reset_index(drop=True)
    for i, col in enumerate(("opened_at", "assessed_at", "closed_at")):
        times = pd.to_datetime(frame[col], errors="coerce", utc=True)
        shift = pd.to_timedelta([(7919 * (k + i) % 999_983) for k in range(len(frame))], "us")
        frame[col] = (times + shift).map(lambda v: "" if pd.isna(v) else v.isoformat())
    path = tmp_path / "micro.csv"
    frame.to_csv(path, index=False)
    df = load_requests(path, quarantine_dir=None).data
    assert (df["closed_at"].dt.microsecond > 0).sum() > 100
    rel = opener(path, typed=typed)
    every_table(df, rel, H1, by=None, week=False)
    for kpi in ("fulfil_median_h", "assess_p90_h"):
        want = sorted(K.observations(df, H1, kpi).tolist())
        got = sorted(rel.observations(H1, kpi).tolist())
        assert len(want) > 100 and got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_unicode_white_space_is_stripped_alike(opener, tmp_path):
    """Ids, outcomes and groups padded with the spaces Python's strip() removes beyond
    ASCII (no-break, em and ideographic spaces): the same ids, outcomes and groups in every
    engine as in pandas (SQL's TRIM alone keeps them: 'Desk' and 'Desk\xa0' would be two
    groups, an outcome unrecognised, a repeated id missed)."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(500)
    pads = ["\xa0", "\u3000", "\u2003", "\u202f"]
    for i, at in enumerate(range(0, 500, 7)):
        pad = pads[i % len(pads)]
        frame.loc[at, "group"] = pad + frame.loc[at, "group"] + pad
        frame.loc[at + 1, "outcome"] = frame.loc[at + 1, "outcome"] + pad
        frame.loc[at + 2, "request_id"] = pad + frame.loc[at + 2, "request_id"]
    frame.loc[499, "request_id"] = frame.loc[2, "request_id"].strip() + "\u3000"  # a repeat
    path = tmp_path / "spaces.csv"
    frame.to_csv(path, index=False)
    res = load_requests(path, quarantine_dir=None)
    assert res.rows_quarantined >= 1 and not res.data["group"].str.contains("\xa0").any()
    rel = opener(path)
    assert rel.counts().rows_kept == res.rows_kept
    every_table(res.data, rel, H1, by="group", week=False)


def test_control_characters_are_removed_alike(opener, tmp_path):
    """Control characters inside ids, outcomes, groups, dates, flags and scores (a bell,
    an escape, a DEL) are removed as the pandas loader removes them: the same outcomes,
    groups, dates and repeated ids in every engine. DuckDB cleans a Parquet file's text
    too (its ids and dates were left as read: a date holding one was refused, an id
    differing by one was another id), NUL and C1 controls as well."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(500)
    marks = ["\x07", "\x1b", "\x7f", "\x01"]
    for i, at in enumerate(range(0, 490, 9)):
        mark = marks[i % len(marks)]
        frame.loc[at, "outcome"] = (
            frame.loc[at, "outcome"][:2] + mark + frame.loc[at, "outcome"][2:]
        )
        frame.loc[at + 1, "group"] = mark + frame.loc[at + 1, "group"]
        frame.loc[at + 2, "request_id"] = frame.loc[at + 2, "request_id"] + mark
        for col in ("opened_at", "closed_at", "sla_met", "csat"):
            frame.loc[at + 3, col] = frame.loc[at + 3, col][:4] + mark + frame.loc[at + 3, col][4:]
    frame.loc[499, "request_id"] = frame.loc[2, "request_id"].replace("\x07", "") + "\x1b"
    path = tmp_path / "control.csv"
    frame.to_csv(path, index=False)
    res = load_requests(path, quarantine_dir=None)
    assert res.rows_quarantined >= 1 and res.data["outcome"].notna().all()
    rel = opener(path)
    assert rel.counts().rows_kept == res.rows_kept
    every_table(res.data, rel, H1, by="group", week=False)
    if opener.engine == "duckdb":
        frame.loc[5, "closed_at"] = (
            frame.loc[5, "closed_at"][:6] + "\x00" + frame.loc[5, "closed_at"][6:]
        )
        frame.loc[6, "request_id"] = "\x85" + frame.loc[6, "request_id"] + "\x9f"
        parquet = tmp_path / "control.parquet"
        frame.to_parquet(parquet, index=False)
        want = load_requests(parquet, quarantine_dir=None)
        rel = opener(parquet)
        assert rel.counts().rows_kept == want.rows_kept
        every_table(want.data, rel, H1, by="group", week=False)


#: scores and reopen counts beyond a float's range, nearer 0 than its least, beyond the
#: integers it holds exactly, not a number, a comma for the point
_ODD_NUMBERS = ["inf", "-inf", "1e400", "-1e400", "1e-400", "nan", "1e30",
                "9007199254740993", "-0.0", "4,5", "5e-324", "1e-310"]  # fmt: skip


@pytest.mark.parametrize("typed", [False, True])
def test_numbers_beyond_a_float_are_read_alike(opener, tmp_path, typed):
    """A score or a reopen count of ``inf``, ``1e400`` or ``1e30``, as text and as a typed
    float, is read as the pandas engine reads it: a count not whole, a score out of
    range, quarantined. Before, the pandas loader failed (*cannot convert float infinity
    to integer*; a typed 1e30, *cannot safely cast non-equivalent float64 to int64*),
    DuckDB and PostgreSQL failed rounding it to an int64 (*out of range*), and PostgreSQL
    refused ``1e400`` and ``1e-400`` as text (*out of range for type double precision*)."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(120)
    for i, v in enumerate(_ODD_NUMBERS):
        frame.loc[10 + i, "reopen_count"] = v
        frame.loc[40 + i, "csat"] = v
    if typed:
        for c in ("reopen_count", "csat"):
            text = frame[c].str.replace(",", ".").replace("", None)
            frame[c] = pd.to_numeric(text, errors="coerce").astype("float64")
    path = tmp_path / ("odd.parquet" if typed else "odd.csv")
    frame.to_parquet(path, index=False) if typed else frame.to_csv(path, index=False)
    res = load_requests(path, quarantine_dir=None)
    assert res.rows_quarantined >= 10
    if typed and opener.engine == "postgres":
        url = opener.request.getfixturevalue("postgres_url")
        load_typed_into_postgres(url, "odd_numbers", pd.read_parquet(path))
        rel = open_source(url, engine="postgres", query="odd_numbers")
    else:
        rel = opener(path)
    assert rel.counts().rows_kept == res.rows_kept
    every_table(res.data, rel, Period.from_dates("2024-07-01", "2024-12-31"), by=None, week=False)


def test_optional_dates_pandas_reads_outside_the_range(opener, tmp_path):
    """An optional date (assessed_at) written otherwise than ISO 8601 that pandas reads
    outside the range (``01/01/1600``) is missing to pandas and unreadable to a SQL engine:
    the engine kept fewer requests. It now refuses the source, as for any other writing
    pandas reads; ``-5`` (once the year -5 to pandas) is unparseable to both."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(120)
    frame.loc[5, "assessed_at"] = "-5"
    path = tmp_path / "minus.csv"
    frame.to_csv(path, index=False)
    res = load_requests(path, quarantine_dir=None)
    rel = opener(path)
    assert rel.counts().rows_kept == res.rows_kept == 119
    frame.loc[6, "assessed_at"] = "01/01/1600"
    frame.to_csv(path := tmp_path / "old.csv", index=False)
    assert load_requests(path, quarantine_dir=None).rows_kept == 119
    with pytest.raises(ConfigError, match="01/01/1600"):
        opener(path)


def test_padded_missing_value_spellings_are_missing_alike(opener, tmp_path):
    """A missing-value spelling with white space around it (" N/A ", "null ") is missing
    in every engine, as in pandas, which strips a cell before it compares it with the
    spellings: not a group called "N/A", an unknown outcome or an unreadable score. A
    spelling the mapping writes padded (" - ") is the stripped one."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(500)
    pads = [" N/A ", "null ", "\tNaN", " #N/A\xa0", " - "]
    for i, at in enumerate(range(0, 490, 6)):
        pad = pads[i % len(pads)]
        frame.loc[at, "group"] = pad
        frame.loc[at + 1, "csat"] = pad
        frame.loc[at + 2, "sla_met"] = pad
        frame.loc[at + 3, "category"] = pad
    for at in (5, 11, 17):
        frame.loc[at, "outcome"] = " n/a"
        frame.loc[at + 1, "request_id"] = "N/A "
    mapping = tmp_path / "mapping.yaml"
    text = (ROOT / "csi_lib" / "presets" / "generic.yaml").read_text()
    mapping.write_text(text.replace('"#N/A"]', '"#N/A", " - "]'))
    path = tmp_path / "padded.csv"
    frame.to_csv(path, index=False)
    res = load_requests(path, mapping=mapping, quarantine_dir=None)
    assert res.rows_quarantined == 6 and res.data["group"].isna().sum() >= 16
    assert not res.data["category"].isin(["N/A", "null", "NaN", "#N/A", "-"]).any()
    rel = opener(path, mapping=mapping)
    assert rel.counts().rows_kept == res.rows_kept
    every_table(res.data, rel, H1, by="group", week=False)
    assert_same(K.breakdown(res.data, H1, by="category", min_group_size=5),
                rel.breakdown(H1, by="category", min_group_size=5))  # fmt: skip


def test_dates_pandas_reads_another_way_are_refused(tmp_path):
    """A date the pandas engine would read in a writing other than ISO 8601 ("01/02/2025",
    a month's name) cannot be read alike by a SQL engine without datetime_format: the
    source is refused, naming the column and the value."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(50)
    for value in ("01/02/2025 09:00", "June 3 2025"):
        frame.loc[[5], "opened_at"] = value
        frame.loc[[6], "opened_at"] = "TBD"
        path = tmp_path / "other.csv"
        frame.to_csv(path, index=False)
        with pytest.raises(ConfigError) as err:
            open_source(path, engine="duckdb")
        assert f"'{value}'" in str(err.value) and err.value.column == "opened_at"


# --------------------------------------------------------------------------- DuckDB speed


def test_duckdb_only_aggregates_come_back(monkeypatch):
    """Every query of a KPI table returns aggregates, never a row per request (the probe
    for survey scores was a window: 10M rows back at 10M requests)."""
    rel = open_source(SAMPLE, engine="duckdb")
    sizes = []
    run = rel.execute

    def counted(expr):
        out = run(expr)
        sizes.append(len(out))
        return out

    monkeypatch.setattr(rel, "execute", counted)
    rel.kpi_values(H1)
    assert sizes and max(sizes) <= 10, sizes


def test_duckdb_validates_once_into_a_private_table(monkeypatch):
    """The DuckDB engine computes the view (mapping and validation) once, into a temporary
    table of its own in-memory database, and every KPI query reads that table, not the
    source again; above MATERIALIZE_ROWS it reads the source through the view in each
    query, with the same values."""
    import csi_lib.engines as E

    rel = open_source(SAMPLE, engine="duckdb")
    assert rel._rows is not None
    sqls = []
    run = rel.execute

    def seen(expr):
        sqls.append(str(rel.backend.compile(expr)))
        return run(expr)

    monkeypatch.setattr(rel, "execute", seen)
    got = rel.kpi_values(H1)
    assert sqls and all("csi_rows_" in q and "csi_source" not in q for q in sqls), sqls
    by = rel.breakdown(H1, by="priority")  # a column it did not hold yet: added
    assert "priority" in rel._row_columns
    df = load_requests(SAMPLE).data
    assert_same(K.breakdown(df, H1, by="priority"), by)
    monkeypatch.setattr(E, "MATERIALIZE_ROWS", 0)
    streamed = open_source(SAMPLE, engine="duckdb")
    assert streamed._rows is None
    pd.testing.assert_series_equal(streamed.kpi_values(H1), got, rtol=1e-12)
    assert streamed.counts() == rel.counts()


def test_duckdb_ids_cleaned_only_where_they_need_it(tmp_path):
    """Clean ids are read as they are and only the others cleaned (123.0, padded, a
    missing-value spelling); repeated ids are found from their hashes (and counted exactly
    when two hashes are equal), with the table of validated rows or without it."""
    import csi_lib.engines as E

    frame = pd.DataFrame(
        {
            "request_id": ["A1", " A2", "A3 ", "7.0", "7", "N/A", "", "B.5", "A9", "A9"],
            "opened_at": pd.date_range("2025-01-01", periods=10, freq="D", tz="UTC"),
            "outcome": ["open"] * 10,
        }
    )
    path = tmp_path / "ids.parquet"
    frame.to_parquet(path, index=False)
    want = load_requests(path, quarantine_dir=None)
    for rows in (E.MATERIALIZE_ROWS, 0):
        old, E.MATERIALIZE_ROWS = E.MATERIALIZE_ROWS, rows
        try:
            rel = open_source(path, engine="duckdb")
        finally:
            E.MATERIALIZE_ROWS = old
        t = rel.table
        got = sorted(rel.execute(t.select("request_id"))["request_id"].tolist())
        assert got == sorted(want.data["request_id"].tolist())
        assert rel.counts().rows_kept == want.rows_kept
    for name in ("duplicate_ids.csv", "float_ids.csv"):
        res = load_requests(CORPUS / name, quarantine_dir=None)
        assert open_source(CORPUS / name, engine="duckdb").counts().rows_kept == res.rows_kept


def _reads_ids(rel) -> bool:
    """Whether DuckDB's plan of the validated rows' flag reads the source's ids."""
    import ibis

    sql = ibis.to_sql(rel.view.table.select("_bad", "opened_at"), dialect="duckdb")
    return "request_id" in rel.backend.con.sql(f"EXPLAIN {sql}").fetchall()[0][1]


@pytest.mark.parametrize(
    "case", ["clean", "missing in the last batch", "padded in the last batch",
             "repeated across batches", "a missing-value spelling first", "short",
             "a control character inside", "a repeat once DEL is removed",
             "only control characters", "a C1 control and a padded id"],
)  # fmt: skip
def test_duckdb_checks_the_ids_once_before_the_table(monkeypatch, tmp_path, case):
    """DuckDB reads the ids once, before the table of validated rows: where every id is
    clean (read as it is) and none repeats, neither the table nor a KPI query reads them
    again; an id to clean in any batch (the check stops at the first) or a repeat across
    batches (the rows of an id then found by it) gives the same requests and tables as
    pandas. ``short``: ids the cheap test
    cannot pass (four characters) but that are clean, read as they are too."""
    import csi_lib.engines as E

    monkeypatch.setattr(E, "ID_BATCH", 7)
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(60)
    ids = frame["request_id"].copy()
    if case == "missing in the last batch":
        ids.iloc[59] = None
    elif case == "padded in the last batch":
        ids.iloc[58] = ids.iloc[58] + "\u3000"
    elif case == "repeated across batches":
        ids.iloc[55] = ids.iloc[2]
    elif case == "a missing-value spelling first":
        ids.iloc[0] = "N/A"
    elif case == "short":
        ids = pd.Series([f"R{i:03d}" for i in range(60)])
    elif case == "a control character inside":
        ids.iloc[40] = ids.iloc[40][:3] + "\x00" + ids.iloc[40][3:]
    elif case == "a repeat once DEL is removed":
        ids.iloc[50] = "\x7f" + ids.iloc[4]
    elif case == "only control characters":
        ids.iloc[30] = "\x1b\x7f"
    elif case == "a C1 control and a padded id":
        ids.iloc[10], ids.iloc[52] = ids.iloc[10] + "\x9f", " " + ids.iloc[52]
    path = tmp_path / "ids.parquet"
    frame.assign(request_id=ids).to_parquet(path, index=False)
    want = load_requests(path, quarantine_dir=None)
    rel = open_source(path, engine="duckdb")
    assert rel.counts().rows_kept == want.rows_kept
    assert _reads_ids(rel) is (case not in ("clean", "short"))  # a repeat: found by its id
    if case in ("a repeat once DEL is removed", "only control characters"):
        assert want.rows_kept < 60  # the repeat, the missing id: quarantined
    every_table(want.data, rel, H1, by="group", week=False)
    got = sorted(rel.execute(rel.table.select("request_id"))["request_id"].tolist())
    assert got == sorted(want.data["request_id"].tolist())


def test_control_characters_found_from_the_bytes_as_the_loader_finds_them():
    """The check of the ids' bytes finds a control character exactly where the pandas
    loader's pattern does: every code point up to U+3000 and the last of the BMP, alone,
    inside a text, and at either end of a text of several bytes."""
    import pyarrow as pa

    from csi_lib.engines import _has_control
    from csi_lib.safe import CONTROL_CHARACTERS

    points = [*range(0x3001), *range(0xFFF0, 0x10000), 0x10000, 0x1F600]
    for cp in points:
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        want = bool(CONTROL_CHARACTERS.search(ch))
        for texts in ([ch], ["é" + ch + "A1"], ["A1", None, "日" + ch], [ch + "é", "B"]):
            assert _has_control(pa.array(texts)) is want, (hex(cp), texts)
    assert _has_control(pa.array([], type=pa.string())) is False
    assert _has_control(pa.array(["abc", "def"]).slice(1)) is False
    assert _has_control(pa.array(["a\x01", "def"]).slice(1)) is False  # outside the slice


def test_duckdb_checks_left_out_only_when_the_statistics_prove_them(tmp_path):
    """A check of validation is left out of the view only when the Parquet file's own
    statistics prove that no row fails it: a typed file with a date in the future, a score
    of 7, a negative reopen count and an unknown outcome keeps every check, and rejects
    the rows the pandas engine rejects; a clean file needs none of those checks."""
    from csi_lib.engines import _typed_stats
    from csi_lib.engines.view import _proven
    from csi_lib.sources import load_mapping
    from csi_lib.sources.plan import _plan

    opened = pd.date_range("2025-01-01", periods=6, freq="D", tz="UTC")
    clean = pd.DataFrame(
        {
            "request_id": [f"R{i}" for i in range(6)],
            "opened_at": opened,
            "closed_at": opened + pd.Timedelta(hours=5),
            "outcome": ["fulfilled"] * 6,
            "csat": [1.0, 5.0, None, 4.0, 3.0, 2.0],
            "reopen_count": [0, 1, 2, 0, 0, 0],
        }
    )
    dirty = clean.copy()
    dirty.loc[1, "opened_at"] = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=30)
    dirty.loc[1, "closed_at"] = pd.NaT
    dirty.loc[1, "outcome"] = "open"
    dirty.loc[2, "csat"] = 7.0
    dirty.loc[3, "reopen_count"] = -1
    dirty.loc[4, "outcome"] = "lost"
    for name, frame in (("clean", clean), ("dirty", dirty)):
        path = tmp_path / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        want = load_requests(path, quarantine_dir=None)
        rel = open_source(path, engine="duckdb")
        assert rel.counts().rows_kept == want.rows_kept
        period = Period.from_dates("2025-01-01", "2025-01-31")
        assert_same(K.kpi_table(want.data, period), rel.kpi_table(period))
        raw = rel.view.source
        m = load_mapping(preset="generic")
        stats = _typed_stats(rel.backend, raw, m, name)
        plan = _plan(m, list(raw.columns), name, ())
        proven = _proven(raw, m, plan, stats, None, pd.Timestamp.now(tz="UTC"))
        if name == "clean":
            assert want.rows_kept == 6
            assert {"past:opened_at", "inside:closed_at", "csat", "reopen_count"} <= proven
        else:
            assert want.rows_kept == 2
            assert not {"past:opened_at", "csat", "reopen_count"} & proven


def test_duckdb_repeated_hash_is_counted_exactly(monkeypatch):
    """Equal hashes only send the engine to the exact count of distinct ids: a collision
    (forced here) changes nothing."""
    import csi_lib.engines as E

    monkeypatch.setattr(E, "_distinct_hashes", lambda backend, hashes, most, **_: False)
    rel = open_source(SAMPLE, engine="duckdb")
    df = load_requests(SAMPLE).data
    assert_same(K.kpi_table(df, H1), rel.kpi_table(H1))


@pytest.mark.parametrize("where", ["first half", "second half", "across the halves", "none"])
def test_all_distinct_finds_a_repeat_wherever_it_is(where):
    """The check of repeated id hashes sorts two halves on two threads: a repeat inside
    either half and one between the halves (looked up a chunk at a time) are both found."""
    import numpy as np

    from csi_lib.engines import _all_distinct

    values = np.random.default_rng(7).permutation(np.arange(10_001, dtype=np.uint64) * 3)
    half = len(values) // 2
    pairs = {"first half": (10, 4000), "second half": (half + 3, 9000),
             "across the halves": (17, half + 4321)}  # fmt: skip
    if where in pairs:
        i, j = pairs[where]
        values[j] = values[i]
    assert _all_distinct(values, chunk=97) is (where == "none")


def test_duckdb_epoch_of_an_instant_without_a_local_cast():
    """Durations read the epoch of each instant directly: a cast to a local timestamp
    first went through the time-zone calendar for every value (2/3 of a query's time)."""
    rel = open_source(SAMPLE, engine="duckdb")
    t = rel.table
    sql = rel.backend.compile(t.select(h=t.closed_at.epoch_seconds())).upper()
    assert "EPOCH(" in sql and "AS TIMESTAMP)" not in sql, sql
    got = rel.execute(t.select(h=(t.closed_at.epoch_seconds() - t.opened_at.epoch_seconds())))
    df = load_requests(SAMPLE).data
    want = (df["closed_at"] - df["opened_at"]).dt.total_seconds()
    assert sorted(got["h"].dropna()) == pytest.approx(sorted(want.dropna()), rel=1e-12)


# --------------------------------------------------------------------------- contract


def test_custom_kpi_pandas_only_says_what_to_add(tmp_path):
    """A registered KPI with only a pandas function works on pandas; another engine says
    what to add, and works once it is added."""
    from csi_lib.kpis.catalogue import REGISTRY

    def is_laptop(df):
        return df["category"] == "Laptop"

    k = KPI("pct_laptop_test", "Laptop share", "%", "neither", "received", is_laptop, "pct",
            "proportion", "100 * share of requests received for a laptop")  # fmt: skip
    register_kpi(k)
    try:
        df = load_requests(SAMPLE).data
        assert K.kpi_values(df, H1, kpis="pct_laptop_test").notna().all()
        rel = open_source(SAMPLE, engine="duckdb")
        with pytest.raises(ConfigError, match="only a pandas function") as err:
            rel.kpi_values(H1, kpis="pct_laptop_test")
        assert "relational=" in err.value.hint
        register_kpi(
            KPI(**{**k.__dict__, "relational": lambda t: t.category == "Laptop"}), replace=True
        )
        assert_same(K.kpi_table(df, H1, kpis="pct_laptop_test"),
                    rel.kpi_table(H1, kpis="pct_laptop_test"))  # fmt: skip
    finally:
        REGISTRY.pop("pct_laptop_test", None)


@pytest.mark.parametrize("aggs", [("count", "pct", "sum", "mean", "median"), ("mean",),
                                  ("pct",), ("sum", "p90")])  # fmt: skip
def test_a_query_computes_only_the_cells_its_kpis_read(aggs):
    """KPIs sharing one measure read only the cells their aggregations need (a share the
    true ones, a mean the sum): every combination still equals the pandas engine, by month
    and by group."""
    from csi_lib.kpis.catalogue import REGISTRY

    def reopens(df):
        return df["reopen_count"].astype("float64")

    def relational(t):
        return t.reopen_count.cast("float64")

    kinds = {"count": ("count", "requests"), "sum": ("count", "requests"),
             "pct": ("proportion", "%"), "mean": ("score", "score"),
             "median": ("duration", "hours"), "p90": ("duration", "hours")}  # fmt: skip
    keys = [f"reopen_{a}_test" for a in aggs]
    for key, agg in zip(keys, aggs, strict=True):
        kind, unit = kinds[agg]
        register_kpi(KPI(key, key, unit, "lower", "closed", reopens, agg, kind,
                         "reopens of the requests closed", relational=relational))  # fmt: skip
    try:
        df = load_requests(SAMPLE).data
        rel = open_source(SAMPLE, engine="duckdb")
        assert_same(K.kpi_table(df, H1, kpis=keys), rel.kpi_table(H1, kpis=keys))
        assert_same(K.kpi_table(df, H1, kpis=keys, by="priority", freq="month"),
                    rel.kpi_table(H1, kpis=keys, by="priority", freq="month"))  # fmt: skip
    finally:
        for key in keys:
            REGISTRY.pop(key, None)


def test_every_builtin_kpi_has_a_relational_definition():
    for k in K.REGISTRY.values():
        assert k.measure is None or k.relational is not None, k.key


def test_engine_choice(tmp_path):
    small = tmp_path / "small.parquet"
    small.write_bytes(b"x")
    assert choose_engine(small) == "pandas"
    assert choose_engine("postgresql+psycopg://u@h/db") == "postgres"
    assert choose_engine(SAMPLE, "spark") == "spark"
    with pytest.raises(ConfigError, match="unknown engine"):
        choose_engine(SAMPLE, "oracle")


def test_postgres_reads_only(postgres_url):
    """The engine's connection is read-only and creates nothing in the database."""
    import psycopg

    frame = read_table(SAMPLE, ReadOptions()).frame
    load_into_postgres(postgres_url, "readonly_case", frame)
    count = "SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'v', 'm', 'S')"
    with psycopg.connect(postgres_url) as con:
        before = con.execute(count).fetchone()[0]
    rel = open_source(postgres_url, engine="postgres", query="readonly_case")
    rel.kpi_table(H1, by="category", freq="month", min_group_size=5)
    with pytest.raises(Exception, match="read-only"):
        rel.backend.raw_sql("CREATE TABLE csi_should_not_exist (x int)")
    rel.close()
    with psycopg.connect(postgres_url) as con:
        assert con.execute(count).fetchone()[0] == before
    with pytest.raises(CsiError):
        open_source(postgres_url, engine="postgres", query="DELETE FROM readonly_case")


def test_postgres_session_is_csis_whatever_the_databases_defaults(postgres_url, monkeypatch):
    """A database whose defaults are not PostgreSQL's (backslashes in a literal as escapes,
    floats sent with two significant digits, German dates, the client's text in WIN1252),
    with the requests as text and
    typed in a schema of their own, named by the URL's options or by PGOPTIONS as libpq
    reads them: the KPIs are pandas'. Before, every query failed ('invalid byte sequence
    for encoding "UTF8": 0x00': the patterns' backslashes read as escapes), the durations
    came back rounded (a median time to assess of 2.0 h for 1.89 h), and the URL's options
    and PGOPTIONS were dropped (no table 'requests'); in WIN1252 Python could not write the
    SQL ("'charmap' codec can't encode character")."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    df = load_requests(SAMPLE).data
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS odd_defaults")
        con.execute("CREATE DATABASE odd_defaults")
    url = urlunsplit(urlsplit(postgres_url)._replace(path="/odd_defaults"))
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE SCHEMA itsm")
    load_into_postgres(url.replace("?", "?options=-csearch_path%3Ditsm&"), "requests",
                       read_table(SAMPLE, ReadOptions(na_values=[""])).frame)  # fmt: skip
    load_typed_into_postgres(url.replace("?", "?options=-csearch_path%3Ditsm&"), "typed", df)
    with psycopg.connect(url, autocommit=True) as con:
        for setting in ("standard_conforming_strings = off", "extra_float_digits = -15",
                        "DateStyle = 'German'", "client_encoding = 'WIN1252'"):  # fmt: skip
            con.execute(f"ALTER DATABASE odd_defaults SET {setting}")
    expected = K.kpi_table(df, H1)
    in_schema = url.replace("?", "?options=-csearch_path%3Ditsm&")
    for table in ("requests", "typed"):
        with open_source(in_schema, engine="postgres", query=table) as rel:
            assert_same(expected, rel.kpi_table(H1))
    monkeypatch.setenv("PGOPTIONS", "-c search_path=itsm")
    with open_source(url, engine="postgres", query="requests") as rel:
        assert rel.counts().rows_kept == len(df)


def test_what_stops_a_query_is_said_whatever_the_query(monkeypatch):
    """A query stopped after the opening (a KPI query: PostgreSQL's statement timeout, a
    temporary file limit, a lost connection) is one paragraph saying what to do; DuckDB's
    running out of memory is a MemoryError, which the command explains; any other error
    passes as it is."""
    import duckdb
    import psycopg

    from csi_lib.engines.backends import stopped_queries
    from csi_lib.errors import InputError

    cases = {psycopg.errors.QueryCanceled: "longer timeout",
             psycopg.errors.ConfigurationLimitExceeded: "temp_file_limit",
             psycopg.errors.AdminShutdown: "run the command again",
             psycopg.errors.SyntaxError: "server's log"}  # fmt: skip
    for error, hint in cases.items():
        stopped = f"file 'db': the database stopped.*{hint}"
        with pytest.raises(InputError, match=stopped), stopped_queries("postgres", "db"):
            raise error("the server's words")
    with pytest.raises(MemoryError), stopped_queries("duckdb", "f.parquet"):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")
    with pytest.raises(ValueError), stopped_queries("postgres", "db"):
        raise ValueError("a fault of csi's own")
    rel = open_source(SAMPLE, engine="duckdb")

    def cancelled(expr):
        raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")

    monkeypatch.setattr(rel, "engine", "postgres")
    monkeypatch.setattr(rel.backend, "execute", cancelled)
    with pytest.raises(InputError, match="statement timeout. The database's statement_timeout"):
        rel.kpi_table(H1)
    rel.close()


def test_the_pandas_engine_reads_a_database_whatever_its_defaults(postgres_url):
    """The pandas engine's read (SQLAlchemy) of a database defaulting to floats with two
    significant digits and to WIN1252 text: a score of 3.75 came back as 3.8 and a Japanese
    group's name could not be sent ('character ... has no equivalent in encoding
    "WIN1252"'), where the PostgreSQL engine reads both as stored. Both engines now give
    the stored values."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    df = load_requests(SAMPLE).data.head(2000).copy()
    df["csat"] = df["csat"].where(df["csat"].isna(), 3.75)
    df["group"] = df["group"].astype(str).where(df.index % 7 != 0, "サービスデスク")
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS odd_reads")
        con.execute("CREATE DATABASE odd_reads")
    url = urlunsplit(urlsplit(postgres_url)._replace(path="/odd_reads"))
    load_typed_into_postgres(url, "requests", df)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("ALTER DATABASE odd_reads SET extra_float_digits = -15")
        con.execute("ALTER DATABASE odd_reads SET client_encoding = 'WIN1252'")
    got = load_requests(url, query="requests", quarantine_dir=None).data
    assert set(got["csat"].dropna()) == {3.75} and (got["group"] == "サービスデスク").any()
    with open_source(url, engine="postgres", query="requests") as rel:
        assert_same(K.kpi_table(got, H1, by="group", min_group_size=1),
                    rel.kpi_table(H1, by="group", min_group_size=1))  # fmt: skip


def test_a_query_the_database_stops_is_one_paragraph(postgres_url, capsys):
    """A query PostgreSQL stops on its own grounds (here its statement_timeout of 1 ms,
    given in the URL's options, which csi keeps): it stopped the opening's first query,
    which was reported as a table csi cannot read ("name an existing table or view"); one
    stopping a KPI query later (5 ms, by hand) ended csi kpis in a traceback
    (psycopg.errors.QueryCanceled). It is now one paragraph naming the source and what to
    do, and the command exits with 2."""
    from csi_lib.cli import main
    from csi_lib.errors import InputError

    load_into_postgres(postgres_url, "timeout_case", read_table(SAMPLE, ReadOptions()).frame)
    url = postgres_url.replace("?", "?options=-cstatement_timeout%3D1&")
    with (
        pytest.raises(InputError, match="statement timeout.*longer timeout"),
        open_source(url, engine="postgres", query="timeout_case") as rel,
    ):
        rel.kpi_table(H1, freq="month")
    assert main(["kpis", url, "--query", "timeout_case", "--from", "2025-01-01",
                 "--to", "2025-06-30"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("error: file 'postgresql://") and "Traceback" not in err
    assert "statement timeout" in err


def test_postgres_table_with_one_text_column(postgres_url):
    """A warehouse table whose only text column the mapping reads is the outcome (ids as
    numbers, dates as timestamptz, no groups): the look for control characters joins one
    column, which failed before (Ibis' concat of no other); the values are pandas'."""
    import psycopg

    df = load_requests(SAMPLE).data.head(800)
    frame = pd.DataFrame(
        {
            "request_id": range(1, len(df) + 1),
            **{c: df[c] for c in ("opened_at", "assessed_at", "closed_at", "outcome")},
        }
    )
    load_typed_into_postgres(postgres_url, "one_text_case", frame)
    with psycopg.connect(postgres_url) as con:
        kinds = con.execute("SELECT count(*) FROM information_schema.columns WHERE "
                            "table_name = 'one_text_case' AND data_type = 'text'").fetchone()  # fmt: skip
    assert kinds[0] == 1
    want = load_requests(postgres_url, query="one_text_case", quarantine_dir=None).data
    rel = open_source(postgres_url, engine="postgres", query="one_text_case")
    assert_same(K.kpi_table(want, H1), rel.kpi_table(H1))


def test_postgres_reads_the_source_once_per_kpi_table(postgres_url):
    """PostgreSQL keeps nothing between queries, so each query read and validated the
    source again: a KPI table's four queries (received, closed, assessed, open at each
    end) took 78 s on 1M requests with text dates. They now run as one statement that
    reads the source once (24 s), holding only the columns they read, and the values are
    those of the pandas engine."""
    import ibis

    frame = read_table(SAMPLE, ReadOptions()).frame
    load_into_postgres(postgres_url, "once_case", frame)
    rel = open_source(postgres_url, engine="postgres", query="once_case")
    rel.csat_in_data(rel.rows())  # the probe of a survey is a query of its own, kept
    sent = []
    run = rel.backend.execute

    def spy(expr, *args, **kwargs):
        sent.append(str(ibis.to_sql(expr, dialect="postgres")))
        return run(expr, *args, **kwargs)

    rel.backend.execute = spy
    got = rel.kpi_table(H1, by="category", freq="month", min_group_size=5)
    reads = [sql for sql in sent if "once_case" in sql]
    assert len(reads) == 1, [sql[:200] for sql in reads]
    assert reads[0].count("once_case") == 1
    # the rows held hold only the columns the queries read (not the ids, nor other groups)
    held = reads[0].split("csi_requests_once AS (", 1)[1].split("FROM", 1)[0]
    assert '"category"' in held and '"priority"' not in held and '"request_id"' not in held
    expected = K.kpi_table(load_requests(SAMPLE).data, H1, by="category", freq="month",
                           min_group_size=5)  # fmt: skip
    assert_same(expected, got)
    rel.close()


def test_postgres_looks_for_control_characters_with_one_pattern_a_row(postgres_url, monkeypatch):
    """Whether any text cell holds a control character is one pattern over each row's text
    cells joined (10M rows of six text columns: 5.7 s as six patterns, 3.1 s as one; here
    thirteen, every column being text); only
    where one does are the columns holding one looked for (and those cleaned: the test of
    the control characters removed alike)."""
    import ibis
    from ibis.backends.postgres import Backend

    sent = []
    run = Backend.execute

    def spy(self, expr, *args, **kwargs):
        sent.append(str(ibis.to_sql(expr, dialect="postgres")))
        return run(self, expr, *args, **kwargs)

    monkeypatch.setattr(Backend, "execute", spy)
    frame = read_table(SAMPLE, ReadOptions()).frame
    for table, dirty in (("clean_case", False), ("control_case", True)):
        if dirty:
            frame.loc[3, "group"] = "Service\x07 Desk"
        load_into_postgres(postgres_url, table, frame)
        sent.clear()
        open_source(postgres_url, engine="postgres", query=table).close()
        scans = [sql for sql in sent if "BOOL_OR" in sql.upper()]
        assert [sql.count(" ~ ") for sql in scans] == ([1, 13] if dirty else [1]), scans


def test_postgres_reads_an_epoch_as_a_double(postgres_url):
    """An hour measure reads two epochs a request. EXTRACT gives a numeric since
    PostgreSQL 14 (0.29 s per million times, against 0.11 s for date_part's double): the
    KPI statement of 1M requests took 4.0 s, 2.9 s with date_part. SQLGlot, which reads
    the statement again, would write a plain date_part as EXTRACT, so the call is
    qualified; the values are those of the pandas engine."""
    frame = read_table(SAMPLE, ReadOptions()).frame
    load_into_postgres(postgres_url, "epoch_case", frame)
    rel = open_source(postgres_url, engine="postgres", query="epoch_case")
    sent = []
    run = rel.backend.execute

    def spy(expr, *args, **kwargs):
        sent.append(rel.backend.compile(expr))  # what the connection sends
        return run(expr, *args, **kwargs)

    rel.backend.execute = spy
    got = rel.kpi_table(H1)
    statement = next(sql for sql in sent if "csi_requests_once" in sql)
    assert "pg_catalog.date_part('epoch'" in statement and "EXTRACT(" not in statement.upper()
    assert_same(K.kpi_table(load_requests(SAMPLE).data, H1), got)
    rel.close()


def test_a_table_is_named_as_sql_names_it(postgres_url):
    """`--query CaseCheck` for a table made by `CREATE TABLE CaseCheck` (which PostgreSQL
    folds to casecheck) was refused by both engines, and a quoted name (`"Service
    Requests"`, a space in it) read as a query and refused as one that writes ("it holds
    CASECHECK"). A name is now looked up as written, then as SQL reads it; a name of no
    table gives the close matches."""
    import psycopg

    frame = read_table(SAMPLE, ReadOptions()).frame.head(300)
    load_into_postgres(postgres_url, "casecheck", frame)  # what CREATE TABLE CaseCheck makes
    load_into_postgres(postgres_url, "MixedCase", frame.head(200))  # made with quotes
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS itsm")
        con.execute('DROP TABLE IF EXISTS itsm."Service Requests"')
        con.execute('CREATE TABLE itsm."Service Requests" AS SELECT * FROM casecheck LIMIT 100')
    names = {"CaseCheck": 300, "public.CASECHECK": 300, "casecheck": 300, "MixedCase": 200,
             '"MixedCase"': 200, 'ITSM."Service Requests"': 100}  # fmt: skip
    for query, rows in names.items():
        want = load_requests(postgres_url, query=query, quarantine_dir=None)
        rel = open_source(postgres_url, engine="postgres", query=query)
        assert want.rows_read == rows and rel.counts().rows_kept == want.rows_kept, query
        rel.close()
    for read in (lambda q: load_requests(postgres_url, query=q, quarantine_dir=None),
                 lambda q: open_source(postgres_url, engine="postgres", query=q)):  # fmt: skip
        with pytest.raises(CsiError, match="no table 'CaseChek'") as err:
            read("CaseChek")
        assert "casecheck" in str(err.value)


def test_postgres_reads_a_query_and_an_enum_column(postgres_url):
    """`--engine postgres` with a SELECT failed: Ibis creates a view to learn a query's
    columns, which the read-only connection refuses ("cannot execute CREATE VIEW in a
    read-only transaction"). A column of an ENUM type (a status) failed every query
    (the control characters' scan, `COALESCE(outcome, '')`: "invalid input value for
    enum"). Both now read as the pandas engine reads them, a query's `;` too."""
    import psycopg

    load_into_postgres(postgres_url, "enum_src", read_table(SAMPLE, ReadOptions()).frame)
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS enum_case")
        con.execute("DROP TYPE IF EXISTS csi_state")
        states = [r[0] for r in con.execute(
            "SELECT DISTINCT outcome FROM enum_src WHERE outcome IS NOT NULL").fetchall()]  # fmt: skip
        labels = ", ".join("'" + v.replace("'", "''") + "'" for v in states)
        con.execute(f"CREATE TYPE csi_state AS ENUM ({labels})")
        con.execute("CREATE TABLE enum_case AS SELECT * FROM enum_src")
        con.execute("ALTER TABLE enum_case ALTER COLUMN outcome TYPE csi_state "
                    "USING outcome::csi_state")  # fmt: skip
    for query in ("enum_case", "SELECT * FROM enum_case WHERE category <> 'Laptop';"):
        res = load_requests(postgres_url, query=query, quarantine_dir=None)
        rel = open_source(postgres_url, engine="postgres", query=query)
        assert rel.counts().rows_kept == res.rows_kept, query
        every_table(res.data, rel, H1, by="category", week=False)
        rel.close()


def _odd_ids(frame: pd.DataFrame, pads: list[str], *, japanese: bool = False) -> pd.DataFrame:
    """``frame`` with ids at each edge of the cheap test of an id (``view.guarded_ids``),
    padded with ``pads``."""
    ids = frame["request_id"].copy()
    if japanese:  # 依頼0000, ...: ids beyond ASCII
        ids.iloc[:100] = [f"\u4f9d\u983c{i:04d}" for i in range(100)]
    for i, at in enumerate(range(100, 160, 6)):
        pad = pads[i % len(pads)]
        ids.iloc[at] = pad + ids.iloc[at]
        ids.iloc[at + 1] = ids.iloc[at + 1] + pad
        ids.iloc[at + 2] = ids.iloc[at + 5] + pad  # the same id once stripped: a repeat
    odd = {200: "N/A", 201: " null ", 202: "#N/A", 203: "7", 204: "7.000", 205: "A.B-1",
           206: "ABCD", 207: "ABCDE", 208: "", 209: "12.50", 210: "-3.0", 211: "-3"}  # fmt: skip
    for at, value in odd.items():
        ids.iloc[at] = value
    return frame.assign(request_id=ids)


#: NEL (U+0085, the first white code point beyond ASCII), an ogham space mark, a file
#: separator, a paragraph separator, a medium mathematical space
_PADS = ["\x85", "\u1680", "\x1c", "\u2029", "\u205f"]


def test_ids_at_the_edges_of_the_cheap_test_are_read_alike(opener, tmp_path):
    """A clean id is read as it is, the others cleaned (DuckDB and PostgreSQL test each id
    cheaply first): ids padded with white space beyond ASCII (NEL, the first, and others),
    missing-value spellings, short ids, ids holding a dot, floats written for integers,
    and the repeats these make once cleaned give the same requests as pandas."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(400)
    path = tmp_path / "ids.csv"
    _odd_ids(frame, _PADS).to_csv(path, index=False)
    res = load_requests(path, quarantine_dir=None)
    assert res.rows_quarantined >= 10  # the repeats and the missing ids
    rel = opener(path)
    assert rel.counts().rows_kept == res.rows_kept
    every_table(res.data, rel, H1, by="group", week=False)


@pytest.mark.parametrize(
    ("encoding", "pads", "japanese"),
    [("UTF8", [*_PADS, "\u3000"], True), ("EUC_JP", ["\u3000", " "], True),
     ("LATIN1", ["\x85", "\xa0", "\x1c"], False)],
)  # fmt: skip
def test_postgres_databases_of_each_encoding_read_ids_alike(
    postgres_url, tmp_path, encoding, pads, japanese
):
    """A database whose text cannot hold every character (LATIN1, EUC_JP) refused every
    query: the SQL named white space it cannot hold (U+1680, ...). It now names only what
    the database holds. In UTF-8, PostgreSQL cleans only the ids a cheap test finds may
    need it (a count of 1M distinct ids: 0.90 s -> 0.43 s); the test reads a character's
    code point with ascii(), which another multibyte encoding refuses for a character
    beyond ASCII ("requested character too large"): there every id is cleaned. Each
    reads its padded, repeated, missing and Japanese ids as pandas reads them."""
    import ibis
    import psycopg

    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(400)
    path = tmp_path / "ids.csv"
    _odd_ids(frame, pads, japanese=japanese).to_csv(path, index=False)
    res = load_requests(path, quarantine_dir=None)
    assert res.rows_quarantined >= 10
    name = f"enc_{encoding.lower()}"
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name}")
        con.execute(f"CREATE DATABASE {name} ENCODING '{encoding}' TEMPLATE template0 "
                    "LC_COLLATE 'C' LC_CTYPE 'C'")  # fmt: skip
    url = postgres_url.replace("/postgres?", f"/{name}?")
    load_into_postgres(url, "ids_case", read_table(path, ReadOptions(na_values=[""])).frame)
    rel = open_source(url, engine="postgres", query="ids_case")
    sql = str(ibis.to_sql(rel.view.table, dialect="postgres"))
    assert ("ASCII(" in sql.upper()) is (encoding == "UTF8")
    assert rel.counts().rows_kept == res.rows_kept
    every_table(res.data, rel, H1, by="group", week=False)
    rel.close()


@pytest.mark.spark_defaults
def test_cli_engines_give_the_same_json(opener, tmp_path, capsys):
    """csi kpis --engine X prints the same values as the pandas engine."""
    from csi_lib.cli import app

    def run(args):
        from typer.testing import CliRunner

        out = CliRunner().invoke(app, args)
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout.strip().splitlines()[-1])

    common = ["--from", "2025-01-01", "--to", "2025-06-30", "--format", "json"]
    want = run(["kpis", str(SAMPLE), "--engine", "pandas", *common])
    if opener.engine == "postgres":
        opener(SAMPLE)  # the table
        url = opener.request.getfixturevalue("postgres_url")
        table = next(iter(opener.loaded.values()))
        got = run(["kpis", url, "--query", table, *common])  # auto: computed in the database
    else:
        if opener.engine == "spark":
            opener.request.getfixturevalue("spark")
        got = run(["kpis", str(SAMPLE), "--engine", opener.engine, *common])
    assert want.keys() == got.keys()
    for k, v in want.items():
        assert (v is None and got[k] is None) or v == pytest.approx(got[k], rel=1e-9, abs=1e-9), k


def test_cli_breakdown_in_duckdb_builds_one_table(monkeypatch):
    """csi kpis --by X --engine duckdb gives the pandas engine's breakdown, and the table of
    validated rows is made once, with the dimension in it (not made again when asked)."""
    from typer.testing import CliRunner

    import csi_lib.engines as E
    from csi_lib.cli import app

    made = []
    original = E.Relational._materialize

    def counted(self, columns, **kw):
        made.append(set(columns))
        return original(self, columns, **kw)

    monkeypatch.setattr(E.Relational, "_materialize", counted)
    common = ["--from", "2025-01-01", "--to", "2025-06-30", "--format", "json", "--by", "priority"]
    out = {}
    for engine in ("pandas", "duckdb"):
        res = CliRunner().invoke(app, ["kpis", str(SAMPLE), "--engine", engine, *common])
        assert res.exit_code == 0, res.output
        out[engine] = pd.DataFrame(json.loads(res.stdout.strip().splitlines()[-1]))
    assert len(made) == 1 and "priority" in made[0], made
    want, got = (out[e].sort_values(["kpi", "priority"]).reset_index(drop=True) for e in out)
    assert want[["kpi", "priority", "n"]].equals(got[["kpi", "priority", "n"]])
    assert want["value"].to_numpy() == pytest.approx(got["value"].to_numpy(), rel=1e-9, nan_ok=True)


@pytest.mark.slow
def test_a_cycle_report_on_data_in_postgres_equals_the_report_on_the_file(postgres_url, tmp_path):
    """`csi report` on the sample cycle with its requests in a PostgreSQL table (typed, as a
    warehouse holds them; cycle.yaml's data.source a URL and data.query the table) writes the
    same summary.json as from the export file. The stages need each request's values (the
    evidence of stage 5 compares them), so the report reads the validated rows over the
    read-only connection; `csi kpis` is the command that brings back aggregates only."""
    import subprocess
    import sys

    import yaml

    load_typed_into_postgres(postgres_url, "cycle_requests", load_requests(SAMPLE).data)
    cycle = tmp_path / "cycle"
    shutil.copytree(ROOT / "data" / "sample-cycle", cycle)
    config = yaml.safe_load((cycle / "cycle.yaml").read_text())
    config["data"] = {"source": postgres_url, "query": "cycle_requests", "preset": "generic"}
    (cycle / "cycle.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    summaries = []
    for folder, out in (
        (cycle, tmp_path / "pg"),
        (ROOT / "data" / "sample-cycle", tmp_path / "file"),
    ):
        run = subprocess.run(
            [sys.executable, "-m", "csi_lib", "report", str(folder), "--as-of", "2026-04-15",
             "--out", str(out), "--stage", "5"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        summaries.append(json.loads((out / "2025-h2" / "2026-04-15" / "summary.json").read_text()))
    assert summaries[0]["targets"] and summaries[0] == summaries[1]


@pytest.mark.slow
@pytest.mark.spark_defaults
def test_the_end_to_end_spark_cases_keep_the_engines_settings(spark):
    """The cases marked spark_defaults run with the session a user has (SPARK_CONF and
    Spark's own defaults); the others with the settings for small tables."""
    from csi_lib.engines import SPARK_CONF

    assert (
        spark.conf.get("spark.sql.shuffle.partitions") == SPARK_CONF["spark.sql.shuffle.partitions"]
    )
    assert spark.conf.get("spark.sql.adaptive.enabled") == "true"
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "true"
    assert spark_or_unavailable().conf.get("spark.sql.codegen.wholeStage") == "false"


def test_the_spark_driver_logs_errors_only_unless_the_user_configures_it(tmp_path):
    """csi's Spark driver gets the shipped log4j2 file (errors only); a user's own logging
    (a log4j2.properties or driver Java options in SPARK_CONF_DIR, or PYSPARK_SUBMIT_ARGS)
    is left alone. The end-to-end check of what a reader sees: test_cycle_engine.py."""
    from csi_lib.engines import SPARK_LOG4J2, spark_quiet_driver

    text = SPARK_LOG4J2.read_text()
    assert "rootLogger.level = error" in text and "PythonGatewayServer" in text
    quiet = {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={SPARK_LOG4J2.as_uri()}"}
    assert spark_quiet_driver({}) == quiet
    conf = tmp_path / "conf"
    conf.mkdir()
    assert spark_quiet_driver({"SPARK_CONF_DIR": str(conf)}) == quiet
    (conf / "spark-defaults.conf").write_text("spark.executor.memory 4g\n")
    assert spark_quiet_driver({"SPARK_HOME": str(tmp_path)}) == quiet
    (conf / "spark-defaults.conf").write_text("spark.driver.extraJavaOptions -Dx=1\n")
    assert spark_quiet_driver({"SPARK_HOME": str(tmp_path)}) == {}
    (conf / "spark-defaults.conf").unlink()
    (conf / "log4j2.properties").write_text("rootLogger.level = info\n")
    assert spark_quiet_driver({"SPARK_CONF_DIR": str(conf)}) == {}
    assert spark_quiet_driver({"PYSPARK_SUBMIT_ARGS": "--master local[2] pyspark-shell"}) == {}


def test_every_sql_an_engine_sends_is_compiled_by_its_own_compiler(postgres_url):
    """The engines' compilers differ from Ibis' defaults (an epoch as PostgreSQL's
    date_part, a double, and Spark's unix_micros, to the microsecond, where Ibis writes
    EXTRACT and whole seconds). The view, the table of validated rows, the id check and
    Spark's cached views are compiled by the backend (``backend.compile``), never by
    ``ibis.to_sql``, which takes Ibis' default compiler of the dialect."""
    import re

    import ibis

    for path in (ROOT / "csi_lib" / "engines").glob("*.py"):
        assert not re.search(r"ibis\.to_sql\(", path.read_text()), path.name
    frame = read_table(SAMPLE, ReadOptions(na_values=[""])).frame.head(50)
    load_into_postgres(postgres_url, "compiled_by_backend", frame)
    rel = open_source(postgres_url, engine="postgres", query="compiled_by_backend")
    t = ibis.table({"a": "timestamp"}, name="t")
    assert "date_part('epoch'" in rel.backend.compile(t.select(x=t.a.epoch_seconds()))
    assert "date_part('epoch'" not in ibis.to_sql(t.select(x=t.a.epoch_seconds()), "postgres")
    rel.close()


# --------------------------------------------------------------------------- Parquet datasets


@pytest.mark.slow
@pytest.mark.parametrize("stamps", ["INT96", "TIMESTAMP_MICROS", "TIMESTAMP_MILLIS"])
def test_parquet_written_by_spark_reads_as_the_export(spark, stamps, tmp_path):
    """A folder Spark wrote (part files, _SUCCESS; times as INT96, Spark's default, or as
    micro- or milliseconds): the same KPIs in DuckDB and Spark as the pandas engine on the
    export. Spark's INT96 times, which Arrow reads as nanoseconds, were taken for the
    nanosecond numbers pandas writes and divided by 1000: a traceback."""
    df = load_requests(SAMPLE).data
    export = spark.read.option("header", True).option("inferSchema", True).csv(str(SAMPLE))
    assert dict(export.dtypes)["opened_at"] == "timestamp"  # typed by Spark, not text
    spark.conf.set("spark.sql.parquet.outputTimestampType", stamps)
    try:
        export.write.parquet(str(tmp_path / "out"))
    finally:
        spark.conf.unset("spark.sql.parquet.outputTimestampType")
    assert (tmp_path / "out" / "_SUCCESS").exists()
    for engine in ("duckdb", "spark"):
        rel = open_source(tmp_path / "out", engine=engine)
        assert rel.counts().rows_kept == len(df)
        assert_same(K.kpi_table(df, H1), rel.kpi_table(H1))
        rel.close()


@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_nan_in_a_float_column_is_missing_as_pandas_reads_it(engine, tmp_path, request):
    """A Parquet file or a table written by another tool than pandas holds NaN where pandas
    writes a null (DuckDB, Spark, Arrow; PostgreSQL's 'NaN'). pandas reads it as missing;
    in SQL NaN is a value greater than any number, so a score of NaN was out of range:
    DuckDB kept 11,612 of the sample's 40,000 requests (received 2,901 where pandas counts
    9,980), and a NaN id was the id 'nan'. The KPIs and the counts are now pandas' on the
    same file in every engine."""
    import duckdb

    path = tmp_path / "nan.parquet"
    duckdb.sql(
        "COPY (SELECT * REPLACE (coalesce(TRY_CAST(csat AS DOUBLE), 'NaN'::DOUBLE) AS csat, "
        "CASE WHEN csat = '' OR csat IS NULL THEN 'NaN'::DOUBLE ELSE TRY_CAST(reopen_count "
        "AS DOUBLE) END AS reopen_count, CASE WHEN row_number() OVER () % 50 = 0 THEN "
        "'NaN'::DOUBLE ELSE row_number() OVER () END AS request_id) "
        f"FROM read_csv('{SAMPLE}', all_varchar=true)) TO '{path}'"
    )
    res = load_requests(path, quarantine_dir=None)
    assert res.rows_quarantined == 800 and res.data["csat"].isna().sum() > 20_000
    if engine == "postgres":
        import psycopg

        url = request.getfixturevalue("postgres_url")
        raw = pd.read_parquet(path)
        load_typed_into_postgres(url, "nan_case", raw)  # NaN goes in as NULL: put it back
        with psycopg.connect(url, autocommit=True) as con:
            for c in ("csat", "reopen_count", "request_id"):
                con.execute(f"UPDATE nan_case SET {c} = 'NaN' WHERE {c} IS NULL")
        rel = open_source(url, engine="postgres", query="nan_case")
    else:
        if engine == "spark":
            request.getfixturevalue("spark")
        rel = open_source(path, engine=engine)
    with rel:
        counts = rel.counts()
        assert (counts.rows_kept, counts.rows_quarantined) == (res.rows_kept, 800)
        assert_same(K.kpi_table(res.data, H1), rel.kpi_table(H1))


#: A notebook's own settings, none of them csi's (SPARK_CONF); naive timestamps by default
#: made every csi query fail ("unix_micros(CAST(closed_at AS TIMESTAMP_NTZ))")
NOTEBOOK = {"spark.sql.session.timeZone": "America/New_York", "spark.sql.ansi.enabled": "true",
            "spark.sql.timestampType": "TIMESTAMP_NTZ"}  # fmt: skip
#: settings csi needs that the notebook's session has never set
UNSET = ("spark.sql.legacy.timeParserPolicy", "spark.sql.legacy.parquet.nanosAsLong",
         "spark.sql.mapKeyDedupPolicy")  # fmt: skip


def test_spark_leaves_a_notebooks_session_as_it_found_it(spark, tmp_path):
    """A notebook's session (New York time, ANSI on, a temporary view of the requests):
    csi computes in it with its own settings (the KPIs are pandas' on the export) and
    leaves its settings, the answer of its own query on local dates and its views as they
    were. Before, the session kept UTC and ANSI off: the notebook's count of July's
    requests changed from 1,671 to 1,672, and csi's cached views stayed."""
    import ibis

    from csi_lib.engines import spark_session
    from csi_lib.engines.rows import load_rows
    from csi_lib.engines.spark import needed

    user = spark.newSession()  # its own settings and views, Spark's context shared
    for key, value in {**SMALL_TABLES, **NOTEBOOK}.items():
        user.conf.set(key, value)
    for key in UNSET:
        user.conf.unset(key)
    spark.read.option("header", True).option("inferSchema", True).csv(str(SAMPLE)).write.parquet(
        str(tmp_path / "export")
    )
    user.read.parquet(str(tmp_path / "export")).createOrReplaceTempView("requests")

    def settings():
        return {k: user.conf.get(k, None) for k in needed()}

    def views():
        # SHOW TABLES: catalog.listTables() decodes its rows by generated code, off here
        return sorted(r.tableName for r in user.sql("SHOW TABLES").collect() if r.isTemporary)

    july = ("SELECT count(*) FROM requests WHERE opened_at >= TIMESTAMP '2025-07-01 00:00:00'"
            " AND opened_at < TIMESTAMP '2025-08-01 00:00:00'")  # fmt: skip
    before, count = settings(), user.sql(july).collect()[0][0]
    assert before["spark.sql.session.timeZone"] == "America/New_York"
    df = load_requests(SAMPLE).data
    with open_source("requests", engine="spark", spark=user) as rel:
        assert rel.counts().rows_kept == len(df)
        assert_same(K.kpi_table(df, H1), rel.kpi_table(H1))
        assert settings() == before  # between csi's queries too
        # csi's settings while its query runs: a cast that fails gives NULL, not an error
        t = rel.table
        assert rel.execute(t.select(v=ibis.literal("x").cast("int64")).limit(1))["v"].isna().all()
        made = [v for v in views() if v.startswith("csi_")]
        assert made and all(user.catalog.isCached(v) for v in made if "view" in v)
    assert settings() == before and views() == ["requests"]
    assert user.sql(july).collect()[0][0] == count
    with pytest.raises(Exception, match="CAST_INVALID_INPUT"):  # the notebook's ANSI mode
        user.sql("SELECT CAST('x' AS INT)").collect()
    res = load_rows("requests", spark=user)
    assert res.rows_kept == len(df) and settings() == before and views() == ["requests"]
    assert spark_session() is not None and spark.conf.get("spark.sql.session.timeZone") == "UTC"


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.slow)])
def test_a_partitioned_parquet_dataset_is_read_with_its_partition_column(engine, tmp_path, request):
    """A dataset partitioned into group=... folders (values escaped in the names, a
    missing one as __HIVE_DEFAULT_PARTITION__): every file read, the partition column
    a column again, so the breakdown by group is pandas' on the same rows. The auto
    engine of a Parquet folder is DuckDB (the pandas engine reads no folder)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if engine == "spark":
        request.getfixturevalue("spark")
    text = read_table(SAMPLE, ReadOptions(na_values=[""])).frame.iloc[::4].reset_index(drop=True)
    text.loc[text.index % 7 == 0, "group"] = None
    text.to_csv(tmp_path / "rows.csv", index=False)
    pq.write_to_dataset(pa.Table.from_pandas(text, preserve_index=False),
                        str(tmp_path / "dataset"), partition_cols=["group"])  # fmt: skip
    names = sorted(p.name for p in (tmp_path / "dataset").iterdir())
    assert "group=Identity%20%26%20Access" in names and "group=__HIVE_DEFAULT_PARTITION__" in names
    assert choose_engine(tmp_path / "dataset") == "duckdb"
    df = load_requests(tmp_path / "rows.csv").data
    rel = open_source(tmp_path / "dataset", engine=engine)
    assert rel.counts().rows_kept == len(df)
    assert_same(K.breakdown(df, H1, by="group", min_group_size=1),
                rel.breakdown(H1, by="group", min_group_size=1))  # fmt: skip
    rel.close()


def test_temporary_views_never_reuse_a_name():
    """Sealed views were named after id() of a View object; a freed object's id comes back,
    so a view could be created under the name of the view its own SQL reads (DuckDB:
    "infinite recursion detected", seen once in a run of the suite on a file with repeated
    ids, sealed twice). Names now come from a counter of the process."""
    from csi_lib.engines.view import fresh_name

    names = [fresh_name("view") for _ in range(1000)]
    assert len(set(names)) == len(names)
    for _ in range(25):  # repeated ids: the view is sealed, collapsed and sealed again
        rel = open_source(CORPUS / "duplicate_ids.csv", engine="duckdb")
        assert rel.counts().rows_kept == 4
        rel.close()
