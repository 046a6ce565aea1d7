"""No N+1: each endpoint issues the same number of SQL statements however large the content."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import statements, write_grown_seed

URLS = [
    "/v1/modalities/alpha",
    "/v1/modalities/alpha?include=citations",
    "/v1/modalities?limit=100",
    "/v1/modalities?condition=mood-disorders&sort=evidence&min_evidence=limited",
    "/v1/modalities?population=adults&sort=evidence&guideline=first-line",
    "/v1/conditions?limit=100",
    "/v1/conditions?population=adults&limit=100",
    "/v1/conditions/mood-disorders",
    "/v1/conditions/F99.1",  # a code: the redirect to the condition's slug
    "/v1/indications?limit=100",
    "/v1/indications?modality=alpha&condition=mood-disorders&population=adults&limit=100",
    "/v1/indications?min_evidence=limited&guideline=first-line&category=approach&limit=100",
    "/v1/citations?limit=100",
    "/v1/citations/alpha2001",
    "/v1/compare?modalities=alpha,beta",
    "/v1/compare?modalities=alpha,beta&condition=mood-disorders",
    "/v1/compare?modalities=alpha,beta&condition=mood-disorders&population=adults",
    "/v1/search?q=grown&limit=100",
    "/v1/datasets",
    "/v1/trials?modality=alpha&condition=mood-disorders&limit=100",
    "/v1/trials.csv?comparator=control",
    "/v1/pooled?modality=alpha&population=adults",
    "/fhir/metadata",
    "/fhir/PlanDefinition?_count=100",
    "/fhir/PlanDefinition/alpha",
    "/fhir/Evidence?_count=100",
    "/fhir/Evidence?condition:below=F30-F39&intervention=alpha&_count=100",
    "/fhir/Evidence/alpha.low-mood.adults",
    "/fhir/Citation?_count=100",
]
REDIRECTS = {"/v1/conditions/F99.1"}
# The explorer's pages call the same queries, so they are held to the same rule.
PAGE_URLS = [
    "/",
    "/?population=adults&guideline=first-line",
    "/conditions/mood-disorders",
    "/conditions/low-mood/forest.svg",
    "/modalities/alpha",
    "/compare?modalities=alpha&modalities=beta&condition=mood-disorders",
    "/citations/alpha2001",
    "/search?q=grown",
]


def statement_counts(settings: Settings) -> dict[str, int]:
    counts: dict[str, int] = {}
    # What the routes read; with records preloaded, the plain detail would read nothing. The
    # release is checked once, at start: a check landing inside a slow request would count too.
    quiet = {"preload_mb": 0, "release_check_seconds": 3600}
    with TestClient(create_app(settings.model_copy(update=quiet))) as client:
        engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
        # What a worker keeps per release (the trial table) is read once, by the first request
        # that needs it: read it first, so that each count below is the URL's own.
        assert client.get("/v1/datasets").status_code == 200
        for url in URLS + PAGE_URLS:
            with statements(engine) as seen:
                status = client.get(url, follow_redirects=False).status_code
                assert status == (308 if url in REDIRECTS else 200), url
            counts[url] = len(seen)
    return counts


@pytest.fixture
def grown(tmp_path: Path) -> Path:
    return write_grown_seed(tmp_path / "grown", FIXTURE_SEED, extra=48)


def test_statement_count_does_not_grow_with_content(
    settings: Settings, engine: Engine, grown: Path
) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    small = statement_counts(settings)
    load_seed(engine, read_seed_dir(grown))
    large = statement_counts(settings)
    # alpha went from 2 to 50 indications (and 48 more of every other claim).
    assert large == small
    # The most: a compare narrowed to a condition, with each indication's evidence basis.
    assert max(small[url] for url in URLS) <= 13, small
