# Everything a fresh machine needs: Python 3.11+, make and a C compiler.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(VENV)/bin/notifier run

# Lint (ruff, mypy and the import contract of pyproject.toml) is part of the suite: CI enforces it.
test: lint
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check notifier workers tests bench
	$(VENV)/bin/ruff format --check notifier workers tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .notifier .pytest_cache .mypy_cache
