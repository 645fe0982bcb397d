# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TOKEN_FILE := .hookline/admin-token
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck unit clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[test]'
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

## test: install into .venv, lint, type-check and run the whole suite
test: $(STAMP) lint typecheck
	@$(BIN)/python -m pytest -q

lint: $(STAMP)
	@$(BIN)/ruff check src tests bench
	@$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	@$(BIN)/mypy

unit: $(STAMP)
	@$(BIN)/python -m pytest -q tests/unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
