# nscale-jupyter: every target creates or reuses .venv and installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: model-rates help venv engine browser lint format test test-fast demo lab bench record-fixtures cassettes notebooks readme model clean

help:
	@echo "make demo   - run the quickstart notebook for real (local engine when NSCALE_API_KEY is unset)"
	@echo "make test   - install what is needed and run lint + every test"
	@echo "make lint   - ruff (lint + format check) and mypy --strict"
	@echo "make bench  - benchmarks, printed as ratios measured side by side"
	@echo "make lab    - JupyterLab on notebooks/ (local engine started when there is no key)"
	@echo "make engine - create/reuse the vLLM engine venv (~/.cache/nscale-jupyter)"
	@echo "make model-rates - the tiny model's copying rates on held-out prompts (engine)"
	@echo "make cassettes - re-record notebooks/cassettes/ from the local engine (after a model change), then make notebooks"
	@echo "make notebooks - rewrite notebooks/*.ipynb with their outputs, replayed from the cassettes"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(STAMP)

engine:
	bash scripts/engine_venv.sh

browser: venv
	bash scripts/install_browser.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Engine, kernel, browser and magics tests run for real; under CI=true a missing part fails.
test: venv engine browser lint
	$(PY) scripts/run_pytest.py $(PYTEST_ARGS)

# Unit tests only: no engine, kernel or browser.
test-fast: venv
	$(PY) -m pytest -q -m "not engine and not kernel and not browser" $(PYTEST_ARGS)

demo: venv engine
	$(PY) scripts/demo.py

lab: venv engine
	$(PY) scripts/lab.py

bench: venv engine
	$(PY) benchmarks/run.py

record-fixtures: venv engine
	$(PY) scripts/record_fixtures.py

# Every notebook run against the local engine, its answers recorded for offline replay,
# then notebooks/*.ipynb rewritten with the outputs their cassettes replay.
cassettes: venv engine
	$(PY) scripts/record_cassettes.py

# Only rewrite notebooks/*.ipynb with their outputs, replayed from the cassettes (no engine).
notebooks: venv
	$(PY) scripts/record_cassettes.py --replay

readme: venv
	$(PY) scripts/gen_readme.py

model: engine
	$$(bash scripts/engine_venv.sh --print-python) scripts/build_tiny_model.py

# tiny-chat's copying rates on held-out prompts, against the live engine (also in `make bench`).
model-rates: venv engine
	$(PY) scripts/measure_model.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
