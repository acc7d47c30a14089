# Daogou: `make run` starts everything on a fresh machine; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY311 ?= python3.11
VENV := .venv
RASA_VENV := .venv-rasa
export DAOGOU_VAR ?= $(CURDIR)/var
DAOGOU := $(VENV)/bin/daogou

.PHONY: help setup db models train run test lint format bench clean

help:
	@echo "make run    - build what is missing, then start every service (Ctrl-C stops)"
	@echo "make test   - the whole test suite (unit, API, real Rasa + action server)"
	@echo "make setup  - the two Python environments (and Chromium for tests/browser) only"
	@echo "make train  - (re)train the Rasa model when its inputs changed"
	@echo "make lint   - ruff check and format check"
	@echo "make bench  - benchmarks against baselines (slow; not part of make test)"
	@echo "make cluster - 2 Rasa + 2 action servers behind nginx on PostgreSQL and Redis"
	@echo "make test-cluster - the cluster's tests (replica kill, Redis down, TLS; not in make test)"

# -- environments: rebuilt only when their requirement files change -------------------
# Every package is pinned by constraints/*.txt (their headers say how to regenerate them).
$(VENV)/.installed: pyproject.toml constraints/app.txt
	@$(PY311) -c 'import sys; assert sys.version_info[:2] >= (3, 11)' || { echo "Python 3.11 is needed as $(PY311)"; exit 1; }
	test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	# torch first, pinned: pip then takes the CPU build instead of pulling a CUDA one.
	$(VENV)/bin/pip install -q -c constraints/app.txt torch==2.13.0
	$(VENV)/bin/pip install -q -c constraints/app.txt -e '.[dev]'
	touch $@

# The optional extras the tests and benchmarks use (pyspark for `recs train --engine spark`,
# Locust for the cluster's load test); `make run` never needs them.
$(VENV)/.extras: $(VENV)/.installed
	$(VENV)/bin/pip install -q -c constraints/app.txt -e '.[dev,spark,bench]'
	touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt requirements-rasa-dev.txt constraints/rasa.txt
	@PY310=$$(scripts/find-python310) || exit 1; \
	test -x $(RASA_VENV)/bin/python || $$PY310 -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q -c constraints/rasa.txt -r requirements-rasa.txt -r requirements-rasa-dev.txt
	touch $@

# -- the web pages' libraries: exact npm versions (package-lock.json) copied into the git-ignored
# web/static/vendor/ by scripts/vendor-assets.mjs; pages load nothing from a CDN.
VENDOR := web/static/vendor
$(VENDOR)/manifest.json: package.json package-lock.json scripts/vendor-assets.mjs
	@command -v npm >/dev/null || { echo "npm (Node.js 18 or later) is needed for the web pages' libraries"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	npm run -s vendor

# -- Debian's Chromium and a CJK font for tests/browser (Playwright cannot download its own
# browser here); installed with apt-get only when missing.
BROWSER_PACKAGES := chromium fonts-noto-cjk
browser-packages:
	@missing=$$(for p in $(BROWSER_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || printf '%s ' $$p; done); \
	[ -z "$$missing" ] && exit 0; \
	command -v apt-get >/dev/null || { echo "tests/browser need $$missing (Debian's Chromium at /usr/bin/chromium and a CJK font)"; exit 1; }; \
	if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "tests/browser need: apt-get install $$missing (as root)"; exit 1; fi; \
	echo "installing $$missing with apt-get (tests/browser)"; \
	$$sudo apt-get update -qq >/dev/null && \
	$$sudo env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends $$missing >/dev/null

.PHONY: browser-packages envs
# What `make run` needs: the two environments and the pages' libraries, installed side by side
# (each pip spends most of its time unpacking and writing files: together they take the time of
# the slower one). Chromium is for tests/browser only, so `make run` does not install it.
ENVS := $(VENV)/.installed $(RASA_VENV)/.installed $(VENDOR)/manifest.json
envs:
	@$(MAKE) --no-print-directory -j3 --output-sync=target $(ENVS)

setup: envs browser-packages

# -- data and models -------------------------------------------------------------------
db: envs
	$(DAOGOU) db init

models: envs
	$(DAOGOU) models build

train: db
	$(DAOGOU) bot train

run: db models train
	$(DAOGOU) run

# -- checks --------------------------------------------------------------------------------
lint: envs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Tests train on 80% of the hand-written NLU examples and measure the NLU on the other 20%.
TEST_ENV := DAOGOU_VAR=$(CURDIR)/var/test DAOGOU_NLU_HOLDOUT=1
test: setup $(VENV)/.extras
	$(TEST_ENV) $(MAKE) --no-print-directory db models train
	$(TEST_ENV) $(DAOGOU) bot validate
	$(TEST_ENV) $(DAOGOU) bot test-nlu
	# bot/patches and the Rasa-side modules, under the Rasa server's own Python (tests/rasa is
	# skipped by the main suite; --confcutdir keeps tests/conftest.py, which needs 3.11, out)
	$(TEST_ENV) $(RASA_VENV)/bin/python -m pytest -q -p no:cacheprovider --confcutdir=tests/rasa tests/rasa
	$(TEST_ENV) $(VENV)/bin/python -m pytest -q -p no:cacheprovider

# -- the cluster profile (daogou/cluster.py): Rasa and action-server replicas behind a private
# nginx (Debian's package; its own prefix and config under var/cluster/, never the system service),
# on the machine's PostgreSQL and Redis. nginx is installed with apt-get only when missing.
CLUSTER_PACKAGES := nginx-light
cluster-packages:
	@{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 && command -v openssl >/dev/null && exit 0; \
	command -v apt-get >/dev/null || { echo "the cluster profile needs nginx and openssl"; exit 1; }; \
	if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "the cluster profile needs: apt-get install $(CLUSTER_PACKAGES) openssl (as root)"; exit 1; fi; \
	echo "installing $(CLUSTER_PACKAGES) openssl with apt-get (the cluster profile)"; \
	$$sudo apt-get update -qq >/dev/null && \
	$$sudo env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends $(CLUSTER_PACKAGES) openssl >/dev/null

.PHONY: cluster-packages cluster test-cluster
cluster: db models train cluster-packages
	$(DAOGOU) run --profile cluster

# Starts a cluster of its own (free ports, PostgreSQL databases *_test, a private Redis) with the
# model `make test` trains; not part of `make test`.
test-cluster: setup cluster-packages
	$(TEST_ENV) $(MAKE) --no-print-directory db models train
	@start=$$(date +%s); \
	$(TEST_ENV) $(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/cluster; status=$$?; \
	echo "make test-cluster: tests/cluster took $$(( $$(date +%s) - start )) s"; exit $$status

bench: envs $(VENV)/.extras db models
	$(VENV)/bin/python benchmarks/run_all.py

format: envs
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var
