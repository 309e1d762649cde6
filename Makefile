# Everything a fresh machine needs: Python 3.11+, make and a C compiler.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
STAMP  := $(VENV)/.installed
# Material's end-of-life banner is not a build problem; keep the build output to what is.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs

.PHONY: install run test lint docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `exec`: the service replaces the recipe's shell, so SIGTERM to make (which make passes
# on) reaches it. SIGINT to make alone, make does not pass on: --stop-with-parent has the
# service notice that make was told to stop (notifier/pipeline/runtime/parent.py).
run: install
	exec $(VENV)/bin/notifier run --stop-with-parent

# Lint (ruff, mypy and the import contract of pyproject.toml) and a strict build of the docs
# are part of the suite: CI enforces them. The history tests run on SQLite, and on the
# PostgreSQL at 127.0.0.1:5432 too when it answers (tests/support/pg_probe.py).
test: lint
	$(MKDOCS) build --strict --quiet --site-dir build/site
	NOTIFIER_TEST_DATABASE_URL="$${NOTIFIER_TEST_DATABASE_URL:-$$($(PY) -m tests.support.pg_probe)}" \
		$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check notifier workers tests bench
	$(VENV)/bin/ruff format --check notifier workers tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The documentation site (mkdocs.yml, docs/) into build/site; offline, and --strict so a broken
# link, anchor or page fails.
docs: install
	$(PY) docs/hooks/config_reference.py
	$(MKDOCS) build --strict --site-dir build/site

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .notifier .pytest_cache .mypy_cache build/site
