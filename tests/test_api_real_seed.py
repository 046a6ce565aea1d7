"""The read API over the real knowledge base in seed/, on both engines.

These hold the API to the content's own rules (every record reachable, every claim's citations
resolvable, evidence ordered by the scale) rather than to particular sentences.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.domain import EVIDENCE_RANK, Evidence
from app.main import create_app
from app.seeding import read_seed_dir
from tests.conftest import REAL_SEED

SEED = read_seed_dir(REAL_SEED)
MODALITIES = [x.slug for x in SEED.modalities]
CONDITIONS = [c.slug for c in SEED.conditions]


@pytest.fixture(scope="module")
def client(real_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=real_db_url))) as client:
        yield client


def rank(level: str | None) -> int:
    return EVIDENCE_RANK[Evidence(level)] if level else 0


def every_key(detail: dict[str, Any]) -> set[str]:
    keys = set(detail["citations"])
    for part in ("indications", "pros", "cons", "formats", "components"):
        for claim in detail[part]:
            assert claim["citations"], f"{detail['slug']}: uncited {part} claim"
            keys.update(claim["citations"])
    return keys


def test_list_has_every_modality(client: TestClient) -> None:
    body = client.get("/v1/modalities?limit=100").json()
    assert sorted(i["slug"] for i in body["items"]) == sorted(MODALITIES)
    assert body["total"] == len(MODALITIES)


@pytest.mark.parametrize("slug", MODALITIES)
def test_modality_detail_matches_the_seed(client: TestClient, slug: str) -> None:
    body = client.get(f"/v1/modalities/{slug}?include=citations").json()
    seed = next(x for x in SEED.modalities if x.slug == slug)
    assert len(body["indications"]) == len(seed.indications)
    assert len(body["pros"]) == len(seed.pros)
    assert len(body["cons"]) == len(seed.cons)
    assert len(body["formats"]) == len(seed.formats)
    assert len(body["components"]) == len(seed.components)
    ranks = [rank(i["evidence"]) for i in body["indications"]]
    assert ranks == sorted(ranks, reverse=True), "indications not strongest first"
    embedded = [c["key"] for c in body["included_citations"]]
    assert embedded == sorted(every_key(body))


@pytest.mark.parametrize("slug", CONDITIONS)
def test_condition_detail(client: TestClient, slug: str) -> None:
    body = client.get(f"/v1/conditions/{slug}").json()
    ranks = [rank(x["evidence"]) for x in body["modalities"]]
    assert ranks == sorted(ranks, reverse=True)
    seed = next(c for c in SEED.conditions if c.slug == slug)
    assert [(c["system"], c["code"]) for c in body["codes"]] == [
        (c.system.value, c.code) for c in seed.codes
    ]


def test_every_citation_resolves_and_is_cited(client: TestClient) -> None:
    body = client.get("/v1/citations?limit=100").json()
    assert body["total"] == len(SEED.citations)
    for item in body["items"]:
        detail = client.get(item["url"]).json()
        assert detail["cited_by"], f"{item['key']} is cited by nothing"


def test_compare_all_six_with_a_condition(client: TestClient) -> None:
    url = f"/v1/compare?modalities={','.join(MODALITIES)}&condition=major-depression"
    body = client.get(url).json()
    ranks = [rank(c["evidence"]) for c in body["modalities"]]
    assert ranks == sorted(ranks, reverse=True)
    # The matrix narrows to the condition and its narrower conditions.
    narrower = {"major-depression"} | {
        c.slug for c in SEED.conditions if c.parent == "major-depression"
    }
    rows = {r["condition"] for r in body["evidence_matrix"]["rows"]}
    assert "major-depression" in rows
    assert rows <= narrower


def test_ipt_for_depression_is_strong(client: TestClient) -> None:
    body = client.get("/v1/modalities?condition=major-depression&sort=evidence").json()
    ipt = next(i for i in body["items"] if i["slug"] == "ipt")
    assert ipt["evidence"] == "strong"


def test_search_finds_ipt_grief_area(client: TestClient) -> None:
    body = client.get("/v1/search?q=grief&type=claim").json()
    assert any(hit["id"].startswith("ipt#components") for hit in body["items"])
