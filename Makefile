# Set-up is part of every target: a fresh clone needs nothing but python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench fmt clean install graphiql-assets

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/liandong demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not load"

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.audit_batches
	$(BIN)/python -m bench.screening
	$(BIN)/python -m pytest -q -m load

# GraphiQL's pinned files (gateway/static/vendor): fetched with npm pack, checked against
# ASSETS.json. To move to a new version, edit it there and run with UPDATE=--update.
graphiql-assets: $(STAMP)
	$(BIN)/python -m gateway.graphiql_assets $(UPDATE)

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .liandong .mypy_cache .ruff_cache .pytest_cache
