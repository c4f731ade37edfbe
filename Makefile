# The two commands of README.md: `make run` brings the whole system up, `make test` runs
# every test. Each installs what it needs first.

PORT ?= 8000
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

# Test services (see scripts/test-services.sh): PostgreSQL and Redis on loopback.
TEST_DATABASE_URL ?= postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: run test services broker-deps idp-deps lint clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.runtime: $(VENV)/bin/activate requirements.txt
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

## make run: web (gunicorn), Celery worker and beat, and the MQTT broker as one process
## group; Ctrl-C stops all.
run: $(VENV)/.runtime broker-deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap_demo --url http://localhost:$(PORT)/
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DASHBOARD_URL=http://127.0.0.1:$(PORT) \
	  $(VENV)/bin/honcho start -f Procfile -p $(PORT)

## make test: install and start PostgreSQL, Redis and Chromium if needed, then the whole suite.
test: $(VENV)/.dev services broker-deps idp-deps
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  $(VENV)/bin/pytest $(PYTEST_ARGS)

services:
	bash scripts/test-services.sh

# Node.js and the broker's npm packages (package-lock.json), for make run and make test.
broker-deps:
	bash scripts/broker-deps.sh

# The OpenID provider the single sign-on tests run (oidc-provider, tests/oidc).
idp-deps:
	bash scripts/broker-deps.sh tests/oidc

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var broker/node/node_modules tests/oidc/node_modules
