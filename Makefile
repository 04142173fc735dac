# hydrascope task runner: the same targets run locally and in CI (.ci/run calls `make test`).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo
DEMO_PORT ?= 8000
export HYDRASCOPE_INGEST_WORKERS ?= 2
# test processes (pytest-xdist); a test file's tests stay in one process, so module fixtures
# (a detected world) are built once
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install lint typecheck test test-fast demo bench migrate clean

$(STAMP): pyproject.toml setup.py graph/signals/_kernels.c app/ingest/_cardscan.c app/core/_digests.c
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check app graph worlds tests benchmarks migrations
	$(BIN)/ruff format --check app graph worlds tests benchmarks
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

## Lint, types, doctests and the whole suite (PostgreSQL too when HYDRASCOPE_TEST_POSTGRES_URL is set).
test: lint typecheck
	$(BIN)/python -m pytest $(XDIST) --doctest-modules graph worlds app/core/errors.py app/ingest/cards.py app/ingest/validate.py tests

test-fast: install
	$(BIN)/python -m pytest $(XDIST) -x -q -m "not slow" tests

## Synthetic world -> ingest -> detection -> API and console on 127.0.0.1.
demo: install
	HYDRASCOPE_DEV_MODE=1 HYDRASCOPE_DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DIR)/hydrascope.db \
		$(BIN)/hydrascope demo --dir $(DEMO_DIR) --serve --port $(DEMO_PORT)

bench: install
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/detect.py
	$(BIN)/python benchmarks/memory.py

migrate: install
	$(BIN)/hydrascope db upgrade

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache build
	rm -f graph/signals/_kernels*.so app/ingest/_cardscan*.so
