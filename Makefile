# Parcel Control — the two commands of the README, and a few helpers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1:8000

.PHONY: demo test install setup serve scan bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	@echo "== Installing the requirements into $(VENV) (once; again when requirements.txt changes)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

## First command: set up and start the app with demo data on SQLite.
demo: install
	@echo "== Creating or updating the SQLite database (db.sqlite3)"
	$(PY) manage.py migrate --noinput
	@echo "== Seeding a demo week (skipped when it is already there)"
	HOST=$(HOST) $(PY) manage.py seed_demo
	@echo "== Serving http://$(HOST)/admin/ (Ctrl-C stops; make demo HOST=0.0.0.0:8080 for another address)"
	$(PY) manage.py runserver $(HOST)

## Second command: install everything the suite needs and run the whole suite.
test: install
	@echo "== Browser and CJK fonts for the browser tests (installed once)"
	bash scripts/ensure-browser
	@echo "== Lint (ruff)"
	$(VENV)/bin/ruff check .
	@echo "== The whole suite with coverage (fails under the floor in pyproject.toml)"
	$(PY) -m pytest --cov --cov-report=term $(PYTEST_ARGS)

## Production profile: gunicorn + Celery worker + beat (see Procfile); needs DATABASE_URL, CELERY_BROKER_URL, secrets.
serve: install
	bash scripts/serve

scan: install
	$(PY) manage.py scan_parcels

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
