# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DATA ?= demo-data
PORT ?= 8000

.PHONY: demo test venv system-deps lint bench clean tracker

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

test: venv system-deps tracker/node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(DEMO_DATA) .pytest_cache
