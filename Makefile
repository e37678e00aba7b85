# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Development defaults (dev-only keys, Celery inline, SMS outbox, SQLite) unless the
# environment says otherwise; see .env.example for production.
export DEBUG ?= 1
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate data lint check browser e2e-tools services-test clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Development settings for manage.py run by hand (make itself exports DEBUG=1).
.env:
	printf '%s\n' '# Development settings written by make (git-ignored). Production sets the' \
	  '# environment instead: see .env.example. The environment always wins over this file.' 'DEBUG=1' > .env

install: $(STAMP) .env

migrate: install
	$(BIN)/python manage.py migrate --noinput

data: migrate
	$(BIN)/python manage.py load_reference_data
	$(BIN)/python manage.py setup_roles
	$(BIN)/python manage.py seed_demo

run: data
	@echo "Serving http://$(HOST):$(PORT)/  (SMS codes: '$(BIN)/python manage.py sms_outbox --last')"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Debian's Chromium for the browser tests: installed when missing and we may.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "could not install chromium: browser tests will be skipped (CI requires them)"; \
	  else echo "no /usr/bin/chromium and not root: browser tests will be skipped (CI requires them)"; fi; \
	fi

# axe-core for the accessibility scan of the manual's browser journey, pinned by
# tests/e2e/package-lock.json and installed from npm into tests/e2e/node_modules.
E2E_TOOLS := tests/e2e/node_modules/.installed
$(E2E_TOOLS): tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "no npm: the accessibility scan will be skipped (CI requires it)"; fi

e2e-tools: $(E2E_TOOLS)

test: install browser e2e-tools
	$(BIN)/python manage.py makemigrations --check --dry-run >/dev/null
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

check: install
	$(BIN)/python manage.py check

clean:
	rm -rf $(VENV) .pytest_cache db.sqlite3 db.sqlite3-* staticfiles test-artifacts tests/e2e/node_modules

# Benchmarks (need a local PostgreSQL and Redis; see bench/README.md). The first run seeds
# portal_bench_1k and portal_bench_300k (seed_scale, ~8 min); later runs reuse them.
# BENCH_ARGS go to credit_ingest.py (e.g. "--records 10000"), BENCH_PAGES_ARGS to pages.py.
BENCH_DB_300K ?= postgres://postgres@127.0.0.1:5432/portal_bench_300k
.PHONY: bench wrk
wrk:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian wrk for the page benchmark"; \
	    (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)); \
	  else echo "wrk is missing and we are not root: apt-get install wrk"; exit 1; fi; \
	fi

bench: install wrk
	@rc=0; \
	$(BIN)/python bench/pages.py $(BENCH_PAGES_ARGS) || rc=1; \
	DATABASE_URL=$(BENCH_DB_300K) $(BIN)/python bench/report.py || rc=1; \
	$(BIN)/python bench/login.py || rc=1; \
	DATABASE_URL=$(BENCH_DB_300K) $(BIN)/python bench/credit_ingest.py $(BENCH_ARGS) || rc=1; \
	DATABASE_URL=$(BENCH_DB_300K) $(BIN)/python bench/admin_lists.py || rc=1; \
	exit $$rc
