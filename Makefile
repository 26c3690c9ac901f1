# The two commands a new user runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
CODE := app standins tests bench migrations

.PHONY: demo test lint bench serve clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# The stand-ins and the demo storefront live in the `demo` extra, outside the product.
$(DEMO_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@ $(STAMP)

$(DEV_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(DEMO_STAMP) $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/parley demo

serve: $(STAMP)
	$(BIN)/parley serve

test: $(DEV_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lint, format, types and the import contracts (pyproject.toml); CI runs it before the tests.
lint: $(DEV_STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy
	$(BIN)/lint-imports

# The fuzz suite (tests/test_fuzz.py) at length: CI runs 40 generated requests per test and
# backend, this 2,000 (PARLEY_FUZZ_EXAMPLES=… for another count); PostgreSQL from
# TEST_POSTGRES_URL, as for `make test`.
fuzz: $(DEV_STAMP)
	PARLEY_FUZZ_EXAMPLES=$${PARLEY_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest tests/test_fuzz.py -s $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
