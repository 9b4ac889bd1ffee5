"""Writing the next cycle into a new folder beside the old one, and the report copy of the proposal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .. import cycle as cycle_mod
from ..errors import ConfigError, OutputError
from ..storage import atomic_folder, atomic_write
from .proposal import NextCycle, propose_next
from .render import texts


def _refuse_existing(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OutputError(
            "the folder of the next cycle exists already and is not empty",
            file=str(directory),
            hint="choose another --id or --out; nothing was changed",
        )


def write_next(
    nxt: NextCycle, directory: str | Path, *, snapshot: bool = True, shared: bool = False
) -> Path:
    """Write the next cycle into ``directory`` (must not exist or be empty), with its baseline.

    Everything is written into a temporary folder beside ``directory`` and
    renamed at the end, so a failure leaves nothing half-written. The old
    cycle's folder is only read.

    Parameters
    ----------
    nxt:
        From :func:`propose_next`.
    directory:
        The new cycle folder.
    snapshot:
        Take the new baseline snapshot (the old review period) into ``baseline/``.
    shared:
        The folder is shared (a report's): a password of the data source is not written.

    Returns
    -------
    Path
        The new cycle folder.
    """
    directory = Path(directory)
    if nxt.provisional:
        raise ConfigError(
            "the next cycle is a provisional preview: the review period of "
            f"{nxt.previous} is not over, so it is not written",
            column="review",
            hint=f"write it after {nxt.config.review.to} (or with a later as_of)",
        )
    _refuse_existing(directory)
    if directory.resolve() == nxt.old_dir.resolve():
        raise OutputError("the next cycle cannot replace the old one", file=str(directory))
    with atomic_folder(directory) as tmp:  # whole or absent
        for name, content in texts(nxt, directory, shared=shared).items():
            atomic_write(tmp / name, content)
        if snapshot:
            _snapshot(nxt).save(tmp / "baseline")
    return directory


def save_for_report(nxt: NextCycle, output_dir: str | Path | None) -> str:
    """Stage 6 in a report: write the next cycle to ``output_dir/next-cycle/`` when it is final.

    Nothing is written for a provisional preview, nor without ``output_dir``.

    Returns
    -------
    str
        One markdown sentence saying what was written, or why nothing was.
    """
    if nxt.provisional:
        return (
            "Nothing is written: this is a provisional preview. The next cycle is written "
            f"with the first report after {nxt.config.review.to}, when the review period is over."
        )
    if not output_dir:
        return "Nothing is written: no report folder was given."
    folder = write_next(nxt, Path(output_dir) / "next-cycle", shared=True)
    return f"The next cycle **{nxt.id}** was written to the report's folder `{folder.name}/`."


def _snapshot(nxt: NextCycle) -> Any:
    from ..baseline import create_snapshot

    load = nxt.review.cycle.load
    return create_snapshot(
        load.data,
        nxt.baseline_period,
        source=str(load.source),
        fingerprint=load.fingerprint,
        mapping=load.mapping.model_dump(mode="json"),
        rows={"read": load.rows_read, "kept": load.rows_kept, "quarantined": load.rows_quarantined},
        min_group_size=nxt.config.min_group_size,
    )


def _open_read_only(cycle_dir: str | Path, **kwargs: Any) -> Any:
    """Open a cycle whose load writes nothing anywhere (no quarantine file)."""
    return cycle_mod.open_cycle(cycle_dir, **{**kwargs, "quarantine_dir": None})


def next_cycle(
    cycle_dir: str | Path,
    *,
    id: str,  # noqa: A002 - the YAML key is "id"
    out: str | Path | None = None,
    title: str | None = None,
    as_of: str | dt.date | None = None,
) -> Path:
    """Create the next cycle of ``cycle_dir`` in ``out/<id>`` (default: beside the old folder).

    The old folder is left byte for byte unchanged (its data is loaded
    without writing a quarantine file there).

    Raises
    ------
    OutputError
        The new folder exists and is not empty.
    ConfigError
        The old cycle has problems, or its review period is not over as of ``as_of``.

    Examples
    --------
    ``next_cycle("cycles/2025-h2", id="2026-h1")`` returns ``PosixPath('cycles/2026-h1')``
    (see the module's example). A folder that holds something is refused before anything
    is read:

    >>> (tmp / "2026-h1").mkdir()
    >>> _ = (tmp / "2026-h1" / "notes.md").write_text("ours")
    >>> next_cycle(sample_cycle, id="2026-h1", out=tmp)
    Traceback (most recent call last):
    ...
    csi_lib.errors.OutputError: file '.../2026-h1': the folder of the next cycle exists already
    and is not empty. Choose another --id or --out; nothing was changed.
    """
    cycle_dir = Path(cycle_dir)
    directory = Path(out if out is not None else cycle_dir.resolve().parent) / id
    _refuse_existing(directory)
    cycle = _open_read_only(cycle_dir, as_of=as_of)
    return write_next(propose_next(cycle, id=id, title=title), directory)


# --------------------------------------------------------------------------- history
