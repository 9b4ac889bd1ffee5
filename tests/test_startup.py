"""Report processes skip jsonschema's optional IRI grammar import (csi_lib._startup)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

PROBE = """
import sys
{prelude}
import jsonschema, nbformat
nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]))
print(sys.modules.get("rfc3987_syntax", "absent") is None, "iri" in jsonschema.FormatChecker().checkers)
"""


def _probe(prelude: str, report_mode: str | None) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CSI_REPORT_MODE"}
    if report_mode is not None:
        env["CSI_REPORT_MODE"] = report_mode
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(prelude=prelude)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(out.stdout.split()[-2:])


def test_report_kernel_skips_the_grammar_import_and_still_validates_notebooks():
    assert _probe("import csi_lib.nb", "1") == ("True", "False")


def test_the_csi_command_skips_it():
    prelude = "from csi_lib.cli import main; main(['--version'])"
    assert _probe(prelude, None)[0] == "True"


@pytest.mark.skipif(
    importlib.util.find_spec("rfc3987_syntax") is None, reason="rfc3987-syntax not installed"
)
def test_an_analysts_kernel_is_untouched():
    assert _probe("import csi_lib.nb", None) == ("False", "True")
    assert _probe("import csi_lib.nb", "0") == ("False", "True")
