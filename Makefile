# evplatform — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
## The port `make run` serves on: `make run PORT=8001` when 8000 is taken.
PORT ?= 8000

.PHONY: run test test-all lint bench mutation setup services browser clean constraints coverage fuzz

# '.[dev]' includes the postgres and dask extras; constraints.txt pins every package exactly.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@# kuksa-client without its declared deps: they cannot be resolved beside ortools (pyproject.toml)
	$(PY) -m pip install -q --no-deps -c constraints.txt kuksa-client
	@touch $(STAMP)

setup: $(STAMP)

## Set up, check the demo workspace, build the demo fleet database (10,000 vehicles, a finished and a
## halted campaign) and serve the dashboard at http://127.0.0.1:$(PORT) (default 8000; `make run PORT=8001`),
## printing the admin's sign-in token. A port in use stops it with one line saying so.
run: setup
	$(VENV)/bin/evplatform check
	$(VENV)/bin/evplatform kpi
	$(VENV)/bin/evplatform fleet demo --vehicles 10000
	@# throw-away demo keys: unencrypted and inside the server's folder (docs/ota-key-ceremony.md)
	@test -f .evplatform/ota/image/metadata/root.json || { $(VENV)/bin/evplatform ota keys init .evplatform/ota/keys \
		--insecure-demo-keys && $(VENV)/bin/evplatform ota init --insecure-demo-keys; }
	@# every demo vehicle's ECU keys at the Director (derived from a demo secret; quick when already done)
	$(VENV)/bin/evplatform ota vehicles register --insecure-demo-keys
	EVPLATFORM_INSECURE_DEMO_KEYS=1 $(VENV)/bin/evplatform serve --create-admin admin --host 127.0.0.1 --port $(PORT)

## Set up, lint and run the fast test suite (heavy tests are `make test-all`); fails below the
## coverage floor of [tool.coverage.report] in pyproject.toml (`make coverage` lists the gaps).
test: setup services
	$(MAKE) lint
	$(PY) -m pytest -q --cov --cov-report=

test-all: setup services
	$(PY) -m pytest -q -m ''

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## Services the tests need (PostgreSQL, Chromium); installs them from Debian when absent.
services:
	@bash scripts/ensure-services.sh

## The API fuzz (tests/security/test_fuzz_api.py) with many more examples per operation than `make test`'s 10.
FUZZ_EXAMPLES ?= 200
fuzz: setup
	EVPLATFORM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider tests/security/test_fuzz_api.py

coverage: setup
	$(VENV)/bin/coverage report

## Rewrite constraints.txt from a fresh resolve of the ranges in pyproject.toml (newest allowed versions).
constraints:
	rm -rf .venv-constraints && $(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install -q --upgrade pip
	.venv-constraints/bin/python -m pip install -q '.[dev]'
	.venv-constraints/bin/python -m pip install -q --no-deps "$$(grep '^kuksa-client==' constraints.txt)"
	{ sed -n '1,3p' constraints.txt; .venv-constraints/bin/python -m pip freeze --all --exclude-editable \
		| grep -v -e '^pip==' -e '^evplatform'; } > constraints.txt.new && mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints

bench: setup services
	$(PY) benchmarks/run_all.py

## Mutation testing of the Uptane client and the Director (long: about an hour on 2 free cores;
## incremental, results kept in mutants/). Not part of `make bench`.
mutation: setup
	$(PY) benchmarks/mutation.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage mutants
