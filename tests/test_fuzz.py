"""Property-based fuzzing of the whole API with schemathesis, from the app's own OpenAPI schema,
on both engines (generated input reaches the queries), with every check: no 5xx, responses
match their documented schemas, status codes and content types.

This is the short run, for every test run: a few derandomised examples per operation, the same
on every run, so that a failure reproduces. The long search is ``make fuzz`` (a real server over
the real seed, ``schemathesis.toml``); THERAPY_KB_FUZZ_EXAMPLES=60 makes this one longer too.

The schemathesis pytest plugin's fixture loader does not work with this pytest, so the first
test walks the schema's operations itself and runs a bounded Hypothesis search on each. The
second runs what `make fuzz` runs, against a real server, with a couple of examples: it proves
that the command works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from app.config import Settings
from app.main import create_app
from tests.conftest import FIXTURE_SEED

EXAMPLES_PER_OPERATION = int(os.environ.get("THERAPY_KB_FUZZ_EXAMPLES", "3"))
LIVE_EXAMPLES = 2


@pytest.fixture(scope="module")
def fuzzed_app(fixture_db_url: str) -> Iterator[FastAPI]:
    app = create_app(Settings(database_url=fixture_db_url, log_level="error"))
    # Enter the lifespan (it builds the engine) for as long as schemathesis calls the app.
    with TestClient(app):
        yield app


def test_api_conforms_to_its_schema(fuzzed_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,  # the same examples every run: a CI failure reproduces
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate()

        try:
            check()
        except Exception as exc:  # noqa: BLE001  (collect every operation's failure)
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


def test_a_running_server_passes_every_check() -> None:
    """``st run --checks all`` against a served database, with schemathesis.toml's settings."""
    from tests.fuzz_server import fuzz

    # Without the coverage and stateful phases, which generate many cases whatever the limit.
    options = ["--max-examples", str(LIVE_EXAMPLES), "--phases", "examples,fuzzing"]
    assert fuzz(FIXTURE_SEED, [*options, "--no-color"]) == 0
