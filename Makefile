# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv and install the pinned dependencies on first use.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_STAMP := tests/readme/node_modules/.installed

.PHONY: run test protos lock clean cachesafety audit bench bench-soak

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "NextModel needs Python 3.11 or newer on PATH." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/nextmodel run

# The README's Node example runs in the tests; its one dependency is pinned in tests/readme.
$(NODE_STAMP): tests/readme/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/readme && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: the README's Node example test will be skipped."; fi

test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest

# NextModel vs LiteLLM's proxy vs the upstream alone, on this machine (bench/perf/README.md).
# Not part of `make test` (a smoke run of it is). BENCH_ARGS=--no-litellm for quicker runs.
bench: $(STAMP)
	$(PY) bench/perf/run.py $(BENCH_ARGS)

# Memory of every NextModel process over a 5-minute Fresh soak.
bench-soak: $(STAMP)
	$(PY) bench/perf/run.py --soak 300

# Known vulnerabilities in the locked dependencies (pip-audit).
audit: $(STAMP)
	$(PY) scripts/audit_dependencies.py

# CacheSafety Bench on the built-in workload: table, report.json and chart in artifacts/cachesafety.
cachesafety: $(STAMP)
	$(VENV)/bin/nextmodel bench cachesafety --out artifacts/cachesafety

# Regenerate the Python code of protos/ (committed; a test fails when it drifts).
protos: $(STAMP)
	$(PY) scripts/gen_protos.py

# Re-pin the whole dependency tree from pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	( echo '# The whole dependency tree, pinned. Regenerate with `make lock` after changing pyproject.toml.'; \
	  .lock-venv/bin/pip freeze --exclude-editable ) > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .data .pytest_cache
