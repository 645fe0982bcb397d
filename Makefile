# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TOKEN_FILE := .hookline/admin-token
# `make run PORT=8001`, or HOOKLINE_HOST / HOOKLINE_PORT as `hookline serve` reads them.
HOST ?= $(or $(HOOKLINE_HOST),127.0.0.1)
PORT ?= $(or $(HOOKLINE_PORT),8000)

.PHONY: run test lint typecheck unit clean chromium pgbouncer svix-js screenshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[server,brokers,otel,test]'
	@touch $(STAMP)

$(TOKEN_FILE):
	@mkdir -p $(dir $(TOKEN_FILE))
	@$(BIN)/python -c "import secrets; print('hla_' + secrets.token_urlsafe(32))" > $(TOKEN_FILE)
	@chmod 600 $(TOKEN_FILE)

## run: install into .venv and start Hookline on SQLite (./hookline.db)
run: $(STAMP) $(TOKEN_FILE)
	@echo "Admin token: $$(cat $(TOKEN_FILE))   (kept in $(TOKEN_FILE))"
	@HOOKLINE_ADMIN_TOKEN="$${HOOKLINE_ADMIN_TOKEN:-$$(cat $(TOKEN_FILE))}" \
		$(BIN)/hookline serve --host $(HOST) --port $(PORT)

## test: install into .venv, lint, type-check and run the whole suite (on every core, at most 4)
test: $(STAMP) chromium pgbouncer svix-js lint typecheck
	@$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadgroup -m "not alone"
	@$(BIN)/python -m pytest -q -m alone

## chromium: Debian's Chromium for the browser tests, installed when root with apt-get
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
				|| echo "chromium could not be installed: the browser tests skip (fail under CI=true)"; \
		else \
			echo "chromium is missing (install it as root): the browser tests skip (fail under CI=true)"; \
		fi; \
	}

## pgbouncer: Debian's PgBouncer for the transaction-pooling tests, installed when root with apt-get
pgbouncer:
	@test -x /usr/sbin/pgbouncer || command -v pgbouncer >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer) \
				|| echo "pgbouncer could not be installed: its tests skip (fail under CI=true)"; \
		else \
			echo "pgbouncer is missing (install it as root): its tests skip (fail under CI=true)"; \
		fi; \
	}

SVIX_JS := tests/svix/js

## svix-js: the npm svix SDK for tests/svix (npm ci), again whenever its package-lock.json changes
svix-js:
	@if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then \
		echo "Node.js/npm is missing: the npm SDK tests skip (fail under CI=true)"; \
	elif [ ! -f $(SVIX_JS)/node_modules/.package-lock.json ] \
			|| [ $(SVIX_JS)/package-lock.json -nt $(SVIX_JS)/node_modules/.package-lock.json ]; then \
		npm ci --prefix $(SVIX_JS) --no-audit --no-fund --loglevel=error \
			|| echo "npm ci failed: the npm SDK tests skip (fail under CI=true)"; \
	fi

## screenshots: the dashboard's and the customer portal's pages as PNGs in docs/screenshots/ (sample data, real Chromium)
screenshots: $(STAMP) chromium
	@$(BIN)/python scripts/screenshots.py

lint: $(STAMP)
	@$(BIN)/ruff check src tests bench
	@$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	@$(BIN)/mypy

unit: $(STAMP)
	@$(BIN)/python -m pytest -q tests/unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## bench: end-to-end benchmarks against real processes (~35 min); see docs/BENCHMARKS.md
BENCH_STAMP := $(VENV)/.bench-stamp
BENCH_ARGS ?= --events 20000 --latency-seconds 10 --latency-rates 100,500,1000,2000,2500,3000 \
	--isolation-events 50 --growth-ingest 2000 --growth-window 10

$(BENCH_STAMP): pyproject.toml $(STAMP)
	@$(BIN)/python -m pip install --quiet -e '.[server,brokers,otel,test,bench]'
	@touch $(BENCH_STAMP)

.PHONY: bench
bench: $(BENCH_STAMP)
	@$(BIN)/python -m bench all $(BENCH_ARGS)
