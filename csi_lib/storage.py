"""Safe writes: atomic replacement and refusal to overwrite; bounded reads of regular files.

Every file the workbook saves goes through :func:`atomic_write` (write to a
temporary file in the same folder, fsync, rename), so a killed run never leaves
a half-written file. ``overwrite=False`` (the default) refuses to replace an
existing file with a clear :class:`~csi_lib.errors.OutputError`.

Every file it reads (an export, a cycle file, a mapping) must be a regular file
(:func:`require_regular_file`): a named pipe would make a read wait for ever and
a device such as ``/dev/zero`` never ends, so both are refused before any byte is
read, whatever link leads to them. :func:`read_bounded` also refuses a file larger
than the caller expects.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .errors import CsiError, InputError, OutputError

#: What a file that is not a regular file is, by its mode.
_FILE_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def require_regular_file(
    path: str | Path, *, error: type[CsiError] = InputError, what: str = "file"
) -> os.stat_result:
    """The ``stat`` of ``path`` (links followed) if it is a regular file; else ``error``.

    A named pipe, a device (``/dev/zero``, ``/dev/stdin``), a socket or a folder is
    refused at once, before it is opened: reading one could wait for ever or never end.

    Examples
    --------
    >>> require_regular_file("/dev/zero")
    Traceback (most recent call last):
    ...
    csi_lib.errors.InputError: file '/dev/zero': it is a character device, not a regular file, so reading it could wait for ever or never end. Give the path of the file itself, a file saved on disk.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        broken = broken_link(path)
        raise error(
            broken or "the file does not exist",
            file=str(path),
            hint=f"give the path of the {what} itself" if broken else "check the path",
        ) from None
    except OSError as exc:
        broken = broken_link(path)
        if broken:
            raise error(
                broken, file=str(path), hint=f"give the path of the {what} itself"
            ) from None
        raise error(
            f"the {what} cannot be read ({exc.strerror})",
            file=str(path),
            hint="check the path and its permissions",
        ) from None
    if stat.S_ISREG(st.st_mode):
        return st
    if stat.S_ISDIR(st.st_mode):
        raise error(
            "it is a folder, not a file", file=str(path), hint=f"give the path of the {what} itself"
        )
    kind = next((k for test, k in _FILE_KINDS if test(st.st_mode)), "not a file")
    target = os.path.realpath(path)
    if target != os.path.abspath(path):  # reached through a link: say where it leads
        kind += f" ({target})"
    raise error(
        f"it is {kind}, not a regular file, so reading it could wait for ever or never end",
        file=str(path),
        hint=f"give the path of the {what} itself, a file saved on disk",
    )


def broken_link(path: str | Path) -> str | None:
    """Why ``path`` reaches no file though it exists as a symbolic link, or ``None``.

    A link to a name that does not exist, or a chain of links that comes back to
    itself, is not a missing file: the message says which (and where it leads).

    Examples
    --------
    >>> loop = tmp / "loop.csv"
    >>> loop.symlink_to("loop.csv")
    >>> broken_link(loop)
    'it is a symbolic link that leads back to itself (a loop of links), so it reaches no file'
    >>> (tmp / "gone.csv").symlink_to("/nonexistent/export.csv")
    >>> broken_link(tmp / "gone.csv")
    "it is a symbolic link to '/nonexistent/export.csv', which does not exist"
    >>> broken_link(tmp / "absent.csv") is None          # no link at all: just missing
    True
    """
    path = Path(path)
    if not os.path.islink(path):
        return None
    try:
        os.stat(path)
    except FileNotFoundError:
        target = os.path.realpath(path)
        return f"it is a symbolic link to '{target}', which does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (
                "it is a symbolic link that leads back to itself (a loop of links), "
                "so it reaches no file"
            )
        return None
    return None


def read_bounded(
    path: str | Path,
    limit: int,
    *,
    error: type[CsiError] = InputError,
    what: str = "file",
    hint: str | None = None,
) -> bytes:
    """The bytes of the regular file ``path``, refused (``error``) beyond ``limit`` bytes.

    The file is opened without blocking and checked again once open, so a file
    swapped for a pipe after the check is refused too.
    """
    require_regular_file(path, error=error, what=what)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped since the check
            raise error(f"it is not a regular {what}", file=str(path), hint=hint)
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise error(
            f"the {what} is larger than {limit / 2**20:,.0f} MB, far larger than such a file is",
            file=str(path),
            hint=hint or f"check that this is the right {what}",
        )
    return data


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
    """Hex SHA-256 of a regular file's bytes, read in chunks (a pipe or a device is
    refused: :func:`require_regular_file`)."""
    require_regular_file(path)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()
