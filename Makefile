# Two commands: `make run` (a local instance with demo content and the outbox) and
# `make test` (lint, then the whole suite).
VENV ?= .venv
PYTHON ?= python3
FLASK = FLASK_DEBUG=1 $(VENV)/bin/flask --app newsletter
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint typecheck install demo clean translations extract-messages update-catalogs

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

# Catalogs: the .po files are the sources (committed); the .mo files are compiled from
# them here, for every command that runs the app or its tests.
CATALOGS = newsletter/translations
POT = $(CATALOGS)/messages.pot

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -d $(CATALOGS)

# After changing wording in templates or code: extract, then merge into each catalog
# (new entries come untranslated; tests/test_catalogs.py fails until they are filled).
extract-messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
	  -o $(POT) newsletter templates

update-catalogs: extract-messages
	$(VENV)/bin/pybabel update -i $(POT) -d $(CATALOGS) --no-fuzzy-matching

run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: lint
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
