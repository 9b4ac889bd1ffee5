#!/usr/bin/env bash
# Refresh constraints.txt: resolve pyproject.toml's loose ranges afresh in a
# throw-away virtual environment and record every installed version.
# Run `make test` afterwards and commit constraints.txt only if it passes.
set -euo pipefail
PYTHON="${1:-python3}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install --quiet --upgrade pip
"$TMP/venv/bin/python" -m pip install --quiet ".[dev]"
{
    echo "# Versions csi-workbook is tested with: set-up and CI install with 'pip install -c constraints.txt'."
    echo "# Refresh with 'make lock' (resolves pyproject.toml's ranges afresh in a temporary venv), then run 'make test'."
    # --all: setuptools too (the dev extra needs it to build the wheel offline); pip is set-up's own
    "$TMP/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v -i -E '^(csi-workbook|pip)=='
} > constraints.txt.new
mv constraints.txt.new constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages pinned"
