# Two commands on a fresh machine: `make run` and `make test` (each creates .venv when missing).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python >= 3.12 is required: on 3.11 pip silently installs the legacy arviz 0.23 API.
# Override with `make PYTHON=/path/to/python3.12 ...`.
PYTHON ?= $(shell for c in python3.12 python3.13 python3.14 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then command -v $$c; break; fi; done)
DRAWS ?= 1000000

.PHONY: run test test-long test-all lint bench docs clean-venv

$(BIN)/probmodel: pyproject.toml requirements.lock
	@if [ -z "$(PYTHON)" ]; then echo "make: error: probmodel needs Python >= 3.12 (none found on PATH; pass PYTHON=/path/to/python3.12)" >&2; exit 2; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { echo "make: error: $(PYTHON) is older than Python 3.12; pass PYTHON=/path/to/python3.12" >&2; exit 2; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

run: $(BIN)/probmodel
	$(BIN)/probmodel run priors/deepseek-adjusted.toml --draws $(DRAWS)

# The optional cluster extra (dask[distributed]), pinned: `make test` runs the Dask tests too.
$(VENV)/.cluster: $(BIN)/probmodel requirements-cluster.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-cluster.lock
	@touch $@

# `make test` is what CI runs: every test but the long-run checks of the error bars (marked
# `long`: spreads over dozens of seeds or fits, minutes of CPU), which `make test-long` runs;
# `make test-all` runs both. Each prints its 20 slowest tests.
test: $(BIN)/probmodel $(VENV)/.cluster
	$(BIN)/python -m pytest -n 2 -m "not long" --durations=20

test-long: $(BIN)/probmodel $(VENV)/.cluster
	$(BIN)/python -m pytest -n 2 -m long --durations=20

test-all: $(BIN)/probmodel $(VENV)/.cluster
	$(BIN)/python -m pytest -n 2 --durations=20

lint: $(BIN)/probmodel
	$(BIN)/ruff check .

bench: $(BIN)/probmodel
	$(BIN)/python benchmarks/bench_forward.py

# Re-run every command quoted in docs/ and rewrite its output and quoted numbers.
docs: $(BIN)/probmodel
	$(BIN)/python docs/make_priors.py
	$(BIN)/python docs/make_docs.py

clean-venv:
	rm -rf $(VENV)
