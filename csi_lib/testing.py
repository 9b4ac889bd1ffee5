"""Helpers that build canonical request frames, for tests, examples and benchmarks.

:func:`make_requests` turns a few hand-written rows into a frame with exactly
the dtypes of the canonical frame (``docs/architecture.md``), so a test can
state its data in a readable table and work its expected values out by hand.
:func:`synthetic_requests` generates a large realistic frame with numpy
(vectorised), for benchmarks and smoke tests.

Examples
--------
>>> from csi_lib.testing import make_requests
>>> df = make_requests([
...     {"opened_at": "2025-01-02 09:00", "closed_at": "2025-01-03 09:00", "outcome": "fulfilled"},
...     {"opened_at": "2025-01-05 10:00"},
... ])
>>> df["outcome"].tolist()
['fulfilled', 'open']
>>> str(df["opened_at"].dtype)
'datetime64[ns, UTC]'
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .schema import CANONICAL_COLUMNS, OUTCOMES

_DATETIME = "datetime64[ns, UTC]"


def _to_utc(values: pd.Series) -> pd.Series:
    """Parse timestamps; naive ones are UTC, aware ones (e.g. ``-05:00``) are converted to UTC."""
    stamps = []
    for v in values:
        if v is None or v is pd.NaT:
            stamps.append(pd.NaT)
            continue
        t = pd.Timestamp(v)
        stamps.append(t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC"))
    return pd.Series(pd.DatetimeIndex(stamps, dtype=_DATETIME), index=values.index)


def make_requests(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Canonical request frame from a list of row dicts (missing keys are missing values).

    Defaults: ``request_id`` is ``R001``, ``R002``, ... in row order; ``outcome`` is
    ``"fulfilled"`` when ``closed_at`` is given and ``"open"`` otherwise. Datetimes may
    be strings or timestamps; naive ones are taken as UTC, aware ones converted to UTC.
    Keys that are not canonical columns are kept as extra ``category`` dimensions.
    Every canonical column is present with the dtype of ``docs/architecture.md``.

    Parameters
    ----------
    rows:
        One dict per request, keyed by canonical column name.

    Returns
    -------
    pandas.DataFrame
        The canonical frame (datetimes ``datetime64[ns, UTC]``, durations none).
    """
    raw = pd.DataFrame(list(rows))
    n = len(raw)
    out: dict[str, pd.Series] = {}
    index = pd.RangeIndex(n)
    for col in CANONICAL_COLUMNS:
        values = (
            raw[col.name].reset_index(drop=True)
            if col.name in raw
            else pd.Series([None] * n, index=index, dtype=object)
        )
        values = values.astype(object).where(values.notna(), None)
        if col.name == "request_id":
            ids = [f"R{i + 1:03d}" if v is None else str(v) for i, v in enumerate(values)]
            out[col.name] = pd.Series(ids, index=index, dtype="string")
        elif col.dtype == "datetime":
            out[col.name] = _to_utc(values)
        elif col.name == "outcome":
            closed = out["closed_at"]
            filled = [
                v if v is not None else ("open" if pd.isna(closed.iloc[i]) else "fulfilled")
                for i, v in enumerate(values)
            ]
            out[col.name] = pd.Series(
                pd.Categorical(filled, categories=list(OUTCOMES)), index=index
            )
        elif col.dtype == "category":
            out[col.name] = pd.Series(pd.Categorical(values.tolist()), index=index)
        else:
            out[col.name] = pd.Series(values.tolist(), index=index, dtype=object).astype(col.dtype)
    for extra in raw.columns:
        if extra not in out:
            values = raw[extra].reset_index(drop=True)
            out[extra] = pd.Series(
                pd.Categorical(values.astype(object).where(values.notna(), None).tolist()),
                index=index,
            )
    return pd.DataFrame(out, index=index)


def synthetic_requests(
    n: int,
    *,
    start: str = "2024-01-01",
    end: str = "2026-01-01",
    seed: int = 0,
) -> pd.DataFrame:
    """A realistic canonical frame of ``n`` requests opened uniformly in ``[start, end)``.

    Vectorised with numpy. Six categories, eight groups, three channels and four
    priorities with skewed frequencies; assessment times log-normal (median about
    3 hours), fulfilment times log-normal (median about 30 hours, long tail);
    85 % fulfilled, 8 % declined, 7 % cancelled; requests whose closing time falls
    after ``end`` are still open. SLA by priority (8, 24, 72, 120 hours), a survey
    answered by about 30 % of closed requests, a few reopened requests.

    Parameters
    ----------
    n:
        Number of requests.
    start, end:
        Opening window (UTC dates); ``end`` is also the "as of" instant of the data.
    seed:
        Seed of the random generator (same seed, same frame).

    Examples
    --------
    >>> df = synthetic_requests(1000, seed=1)
    >>> len(df), df["request_id"].is_unique
    (1000, True)
    """
    rng = np.random.default_rng(seed)  # the steps below draw from it in this order
    t0 = pd.Timestamp(start, tz="UTC").as_unit("ns").value
    t1 = pd.Timestamp(end, tz="UTC").as_unit("ns").value
    opened = rng.integers(t0 // _SEC, t1 // _SEC, size=n) * _SEC
    opened.sort()
    dims = _synthetic_dimensions(rng, n)
    outcome, assessed, closed, is_open = _synthetic_life(rng, opened, dims["category"], t1)
    sla_due = opened + np.array([8, 24, 72, 120])[dims["priority"].codes] * _HOUR
    sla_met = pd.array(closed <= sla_due, dtype="boolean")
    sla_met[is_open] = pd.NA
    answered = (~is_open) & (rng.random(n) < 0.3)
    score = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], size=n, p=[0.05, 0.07, 0.13, 0.35, 0.40])
    reopen = pd.array(rng.poisson(0.05, size=n), dtype="Int64")
    reopen[is_open] = pd.NA

    def ts(values: np.ndarray) -> pd.DatetimeIndex:
        return pd.to_datetime(values.view("datetime64[ns]"), utc=True)

    ids = pd.array(np.char.add("REQ", np.arange(1, n + 1).astype("U12")), dtype="string")
    return pd.DataFrame(
        {
            "request_id": ids,
            "opened_at": ts(opened),
            "assessed_at": ts(assessed),
            "closed_at": ts(closed),
            "outcome": outcome,
            "category": dims["category"],
            "channel": dims["channel"],
            "priority": dims["priority"],
            "group": dims["group"],
            "sla_due_at": ts(sla_due),
            "sla_met": sla_met,
            "csat": np.where(answered, score, np.nan),
            "reopen_count": reopen,
        }
    )


_SEC = 1_000_000_000  # nanoseconds
_HOUR = 3600 * _SEC


def _synthetic_dimensions(rng: np.random.Generator, n: int) -> dict[str, pd.Categorical]:
    """Category, group, channel and priority of ``n`` requests, skewed frequencies."""

    def cat(labels: list[str], p: list[float]) -> pd.Categorical:
        codes = rng.choice(len(labels), size=n, p=np.array(p) / np.sum(p)).astype(np.int8)
        return pd.Categorical.from_codes(codes, categories=labels)

    return {
        "category": cat(
            ["Laptop", "Access", "Software", "Mobile", "Peripheral", "Other"],
            [30, 25, 20, 10, 10, 5],
        ),
        "group": cat([f"Team {c}" for c in "ABCDEFGH"], [20, 18, 15, 12, 10, 10, 8, 7]),
        "channel": cat(["portal", "email", "phone"], [60, 25, 15]),
        "priority": cat(["P1", "P2", "P3", "P4"], [5, 20, 50, 25]),
    }


def _synthetic_life(
    rng: np.random.Generator, opened: np.ndarray, category: pd.Categorical, t1: int
) -> tuple[pd.Categorical, np.ndarray, np.ndarray, np.ndarray]:
    """Outcome, assessed and closed times (ns, NaT after ``t1``) and the open mask:
    log-normal fulfilment by category (median about 30 h) and assessment (about 3 h)."""
    n = len(opened)
    outcome_code = rng.choice(3, size=n, p=[0.85, 0.08, 0.07])
    cat_factor = np.array([1.5, 0.4, 1.0, 1.2, 0.8, 2.0])[category.codes]
    fulfil_h = rng.lognormal(np.log(30.0), 1.1, size=n) * cat_factor
    fulfil_h = np.where(outcome_code == 0, fulfil_h, fulfil_h * 0.3)
    closed = opened + (fulfil_h * _HOUR).astype(np.int64) // _SEC * _SEC
    assess_h = np.minimum(rng.lognormal(np.log(3.0), 1.0, size=n), 0.5 * fulfil_h)
    assessed = opened + (assess_h * _HOUR).astype(np.int64) // _SEC * _SEC
    nat = np.iinfo(np.int64).min
    is_open = closed >= t1
    closed = np.where(is_open, nat, closed)
    assessed = np.where(assessed >= t1, nat, assessed)
    outcome = pd.Categorical.from_codes(
        np.where(is_open, 3, outcome_code).astype(np.int8), categories=list(OUTCOMES)
    )
    return outcome, assessed, closed, is_open


@contextlib.contextmanager
def local_webhook(status: int = 200) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on 127.0.0.1 (a free port) for tests: yields its URL and what it got.

    Each POST is recorded as ``{"path", "type", "body"}`` (the JSON body
    decoded) and answered with ``status``. The URL has a secret-looking path,
    as a chat tool's incoming webhook does.

    Examples
    --------
    >>> import json, urllib.request
    >>> with local_webhook() as (url, received):
    ...     request = urllib.request.Request(url, data=b'{"text": "hi"}', method="POST",
    ...                                      headers={"Content-Type": "application/json"})
    ...     urllib.request.urlopen(request).status
    200
    >>> received[0]["body"]
    {'text': 'hi'}
    """
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            length = int(self.headers["Content-Length"])
            received.append(
                {
                    "path": self.path,
                    "type": self.headers["Content-Type"],
                    "body": json.loads(self.rfile.read(length)),
                }
            )
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000/s3cret", received
    finally:
        server.shutdown()
        server.server_close()
