"""One writer at a time: a lock file beside a file two Voilà kernels may rewrite."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import OutputError

_LOCK_TIMEOUT_S = 15


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``path`` (one writer at a time across kernels)."""
    lock = FileLock(str(path.parent / f".{path.name}.lock"), timeout=_LOCK_TIMEOUT_S)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise OutputError(
            "another workshop is writing this file and did not finish in time",
            file=str(path),
            hint="try again in a moment",
        ) from exc
