# certhub: the two commands that matter are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# Tests keep their secret key and files away from the demo's ./var.
TEST_ENV := CERTHUB_DATA_DIR=$(CURDIR)/var/test
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: demo test venv venv-dev lint test-sqlite test-postgres bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

## demo: install, migrate SQLite in ./var, load the ASEAN demo directory, serve on 127.0.0.1
demo: venv
	$(BIN)/certhub demo --port $(PORT)

## test: lint, then the whole suite on SQLite, then on PostgreSQL when DATABASE_URL points at one
test: venv-dev lint test-sqlite test-postgres

lint: venv-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	env -u DATABASE_URL $(TEST_ENV) $(BIN)/certhub makemigrations --check --dry-run

test-sqlite: venv-dev
	@echo "== tests on SQLite"
	env -u DATABASE_URL $(TEST_ENV) $(PYTEST)

test-postgres: venv-dev
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== tests on PostgreSQL ($${DATABASE_URL%%@*}@...)"; \
		$(TEST_ENV) $(PYTEST); \
	else \
		echo "== DATABASE_URL unset: PostgreSQL run skipped"; \
	fi

## bench: every benchmark on small data (pass N=... for more)
N ?= 10000
bench: venv-dev
	@for script in bench/*.py; do echo "== $$script --n $(N)"; $(BIN)/python $$script --n $(N) || exit 1; done

## messages: refresh the translation catalogues after changing strings
messages: venv-dev
	cd src/certhub && ../../$(BIN)/certhub makemessages -l th --ignore='migrations/*' && ../../$(BIN)/certhub compilemessages

clean:
	rm -rf $(VENV) var/test .pytest_cache test-artifacts
