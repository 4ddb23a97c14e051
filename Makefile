# Aduan — the two commands: `make run` and `make test`. Everything else is what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
RASA_VENV := .venv-rasa
PY        := $(VENV)/bin/python
RASA      := $(RASA_VENV)/bin/rasa
STAMP_APP := $(VENV)/.installed
STAMP_RASA:= $(RASA_VENV)/.installed
PROCFILE  ?= Procfile

.PHONY: help setup browser train db run run-scaled test test-fast reliability lint nlu-eval bench bench-store clean

help:
	@echo "make run    - set up, train if needed, migrate, start Rasa + actions + gateway"
	@echo "make run-scaled - the scaled profile on one machine: 2 Rasa (token, PostgreSQL, Redis lock) + 2 actions + 2 gateways"
	@echo "make test   - set up, then the whole test suite"
	@echo "make reliability - long load + fault runs of the reliability suite (reports/reliability.md)"
	@echo "make lint   - ruff"
	@echo "make nlu-eval - held-out + cross-validation report (reports/nlu.md)"
	@echo "make bench  - 50 concurrent citizens vs bare Rasa, default and scaled profile (reports/bench.md)"
	@echo "make bench-store - ticket-store throughput and one-turn latency (bench/run.py)"

setup: $(STAMP_APP) $(STAMP_RASA)

# The app env: Python 3.11, the project, pinned by requirements/app.lock.
$(STAMP_APP): requirements/app.lock pyproject.toml
	@echo ">> creating $(VENV) (Python 3.11)"
	@test -x $(PY) || $$(scripts/find-python.sh 3.11) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -q -r requirements/app.lock
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

# The Rasa env: Python 3.10, rasa 3.6.21, pinned by requirements/rasa.lock.
$(STAMP_RASA): requirements/rasa.lock
	@echo ">> creating $(RASA_VENV) (Python 3.10, rasa 3.6.21)"
	@test -x $(RASA_VENV)/bin/python || $$(scripts/find-python.sh 3.10) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install -q --upgrade "pip<24.1" "setuptools<71" wheel
	@echo ">> installing rasa 3.6.21 and its pinned packages (2-3 minutes on a first run; pip shows each one)"
	@set -o pipefail; $(RASA_VENV)/bin/python -m pip install --progress-bar off -r requirements/rasa.lock \
	  | sed -u -n -e 's/^Collecting /   /p' -e 's/^Installing collected.*/   installing .../p' \
	      -e 's/^Successfully installed.*/   done./p'
	@touch $@

# Headless Chromium for the web-chat browser test comes from Debian (no `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo ">> installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# The category parts of domain.yml and data/rules_categories.yml are generated from data/categories.yml;
# training is then skipped, before Rasa is even loaded, when models/aduan.tar.gz was trained from the
# current config, domain, data and nlu/ code (scripts/model_fingerprint.py, milliseconds).
train: setup
	@$(PY) -m nlu.tools.categories
	@if $(PY) scripts/model_fingerprint.py check; then \
	  echo ">> model up to date (models/aduan.tar.gz): no training needed"; \
	else \
	  echo ">> training the model (data or config changed)"; \
	  $(RASA) train --fixed-model-name aduan --out models && $(PY) scripts/model_fingerprint.py write; \
	fi

db: $(STAMP_APP)
	$(VENV)/bin/aduan db upgrade

# Ctrl-C reaches only this shell (honcho runs in its own session): it asks honcho to stop the
# processes with SIGTERM, waits, and exits 0, so there is no traceback and no make "Error 130".
# umask 077: every file the processes create (tracker, logs, photos) is readable by the owner only.
# SANIC_GRACEFUL_SHUTDOWN_TIMEOUT=0: the action server (Sanic 25) otherwise waits on the gateway's
# keep-alive connection at SIGTERM and dies with an "Event loop stopped" traceback.
START_PROCS = umask 077; export SANIC_GRACEFUL_SHUTDOWN_TIMEOUT=$${SANIC_GRACEFUL_SHUTDOWN_TIMEOUT:-0}; \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" setsid $(VENV)/bin/honcho start -f $(1) & pid=$$!; \
	trap 'kill -TERM $$pid 2>/dev/null' INT TERM HUP; \
	wait $$pid; wait $$pid 2>/dev/null; echo ">> Aduan berhenti."; exit 0

run: setup train db
	@echo ">> starting Rasa server, action server and gateway (Ctrl-C stops all three)"
	@$(call START_PROCS,$(PROCFILE))

# The scaled profile (Procfile.scaled) on one machine: two Rasa servers behind ADUAN_RASA_TOKEN, two
# action servers, two gateways, on PostgreSQL (ADUAN_DATABASE_URL, default the local `aduan`
# database) with a Redis lock store (scripts/scaled-env.sh checks and sets all of it); see README.
run-scaled: setup train
	@. ./scripts/scaled-env.sh && echo ">> starting 2 Rasa servers, 2 action servers, 2 gateways (Ctrl-C stops all)" && \
	$(call START_PROCS,Procfile.scaled)

test: setup browser
	$(PY) -m pytest -ra $(PYTEST_ARGS)

test-fast: $(STAMP_APP)
	$(PY) -m pytest -ra -m "not integration and not browser" $(PYTEST_ARGS)

# The reliability suite's long runs (100 citizens x 5 complaints; SIGKILL, PostgreSQL and Redis restarts on the
# default and the scaled profile); figures in reports/reliability.md. The fast part is in `make test`.
reliability: setup train
	$(PY) -m pytest -ra -m reliability_long tests/reliability $(PYTEST_ARGS)

lint: $(STAMP_APP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

nlu-eval: setup
	$(VENV)/bin/aduan nlu eval

# `aduan bench`: 50 citizens through the Telegram fake vs bare Rasa, both profiles (the scaled one needs
# PostgreSQL and Redis); results committed in reports/bench.md and reports/bench/*.json.
bench: setup train
	$(VENV)/bin/aduan bench --citizens 50 --think 2 --bare default
	$(VENV)/bin/aduan bench --profile scaled --citizens 50 --think 2

bench-store: setup
	$(PY) -m bench.run

clean:
	rm -rf models var .pytest_cache
