# Parcel Control — the two commands of the README, and a few helpers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1:8000

.PHONY: demo test install setup serve scan bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

## First command: set up and start the app with demo data on SQLite.
demo: install
	$(PY) manage.py migrate --noinput
	HOST=$(HOST) $(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST)

## Second command: install everything the suite needs and run the whole suite.
test: install
	bash scripts/ensure-browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest --cov --cov-report=term $(PYTEST_ARGS)

## Production profile: gunicorn + Celery worker + beat (see Procfile); needs DATABASE_URL, CELERY_BROKER_URL, secrets.
serve: install
	bash scripts/serve

scan: install
	$(PY) manage.py scan_parcels

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
