"""What ships beside the library: the stage notebooks, the sample cycle and its data.

In a checkout of the repository (and in its editable install, ``make setup``) these
are the repository's own ``notebooks/`` and ``data/`` folders. A wheel carries the
same files, with the same layout, under ``csi_lib/_shipped/`` (``setup.py`` maps
those two folders into the package when the wheel is built: the repository holds
one copy of every notebook). :data:`ROOT` is whichever of the two exists, so the
notebooks' default ``cycle_dir = "../data/sample-cycle"`` means the same in both.

``$CSI_NOTEBOOKS`` names another folder of stage notebooks (a team's own versions);
:func:`csi_lib.report.stages.notebooks_dir` reads it. :func:`copy_sample_cycle`
(``csi cycle sample DIR``) copies the sample cycle and its data into a folder of the
user's, where a report, a workshop or an edit may write.

Examples
--------
>>> NOTEBOOKS.name, SAMPLE_CYCLE.relative_to(ROOT).as_posix(), SAMPLE_DATA.name
('notebooks', 'data/sample-cycle', 'sample_requests.csv.gz')
>>> (SAMPLE_CYCLE / "cycle.yaml").is_file() and (NOTEBOOKS / "05_did_we_get_there.ipynb").is_file()
True
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = [
    "BUNDLED",
    "DATA",
    "NOTEBOOKS",
    "ROOT",
    "SAMPLE_CYCLE",
    "SAMPLE_DATA",
    "copy_sample_cycle",
    "installed",
]

_PACKAGE = Path(__file__).resolve().parent
#: Where a wheel puts the shipped files (absent in a checkout).
BUNDLED = _PACKAGE / "_shipped"
#: The folder holding ``notebooks/`` and ``data/``: the package's copy, else the checkout.
ROOT = BUNDLED if BUNDLED.is_dir() else _PACKAGE.parent
NOTEBOOKS = ROOT / "notebooks"
DATA = ROOT / "data"
#: The bundled sample export (40,000 synthetic requests, canonical columns).
SAMPLE_DATA = DATA / "sample_requests.csv.gz"
#: The bundled sample improvement cycle (its cycle.yaml reads ``../sample_requests.csv.gz``).
SAMPLE_CYCLE = DATA / "sample-cycle"


def installed() -> bool:
    """True when the library runs from an installed wheel, not from a checkout."""
    return ROOT == BUNDLED


def copy_sample_cycle(directory: str | Path) -> Path:
    """Copy the sample cycle and its data into ``directory`` (new, or empty): the
    cycle to ``directory/sample-cycle/`` and the data beside it, the layout its
    ``cycle.yaml`` reads (``../sample_requests.csv.gz``). Returns the cycle folder.

    The copy is made in a temporary folder beside ``directory`` and renamed into
    place: it is whole or absent, and nothing that exists is overwritten.

    Examples
    --------
    >>> cycle = copy_sample_cycle(tmp / "try-csi")
    >>> cycle.relative_to(tmp).as_posix(), sorted(p.name for p in cycle.parent.iterdir())
    ('try-csi/sample-cycle', ['sample-cycle', 'sample_requests.csv.gz'])
    >>> copy_sample_cycle(tmp / "try-csi")
    Traceback (most recent call last):
    ...
    csi_lib.errors.OutputError: file '.../try-csi': the folder is not empty. Choose a new folder
    (nothing in it was changed).
    """
    from .errors import OutputError
    from .storage import atomic_folder, explain_oserror

    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OutputError(
            "the folder is not empty" if directory.is_dir() else "a file of that name exists",
            file=str(directory),
            hint="choose a new folder (nothing in it was changed)",
        )
    try:
        with atomic_folder(directory) as tmp:
            # contents only, never the modes: an installed package may be read-only
            for source in [SAMPLE_DATA, SAMPLE_CYCLE, *sorted(SAMPLE_CYCLE.rglob("*"))]:
                target = tmp / source.relative_to(DATA)
                if source.is_dir():
                    target.mkdir()
                else:
                    shutil.copyfile(source, target)
    except OSError as exc:
        raise explain_oserror(exc, directory) from exc
    return directory / SAMPLE_CYCLE.name
