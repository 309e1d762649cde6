# Everything a fresh machine needs: Python 3.11+, make and a C compiler.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
STAMP  := $(VENV)/.installed
# Material's end-of-life banner is not a build problem; keep the build output to what is.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs

.PHONY: install run test checks test-stress lint docs bench clean

install: $(STAMP)

# uv installs the pins of pyproject.toml: on a fresh 2-core machine 12 s where pip took 26,
# most of a fresh clone's set-up. pip installs only uv itself, at this version.
UV_PIN := uv==0.13.10

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(UV_PIN)
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]'
	touch $(STAMP)

# `exec`: the service replaces the recipe's shell, so SIGTERM to make (which make passes
# on) reaches it. SIGINT to make alone, make does not pass on: --stop-with-parent has the
# service notice that make was told to stop (notifier/pipeline/runtime/parent.py).
run: install
	exec $(VENV)/bin/notifier run --stop-with-parent

# The suite on every core (pytest-xdist), each worker with its own Redis, ports and data
# directory. The tests of a module marked xdist_group run on one worker, in order; so do
# the tests marked whole_machine (tests/conftest.py). `make test PYTEST_ARGS="-n 0"` runs serially.
# With bytecode caching on, whatever the shell says: the suite starts hundreds of Python
# processes (xdist workers, commands, served services), and under PYTHONDONTWRITEBYTECODE
# (set in many CI images) each compiled the project's modules again and each worker
# rewrote every test module's asserts: 7.4 CPU-s to collect per worker instead of 3.1.
# The caches go to the __pycache__/ directories git ignores.
# The history tests run on SQLite, and on the PostgreSQL at 127.0.0.1:5432 too when it
# answers (tests/support/pg_probe.py).
SUITE := NOTIFIER_TEST_DATABASE_URL="$${NOTIFIER_TEST_DATABASE_URL:-$$($(PY) -m tests.support.pg_probe)}" \
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -p no:cacheprovider -n auto --dist loadgroup --durations=15 $(PYTEST_ARGS)

# The bytecode, compiled once up front, of the project and of what it installed (uv, unlike
# pip, compiles nothing): on a fresh clone the xdist workers and the services the first tests
# start all import the same modules at once, and each compiled them again (the project's alone
# cost about 50 CPU-s of a 240-CPU-s suite). Left out: the tools the suite never imports and
# Twilio's thousand generated REST modules, of which the SMS channel imports a few (7 s on
# 2 cores instead of 11). Files already compiled are skipped.
COMPILE := env -u PYTHONDONTWRITEBYTECODE $(PY) -m compileall -q -j 0 \
	-x '/(mypy|mypyc|pip|setuptools|_distutils_hack|pkg_resources)/|/twilio/rest/' \
	notifier workers tests bench $(VENV)/lib/python3*/site-packages

# Lint (ruff, mypy and the import contract of pyproject.toml) and a strict build of the docs
# are part of the suite: CI enforces them. They run beside the tests, their output printed
# whole when the tests end: on a fresh clone mypy alone holds one core for about 10 s, which
# in front of the tests was 10 s more of the gate's wall time.
test: install
	@mkdir -p build
	@$(COMPILE)
	@$(MAKE) --no-print-directory checks > build/checks.log 2>&1 & checks=$$!; \
	$(SUITE); suite=$$?; \
	wait $$checks; checked=$$?; \
	echo "== lint and docs ($$( [ $$checked = 0 ] && echo passed || echo FAILED ))"; cat build/checks.log; \
	[ $$suite = 0 ] && [ $$checked = 0 ]

# What `make test` runs beside the tests: lint and a strict build of the docs.
checks: lint
	$(MKDOCS) build --strict --quiet --site-dir build/site

# The suite three times in a row on a machine kept busy by two CPU-burning processes: a test
# that only passes on an idle machine fails here. The burners are stopped whatever happens.
test-stress: install
	@$(COMPILE)
	@set -e; \
	$(PY) -c 'while True: pass' & b1=$$!; \
	$(PY) -c 'while True: pass' & b2=$$!; \
	trap "kill $$b1 $$b2 2>/dev/null" EXIT; \
	for run in 1 2 3; do \
		echo "== stress run $$run of 3 (two CPU burners running)"; \
		$(SUITE); \
	done

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
