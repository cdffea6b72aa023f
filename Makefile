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

## Set up, check the demo workspace, build the demo fleet database (10,000 vehicles, a finished and a
## halted campaign) and serve the dashboard at http://127.0.0.1:8000 (prints the admin's sign-in token).
run: setup
	$(VENV)/bin/evplatform check
	$(VENV)/bin/evplatform kpi
	$(VENV)/bin/evplatform fleet demo --vehicles 10000
	@test -f .evplatform/ota/image/metadata/root.json || { $(VENV)/bin/evplatform ota keys init .evplatform/ota/keys \
		&& $(VENV)/bin/evplatform ota init; }
	$(VENV)/bin/evplatform serve --create-admin admin --host 127.0.0.1 --port 8000

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
