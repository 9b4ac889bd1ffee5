"""Run one stage notebook with papermill; turn a failing cell into a short message.

Report runs are unattended, so every kernel they start is in *report mode*
(:data:`csi_lib.nb.REPORT_MODE_ENV` set in its environment): the widget cells
render a static view instead of live ipywidgets (:func:`csi_lib.nb.interactive`).
Each cell has its own timeout (:data:`CELL_TIMEOUT_S` by default): a cell that
runs longer is interrupted, and the stage fails with a message naming the stage
and the cell, instead of the run waiting without end.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager

from ..nb import REPORT_MODE_ENV
from .stages import Stage, notebooks_dir

log = logging.getLogger(__name__)

#: Default longest time one cell of a report run may take (seconds).
CELL_TIMEOUT_S = 300

#: Marks a cell stopped by the per-cell timeout (the ``ename`` of its error output).
TIMEOUT_ENAME = "CellTimeout"


@dataclass
class StageRun:
    """The outcome of running one stage notebook."""

    stage: Stage
    executed: Path
    ok: bool
    seconds: float
    error: str | None = None


#: IPython's history database is one file for every kernel of the user: report kernels keep none.
_NO_HISTORY = "--HistoryManager.enabled=False"


class ThisPythonKernelSpecs(KernelSpecManager):
    """Kernel specs where "python3" is always the interpreter running the report.

    A "python3" kernelspec found in a user's or the system's Jupyter folders may
    belong to another Python (one without csi_lib, or another version of it); the
    stage kernels must import the very package that runs the report, installed or
    checked out. A spec of this interpreter is kept as it is (the project venv's
    own, with its flags); any other is replaced by ipykernel's spec of
    ``sys.executable``.
    """

    def get_kernel_spec(self, kernel_name: str) -> Any:  # noqa: D102 (jupyter_client API)
        import sys

        try:
            spec = super().get_kernel_spec(kernel_name)
        except NoSuchKernel:
            spec = None
        if kernel_name != NATIVE_KERNEL_NAME:
            if spec is None:
                raise NoSuchKernel(kernel_name)
            return spec
        if spec is not None and spec.argv and _same_file(spec.argv[0], sys.executable):
            return spec
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


#: Longest private folder for a kernel's sockets: a Unix socket's path holds at most 107
#: bytes, and the kernel adds ``/kernel-ipc-<port>`` to it.
_MAX_SOCKET_FOLDER = 88


def _private_folder() -> Path:
    """A new private folder (mode 0700) for a kernel's connection file and sockets: in the
    temporary folder, or in /tmp when the temporary folder's path is so long that a socket
    path in it would not fit (a deep ``TMPDIR`` failed every stage with "AF_UNIX path too
    long")."""
    private = Path(tempfile.mkdtemp(prefix="csi-kernel-"))
    if len(str(private)) <= _MAX_SOCKET_FOLDER:
        return private
    private.rmdir()
    return Path(tempfile.mkdtemp(prefix="csi-kernel-", dir="/tmp"))


class LocalKernelManager(AsyncKernelManager):
    """Kernels on local IPC sockets: no TCP port open, nothing reachable from other hosts;
    "python3" is the interpreter running the report (:class:`ThisPythonKernelSpecs`).

    Each kernel gets a private folder (``mkdtemp``) holding its connection file and
    its sockets, removed at shutdown, so two runs at the same time never share a
    connection file, a socket or a temporary file; the kernel keeps no IPython
    history (the shared history database is the one file all kernels would write).
    The kernel runs in report mode (``CSI_REPORT_MODE=1``): no live widgets.

    The kernel's own stdout and stderr (start-up and shutdown chatter) go to ``kernel_log``
    when set, so a scheduled run's log holds only the report's progress lines.
    """

    kernel_log: Path | None = None
    #: Interrupts sent to the kernels of this class (nbclient interrupts a cell over its time).
    interrupts: list[float] = []

    def __init__(self, **kwargs: Any) -> None:
        private = _private_folder()
        kwargs.setdefault("transport", "ipc")
        # the IPC socket files and the connection file go to the private folder
        kwargs.setdefault("ip", str(private / "kernel-ipc"))
        kwargs.setdefault("connection_file", str(private / "kernel.json"))
        kwargs.setdefault("kernel_spec_manager", ThisPythonKernelSpecs())
        super().__init__(**kwargs)
        self._private = private

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._private, ignore_errors=True)

    async def interrupt_kernel(self) -> None:  # noqa: D102 (jupyter_client API)
        type(self).interrupts.append(time.monotonic())
        await super().interrupt_kernel()

    async def start_kernel(self, **kw: Any) -> None:  # noqa: D102 (jupyter_client API)
        kw["env"] = {**(kw.get("env") or os.environ), REPORT_MODE_ENV: "1"}
        kw["extra_arguments"] = [*(kw.get("extra_arguments") or []), _NO_HISTORY]
        if self.kernel_log is None or "stderr" in kw or "stdout" in kw:
            await super().start_kernel(**kw)
            return
        # the child keeps its own copy of the handle; it holds no pipe of ours, so a kernel
        # left behind by a killed run can never keep a caller waiting on our output
        with open(self.kernel_log, "ab") as log_file:
            await super().start_kernel(stdout=log_file, stderr=log_file, **kw)


def stage_log(executed_path: Path) -> Path:
    """The stage's log file beside its executed notebook: kernel output and, when a cell
    fails, the Python traceback (never shown on the report page)."""
    return executed_path.with_suffix(".kernel.log")


def _log_traceback(executed_path: Path, exc: pm.PapermillExecutionError) -> None:
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(exc.traceback or []))
    with open(stage_log(executed_path), "a", encoding="utf-8") as log_file:
        log_file.write(f"\n--- cell {exc.exec_count} failed: {exc.ename}\n{text}\n")


def _manager_logging_to(log_path: Path) -> type[LocalKernelManager]:
    """A kernel manager class of its own for one stage: its log, its record of interrupts."""
    return type(
        "StageKernelManager", (LocalKernelManager,), {"kernel_log": log_path, "interrupts": []}
    )


def cell_label(stage: Stage, number: int | None, source: str) -> str:
    """How a message names a cell: the stage, the cell's number and its first line.

    Examples
    --------
    >>> from csi_lib.report.stages import STAGES
    >>> cell_label(STAGES[1], 17, "BreakdownExplorer(df)\\nmore")
    "stage 1 'Where are we now?', cell 17 (BreakdownExplorer(df))"
    """
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:57] + "..."
    where = f"stage {stage.number} '{stage.title}'"
    if number is not None:
        where += f", cell {number}"
    return f"{where} ({first})" if first else where


#: Cells papermill adds to the executed notebook (not in the notebook a person edits).
_ADDED_BY_PAPERMILL = {"injected-parameters", "papermill-error-cell-tag"}


def _failed_cell(executed: Path, exc: pm.PapermillExecutionError) -> tuple[int | None, str]:
    """The number (1-based, among the cells of the source notebook) and source of the failed cell."""
    try:
        nb = nbformat.read(str(executed), as_version=4)
    except (OSError, ValueError):
        return None, str(exc.source or "")
    own = [
        c for c in nb.cells if not _ADDED_BY_PAPERMILL & set(c.get("metadata", {}).get("tags", []))
    ]
    for i, cell in enumerate(own, 1):
        if cell.get("metadata", {}).get("papermill", {}).get("exception"):
            return i, cell.source
    return None, str(exc.source or "")


def _write_unfinished(source: Path, executed: Path, message: str) -> None:
    """The page of a stage whose kernel stopped answering: its story and what happened."""
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells.insert(
        0, nbformat.v4.new_markdown_cell(f"**This stage could not be completed.** {message}")
    )
    nbformat.write(nb, str(executed))


def execute_stage(
    stage: Stage,
    parameters: dict[str, Any],
    executed_path: Path,
    *,
    kernel_name: str = "python3",
    cell_timeout: int = CELL_TIMEOUT_S,
) -> StageRun:
    """Execute ``stage``'s notebook into ``executed_path`` with ``parameters``.

    The kernel runs in report mode (no live widgets). The source notebook is never
    written. A failing cell does not raise: the returned :class:`StageRun` has
    ``ok=False`` and ``error`` naming the stage, the cell and the exception. A
    cell running longer than ``cell_timeout`` seconds is interrupted and fails
    the stage the same way (also logged, naming the cell).
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    started = time.perf_counter()
    source = notebooks_dir() / stage.notebook
    executed_path.parent.mkdir(parents=True, exist_ok=True)
    too_long = f"it ran longer than {cell_timeout} s and was stopped"
    manager = _manager_logging_to(stage_log(executed_path))
    try:
        pm.execute_notebook(
            str(source),
            str(executed_path),
            parameters=parameters,
            kernel_name=kernel_name,
            cwd=str(notebooks_dir()),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            execution_timeout=cell_timeout,
            # a cell over its time is interrupted and recorded as this error (nbclient)
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": too_long, "traceback": []},
            kernel_manager_class=manager,
            # once the last cell has run, the kernel holds nothing to save (no history,
            # outputs already received): stopped at once, not asked and waited for (a
            # kernel asked to shut down sometimes takes 3 s to exit)
            shutdown_kernel="immediate",
        )
    except pm.PapermillExecutionError as exc:
        _log_traceback(executed_path, exc)
        number, cell_source = _failed_cell(executed_path, exc)
        where = cell_label(stage, number, cell_source)
        if exc.ename == TIMEOUT_ENAME or manager.interrupts:
            message = f"{where}: {too_long}"
            log.warning("cell timeout: %s", message)
        else:
            message = f"{where}: {exc.ename}: {exc.evalue}".strip()
        return StageRun(stage, executed_path, False, time.perf_counter() - started, message)
    except (CellTimeoutError, DeadKernelError) as exc:
        # the kernel did not answer the interrupt (or died): nothing of it can be kept
        what = too_long if isinstance(exc, CellTimeoutError) else "its kernel stopped"
        message = f"stage {stage.number} '{stage.title}': {what}"
        log.warning("stage stopped: %s (%s)", message, exc)
        _write_unfinished(source, executed_path, message)
        return StageRun(stage, executed_path, False, time.perf_counter() - started, message)
    return StageRun(stage, executed_path, True, time.perf_counter() - started)
