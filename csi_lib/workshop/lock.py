"""One writer at a time: a lock two Voilà kernels take before they rewrite a file.

The lock file lives in the workshop's runtime folder (:func:`runtime_dir`), never
beside the file it guards: the cycle folder is left with nothing but its own
files. ``csi workshop`` makes a private runtime folder for its server
(``$CSI_WORKSHOP_RUNTIME``) and removes it when the server stops; in JupyterLab
the folder is ``csi-workshop-<uid>`` in the system's temporary folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import OutputError

_LOCK_TIMEOUT_S = 15
#: Environment variable: the runtime folder ``csi workshop`` made for its server.
ENV_RUNTIME = "CSI_WORKSHOP_RUNTIME"


def runtime_dir() -> Path:
    """The folder of the workshop's locks and shared room state (created, private).

    ``$CSI_WORKSHOP_RUNTIME`` when set (``csi workshop`` sets it and removes the
    folder at exit), else ``<temp>/csi-workshop-<uid>``.

    Examples
    --------
    >>> os.environ[ENV_RUNTIME] = str(tmp / "rt")
    >>> runtime_dir() == tmp / "rt", (tmp / "rt").is_dir()
    (True, True)
    """
    chosen = os.environ.get(ENV_RUNTIME, "").strip()
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    path = Path(chosen) if chosen else Path(tempfile.gettempdir()) / f"csi-workshop-{uid}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def lock_path(path: str | Path) -> Path:
    """The lock file guarding ``path``: in :func:`runtime_dir`, named after its absolute path.

    Examples
    --------
    >>> os.environ[ENV_RUNTIME] = str(tmp / "rt")
    >>> lock_path(cycle_dir / "plan.yaml").parent == tmp / "rt" / "locks"
    True
    >>> lock_path(cycle_dir / "plan.yaml").name.endswith("-plan.yaml.lock")
    True
    """
    absolute = os.path.realpath(path)  # Path.resolve raises on a loop of links
    digest = hashlib.sha256(absolute.encode("utf-8")).hexdigest()[:16]
    folder = runtime_dir() / "locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{digest}-{Path(path).name}.lock"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the lock of ``path`` (one writer at a time across kernels)."""
    lock = FileLock(str(lock_path(path)), timeout=_LOCK_TIMEOUT_S)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise OutputError(
            "another workshop is writing this file and did not finish in time",
            file=str(path),
            hint="try again in a moment",
        ) from exc
