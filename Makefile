# Two commands: `make run` (install, build the demo store, open the dashboard) and `make test`.
# Also: `make test-fast` (no browser, no whole-council builds), `make lint`, `make lock`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-fast lint lock install demo browser-deps clean

# requirements.txt pins every dependency (generated from pyproject.toml by `make lock`); the project
# itself is installed editable, so its packages import from anywhere, not only from this folder.
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

data/demo.duckdb: $(VENV)/.installed
	$(PY) -m synthetic demo --store data/demo.duckdb

demo: data/demo.duckdb

# ui/launch.py is `streamlit run dashboard.py` that first refuses, in one line, to serve another address without sign-in.
run: demo
	$(PY) -m ui.launch --server.port $(PORT) --server.address localhost --server.headless true

browser-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Bytecode is written (PYTHONDONTWRITEBYTECODE emptied): where the environment sets it, every pytest process would
# compile the project's modules and rewrite every test module again, 3–4 s of CPU each (measured: BENCHMARKS.md).
test: install browser-deps
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n 2 --dist loadfile --timeout 900 -q

test-fast: install
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n 2 --dist loadfile --timeout 300 -q -m "not browser and not slow"

# Lint (ruff), format (ruff), types (mypy) and dead code (vulture), all configured in pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/vulture

# Regenerate requirements.txt (every transitive dependency pinned) from pyproject.toml.
lock: install
	$(VENV)/bin/pip-compile --quiet --strip-extras --extra test --extra dev --no-emit-index-url \
		--no-emit-find-links --output-file requirements.txt pyproject.toml

clean:
	rm -rf $(VENV) data/demo.duckdb data/demo.duckdb.versions data/demo.duckdb.data_docs data/.demo.duckdb.* data/demo_extracts static/data_docs artifacts
