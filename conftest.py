"""Names the docstring examples of csi_lib use (run by ``pytest --doctest-modules``)."""

from __future__ import annotations

import functools

import pytest


@functools.cache
def _sample():
    import csi_lib as csi

    return csi.load(csi.SAMPLE_DATA)


@functools.cache
def _cycle():
    import csi_lib as csi

    return csi.open_cycle(csi.SAMPLE_DATA.parent / "sample-cycle", as_of="2026-04-15")


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, doctest_namespace: dict) -> None:
    """Names for docstring examples.

    ``csi``; ``res`` (the sample's LoadResult) and ``df`` (its frame); ``period`` and
    ``baseline`` (2025 H1, the sample cycle's baseline); ``cycle`` (the sample cycle as of
    2026-04-15, read-only); ``target`` (its first target); ``tmp`` (an empty folder).
    """
    if type(request.node).__name__ != "DoctestItem":
        return
    import csi_lib as csi
    from csi_lib.periods import Period

    h1 = Period.from_dates("2025-01-01", "2025-06-30")
    doctest_namespace.update(
        csi=csi,
        res=_sample(),
        df=_sample().data,
        period=h1,
        baseline=h1,
        cycle=_cycle(),
        target=_cycle().targets.targets[0],
        tmp=request.getfixturevalue("tmp_path"),
    )
