"""The stage notebooks are thin, parameterised and committed without outputs."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from papermill import inspect_notebook

from csi_lib.report.stages import STAGES

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: Parameters every stage notebook takes (the report passes them all).
COMMON = {"cycle_dir", "as_of", "data_path", "preset", "mapping", "output_dir"}
MAX_CODE_LINES = 8


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    return request.param, nbformat.read(str(request.param), as_version=4)


def test_every_stage_has_a_notebook_name_in_the_registry():
    names = {p.stem for p in NOTEBOOKS}
    assert names <= {s.slug for s in STAGES} | {"workshop"}, names


def test_outputs_are_stripped(notebook):
    path, nb = notebook
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"


def test_parameters_cell_is_tagged_and_every_parameter_commented(notebook):
    path, nb = notebook
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    for line in tagged[0].source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert "  # " in line, f"{path.name}: parameter line without a comment: {line!r}"
            # papermill's parser gives up on a line with a second "=" (e.g. in its comment)
            assert line.count("=") == 1, f"{path.name}: no '=' in a parameter comment: {line!r}"
    params = set(inspect_notebook(str(path)))
    if path.stem != "workshop":
        assert params >= COMMON, f"{path.name}: missing parameters {COMMON - params}"


def test_code_cells_are_thin(notebook):
    path, nb = notebook
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        lines = [
            ln for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")
        ]
        assert len(lines) <= MAX_CODE_LINES, f"{path.name}: a code cell has {len(lines)} lines"
        tree = ast.parse(cell.source)
        loops = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.For | ast.While | ast.ListComp | ast.DictComp)
        ]
        assert not loops, (
            f"{path.name}: loops belong in csi_lib, not in a notebook cell:\n{cell.source}"
        )
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defs, f"{path.name}: functions belong in csi_lib:\n{cell.source}"


def test_notebooks_start_with_a_story(notebook):
    path, nb = notebook
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), path.name


#: Calls that show a live control (and, in a report run, only its opening view).
LIVE_CALLS = ("explore(", "what_if(")


def test_live_controls_are_tagged_live_only(notebook):
    """The report leaves out the explorer and the what-if (dead widgets on a static page,
    a second 'Explore' chart, a what-if draft at the baseline), with the text about them."""
    from csi_lib.report.export import LIVE_ONLY_TAG

    path, nb = notebook
    if path.stem == "workshop":
        return  # the workshop runs in a live kernel only
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(call in cell.source for call in LIVE_CALLS):
            assert LIVE_ONLY_TAG in cell.metadata.get("tags", []), f"{path.name}: {cell.source!r}"
            before = nb.cells[i - 1]
            assert before.cell_type == "markdown", f"{path.name}: no text before {cell.source!r}"
            assert LIVE_ONLY_TAG in before.metadata.get("tags", []), (
                f"{path.name}: {before.source!r}"
            )


def test_stage_2_shows_the_smart_check_once():
    """The heatmap and the table said the same twice: the table (with its reasons) stays."""
    nb = nbformat.read(str(next(p for p in NOTEBOOKS if p.stem.startswith("02_"))), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "smart_heatmap(" not in code and code.count("smart_styler(smart_table(") == 1
    assert not [c for c in nb.cells if c.cell_type == "markdown" and "Hover" in c.source]
