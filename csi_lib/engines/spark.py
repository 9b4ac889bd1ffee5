"""A Spark session csi computes in and leaves as it found it.

A notebook's or a cluster's session has its owner's settings and temporary views. csi's
queries need some settings of their own (:func:`needed`: times in UTC, a cast that fails
gives NULL, ...); :func:`spark_settings` gives them to the session while csi's own work runs
and puts the owner's back after it, so the owner's next query runs as it did before. The
temporary views csi makes are named (:func:`temp_view`) and dropped, their cache freed, when
the source is closed (:func:`drop_views`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

#: Ibis' own setting, made when it connects (a map's repeated key: the last one wins)
IBIS_CONF = {"spark.sql.mapKeyDedupPolicy": "LAST_WIN"}


def needed() -> dict[str, str]:
    """The runtime SQL settings csi's queries rely on in any session: those of
    :data:`csi_lib.engines.SPARK_CONF` but the number of shuffle partitions (a matter of
    speed, which the session's owner knows best), and Ibis' own (:data:`IBIS_CONF`).

    >>> needed()["spark.sql.session.timeZone"], "spark.sql.shuffle.partitions" in needed()
    ('UTC', False)
    """
    from . import SPARK_CONF

    out = {
        k: v
        for k, v in SPARK_CONF.items()
        if k.startswith("spark.sql.") and k != "spark.sql.shuffle.partitions"
    }
    return out | IBIS_CONF


@contextlib.contextmanager
def spark_settings(session: Any) -> Iterator[Any]:
    """``session`` with :func:`needed` while the block runs, its own settings after it
    (a setting the session did not have is unset again). Only what differs is set, so a
    block inside another, or csi's own session (started with them), changes nothing.
    ``session`` None: nothing is done (the DuckDB and PostgreSQL engines)."""
    if session is None:
        yield None
        return
    conf = session.conf
    wanted = needed()
    old = {k: conf.get(k, None) for k in wanted}
    changed = [k for k, v in wanted.items() if old[k] != v]
    for k in changed:
        _set(conf, k, wanted[k])
    try:
        yield session
    finally:
        for k in changed:
            with contextlib.suppress(Exception):  # put back whatever else goes wrong
                if old[k] is None:
                    conf.unset(k)
                else:
                    conf.set(k, old[k])


def _set(conf: Any, key: str, value: str) -> None:
    """Set ``key``; Ibis' own setting may be refused (Databricks' serverless compute
    allows few), as Ibis itself allows."""
    if key in IBIS_CONF:
        with contextlib.suppress(Exception):
            conf.set(key, value)
        return
    conf.set(key, value)


def temp_view(backend: Any, df: Any, kind: str) -> str:
    """Register the Spark DataFrame ``df`` as a temporary view of ``backend``'s session
    (private to it) under a name no other has had in the process; the name is kept for
    :func:`drop_views`."""
    from .view import fresh_name

    name = fresh_name(kind)
    df.createOrReplaceTempView(name)
    views = getattr(backend, "_csi_views", None)
    if views is None:
        views = backend._csi_views = []
    views.append(name)
    return name


def cached_view(backend: Any, expr: Any, kind: str) -> Any:
    """The Ibis expression ``expr`` computed once and kept in the session's memory: a
    cached temporary view of ``backend``'s session (:func:`temp_view`, private to it and
    dropped by :func:`drop_views`; nothing is written to the source), as an Ibis table."""
    df = backend._session.sql(backend.compile(expr)).cache()
    return backend.table(temp_view(backend, df, kind))


def drop_views(backend: Any) -> None:
    """Drop the temporary views csi made in ``backend``'s session (a cached one's memory
    is freed with it)."""
    views = getattr(backend, "_csi_views", None) or []
    catalog = backend._session.catalog
    while views:
        with contextlib.suppress(Exception):  # the session may be gone: nothing to free
            catalog.dropTempView(views.pop())
