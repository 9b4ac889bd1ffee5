"""Run one stage notebook with papermill; turn a failing cell into a short message."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import papermill as pm
from jupyter_client.manager import AsyncKernelManager

from .stages import Stage, notebooks_dir


@dataclass
class StageRun:
    """The outcome of running one stage notebook."""

    stage: Stage
    executed: Path
    ok: bool
    seconds: float
    error: str | None = None


class LocalKernelManager(AsyncKernelManager):
    """Kernels on local IPC sockets: no TCP port open, nothing reachable from other hosts.

    The kernel's own stdout and stderr (start-up and shutdown chatter) go to ``kernel_log``
    when set, so a scheduled run's log holds only the report's progress lines.
    """

    kernel_log: Path | None = None

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport", "ipc")
        # the IPC socket files go to a private folder, never beside the notebooks
        kwargs.setdefault("ip", str(Path(tempfile.mkdtemp(prefix="csi-kernel-")) / "kernel-ipc"))
        super().__init__(**kwargs)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(Path(self.ip).parent, ignore_errors=True)

    async def start_kernel(self, **kw: Any) -> None:  # noqa: D102 (jupyter_client API)
        if self.kernel_log is None or "stderr" in kw or "stdout" in kw:
            await super().start_kernel(**kw)
            return
        # the child keeps its own copy of the handle; it holds no pipe of ours, so a kernel
        # left behind by a killed run can never keep a caller waiting on our output
        with open(self.kernel_log, "ab") as log:
            await super().start_kernel(stdout=log, stderr=log, **kw)


def _manager_logging_to(log: Path) -> type[LocalKernelManager]:
    return type("StageKernelManager", (LocalKernelManager,), {"kernel_log": log})


def execute_stage(
    stage: Stage,
    parameters: dict[str, Any],
    executed_path: Path,
    *,
    kernel_name: str = "python3",
    timeout: int = 900,
) -> StageRun:
    """Execute ``stage``'s notebook into ``executed_path`` with ``parameters``.

    The source notebook is never written. A failing cell does not raise: the
    returned :class:`StageRun` has ``ok=False`` and ``error`` naming the cell
    and the exception.
    """
    import time

    started = time.perf_counter()
    source = notebooks_dir() / stage.notebook
    executed_path.parent.mkdir(parents=True, exist_ok=True)
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
            execution_timeout=timeout,
            kernel_manager_class=_manager_logging_to(executed_path.with_suffix(".kernel.log")),
        )
    except pm.PapermillExecutionError as exc:
        message = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}".strip()
        return StageRun(stage, executed_path, False, time.perf_counter() - started, message)
    return StageRun(stage, executed_path, True, time.perf_counter() - started)
