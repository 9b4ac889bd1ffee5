"""The "For analysts" notes of the stage pages stay folded: their content is inside <details>."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from csi_lib.report.export import make_exporter

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_analyst_notes_keep_their_content_folded(path):
    nb = nbformat.read(str(path), as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type == "markdown" and "csi-analysts" in c.source]
    if not nb.cells:
        pytest.skip("no analyst note on this page")
    body, _ = make_exporter().from_notebook_node(
        nb, resources={"csi": {"title": "t", "nav": [], "provenance": [], "pager": {}}}
    )
    notes = BeautifulSoup(body, "html.parser").select("details.csi-analysts")
    assert len(notes) == len(nb.cells)
    for note in notes:
        text = note.get_text(" ", strip=True)
        assert text != "For analysts" and len(text) > len("For analysts") + 10, text
