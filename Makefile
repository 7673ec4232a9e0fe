# NUP Portal. The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers for `make test` (browser tests stay together on one of them)
TEST_WORKERS ?= 2

.PHONY: demo test lint format install install-dev messages setup-db serve web worker beat \
        bench backup restore check-deploy clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiled catalogues come from the committed .po files; msgfmt is part of gettext.
messages: $(VENV)/.installed
	@if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore '.venv' -v 0; \
	else echo "msgfmt not found (apt-get install gettext): using the committed .mo files"; fi

setup-db: $(VENV)/.installed messages
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py load_reference_data
	$(PY) manage.py seed_demo --seed 42
	$(PY) manage.py recompute_scores
	$(PY) manage.py snapshot_scores --since 2011-01

## demo: from a fresh clone to a running portal on http://127.0.0.1:8000: SQLite, and a
## Celery worker and beat on a filesystem broker (no server to install); Ctrl+C stops all
demo: export DATABASE_URL :=
demo: export REDIS_URL :=
demo: export CELERY_BROKER_URL :=
demo: setup-db
	$(PY) -m nupportal.demo --host $(HOST) --port $(PORT)

## browser-deps: the Nu Html Checker (vnu-jar, npm registry) for tests/browser; skipped without npm
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --silent
	touch $@

## test: the whole suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
test: $(VENV)/.installed-dev messages $(if $(shell command -v npm),node_modules/.installed,)
	$(PY) manage.py makemigrations --check --dry-run -v 0
	$(PY) manage.py check --fail-level WARNING
	$(PY) -m pytest --create-db -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## production-like processes; servers come from DATABASE_URL / REDIS_URL in the environment
web: $(VENV)/.installed messages
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input -v 0
	$(VENV)/bin/gunicorn nupportal.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3} --access-logfile -

worker: $(VENV)/.installed
	$(VENV)/bin/celery -A nupportal worker --loglevel INFO --concurrency $${CELERY_CONCURRENCY:-2}

beat: $(VENV)/.installed
	$(VENV)/bin/celery -A nupportal beat --loglevel INFO --schedule /tmp/celerybeat-schedule

## bench: ratios against PostgreSQL/Redis from the environment (defaults in bench/run.py); ~10 min
bench: $(VENV)/.installed messages
	$(PY) -m bench $(BENCH_ARGS)

check-deploy: $(VENV)/.installed
	$(PY) manage.py check --deploy --fail-level WARNING

backup: $(VENV)/.installed
	$(PY) manage.py backup $(if $(FILE),--output $(FILE),)

restore: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/nup-….dump"; exit 2; }
	$(PY) manage.py restore --no-input $(FILE)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles media var
