# The reader's commands. Each sets itself up on a fresh clone: it creates .venv if absent and
# installs requirements.txt and the dlbook package (editable) into it.
#
#   make book    build the site into _build/html, executing every notebook; fails on any error
#   make test    lint, unit tests, then the site build, then checks of the built site in a browser
#   make lint    ruff on src/, tests/ and the notebooks
#   make bench   execute every notebook, one at a time and then in parallel, and record timings
#                and slider latencies (see .ci/bench.py); fails when a chapter or a slider is too slow
#   make determinism  execute every chapter twice and compare the printed numbers (part of bench)
#   make serve   serve _build/html on http://127.0.0.1:$(PORT)
#   make clean   remove build outputs and the cached model checkpoints (keeps .venv and data)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
STAMP  := $(VENV)/.dlbook-installed

# The book's datasets: ../shared/data when it exists (the authors' and CI's layout); otherwise
# dlbook.data uses its per-user cache and downloads with checksum verification.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/README.md),)
export DLBOOK_DATA_DIR ?= $(SHARED_DATA)
endif
export PYTHONUNBUFFERED := 1
# One CPU thread per kernel: the book's networks are small, a second OpenMP thread gains little,
# and on a busy machine spinning threads can make a chapter several times slower. The book's
# timings (make bench) are measured this way. Override with `make book OMP_NUM_THREADS=4`.
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= $(OMP_NUM_THREADS)
# Notebooks are executed in parallel, one single-threaded kernel per core (see .ci/execute.py).
# Set the number of workers with `make book JOBS=1`; empty means one per core.
JOBS ?=

.PHONY: setup book test lint unit site-test bench determinism serve clean browser fresh-cache mathjax

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

setup: $(STAMP)

# Executed notebooks are cached in _build/.jupyter_cache, keyed on the notebooks' code only.
# The cache is dropped whenever the dlbook package or the requirements change, so that a
# rebuild never shows outputs of code that no longer exists.
CACHE_STAMP := _build/.dlbook-cache-stamp
$(CACHE_STAMP): $(wildcard src/dlbook/*.py) requirements.txt pyproject.toml _config.yml
	rm -rf _build/.jupyter_cache
	@mkdir -p _build && touch $@

# MathJax is served from the site (no CDN): its npm package, checked against its SHA-256, is
# unpacked once into _build/mathjax. Needs npm (Node.js) the first time; the build does the same
# if this step was skipped.
mathjax: setup
	$(PY) book/_ext/dlbook_site.py

# First every notebook that has no cached execution is executed, JOBS at a time, into the cache
# (.ci/execute.py; it prints the traceback of a failing notebook and stops here). The site build
# then takes every execution from the cache. --all re-reads every page so a failing notebook
# cannot hide behind an up-to-date build; -W turns every Sphinx warning into a failure.
book: setup mathjax $(CACHE_STAMP)
	$(PY) .ci/execute.py $(if $(JOBS),--jobs $(JOBS))
	$(VENV)/bin/jupyter-book build . --all -W --keep-going
	@echo ""
	@echo "The site is in $(CURDIR)/_build/html: open _build/html/index.html, or run 'make serve'."

# Debian's Chromium for the browser test (no browser download); installed when missing and
# we are allowed to (root with apt-get). Elsewhere the browser test says how to get one.
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

lint: setup
	$(VENV)/bin/ruff check src tests notebooks

unit: setup
	$(PY) -m pytest -m "not site"

site-test: setup browser
	DLBOOK_SITE_BUILT=1 $(PY) -m pytest -m site

# `make test` executes every notebook afresh: the execution cache is dropped first.
fresh-cache:
	rm -rf _build/.jupyter_cache

# One step after the other, even under `make -j`: each step is its own make, started in order.
test: setup
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) fresh-cache
	$(MAKE) book
	$(MAKE) site-test

bench: setup
	$(PY) .ci/bench.py $(if $(JOBS),--jobs $(JOBS))

# Executing a chapter twice must print the same numbers (.ci/determinism.py; differences go to
# _build/determinism/). Part of `make bench`; `make determinism ONLY="12 14"` checks a few chapters.
determinism: setup
	$(PY) .ci/determinism.py $(if $(ONLY),--only $(ONLY))

bench: determinism

serve:
	@test -f _build/html/index.html || { echo "No site yet: run 'make book' first."; exit 1; }
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# The trained-model checkpoints live in the per-user cache (dlbook.checkpoints); downloaded data stays.
clean:
	rm -rf _build .pytest_cache
	@if [ -x $(PY) ]; then PYTHONPATH=src $(PY) -m dlbook.checkpoints clear; fi
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
