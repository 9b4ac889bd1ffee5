"""Safe writes: atomic replacement and refusal to overwrite.

Every file the workbook saves goes through :func:`atomic_write` (write to a
temporary file in the same folder, fsync, rename), so a killed run never leaves
a half-written file. ``overwrite=False`` (the default) refuses to replace an
existing file with a clear :class:`~csi_lib.errors.OutputError`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .errors import OutputError


def explain_oserror(exc: OSError, path: Path) -> OutputError:
    """The :class:`OutputError` for an OSError met while writing ``path`` (disk full, read-only...)."""
    if exc.errno == errno.ENOSPC:
        msg, hint = "the disk is full", "free some space or choose another --out folder"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        msg, hint = "the folder is read-only or not writable", "choose a writable --out folder"
    else:
        msg, hint = f"it cannot be written ({exc.strerror})", "check the path and its permissions"
    return OutputError(msg, file=str(path), hint=hint)


def make_folder(path: str | Path, *, what: str = "folder") -> Path:
    """Create ``path`` (and its parents) or raise an :class:`OutputError` saying why not."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"the {what} cannot be made ({exc.strerror})",
            file=str(path),
            hint="choose a writable --out folder",
        ) from exc
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    Examples
    --------
    >>> with atomic_path(tmp / "table.parquet") as tmp_file:
    ...     df.head().to_parquet(tmp_file)
    >>> (tmp / "table.parquet").exists()
    True
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputError(
            "it exists already and is not overwritten",
            file=str(path),
            hint="choose another output path or remove the old file yourself",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; saved files follow the umask
    except OSError as exc:
        raise explain_oserror(exc, path) from exc
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise explain_oserror(exc, path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(directory: str | Path) -> Iterator[Path]:
    """Yield a new temporary folder beside ``directory``; on success rename it to
    ``directory`` (which must be absent or empty: the caller checks), else remove it.
    The folder is whole or absent; its mode follows the umask.

    Examples
    --------
    >>> with atomic_folder(tmp / "cycle") as folder:
    ...     _ = (folder / "cycle.yaml").write_text("id: c1\\n")
    >>> sorted(p.name for p in (tmp / "cycle").iterdir())
    ['cycle.yaml']
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a saved folder is not
        yield tmp
        if directory.exists():
            directory.rmdir()  # empty (checked by the caller)
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write(
    path: str | Path,
    data: str | bytes | Callable[[IO[bytes]], None],
    *,
    overwrite: bool = False,
    encoding: str = "utf-8",
) -> Path:
    """Write ``data`` (text, bytes, or a callable given a binary file) to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as fh:
        if callable(data):
            data(fh)
        elif isinstance(data, str):
            fh.write(data.encode(encoding))
        else:
            fh.write(data)
    return path


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()
