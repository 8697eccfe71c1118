# Alliance Ledger: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install browser spreadsheet clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Install, migrate, load the demo alliance (once) and serve on http://127.0.0.1:5000
run: install
	$(FLASK) ledger init-db
	$(FLASK) ledger demo
	@echo "Serving on http://127.0.0.1:5000 (Ctrl-C to stop)"
	$(FLASK) run --host 127.0.0.1 --port 5000

## Debian's Chromium for the browser tests, installed only when missing
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

## LibreOffice (headless Calc) recalculates exported workbooks in the tests, installed only when missing
spreadsheet:
	@if ! command -v soffice >/dev/null 2>&1; then \
	  echo "Installing Debian's libreoffice-calc-nogui for the spreadsheet tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libreoffice-calc-nogui >/dev/null; \
	fi

## Install what the tests need, check style, run the whole suite
test: install browser spreadsheet
	$(BIN)/ruff check ledger tests benchmarks migrations/env.py wsgi.py
	$(BIN)/pytest -n 2

lint: install
	$(BIN)/ruff check ledger tests benchmarks migrations/env.py wsgi.py

## Every benchmark at a small size, one table, under 5 minutes (rebuilds its small data sets; see README for full size)
bench: install
	$(BIN)/python -m benchmarks.run_all --size small --fresh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
