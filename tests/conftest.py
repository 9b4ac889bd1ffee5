"""Shared fixtures: canonical frames built by hand.

``make_requests`` (the function of :mod:`csi_lib.testing`) builds a canonical
frame with the exact dtypes of docs/architecture.md from a list of row dicts;
``ten_requests`` is the small frame whose KPIs tests/test_kpis.py works out by
hand; ``jan_2025`` is the period it is measured over.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from csi_lib.periods import Period
from csi_lib.testing import make_requests as _make_requests

#: The ten requests of ``ten_requests`` (times UTC). Period: January 2025.
#:
#: id   opened        assessed (h)      closed         outcome    sla    csat reopen cat group prio
#: R1   01-02 08:00   01-02 10:00 (2)   01-03 08:00    fulfilled  T      5    0      A   G1    P1
#: R2   01-03 09:00   01-03 13:00 (4)   01-05 09:00    fulfilled  F      3    1      A   G1
#: R3   01-05 00:00   01-05 06:00 (6)   01-06 00:00    declined   T      -    0      B   G1
#: R4   01-10 12:00   01-10 13:00 (1)   01-14 12:00    fulfilled  T      4    0      B   G1
#: R5   01-12 00:00   01-12 08:00 (8)   01-13 00:00    cancelled  -      -    -      A   G1
#: R6   01-20 00:00   01-20 10:00 (10)  -              open       -      -    -      B   G1    P1
#: R7   01-25 00:00   -                 -              open       -      -    -      A   G2    P1
#: R8   2024-12-20    2024-12-20 05:00  01-04 00:00    fulfilled  F      2    0      A   G2    P1
#: R9   01-28 00:00   01-28 03:00 (3)   02-02 00:00    fulfilled  T      5    0      B   G2
#: R10  2024-12-28    01-02 00:00 (120) 01-10 00:00    fulfilled  -      -    2      B   G2
TEN_ROWS: list[dict] = [
    dict(opened_at="2025-01-02 08:00", assessed_at="2025-01-02 10:00", closed_at="2025-01-03 08:00",
         outcome="fulfilled", sla_met=True, csat=5.0, reopen_count=0, category="A", group="G1",
         priority="P1"),
    dict(opened_at="2025-01-03 09:00", assessed_at="2025-01-03 13:00", closed_at="2025-01-05 09:00",
         outcome="fulfilled", sla_met=False, csat=3.0, reopen_count=1, category="A", group="G1",
         priority="P2"),
    dict(opened_at="2025-01-05 00:00", assessed_at="2025-01-05 06:00", closed_at="2025-01-06 00:00",
         outcome="declined", sla_met=True, reopen_count=0, category="B", group="G1", priority="P2"),
    dict(opened_at="2025-01-10 12:00", assessed_at="2025-01-10 13:00", closed_at="2025-01-14 12:00",
         outcome="fulfilled", sla_met=True, csat=4.0, reopen_count=0, category="B", group="G1",
         priority="P3"),
    dict(opened_at="2025-01-12 00:00", assessed_at="2025-01-12 08:00", closed_at="2025-01-13 00:00",
         outcome="cancelled", category="A", group="G1", priority="P3"),
    dict(opened_at="2025-01-20 00:00", assessed_at="2025-01-20 10:00", outcome="open",
         category="B", group="G1", priority="P1"),
    dict(opened_at="2025-01-25 00:00", outcome="open", category="A", group="G2", priority="P1"),
    dict(opened_at="2024-12-20 00:00", assessed_at="2024-12-20 05:00", closed_at="2025-01-04 00:00",
         outcome="fulfilled", sla_met=False, csat=2.0, reopen_count=0, category="A", group="G2",
         priority="P1"),
    dict(opened_at="2025-01-28 00:00", assessed_at="2025-01-28 03:00", closed_at="2025-02-02 00:00",
         outcome="fulfilled", sla_met=True, csat=5.0, reopen_count=0, category="B", group="G2",
         priority="P4"),
    dict(opened_at="2024-12-28 00:00", assessed_at="2025-01-02 00:00", closed_at="2025-01-10 00:00",
         outcome="fulfilled", reopen_count=2, category="B", group="G2", priority="P4"),
]  # fmt: skip


@pytest.fixture
def make_requests() -> Callable[[list[dict]], pd.DataFrame]:
    """The builder of canonical frames (see :func:`csi_lib.testing.make_requests`)."""
    return _make_requests


@pytest.fixture
def ten_requests() -> pd.DataFrame:
    """The ten hand-worked requests of :data:`TEN_ROWS`, as a canonical frame."""
    return _make_requests(TEN_ROWS)


@pytest.fixture
def jan_2025() -> Period:
    """January 2025: [2025-01-01, 2025-02-01) UTC."""
    return Period.from_dates("2025-01-01", "2025-01-31")


@pytest.fixture
def load_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources loaded from now on: every call of the loader behind ``load_requests``
    (a stored or cached load is no call), in order."""
    from csi_lib.sources import loading

    real = loading._load
    calls: list[str] = []

    def counting(source, *args, **kwargs):
        calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(loading, "_load", counting)
    return calls


@pytest.fixture
def broken_stage() -> Callable[[object, str], None]:
    """Writes, into a new folder, a stage 1 notebook whose last cell runs ``code``
    (a stage that breaks: point ``CSI_NOTEBOOKS`` at the folder)."""

    def write(folder, code: str) -> None:
        import nbformat
        from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

        folder.mkdir()
        nb = new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        params = new_code_cell("cycle_dir = None  # x\noutput_dir = None  # x")
        params.metadata["tags"] = ["parameters"]
        nb.cells = [new_markdown_cell("# Broken"), params, new_code_cell(code)]
        nbformat.write(nb, str(folder / "01_where_are_we_now.ipynb"))

    return write


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server of this session (Debian's package, started by
    :func:`engines_support.start_postgres` in a folder of its own), its URL; skipped, or
    failed under CI, where it cannot start."""
    from engines_support import start_postgres, stop_postgres, unavailable

    folder = Path(tempfile.mkdtemp(prefix="csi-pg-"))
    try:
        url = start_postgres(folder)
    except Exception as exc:  # noqa: BLE001 - the reason is reported
        shutil.rmtree(folder, ignore_errors=True)
        unavailable(f"PostgreSQL did not start: {exc}")
    yield url
    stop_postgres(folder)
    shutil.rmtree(folder, ignore_errors=True)
