# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test test-sqlite test-pg test-e2e bench lint format db-upgrade seed clean browser

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(FLASK) geodata build
	touch $@

## run: set up, migrate, seed demo data when empty, deliver mail in the background, serve on :5000
run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) send-mail --loop & trap 'kill %1 2>/dev/null' EXIT; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## serve: migrate, then the production server (gunicorn, settings in gunicorn.conf.py) on HOST:PORT
serve: $(VENV)/.installed
	$(FLASK) db upgrade
	HOST=$(HOST) PORT=$(PORT) exec $(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

db-upgrade: $(VENV)/.installed
	$(FLASK) db upgrade

## test: the whole suite on SQLite (browser journeys included)
test: $(VENV)/.installed browser
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

## test-pg: the whole suite again on PostgreSQL
test-pg: $(VENV)/.installed browser
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

## test-e2e: only the browser journeys
test-e2e: $(VENV)/.installed browser
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

## browser: Debian's Chromium for the browser journeys (never a downloaded browser), and nginx
## for the test that serves the site behind deploy/nginx/cst.conf
browser:
	@command -v chromium >/dev/null && command -v nginx >/dev/null || { \
	  echo "Installing Debian's chromium and nginx for the browser and deployment tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium nginx >/dev/null) \
	  || sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium nginx'; }

## bench: search benchmark (COUNT=1000000 for the large run)
COUNT ?= 100000
bench: $(VENV)/.installed
	$(BIN)/python bench/search.py --count $(COUNT)

lint: $(VENV)/.installed
	$(BIN)/ruff check directory tests bench
	$(BIN)/ruff format --check directory tests bench

format: $(VENV)/.installed
	$(BIN)/ruff format directory tests bench

clean:
	rm -rf $(VENV) .pytest_cache
