# Set-up is part of every target: a fresh clone needs nothing but python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every dependency, dev tools included, at one version with its hashes; `make lock` renews it.
LOCK := requirements.lock

.PHONY: demo test check bench bench-peer fmt clean install lock servers graphiql-assets console-screenshots

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/liandong demo

# Twice: the second run turns the execution shortcuts off (strawberry's and graphql-core's
# own paths), so a shortcut that changes an answer fails here, and sends agency calls
# through aiohttp rather than the lean transport, so that both stay covered.
# Each pass runs on two processes (pytest-xdist), a module's tests on one of them so that its
# servers start once; each process starts its own PostgreSQL and Redis. The slowest tests of
# each pass are listed at its end: the suite has a time budget.
PYTEST_RUN = $(BIN)/python -m pytest -q -m "not load" -n 2 --dist loadscope --durations=15
test: $(STAMP) servers
	$(PYTEST_RUN)
	LIANDONG_EXECUTION_SHORTCUTS=false LIANDONG_AGENCY_HTTP_CLIENT=aiohttp $(PYTEST_RUN)

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m schema.compat

bench: $(STAMP) servers
	$(BIN)/python -m bench
	$(BIN)/python -m bench.audit_batches
	$(BIN)/python -m bench.screening
	$(BIN)/python -m pytest -q -m load
	$(BIN)/python -m bench.peer_bench --short

# liandong beside Hive Gateway (bench/peer, npm packages pinned there): the full matrix.
bench-peer: $(STAMP) servers
	$(BIN)/python -m bench.peer_bench

# GraphiQL's pinned files (gateway/console/static/vendor): fetched with npm pack, checked against
# ASSETS.json. To move to a new version, edit it there and run with UPDATE=--update.
graphiql-assets: $(STAMP)
	$(BIN)/python -m gateway.console.assets $(UPDATE)

# The console's pictures in docs/screenshots, taken by its browser journey (tests/browser).
console-screenshots: $(STAMP) servers
	CONSOLE_SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/browser/test_console_journey.py

# PostgreSQL, Redis, Node.js and Chromium for the tests, from Debian's packages (root; only if missing).
servers:
	bash .ci/install-servers

# Resolves pyproject.toml's ranges afresh (newest releases inside them) into $(LOCK).
lock:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --upgrade --extra dev \
		--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file $(LOCK) pyproject.toml

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .liandong .mypy_cache .ruff_cache .pytest_cache
