# make run   - set up everything and serve the demo on http://127.0.0.1:$(PORT)
# make test  - the whole test suite, on SQLite and on PostgreSQL
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install run test lint format messages

$(VENV)/.installed: requirements.txt requirements-worker.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	PORT=$(PORT) scripts/run

test: install
	scripts/test

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# After changing user-facing strings: extract, fill in Korean, compile.
messages: install
	DEBUG=1 $(PY) manage.py makemessages -l ko --ignore=.venv --ignore=staticfiles --ignore=dataset_folders --ignore=dataset_cache --ignore=media --ignore=runs --no-obsolete
	$(PY) scripts/ko_translations.py
	DEBUG=1 $(PY) manage.py compilemessages -l ko --ignore=.venv
