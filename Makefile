# certhub: the two commands that matter are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# Tests keep their secret key and files away from the demo's ./var.
TEST_DIR := $(CURDIR)/var/test
TEST_ENV := CERTHUB_DATA_DIR=$(TEST_DIR)
PYTEST   := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: demo test venv venv-dev lint test-sqlite test-postgres _pytest-postgres bench messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "certhub needs Python 3.11 or newer; set PYTHON=python3.x" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install whenever pyproject.toml changes (the stamp files are older than it then).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

## demo: install, migrate SQLite in ./var, load the ASEAN demo, print the logins, serve on 127.0.0.1
demo: venv
	$(BIN)/certhub demo --port $(PORT)

## test: lint, then the whole suite on SQLite, then on PostgreSQL when DATABASE_URL points at one
test: venv-dev lint test-sqlite test-postgres

lint: venv-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	env -u DATABASE_URL $(TEST_ENV) $(BIN)/certhub makemigrations --check --dry-run

# run_pytest LABEL FILE ENV: run the suite, print one verdict line and keep it in
# $(TEST_DIR)/summary-FILE.txt (.ci/run prints them at the end). Exit code 5 means pytest
# collected nothing: for a whole suite that is a failure, so it keeps its non-zero code.
define run_pytest
	@mkdir -p $(TEST_DIR); rm -f $(TEST_DIR)/summary-$(2).txt; echo "== tests on $(1)"; \
	status=0; $(3) $(TEST_ENV) $(PYTEST) $(PYTEST_ARGS) || status=$$?; \
	case $$status in \
		0) verdict="passed";; \
		5) verdict="FAILED: no tests were collected";; \
		*) verdict="FAILED (pytest exit code $$status)";; \
	esac; \
	echo "$(1): $$verdict" > $(TEST_DIR)/summary-$(2).txt; \
	echo "== $(1): $$verdict"; exit $$status
endef

test-sqlite: venv-dev
	$(call run_pytest,SQLite,sqlite,env -u DATABASE_URL)

test-postgres: venv-dev
	@if [ -z "$$DATABASE_URL" ]; then \
		mkdir -p $(TEST_DIR); \
		echo "PostgreSQL: skipped (DATABASE_URL is not set)" | tee $(TEST_DIR)/summary-postgres.txt; \
		exit 0; \
	fi; \
	case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
		*) echo "DATABASE_URL does not point at PostgreSQL: $${DATABASE_URL%%:*}://..." >&2; exit 1;; \
	esac
	@if [ -n "$$DATABASE_URL" ]; then $(MAKE) --no-print-directory _pytest-postgres; fi

_pytest-postgres:
	$(call run_pytest,PostgreSQL,postgres,)

## bench: every benchmark on small data (pass N=... for more)
N ?= 10000
bench: venv-dev
	@for script in bench/*.py; do \
		echo "== $$script --n $(N)"; \
		env -u DATABASE_URL $(TEST_ENV) $(BIN)/python $$script --n $(N) || exit 1; \
	done

## messages: refresh the translation catalogues after changing strings
messages: venv-dev
	cd src/certhub && $(TEST_ENV) ../../$(BIN)/certhub makemessages -l th --ignore='migrations/*' \
		&& $(TEST_ENV) ../../$(BIN)/certhub compilemessages

clean:
	rm -rf $(VENV) var/test .pytest_cache test-artifacts
