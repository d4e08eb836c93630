# ERPCare developer commands. The two that matter:
#   make demo   install everything and serve ERPCare with the demo data (SQLite)
#   make test   install what the tests need and run the whole suite (SQLite and PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL = $(shell scripts/pg.sh url)
export ERPCARE_HOME := $(CURDIR)

.PHONY: install assets demo serve worker test test-sqlite test-postgres lint typecheck check-migrations messages clean

$(BIN)/erpcare: pyproject.toml
	scripts/system-deps.sh run
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@

node_modules/.package-lock.json: package-lock.json
	scripts/system-deps.sh run
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

erpcare/static/vendor/.stamp: node_modules/.package-lock.json $(BIN)/erpcare
	$(BIN)/erpcare assets
	touch $@

install: $(BIN)/erpcare erpcare/static/vendor/.stamp

assets: erpcare/static/vendor/.stamp

demo: install
	$(BIN)/erpcare demo

serve: install
	$(BIN)/erpcare serve

worker: install
	$(BIN)/erpcare worker

test: install
	scripts/system-deps.sh test
	$(MAKE) --no-print-directory lint typecheck check-migrations
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	@echo "== test suite on SQLite"
	$(BIN)/pytest $(PYTEST_ARGS)

# The PostgreSQL pass runs the tests that use ERPCare's database; the others (parsers,
# engines, runners, ...) do not depend on it and ran in the SQLite pass. ERPCARE_TEST_DB_ONLY=0
# runs everything.
test-postgres: install
	@echo "== test suite on PostgreSQL"
	scripts/pg.sh start >/dev/null
	DATABASE_URL="$(PG_URL)" ERPCARE_TEST_DB_ONLY=$${ERPCARE_TEST_DB_ONLY:-1} $(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/erpcare
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/erpcare
	$(BIN)/mypy erpcare

check-migrations: $(BIN)/erpcare
	$(BIN)/erpcare makemigrations --check --dry-run

messages: $(BIN)/erpcare
	cd erpcare && ../$(BIN)/erpcare makemessages -l zh_Hans --no-obsolete --no-location --ignore 'static/*' --ignore '*/tests/*'
	cd erpcare && ../$(BIN)/erpcare compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) node_modules erpcare/static/vendor var/static
