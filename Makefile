# Baton: `make run` installs and starts it; `make test` installs and runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The example configuration and an obviously fake intake token, for trying Baton locally.
BATON_CONFIG ?= baton.example.toml
BATON_INTAKE_TOKEN ?= dev-intake-token-change-me
export BATON_CONFIG BATON_INTAKE_TOKEN

.PHONY: install run test lint format format-check bench clean messages messages-check messages-init

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

# The checks CI runs before the tests: style and bugs, strict types, and the layers of
# DESIGN.md as import-linter contracts ([tool.importlinter] in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Format the tree with ruff; `lint` fails on a file ruff would format differently.
format: install
	$(BIN)/ruff format .

format-check: install
	$(BIN)/ruff format --check .

# The text catalogue (handlers/text/locale): `messages` rewrites the template and merges it into
# every language; `messages-init LOCALE=tr` starts a language; `messages-check` compares code and catalogue.
messages: install
	$(BIN)/python -m handlers.text.messages update

messages-check: install
	$(BIN)/python -m handlers.text.messages check

messages-init: install
	$(BIN)/python -m handlers.text.messages init $(LOCALE)

bench: install
	$(BIN)/python bench/cli_start.py
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache baton.db baton.db-wal baton.db-shm
