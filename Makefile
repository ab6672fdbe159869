# The README's two commands: `make run` (portal with demo data, no external service needed) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
# Links in e-mails lead to the web server's port: honcho gives each process a PORT of its own (the worker,
# which sends the staff alerts, gets PORT + 100), so the address is fixed here for all three.
PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
export PORTAL_BASE_URL

.PHONY: run test test-fast screenshots install migrate seed bench messages lint clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

migrate: install
	@mkdir -p .run
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	$(BIN)/python manage.py seed_demo

# Web server, Celery worker and Celery beat in one terminal; Ctrl-C stops all three. Time travel with
# `run_deadlines --now` moves their clock too (the demo clock, development only: portal/demo_clock.py).
run: export DEMO_CLOCK ?= 1
run: seed
	$(BIN)/python manage.py run_deadlines
	@echo
	@echo "  Area Clienti:  http://127.0.0.1:$(PORT)/"
	@echo "  Back office:   http://127.0.0.1:$(PORT)/admin/"
	@echo "  E-mails are written to .run/mail/ (set EMAIL_URL to send them)."
	@echo "  Move through time: .venv/bin/python manage.py run_deadlines --now 2027-01-31T09:00"
	@echo
	exec $(BIN)/honcho --procfile Procfile.dev start --port $(PORT)

# The whole suite against PostgreSQL (DATABASE_URL, or a local server found or started by the script).
test: install
	@url=$$(scripts/test-database-url) || exit 1; \
	scripts/ensure-redis; \
	scripts/ensure-nginx; \
	scripts/ensure-chromium; \
	DATABASE_URL="$$url" $(BIN)/pytest -n auto $(PYTEST_ARGS)

# Quicker local iterations: no browser journeys.
test-fast: install
	@url=$$(scripts/test-database-url) || exit 1; \
	DATABASE_URL="$$url" $(BIN)/pytest -n auto -m "not e2e" $(PYTEST_ARGS)

# Every browser journey, saving full-page screenshots at 1280 and 390 px under screenshots/.
screenshots: install
	@url=$$(scripts/test-database-url) || exit 1; \
	scripts/ensure-chromium; \
	DATABASE_URL="$$url" $(BIN)/pytest -n auto tests/e2e $(PYTEST_ARGS) && echo "Screenshots in screenshots/"

bench: install
	@url=$$(scripts/test-database-url) || exit 1; \
	for script in benchmarks/[!_]*.py; do DATABASE_URL="$$url" $(BIN)/python "$$script" || exit 1; done

# Regenerate the Italian/English catalogues after changing strings (needs GNU gettext).
messages: install
	$(BIN)/python manage.py makemessages -l it -l en --ignore '.venv/*' --ignore 'staticfiles/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf .run staticfiles
