"""Report mode: report runs never execute live widgets, and no cell can keep a run waiting.

Data for the library tests: the hand-made frame of tests/test_targets.py (Laptop
fulfilment: baseline median 43 h; the whole service's baseline median 41 h).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from test_targets import BASELINE, CYCLE_END, make_frame

from csi_lib import nb
from csi_lib.report.execute import LocalKernelManager, execute_stage
from csi_lib.report.stages import STAGES
from csi_lib.widgets.explorer import explore
from csi_lib.widgets.whatif import DraftVerdict, WhatIf

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CYCLE = REPO / "data" / "sample-cycle"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _widget_count() -> int:
    from ipywidgets.widgets.widget import _instances

    return len(_instances)


@pytest.fixture(scope="module")
def frame():
    return make_frame()


def test_interactive_follows_the_environment(monkeypatch):
    monkeypatch.delenv(nb.REPORT_MODE_ENV, raising=False)
    assert nb.interactive()
    for on in ("1", "true", "yes"):
        monkeypatch.setenv(nb.REPORT_MODE_ENV, on)
        assert not nb.interactive()
    monkeypatch.setenv(nb.REPORT_MODE_ENV, "0")
    assert nb.interactive()


def test_explorer_is_a_figure_without_widgets_in_report_mode(frame, monkeypatch):
    monkeypatch.setenv(nb.REPORT_MODE_ENV, "1")
    before = _widget_count()
    view = explore(frame, BASELINE, min_group_size=1)
    assert isinstance(view, go.Figure)
    assert _widget_count() == before  # not one ipywidget was made
    # the explorer's first view: fulfilment time by its first dimension (category)
    assert "Laptop" in view.to_json() and "Phone" in view.to_json()


def test_explorer_is_live_outside_report_mode(frame, monkeypatch):
    import ipywidgets

    monkeypatch.delenv(nb.REPORT_MODE_ENV, raising=False)
    assert isinstance(explore(frame, BASELINE, min_group_size=1), ipywidgets.VBox)


def test_static_what_if_is_the_first_draft_of_the_control(frame, monkeypatch, tmp_path):
    monkeypatch.setenv(nb.REPORT_MODE_ENV, "1")
    kwargs = dict(baseline_period=BASELINE, cycle_end=CYCLE_END, objectives=["O2", "O1"])
    before = _widget_count()
    static = DraftVerdict(frame, targets_path=tmp_path / "targets.yaml", **kwargs)
    assert _widget_count() == before
    live = WhatIf(frame, targets_path=tmp_path / "targets.yaml", **kwargs)
    # the same draft, the same verdicts as the live control opens with
    assert static.target == live.draft_target()
    assert static.target.value == 41 and static.target.objective == "O1"
    assert list(static.smart["verdict"]) == list(live.smart["verdict"])
    page = static._repr_html_()
    assert "Median time to fulfil" in page and "baseline <b>41" in page
    assert page.count("<tr>") == 5  # one row per SMART letter


# --------------------------------------------------------------------------------------
# Executing notebooks in report mode (kernels)
# --------------------------------------------------------------------------------------


def _notebook(folder: Path, stage, cells: list[str]) -> None:
    notebook = new_notebook(cells=[new_code_cell(c) for c in cells])
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    folder.mkdir(exist_ok=True)
    nbformat.write(notebook, str(folder / stage.notebook))


@pytest.mark.slow
def test_a_cell_over_its_timeout_is_stopped_and_named(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    _notebook(folder, STAGES[1], ["x = 1", "import time\ntime.sleep(120)", "print('after')"])
    monkeypatch.setenv("CSI_NOTEBOOKS", str(folder))
    run = execute_stage(STAGES[1], {}, tmp_path / "out" / "stage.ipynb", cell_timeout=3)
    assert not run.ok
    assert run.error.startswith("stage 1 'Where are we now?', cell 2 (import time)")
    assert "longer than 3 s" in run.error
    assert run.seconds < 100  # stopped at its timeout, not after the sleep
    executed = nbformat.read(str(run.executed), as_version=4)
    after = next(c for c in executed.cells if c.source == "print('after')")
    assert after.outputs == []  # the run stopped at the slow cell


@pytest.mark.slow
def test_report_kernels_are_private_and_in_report_mode(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    probe = (
        "import json, os\n"
        "from csi_lib import nb\n"
        "print(json.dumps({'interactive': nb.interactive(), 'history': get_ipython().history_manager.enabled}))"
    )
    _notebook(folder, STAGES[1], ["x = 1", probe])
    monkeypatch.setenv("CSI_NOTEBOOKS", str(folder))
    monkeypatch.delenv(nb.REPORT_MODE_ENV, raising=False)
    run = execute_stage(STAGES[1], {}, tmp_path / "stage.ipynb", cell_timeout=60)
    assert run.ok, run.error
    out = nbformat.read(str(run.executed), as_version=4).cells[1].outputs[0]["text"]
    assert json.loads(out) == {"interactive": False, "history": False}
    # two kernel managers: no connection file or socket folder in common, all removed after
    a, b = LocalKernelManager(), LocalKernelManager()
    assert Path(a.connection_file).parent != Path(b.connection_file).parent
    assert Path(a.ip).parent == Path(a.connection_file).parent
    assert Path(a.ip).parent != Path(b.ip).parent


@pytest.mark.slow
@pytest.mark.parametrize("stage", [STAGES[1], STAGES[2]], ids=["explorer", "what-if"])
def test_stage_notebooks_execute_no_widget_in_report_mode(stage, tmp_path):
    params = {
        "cycle_dir": str(SAMPLE_CYCLE),
        "as_of": "2026-04-15",
        "output_dir": str(tmp_path),
    }
    run = execute_stage(stage, params, tmp_path / stage.notebook, cell_timeout=120)
    assert run.ok, run.error
    executed = nbformat.read(str(run.executed), as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if WIDGET_MIME in o.get("data", {})]
    assert not executed.metadata.get("widgets")  # no widget state was saved
    widget_cell = next(
        c for c in executed.cells if "explore(" in c.source or "what_if(" in c.source
    )
    data = widget_cell.outputs[0]["data"]
    if stage is STAGES[1]:
        assert "application/vnd.plotly.v1+json" in data  # the explorer's first chart
    else:
        assert "Draft target on" in data["text/html"]  # the draft's SMART verdict


def test_a_finished_stage_stops_its_kernel_at_once(tmp_path, monkeypatch):
    """After the last cell the kernel is stopped, not asked to shut down and waited for:
    asked, a kernel sometimes took 3 s more to exit, at random stages of every report."""
    folder = tmp_path / "notebooks"
    _notebook(folder, STAGES[1], ["x = 1", "print(x + 1)"])
    monkeypatch.setenv("CSI_NOTEBOOKS", str(folder))
    asked: list[bool] = []
    real = LocalKernelManager.shutdown_kernel

    async def recorded(self, now=False, restart=False):
        asked.append(now)
        return await real(self, now=now, restart=restart)

    monkeypatch.setattr(LocalKernelManager, "shutdown_kernel", recorded)
    run = execute_stage(STAGES[1], {}, tmp_path / "stage.ipynb", cell_timeout=60)
    assert run.ok, run.error
    assert asked == [True]
    assert nbformat.read(str(run.executed), as_version=4).cells[1].outputs[0]["text"] == "2\n"
