"""The package works wherever it is installed, not only in a checkout.

The slow test builds the wheel from a copy of the project's files, installs it into a
fresh virtual environment and runs ``csi`` from another folder: the stage notebooks,
templates and the sample cycle must come from the wheel. To stay fast and offline
the wheel is installed with ``--no-deps``; the fresh environment sees the project
venv's site-packages for the dependencies (a ``.pth`` line, which does not run the
project's editable-install hook, so ``csi_lib`` can only come from the wheel) and
nbconvert's templates (data files a full install puts under ``<venv>/share``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from csi_lib import shipped
from csi_lib.cli import main
from csi_lib.report.stages import STAGES

ROOT = Path(__file__).resolve().parents[1]
#: What the build needs from the project (tests, docs and benchmarks do not ship).
BUILD_FILES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "csi_lib", "notebooks", "data")


def _copy_sources(dest: Path) -> Path:
    """The files of the build, without caches and run leftovers, in ``dest``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "quarantine")
    for name in BUILD_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = _copy_sources(tmp_path_factory.mktemp("src"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(dist), str(src)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (built,) = dist.glob("csi_workbook-*.whl")
    return built


def test_the_wheel_carries_notebooks_templates_and_the_sample_cycle(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for stage in STAGES:
        assert f"csi_lib/_shipped/notebooks/{stage.notebook}" in names
    assert "csi_lib/_shipped/notebooks/workshop.ipynb" in names
    for name in (
        "cycle.yaml",
        "vision.yaml",
        "targets.yaml",
        "plan.yaml",
        "baseline/manifest.json",
    ):
        assert f"csi_lib/_shipped/data/sample-cycle/{name}" in names
    assert "csi_lib/_shipped/data/sample_requests.csv.gz" in names  # what cycle.yaml reads
    assert "csi_lib/templates/csi-report/index.html.j2" in names
    assert "csi_lib/presets/servicenow.yaml" in names
    assert "csi_lib/engines/spark-log4j2.properties" in names  # the Spark driver's logging
    # one copy of each notebook: the wheel's come from notebooks/, none under csi_lib/ itself
    assert not [n for n in names if n.endswith(".ipynb") and "/_shipped/" not in n]
    assert not [n for n in names if n.startswith(("tests/", "docs/", "benchmarks/"))]


@pytest.mark.slow
def test_csi_report_runs_from_an_installed_wheel_in_another_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "_csi_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    share = venv / "share" / "jupyter"
    share.mkdir(parents=True)
    (share / "nbconvert").symlink_to(Path(sys.prefix, "share", "jupyter", "nbconvert"))
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-index", str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSI_", "JUPYTER", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(venv / "bin" / args[0]), *args[1:]],
            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    where = run("python", "-c", "import csi_lib.shipped as s, csi_lib.report.execute as e; "
                "print(s.ROOT); print(e.ThisPythonKernelSpecs().get_kernel_spec('python3').argv[0])")  # fmt: skip
    root, kernel = where.stdout.split()
    assert Path(root) == Path(site, "csi_lib", "_shipped")  # the wheel's files, not the checkout's
    assert Path(kernel) == python  # the stage kernels import the installed package too

    copied = run("csi", "cycle", "sample", "try")
    assert copied.returncode == 0, copied.stderr
    assert "csi report try/sample-cycle" in copied.stdout
    result = run("csi", "report", "try/sample-cycle", "--as-of", "2026-04-15", "--out", "out")
    assert result.returncode == 0, result.stderr[-3000:]
    folder = elsewhere / "out" / "2025-h2" / "2026-04-15"
    assert Path(result.stdout.strip()) == folder / "index.html"
    for stage in STAGES:
        assert (folder / stage.html).is_file()
    assert (folder / "kpis.xlsx").is_file()
    assert "4 of 5 targets met" in (folder / "summary.txt").read_text(encoding="utf-8")


def test_a_command_that_finds_no_notebooks_says_how_to_point_at_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CSI_NOTEBOOKS", str(tmp_path / "empty"))
    status = main(["report", str(shipped.SAMPLE_CYCLE), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert "00_vision.ipynb" in err and "Set CSI_NOTEBOOKS to the folder that holds them" in err
    assert "unset it to run the notebooks that ship with csi-workbook" in err
    assert not (tmp_path / "out").exists()  # nothing ran


def test_shipped_files_of_a_checkout_are_the_repository_folders():
    assert not shipped.installed()
    assert (
        shipped.NOTEBOOKS == ROOT / "notebooks"
        and shipped.SAMPLE_CYCLE == ROOT / "data" / "sample-cycle"
    )


def test_sample_cycle_copy_reports_like_the_original(tmp_path):
    """csi cycle sample copies the cycle with the data its cycle.yaml names, nothing else;
    a second copy into the same folder is refused and changes nothing."""
    from csi_lib.cycle import check_cycle, open_cycle

    assert main(["cycle", "sample", str(tmp_path / "try")]) == 0
    cycle_dir = tmp_path / "try" / "sample-cycle"
    assert check_cycle(cycle_dir) == []
    copied = open_cycle(cycle_dir, as_of="2026-04-15")
    original = open_cycle(shipped.SAMPLE_CYCLE, as_of="2026-04-15")
    assert copied.load.fingerprint == original.load.fingerprint
    assert copied.baseline_snapshot().kpi_values.equals(original.baseline_snapshot().kpi_values)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["cycle", "sample", str(tmp_path / "try")]) == 2
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.slow
def test_stage_kernels_run_the_report_s_own_python_whatever_kernelspec_is_found(
    tmp_path, monkeypatch
):
    """A "python3" kernelspec of another Python in a user's Jupyter folders (here one whose
    interpreter does not exist) does not take the stage kernels away from this package."""
    import json

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from csi_lib.report.execute import ThisPythonKernelSpecs, execute_stage

    foreign = tmp_path / "jupyter" / "kernels" / "python3"
    foreign.mkdir(parents=True)
    argv = ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (foreign / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "other", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    assert ThisPythonKernelSpecs().get_kernel_spec("python3").argv[0] == sys.executable
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = new_notebook(
        cells=[new_code_cell("x = 1"), new_code_cell("import sys; print(sys.executable)")]
    )
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, str(notebooks / STAGES[1].notebook))
    monkeypatch.setenv("CSI_NOTEBOOKS", str(notebooks))
    run = execute_stage(STAGES[1], {}, tmp_path / "out" / "stage.ipynb", cell_timeout=60)
    assert run.ok, run.error
    printed = nbformat.read(str(run.executed), as_version=4).cells[1].outputs[0]["text"].strip()
    assert os.path.samefile(printed, sys.executable)
