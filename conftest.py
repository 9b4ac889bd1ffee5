"""Names the docstring examples of csi_lib use (run by ``pytest --doctest-modules``)."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The checkout: examples run in it, so a relative path (``tests/fixtures/...``) means the same
#: wherever pytest is started.
ROOT = Path(__file__).resolve().parent
#: The sample cycle shipped in data/ (read-only for the examples).
SAMPLE_CYCLE = ROOT / "data" / "sample-cycle"


@functools.cache
def _sample():
    import csi_lib as csi

    return csi.load(csi.SAMPLE_DATA)


@functools.cache
def _cycle():
    import csi_lib as csi

    return _open_cycle(SAMPLE_CYCLE, as_of="2026-04-15")


@functools.cache
def _review():
    from csi_lib.review import assess

    return assess(_cycle())


def _open_cycle(cycle_dir, **kwargs):
    """:func:`csi_lib.cycle.open_cycle`, sharing the sample's requests between ``as_of`` dates.

    The cycle is opened for real; only its load (the sample's 40,000 requests, 1-2 s
    to read) is the one already read, cut at the cycle's as-of date, when it would be
    the same load.
    """
    import csi_lib as csi
    from csi_lib.cycle import open_cycle

    cycle = open_cycle(cycle_dir, **kwargs)
    run = cycle.run
    src = run.source
    same = (src.preset, src.mapping, src.query, run.quarantine_dir) == ("generic", None, None, None)
    if same and Path(src.location).resolve() == Path(csi.SAMPLE_DATA).resolve():
        run.use(_sample())
    return cycle


def _copy_sample_cycle(folder: Path) -> Path:
    """A writable copy of the sample cycle in ``folder``, its data file linked beside it."""
    cycle_dir = folder / "sample-cycle"
    shutil.copytree(SAMPLE_CYCLE, cycle_dir)
    data = SAMPLE_CYCLE.parent / "sample_requests.csv.gz"
    (folder / data.name).symlink_to(data)
    return cycle_dir


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, doctest_namespace: dict) -> Iterator[None]:
    """Names for docstring examples.

    ``csi``; ``res`` (the sample's LoadResult) and ``df`` (its frame); ``period`` and
    ``baseline`` (2025 H1, the sample cycle's baseline); ``sample_cycle`` (the folder
    data/sample-cycle, read-only); ``cycle`` (the sample cycle as of 2026-04-15,
    read-only); ``rv`` (its review, ``csi_lib.review.assess(cycle)``); ``target`` (its
    first target); ``open_cycle`` (:func:`csi_lib.cycle.open_cycle`, reusing the sample's
    loaded requests); ``tmp`` (an empty folder); ``cycle_dir`` (a writable copy of the
    sample cycle in ``tmp``, made only for the examples that name it). Examples run in the
    checkout (a relative path is taken from there).

    A KPI an example registers, and environment variables it sets, are undone after it,
    so no other example (or test) sees them.
    """
    if type(request.node).__name__ != "DoctestItem":
        yield
        return
    import csi_lib as csi
    from csi_lib.kpis import REGISTRY
    from csi_lib.periods import Period

    h1 = Period.from_dates("2025-01-01", "2025-06-30")
    tmp = request.getfixturevalue("tmp_path")
    request.getfixturevalue("monkeypatch").chdir(ROOT)
    doctest_namespace.update(
        csi=csi,
        res=_sample(),
        df=_sample().data,
        period=h1,
        baseline=h1,
        sample_cycle=SAMPLE_CYCLE,
        cycle=_cycle(),
        rv=_review(),
        target=_cycle().targets.targets[0],
        open_cycle=_open_cycle,
        tmp=tmp,
    )
    doctest_namespace.pop("cycle_dir", None)
    if "cycle_dir" in (request.node.dtest.docstring or ""):
        doctest_namespace["cycle_dir"] = _copy_sample_cycle(tmp)
    registered, environ = dict(REGISTRY), dict(os.environ)
    yield
    REGISTRY.clear()
    REGISTRY.update(registered)
    for name in set(os.environ) - set(environ):
        del os.environ[name]
    os.environ.update({k: v for k, v in environ.items() if os.environ.get(k) != v})
