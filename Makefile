# The project's commands. `make run` and `make test` create the virtualenv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export THERAPY_KB_DATABASE_URL ?= sqlite:///$(CURDIR)/var/therapy-kb.sqlite3

.PHONY: run test lint check seed migrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: migrate, load seed/ and serve on 127.0.0.1:8000 (SQLite under var/)
run: $(STAMP)
	$(BIN)/therapy-kb migrate
	$(BIN)/therapy-kb seed
	$(BIN)/therapy-kb serve --host 127.0.0.1 --port 8000

## test: the whole suite, on SQLite and PostgreSQL
test: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff, mypy --strict and hadolint (the Dockerfile)
lint: $(STAMP)
	$(BIN)/ruff check app tests migrations
	$(BIN)/ruff format --check app tests
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

check: $(STAMP)
	$(BIN)/therapy-kb check

migrate: $(STAMP)
	$(BIN)/therapy-kb migrate

seed: $(STAMP)
	$(BIN)/therapy-kb seed

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
