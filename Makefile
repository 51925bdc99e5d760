# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DATA ?= demo-data
PORT ?= 8000

.PHONY: demo test venv system-deps lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/.installed

system-deps:
	scripts/system-deps

demo: venv
	$(BIN)/basirat --data $(DEMO_DATA) demo --port $(PORT)

test: venv system-deps
	$(BIN)/ruff check .
	$(BIN)/pytest
	@echo "screenshots and reports: test-artifacts/ (kept between runs)"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(DEMO_DATA) .pytest_cache
