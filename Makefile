# `make run` and `make test` do all the set-up they need on a fresh machine (Debian 12, Python 3.11).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export OMP_NUM_THREADS := 1
export MPLSETUPCFG := $(CURDIR)/.ci/mplsetup.cfg
APT_PACKAGES := libfreetype-dev libqhull-dev pkg-config

.PHONY: run test setup model rasa-model browser

run: setup
	$(BIN)/wegwijs serve

# Two pytest workers, one per core: most of the time goes to loading models (see tests/conftest.py).
test: setup browser
	$(BIN)/pytest -q -n 2

# The staff report's test opens the report in headless Chromium at phone width.
browser:
	@dpkg -s chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

setup: $(INSTALLED) model rasa-model

# matplotlib 3.5 (pinned by Rasa) builds from source on 3.11 and needs these headers.
$(INSTALLED): requirements.lock pyproject.toml
	@dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(APT_PACKAGES); }
	test -x $(BIN)/python || python3.11 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --ignore-requires-python -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

model: $(INSTALLED)
	$(BIN)/wegwijs model build

# Trains only when config, domain, nlu/, stories/ or the knowledge questions changed.
rasa-model: model
	$(BIN)/wegwijs train
