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

# The browser tests drive Debian's Chromium; install it where it is missing.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	command -v apt-get >/dev/null || { echo "Install Chromium, or set CHROMIUM=/path/to/chromium"; exit 1; }
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get install -y -q chromium \
	  || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

test: $(STAMP) $(CHROMIUM)
	ESCALINK_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q
	$(BIN)/ruff check src tests
	$(BIN)/mypy

# The same suite, with the PostgreSQL and Redis variants switched on (CI sets these).
test-services: $(STAMP) $(CHROMIUM)
	ESCALINK_CHROMIUM=$(CHROMIUM) ESCALINK_TEST_DATABASE_URL=$${ESCALINK_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	ESCALINK_TEST_REDIS_URL=$${ESCALINK_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
