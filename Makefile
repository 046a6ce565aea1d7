# The project's commands. `make run` and `make test` create the virtualenv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export THERAPY_KB_DATABASE_URL ?= sqlite:///$(CURDIR)/var/therapy-kb.sqlite3

# Benchmarks (docs/performance.md): DB=sqlite|postgres, extra options in BENCH_ARGS.
DB         ?= sqlite
SCALES     ?= 10,100,1000
BENCH_ARGS ?=

.PHONY: run test lint fuzz check seed migrate clean bench bench-scale wrk screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: migrate, load seed/ and serve on THERAPY_KB_HOST:THERAPY_KB_PORT (127.0.0.1:8000; SQLite under var/)
run: $(STAMP)
	$(BIN)/therapy-kb migrate
	$(BIN)/therapy-kb seed
	$(BIN)/therapy-kb serve

# CITATION.cff is validated against the CFF 1.2.0 JSON schema that cffconvert ships. cffconvert
# pins jsonschema < 4, which the suite cannot use, so its wheel is unpacked, not installed.
CFF_SCHEMA := $(VENV)/cffconvert/cffconvert/schemas/1.2.0/schema.json

$(CFF_SCHEMA): $(STAMP)
	$(BIN)/python -m pip download --quiet --no-deps "cffconvert>=2.0" -d $(VENV)/cffconvert
	$(BIN)/python -c "import glob, zipfile; zipfile.ZipFile(glob.glob('$(VENV)/cffconvert/cffconvert-*.whl')[0]).extract('cffconvert/schemas/1.2.0/schema.json', '$(VENV)/cffconvert')"

## test: the whole suite, on SQLite and PostgreSQL
test: $(STAMP) $(CFF_SCHEMA)
	THERAPY_KB_CFF_SCHEMA=$(CURDIR)/$(CFF_SCHEMA) $(BIN)/python -m pytest

## screenshots: every explorer page at desktop and phone width into docs/screenshots (Chromium)
screenshots: $(STAMP)
	mkdir -p docs/screenshots
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q \
		tests/test_explorer_browser.py -k 'test_page_is_accessible or test_forest_plot'

## lint: ruff, mypy --strict and hadolint (the Dockerfile)
lint: $(STAMP)
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

## fuzz: schemathesis with every check against a running server (settings: schemathesis.toml)
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz_server $(FUZZ_ARGS)

## wrk: install the load generator from Debian's packages when it is missing (needs root)
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "wrk is missing: installing it with apt-get"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	}

## bench: therapy-kb vs a reference FastAPI app under wrk; `make bench DB=postgres` on PostgreSQL
## (compared with var/bench-sqlite.json when that exists). Results: var/bench-$(DB).json
bench: $(STAMP) wrk
	$(BIN)/python -m bench.run --db $(DB) --json-out var/bench-$(DB).json \
		$(if $(filter postgres,$(DB)),$(if $(wildcard var/bench-sqlite.json),--compare-with var/bench-sqlite.json)) \
		$(BENCH_ARGS)

## bench-scale: seed load time, memory and latency at N times the seed (SCALES=10,100,1000)
bench-scale: $(STAMP) wrk
	$(BIN)/python -m bench.scale --db $(DB) --scales $(SCALES) \
		--json-out var/bench-scale-$(DB).json $(BENCH_ARGS)

check: $(STAMP)
	$(BIN)/therapy-kb check

migrate: $(STAMP)
	$(BIN)/therapy-kb migrate

seed: $(STAMP)
	$(BIN)/therapy-kb seed

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
