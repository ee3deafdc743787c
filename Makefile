# Two commands: `make run` (a local instance with demo content and the outbox) and
# `make test` (lint, then the whole suite).
VENV ?= .venv
PYTHON ?= python3
FLASK = FLASK_DEBUG=1 $(VENV)/bin/flask --app newsletter
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint typecheck install demo clean

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

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
