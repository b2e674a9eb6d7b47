# Two commands: `make run` (install, build the demo store, open the dashboard) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test install demo browser-deps clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

data/demo.duckdb: $(VENV)/.installed
	$(PY) -m synthetic demo --store data/demo.duckdb

demo: data/demo.duckdb

run: demo
	$(PY) -m streamlit run dashboard.py --server.port $(PORT) --server.address localhost --server.headless true

browser-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: install browser-deps
	$(PY) -m pytest -n 2 --timeout 900 -q

clean:
	rm -rf $(VENV) data/demo.duckdb data/demo_extracts data/data_docs
