# aro: `make run` starts the RP on the embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test lint typecheck unit bench soak clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## run: start the RP (frontend + backend + cloud simulator) on https://localhost:8443
run: $(STAMP)
	$(BIN)/aro rp $(ARGS)

## test: lint, type-check and run every test
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check pkg cmd tests hack
	$(BIN)/ruff format --check pkg cmd tests hack

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) node_modules/.installed
	$(BIN)/pytest $(ARGS)

clean:
	rm -rf $(VENV) .aro node_modules .mypy_cache .ruff_cache .pytest_cache
