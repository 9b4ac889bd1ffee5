"""Shared by the engine tests: the servers (started by scripts/services.sh), putting a source
into an engine the way a user's data would be there, and comparing with the pandas engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "scripts" / "services.sh"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """In CI a service that cannot start fails the test with the reason; elsewhere it skips."""
    if IN_CI:
        pytest.fail(f"engine service not available in CI: {reason}")
    pytest.skip(reason)


def start_postgres(folder: Path) -> str:
    """A PostgreSQL server of Debian's package in ``folder`` (unix socket); its URL."""
    run = subprocess.run(["bash", str(SERVICES), "postgres-start", str(folder)],
                         capture_output=True, text=True, timeout=180)  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(run.stderr.strip() or run.stdout.strip())
    return run.stdout.strip().splitlines()[-1]


def stop_postgres(folder: Path) -> None:
    subprocess.run(["bash", str(SERVICES), "postgres-stop", str(folder)], capture_output=True,
                   timeout=120, check=False)  # fmt: skip


def load_into_postgres(url: str, table: str, frame: pd.DataFrame) -> None:
    """``frame`` (the export's cells as text) as a table of text columns, written by the
    test as the database's owner; the engine then reads it over a read-only connection.

    PostgreSQL's text cannot hold a NUL byte (COPY refuses it), so a table loaded from an
    export never has one: NULs are dropped here, as any load into PostgreSQL must (the pandas
    engine drops them from a text export with a warning, so the rows compared are the same)."""
    import psycopg

    seen: dict[str, int] = {}
    names = []
    # a repeated header: a table has unique column names
    for c in (str(c).replace("\x00", "") for c in frame.columns):
        seen[c] = seen.get(c, 0) + 1
        names.append(c if seen[c] == 1 else f"{c} ({seen[c]})")
    frame = frame.set_axis(names, axis=1)
    with psycopg.connect(url, autocommit=True) as con:
        cols = ", ".join('"' + str(c).replace('"', '""') + '" text' for c in frame.columns)
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
        con.execute(f'CREATE TABLE "{table}" ({cols})')
        with con.cursor().copy(f'COPY "{table}" FROM STDIN') as copy:
            for row in frame.itertuples(index=False):
                # a missing cell (None, NaN, NaT) is NULL, never the text 'NaT'
                copy.write_row([None if v is None or (not isinstance(v, str) and pd.isna(v))
                                else str(v).replace("\x00", "") for v in row])  # fmt: skip


def load_typed_into_postgres(url: str, table: str, df: pd.DataFrame) -> None:
    """A canonical frame as a typed table (timestamptz, double precision, bigint, boolean,
    text), as a warehouse holds requests."""
    import psycopg

    def sql_type(s: pd.Series) -> str:
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            return "timestamptz"
        if pd.api.types.is_bool_dtype(s.dtype):
            return "boolean"
        if pd.api.types.is_integer_dtype(s.dtype):
            return "bigint"
        if pd.api.types.is_float_dtype(s.dtype):
            return "double precision"
        return "text"

    types = {c: sql_type(df[c]) for c in df.columns}
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
        con.execute(
            f'CREATE TABLE "{table}" (' + ", ".join(f'"{c}" {t}' for c, t in types.items()) + ")"
        )
        with con.cursor().copy(f'COPY "{table}" FROM STDIN') as copy:
            for row in df.astype(object).itertuples(index=False):
                copy.write_row([None if v is None or v is pd.NA or (not isinstance(v, str) and pd.isna(v))
                                else v for v in row])  # fmt: skip


def assert_same(expected: pd.DataFrame, got: pd.DataFrame, *, tol: float = 1e-9) -> None:
    """Same rows (bins, groups, KPIs), values equal to ``tol`` (relative and absolute), same n."""
    keys = [c for c in expected.columns if c not in ("value", "n")]
    assert list(got.columns) == list(expected.columns)
    a = expected.astype({c: str for c in keys}).sort_values(keys).reset_index(drop=True)
    b = got.astype({c: str for c in keys}).sort_values(keys).reset_index(drop=True)
    assert a[keys].equals(b[keys]), (a[keys].head(), b[keys].head())
    close = np.isclose(a["value"].to_numpy(float), b["value"].to_numpy(float), rtol=tol,
                       atol=tol, equal_nan=True)  # fmt: skip
    same_n = a["n"].to_numpy() == b["n"].to_numpy()
    bad = ~(close & same_n)
    assert not bad.any(), pd.concat([a[bad], b[bad][["value", "n"]].add_suffix("_engine")], axis=1)
    assert expected.attrs.get("hidden_by_kpi") == got.attrs.get("hidden_by_kpi")


#: Spark settings for the tests' small tables (a few to a few thousand rows), where a query's
#: time is Spark's planning and code generation, not its work: no adaptive re-planning, one
#: shuffle partition, expressions interpreted instead of compiled. Measured on four corpus
#: files (open, counts, KPI table and series): 11.2-12.4 s with the engine's settings, 7.6 s
#: with these. A test marked ``spark_defaults`` (one end-to-end case each) keeps the
#: engine's own settings (:data:`csi_lib.engines.SPARK_CONF`), as a user's session has them.
SMALL_TABLES: dict[str, str] = {
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.shuffle.partitions": "1",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


def spark_or_unavailable(*, small_tables: bool = True):
    """The process's Spark session (Java 17 from scripts/services.sh), set for small tables
    (:data:`SMALL_TABLES`) or with the engine's own settings; or the test is reported
    unavailable with the reason (in CI, a failure)."""
    import shutil

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("no Java for Spark (scripts/services.sh install adds Java 17)")
    try:
        from csi_lib.engines import SPARK_CONF, spark_session

        session = spark_session()
    except Exception as exc:  # noqa: BLE001 - the reason is reported
        unavailable(f"Spark did not start: {exc}")
    for key, value in SMALL_TABLES.items():
        if small_tables:
            session.conf.set(key, value)
        elif key in SPARK_CONF:
            session.conf.set(key, SPARK_CONF[key])
        else:
            session.conf.unset(key)
    return session


def spark_for(request: pytest.FixtureRequest):
    """:func:`spark_or_unavailable` for the test asking: small tables unless it is marked
    ``spark_defaults``."""
    return spark_or_unavailable(
        small_tables=request.node.get_closest_marker("spark_defaults") is None
    )
