"""Names the docstring examples of csi_lib use (run by ``pytest --doctest-modules``)."""

from __future__ import annotations

import functools

import pytest


@functools.cache
def _sample():
    import csi_lib as csi

    return csi.load(csi.SAMPLE_DATA)


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, doctest_namespace: dict) -> None:
    """``csi``, ``res`` (the sample's LoadResult), ``df`` (its frame), ``period`` (2025 H1)."""
    if type(request.node).__name__ != "DoctestItem":
        return
    import csi_lib as csi
    from csi_lib.periods import Period

    doctest_namespace.update(
        csi=csi,
        res=_sample(),
        df=_sample().data,
        period=Period.from_dates("2025-01-01", "2025-06-30"),
    )
