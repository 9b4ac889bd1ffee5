"""The observations of a KPI over a period, in the form its method takes
(:func:`observations_for`): per-request values, or for a count the counted requests
with the time of the counted event and of their opening."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .compare import method_kind
from .count import count_frame

#: The time of the event that puts a request in each population.
EVENT_TIME: dict[str, str] = {
    "received": "opened_at",
    "closed": "closed_at",
    "assessed": "assessed_at",
}


def observations_for(df: pd.DataFrame, period: Any, kpi: Any) -> pd.Series | pd.DataFrame:
    """What :func:`csi_lib.evidence.compare` takes for ``kpi`` over ``period``.

    Durations, scores and proportions: ``csi_lib.kpis.observations`` (one value per
    request). Counts: :func:`csi_lib.evidence.count_frame` of the requests in the KPI's
    population, weighted by the KPI's measure (1 counted, 0 not). Stocks and ratios
    (no two-sample method): an empty Series.
    """
    from .. import kpis as kpi_engine

    k = kpi_engine.get_kpi(kpi)
    method = method_kind(k.kind, k.population)
    if k.func is not None or method in ("stock", "ratio"):
        return pd.Series(dtype="float64")
    if not df.index.is_unique:
        df = df.reset_index(drop=True)
    obs = kpi_engine.observations(df, period, k)
    if method != "count":
        return obs
    column = EVENT_TIME[k.population]
    rows = df.loc[obs.index]
    return count_frame(rows[column], obs, rows["opened_at"])
