# `make demo` and `make test` work on a fresh machine: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-services lint typecheck sandbox clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/escalink demo

sandbox: $(STAMP)
	$(BIN)/escalink sandbox

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check src tests
	$(BIN)/mypy

# The same suite, with the PostgreSQL and Redis variants switched on (CI sets these).
test-services: $(STAMP)
	ESCALINK_TEST_DATABASE_URL=$${ESCALINK_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	ESCALINK_TEST_REDIS_URL=$${ESCALINK_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
