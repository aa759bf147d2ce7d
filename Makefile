# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv and install the pinned dependencies on first use.

# The newest Python 3.11+ on PATH. A pyenv shim for a version that is not active answers with an
# error, so the probe's own output is silenced.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_STAMP := tests/readme/node_modules/.installed

.PHONY: help run test lint protos lock clean cachesafety audit bench bench-soak
.DEFAULT_GOAL := help

help: ## This list
	@echo "NextModel. The two commands a newcomer needs: make run, make test."
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "NextModel needs Python 3.11 or newer on PATH." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP) ## Start every service on the embedded defaults; prints the URL and a dev key
	$(VENV)/bin/nextmodel run

# The README's Node example runs in the tests; its one dependency is pinned in tests/readme.
$(NODE_STAMP): tests/readme/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/readme && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: the README's Node example test will be skipped."; fi

test: $(STAMP) $(NODE_STAMP) ## Run the whole test suite
	$(PY) -m pytest

lint: $(STAMP) ## ruff (complexity 15), mypy, module sizes, buf lint and the breaking check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) scripts/check_module_sizes.py
	$(PY) scripts/check_protos.py

# NextModel vs LiteLLM's proxy vs the upstream alone, on this machine (bench/perf/README.md).
# Not part of `make test` (a smoke run of it is). BENCH_ARGS=--no-litellm for quicker runs.
bench: $(STAMP) ## NextModel vs LiteLLM vs the upstream alone (bench/perf/README.md)
	$(PY) bench/perf/run.py $(BENCH_ARGS)

# Memory of every NextModel process over a 5-minute Fresh soak.
bench-soak: $(STAMP) ## Memory of every process over a 5-minute soak
	$(PY) bench/perf/run.py --soak 300

# Known vulnerabilities in the locked dependencies (pip-audit).
audit: $(STAMP) ## Known vulnerabilities in the locked dependencies
	$(PY) scripts/audit_dependencies.py

# CacheSafety Bench on the built-in workload: table, report.json and chart in artifacts/cachesafety.
cachesafety: $(STAMP) ## CacheSafety Bench on the built-in workload
	$(VENV)/bin/nextmodel bench cachesafety --out artifacts/cachesafety

# Regenerate the Python code of protos/ (committed; a test fails when it drifts).
protos: $(STAMP) ## Regenerate the committed Python code of protos/
	$(PY) scripts/gen_protos.py

# Re-pin the whole dependency tree from pyproject.toml.
lock: ## Re-pin the whole dependency tree from pyproject.toml
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	( echo '# The whole dependency tree, pinned. Regenerate with `make lock` after changing pyproject.toml.'; \
	  .lock-venv/bin/pip freeze --exclude-editable ) > constraints.txt
	rm -rf .lock-venv

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) .data .pytest_cache
