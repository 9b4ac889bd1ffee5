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
