#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install the project,
# its test tools and a Jupyter kernel bound to this environment's Python.
set -euo pipefail
PYTHON="${1:-python3}"
VENV="${2:-.venv}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "error: csi-workbook needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)." >&2
    echo "Run: make PYTHON=python3.11 ..." >&2
    exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# constraints.txt pins every package to the versions the suite was run with (see `make lock`).
"$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[dev]"
# Bind the "python3" kernel of this environment to its own interpreter (absolute path),
# so papermill, nbval and JupyterLab run the notebooks with the project's packages.
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (csi-workbook)" >/dev/null
echo "environment ready: $VENV"
