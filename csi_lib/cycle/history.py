"""Every cycle of a workspace side by side: baseline, target and achieved value per KPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..vision import target_links
from .check import _check
from .config import load_config

# --------------------------------------------------------------------------- history


_HISTORY_COLUMNS = [
    "id",
    "title",
    "baseline_from",
    "baseline_to",
    "action_from",
    "action_to",
    "review_from",
    "review_to",
    "targets",
    "initiatives",
    "has_baseline",
    "dir",
    "problem",
]


def cycle_history(workspace_dir: str | Path) -> pd.DataFrame:
    """All cycle folders of a workspace (sub-folders holding a ``cycle.yaml``), oldest first.

    Returns
    -------
    pd.DataFrame
        One row per cycle: ``id``, ``title``, the inclusive dates of the three
        periods (``baseline_from`` .. ``review_to``), ``targets`` and
        ``initiatives`` (counts), ``has_baseline`` (a snapshot was saved),
        ``dir`` and ``problem`` (why the cycle could not be read, else empty).
    """
    workspace = Path(workspace_dir)
    if not workspace.is_dir():
        raise ConfigError(
            "the workspace folder does not exist", file=str(workspace), hint="check the path"
        )
    rows = []
    folders = [workspace] if (workspace / "cycle.yaml").exists() else []
    folders += sorted(p.parent for p in workspace.glob("*/cycle.yaml"))
    for folder in folders:
        row: dict[str, Any] = {"id": folder.name, "dir": str(folder), "problem": None}
        row["has_baseline"] = (folder / "baseline").is_dir()
        try:
            config = load_config(folder)
        except ConfigError as exc:
            row["problem"] = str(exc)
            rows.append(row)
            continue
        row.update(id=config.id, title=config.title)
        for name, r in config.ranges().items():
            row[f"{name}_from"], row[f"{name}_to"] = r.from_, r.to
        checked = _check(folder, check_data=False)
        row["targets"] = (
            len(target_links(checked.targets)) if checked.targets is not None else pd.NA
        )
        row["initiatives"] = len(checked.plan.initiatives) if checked.plan is not None else pd.NA
        if checked.problems:
            row["problem"] = f"{len(checked.problems)} problem(s); run 'csi cycle check'"
        rows.append(row)
    table = pd.DataFrame(rows, columns=_HISTORY_COLUMNS)
    for col in ("targets", "initiatives"):
        table[col] = table[col].astype("Int64")
    return table.sort_values("baseline_from", kind="stable", na_position="last").reset_index(
        drop=True
    )
