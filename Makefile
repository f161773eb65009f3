# aro: `make run` starts the RP on the embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test lint typecheck unit bench soak clean venv browser azcli

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

## test: lint, type-check and run every test (the Azure CLI installs meanwhile, the first time only)
test: $(STAMP)
	$(MAKE) --no-print-directory --output-sync=target -j3 lint typecheck azcli
	$(MAKE) --no-print-directory unit

## lint: ruff, and the import direction between the layers (import-linter contracts in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check pkg cmd tests hack
	$(BIN)/ruff format --check pkg cmd tests hack
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

## unit: pytest in 2 processes (pytest-xdist; each takes whole files, the slow ones first): ARGS="-n 0" runs it in one
unit: $(STAMP) node_modules/.installed browser azcli
	ARO_AZ_CLI=$(AZ_CLI) $(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=25 $(ARGS)

## azcli: the real Azure CLI (PyPI azure-cli, ~730 MB) in its own venv outside the clone, stamped by version so
## that later runs -- and later clean clones on this machine -- pay nothing. The az tests (tests/azcli) use it.
AZ_CLI_VERSION ?= 2.91.0
AZ_CLI_HOME ?= $(HOME)/.cache/aro/azure-cli-$(AZ_CLI_VERSION)
AZ_CLI := $(AZ_CLI_HOME)/bin/az
azcli: $(AZ_CLI_HOME)/.installed

$(AZ_CLI_HOME)/.installed:
	@echo "azcli: installing azure-cli==$(AZ_CLI_VERSION) into $(AZ_CLI_HOME) (once)"
	@rm -rf $(AZ_CLI_HOME) && $(PYTHON) -m venv $(AZ_CLI_HOME)
	@$(AZ_CLI_HOME)/bin/python -m pip install --quiet --disable-pip-version-check 'azure-cli==$(AZ_CLI_VERSION)' \
	  >$(AZ_CLI_HOME)/install.log 2>&1 || { grep -v 'is ignored: it is neither' $(AZ_CLI_HOME)/install.log; exit 1; }
	@$(AZ_CLI_HOME)/bin/python -c "import azure.cli.core, azure.cli.command_modules.aro"
	@touch $@

## browser: headless Chromium (Debian's `chromium`) for the simulator console's tests, installed with apt-get
## when missing and possible; without it those tests fail under CI=true and are skipped elsewhere.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo -n); \
	    echo "browser: installing chromium (apt-get)"; \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || \
	      { $$SUDO apt-get update -qq >/dev/null 2>&1 && \
	        $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	      echo "browser: could not install chromium"; \
	  else echo "browser: chromium missing and apt-get unavailable (or not root)"; fi; }

## bench: performance figures (not part of `make test`): one table, and bench-results/bench.json.
## Installs wrk with apt-get when missing and possible (else an httpx load generator is used and named).
## ARGS are passed on (e.g. ARGS="--only throughput,latency" or "--quick"); PROFILE=1 adds py-spy profiles.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo -n); \
	    echo "bench: installing wrk (apt-get)"; \
	    $$SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || \
	      { $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq wrk >/dev/null 2>&1; } || \
	      echo "bench: could not install wrk; the httpx load generator will be used"; \
	  else echo "bench: wrk missing and apt-get unavailable (or not root); the httpx load generator will be used"; fi; }
	@if [ -n "$(PROFILE)" ]; then $(BIN)/python -m pip install --quiet py-spy; fi
	$(BIN)/python hack/bench/run.py $(if $(PROFILE),--profile) $(ARGS)

## soak: the reliability drills (tests/drills) at soak scale, not part of `make test` (which runs their short
## form): 200 installs per store under random kill -9, 64 clients x 4 contended If-Match PATCHes, 3000 fuzzed
## requests. Prints the figures and writes them to .aro/drills-soak.json. ARGS are passed on to pytest.
soak: $(STAMP) node_modules/.installed
	ARO_DRILL_SCALE=soak ARO_DRILL_FIGURES=.aro/drills-soak.json $(BIN)/pytest tests/drills -p no:cacheprovider $(ARGS)

clean:
	rm -rf $(VENV) .aro node_modules .mypy_cache .ruff_cache .pytest_cache
