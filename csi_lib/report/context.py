"""What a report run is about: its cycle, title, data source and provenance lines.

:func:`_context` settles them once, before anything runs (a missing file or a
database URL without its query exits 2 at once); :func:`_notebook_source` turns
the source into the stage notebooks' parameters without ever writing a database
URL (nor its password) into a notebook.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from .. import __version__, shipped
from ..errors import ConfigError, CsiError
from ..sources import ENV_SOURCE, redact_url
from ..storage import sha256_file

#: Sample data used when no data or cycle is given.
SAMPLE_DATA = shipped.SAMPLE_DATA


def _absolute(path: str | None) -> str | None:
    """A file path made absolute from the current directory; URLs and None unchanged.

    Examples
    --------
    >>> import os
    >>> _absolute("data/x.csv") == os.path.join(os.getcwd(), "data", "x.csv")
    True
    >>> _absolute("postgresql://host/db"), _absolute(None)
    ('postgresql://host/db', None)
    """
    if path is None or "://" in path:
        return path
    return str(Path(path).expanduser().absolute())


def _check_database_source(data: str | None, query: str | None, cycle_dir: Path | None) -> None:
    """A ``--data`` database URL needs its query, and is for a report without a cycle."""
    if data is None or "://" not in data:
        return
    if not query:
        raise ConfigError(
            "a database URL needs the query to run",
            file=redact_url(data),
            hint="add --query with a SELECT statement or a table name",
        )
    if cycle_dir is not None:
        raise ConfigError(
            "--data with a database URL is for a report without a cycle",
            file=redact_url(data),
            hint="give the database in cycle.yaml instead (data.source and data.query)",
        )


def _cycle_context(
    cycle_dir: Path,
    data: str | None,
    preset: str | None,
    mapping: str | None,
    query: str | None,
) -> dict[str, Any]:
    """A cycle's id, title and periods; its own data source unless ``data`` is given."""
    from ..cycle import load_config

    cfg = load_config(cycle_dir)
    ctx: dict[str, Any] = {
        "cycle_id": cfg.id,
        "title": cfg.title or cfg.id,
        "data": data,
        "query": query,
        "sheet": None,
        "own_source": False,  # the cycle's own data: the notebooks read it from cycle.yaml
        "preset": preset,
        "mapping": mapping,
    }
    if data is None:
        own_source = cfg.data.is_url
        ctx.update(
            own_source=own_source,
            data=cfg.data.source if own_source else str((cycle_dir / cfg.data.source).resolve()),
            query=cfg.data.query,
            sheet=cfg.data.sheet,
            preset=preset or cfg.data.preset,
            mapping=mapping
            or (str((cycle_dir / cfg.data.mapping).resolve()) if cfg.data.mapping else None),
        )
    ctx["periods"] = [
        (f"{name.capitalize()} period", f"{p.from_} to {p.to}")
        for name in ("baseline", "action", "review")
        if (p := getattr(cfg, name, None)) is not None
    ]
    return ctx


def _data_context(
    data: str | None,
    preset: str | None,
    mapping: str | None,
    query: str | None,
    date_from: str | None,
    date_to: str | None,
) -> dict[str, Any]:
    """A report without a cycle: "Where are we now?" on ``data`` (default: the sample)."""
    data = data or str(SAMPLE_DATA)
    periods = []
    if date_from or date_to:
        periods.append(("Period", f"{date_from or 'start of data'} to {date_to or 'end of data'}"))
    return {
        "cycle_id": Path(data).name.split(".")[0] or "report",
        "title": f"Where are we now? {Path(data).name}",
        "data": data,
        "query": query,
        "sheet": None,
        "own_source": False,
        "preset": preset if (preset or mapping) else "generic",
        "mapping": mapping,
        "periods": periods,
    }


def _fingerprint(data: str) -> str:
    """``sha256:...`` of a data file (exit 2 if it does not exist); SQL sources have none."""
    if "://" in data:
        return "n/a (SQL source)"
    path = Path(data)
    if not path.exists():
        raise CsiError("the data file does not exist", file=data, hint="check the path or --data")
    return "sha256:" + sha256_file(path)


def _context(
    cycle_dir: Path | None,
    data: str | None,
    preset: str | None,
    mapping: str | None,
    date_from: str | None,
    date_to: str | None,
    query: str | None = None,
) -> dict[str, Any]:
    """Cycle id, title, data source and provenance lines for every page."""
    _check_database_source(data, query, cycle_dir)
    if cycle_dir is not None:
        ctx = _cycle_context(cycle_dir, data, preset, mapping, query)
    else:
        ctx = _data_context(data, preset, mapping, query, date_from, date_to)
    data, mapping = ctx["data"], ctx["mapping"]
    fingerprint = _fingerprint(data)
    ctx["provenance"] = [
        ("Data", redact_url(data) if "://" in data else Path(data).name),
        ("Data fingerprint", fingerprint),
        ("Mapping", Path(mapping).name if mapping else f"preset {ctx['preset']}"),
        *ctx.pop("periods"),
        ("csi-workbook", __version__),
    ]
    if mapping:
        ctx["preset"] = None
    return ctx


def _notebook_source(ctx: dict[str, Any]) -> dict[str, Any]:
    """The notebooks' data parameters, never holding a database URL (nor its password):
    the cycle's own database is read from cycle.yaml, a ``--data`` URL from an
    environment variable of this run (``env:NAME``, see :func:`sources.load_requests`;
    the kernels inherit it). :func:`_forget_source` removes the variable."""
    data = ctx["data"]
    if "://" not in data:
        return {"data_path": data, "preset": ctx["preset"], "mapping": ctx["mapping"]}
    if ctx["own_source"]:
        return {"data_path": None, "preset": None, "mapping": None}
    name = f"CSI_REPORT_SOURCE_{os.getpid()}_{secrets.token_hex(4)}"
    os.environ[name] = data
    return {
        "data_path": ENV_SOURCE + name,
        "preset": ctx["preset"],
        "mapping": ctx["mapping"],
        "query": ctx["query"],
    }


def _forget_source(params: dict[str, Any]) -> None:
    data = params.get("data_path") or ""
    if data.startswith(ENV_SOURCE):
        os.environ.pop(data.removeprefix(ENV_SOURCE), None)
