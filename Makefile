# csi-workbook: every set-up step is here; `make report` and `make test` need only Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
export PATH := $(abspath $(BIN)):$(PATH)

AS_OF  ?= 2026-04-15
OUT    ?= reports
# extra options of the csi command of report, lab and workshop, e.g. make lab ARGS=--allow-root
ARGS   ?=

.PHONY: help setup report test test-fast lint lab workshop bench lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml constraints.txt
	@bash scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)  ## create or reuse .venv and install everything

report: $(STAMP)  ## the main job: the full cycle report of the bundled sample cycle
	$(BIN)/csi report data/sample-cycle --as-of $(AS_OF) --out $(OUT) $(ARGS)

test:  ## the whole test suite (installs Chromium, PostgreSQL and Java 17 if missing)
	@# Debian's packages (apt) are installed while pip installs the Python ones
	@log=$$(mktemp); { bash scripts/install-browser.sh && bash scripts/services.sh install; } \
	  >"$$log" 2>&1 & apt=$$!; \
	$(MAKE) --no-print-directory setup; pip=$$?; wait $$apt; got=$$?; cat "$$log"; rm -f "$$log"; \
	[ $$pip -eq 0 ] && [ $$got -eq 0 ]
	$(BIN)/pytest -n auto --dist loadfile

test-fast: $(STAMP)  ## library tests only (no notebooks, no browser)
	$(BIN)/pytest -n auto --dist loadfile -m "not slow and not browser"

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check csi_lib tests benchmarks scripts

lab: $(STAMP)  ## JupyterLab on 127.0.0.1 with the notebooks and the sample cycle (ARGS="--allow-root --port 8890")
	$(BIN)/csi lab $(ARGS)

workshop: $(STAMP)  ## serve the facilitation notebook of the sample cycle (Voila on 127.0.0.1; ARGS="--allow-root")
	$(BIN)/csi workshop data/sample-cycle $(ARGS)

bench: $(STAMP)  ## KPI engine benchmark (1M and 5M requests) against DuckDB
	$(BIN)/python benchmarks/bench_kpis.py

lock:  ## re-resolve pyproject.toml's ranges in a temporary venv and rewrite constraints.txt
	@bash scripts/lock.sh "$(PYTHON)"

clean:  ## remove the virtual environment and generated reports
	rm -rf $(VENV) $(OUT) .pytest_cache
