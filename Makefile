# evplatform — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-all lint bench setup services browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

## Set up and run the main job on the bundled demo workspace.
run: setup
	$(VENV)/bin/evplatform check
	$(VENV)/bin/evplatform kpi

## Set up, lint and run the fast test suite (heavy tests are `make test-all`).
test: setup services
	$(MAKE) lint
	$(PY) -m pytest -q

test-all: setup services
	$(PY) -m pytest -q -m ''

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## Services the tests need (PostgreSQL, Chromium); installs them from Debian when absent.
services:
	@bash scripts/ensure-services.sh

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
