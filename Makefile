# Baton: `make run` installs and starts it; `make test` installs and runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The example configuration and an obviously fake intake token, for trying Baton locally.
BATON_CONFIG ?= baton.example.toml
BATON_INTAKE_TOKEN ?= dev-intake-token-change-me
export BATON_CONFIG BATON_INTAKE_TOKEN

.PHONY: install run test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/baton config check
	$(BIN)/baton db upgrade
	$(BIN)/baton serve

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache baton.db baton.db-wal baton.db-shm
