# Two commands do everything: `make demo` and `make test`; `make test-fast` is the edit-run loop.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DATA ?= demo-data
PORT ?= 8000

.PHONY: demo test test-fast test-cluster venv system-deps lint bench clean tracker translations translations-compile

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/.installed

# The tracker's build tools (terser), from the npm registry, as locked.
tracker/node_modules/.package-lock.json: tracker/package-lock.json
	cd tracker && npm ci --no-audit --no-fund --loglevel=error

tracker: tracker/node_modules/.package-lock.json
	cd tracker && node build.mjs

system-deps:
	scripts/system-deps

demo: venv
	$(BIN)/basirat --data $(DEMO_DATA) demo --port $(PORT)

# Every test (browser, servers, processes, slow ones) after the lint; the slowest at the end.
test: venv system-deps tracker/node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest --durations=25
	@echo "screenshots and reports: test-artifacts/ (kept between runs)"

# Pure functions and the embedded warehouse (chDB) only: no Chromium, no clickhouse-server,
# no subprocess, nothing marked slow (markers in pyproject.toml). Under two minutes on two cores.
FAST := not server and not browser and not process and not slow
test-fast: venv
	$(BIN)/pytest -m "$(FAST)" --durations=10

# The server backend becomes a ZooKeeper-backed cluster of Debian servers
# (2 shards x 2 replicas on loopback), started and stopped by the tests.
# `make test-cluster CLUSTER_SUITE=tests` runs the whole suite against it.
CLUSTER_SUITE ?= tests/warehouse/test_warehouse_contract.py tests/collector/test_collector.py \
                 tests/collector/test_privacy.py tests/mining/test_retention.py tests/mining/test_people.py \
                 tests/mining/test_same_models.py tests/warehouse/test_cluster.py
test-cluster: venv system-deps
	CLUSTER_TESTS=1 $(BIN)/pytest $(CLUSTER_SUITE)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(DEMO_DATA) .pytest_cache

# Translations: extract the text of the admin and the demo store, merge it into every catalogue
# (new strings arrive untranslated), then compile. docs/translations.md has the whole workflow.
I18N_ROOMS := webapp storefront
translations: venv
	for room in $(I18N_ROOMS); do \
	  $(BIN)/pybabel -q extract -F babel.cfg -k _l --no-location --sort-output \
	    -o $$room/translations/messages.pot $$room && \
	  $(BIN)/pybabel -q update -i $$room/translations/messages.pot -d $$room/translations --no-fuzzy-matching \
	    --no-wrap || exit 1; \
	done
	$(MAKE) translations-compile

translations-compile: venv
	for room in $(I18N_ROOMS); do $(BIN)/pybabel -q compile -d $$room/translations || exit 1; done
