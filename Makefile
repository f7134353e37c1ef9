# The two commands a fresh machine needs:
#   make run    set up, load the sample filings, and serve the app on http://127.0.0.1:8000/
#               (with the worker that runs uploads; Ctrl-C stops both); PORT=8080 HOST=0.0.0.0
#               serve elsewhere
#   make test   set up and run the whole test suite (browser tests use Debian's chromium)
#   make test-postgres   the suite again on PostgreSQL with its search engine (CI's 2nd pass)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-postgres setup setup-test chromium lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ingest --no-progress filings/samples

# The web server, and beside it the worker that runs uploads, re-derives and deletes.
# Ctrl-C stops both: a job the worker was running goes back to the queue for next time.
run: setup
	@echo "EDGAR search is at http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@$(PY) manage.py send_alerts --schedule -v 0
	@$(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Debian's Chromium for the browser tests; installed when missing and we are root.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: browser tests will be skipped (sudo apt-get install chromium)"; fi; }

test: $(VENV)/.installed-test chromium
	$(PY) -m pytest

# pytest-django makes (and drops) the test database test_<name> on this server.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/edgar_test
test-postgres: $(VENV)/.installed-test chromium
	DATABASE_URL=$(PG_TEST_URL) SEARCH_BACKEND=postgres $(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed-test
	$(PY) bench/bench_pages.py
	$(PY) bench/bench_search.py

clean:
	rm -rf var .pytest_cache
