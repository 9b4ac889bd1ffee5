"""Report processes skip jsonschema's optional IRI grammar import (csi_lib._startup)."""

from __future__ import annotations

import importlib.util
import os
import platform
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


FREE_BIG_ARRAYS = """
import sys, numpy as np
from csi_lib._startup import return_freed_memory
def resident_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
if sys.argv[1] == "fixed":
    assert return_freed_memory()
a = np.ones(2**19); del a  # a first big free: glibc would raise its threshold here
keep = []
for _ in range(100):  # 400 MB of big arrays, each followed by a small allocation
    keep += [np.ones(2**19), bytearray(1000)]
before = resident_mb()
keep = [k for k in keep if isinstance(k, bytearray)]
print(round(before - resident_mb()))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_big_arrays_freed_go_back_to_the_system():
    def freed_mb(mode: str) -> int:
        out = subprocess.run(
            [sys.executable, "-c", FREE_BIG_ARRAYS, mode],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout)

    assert freed_mb("fixed") > 300  # of the 400 MB
    assert freed_mb("default") < 100  # glibc's default keeps them
