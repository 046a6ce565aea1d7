"""The read API over the real knowledge base in seed/, on both engines.

These hold the API to the content's own rules (every record reachable, every claim's citations
resolvable, evidence ordered by the scale) rather than to particular sentences.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app.config import Settings
from app.domain import EVIDENCE_RANK, Evidence
from app.main import create_app
from app.seeding import read_seed_dir
from tests.conftest import REAL_SEED
from tests.helpers import ORIGIN

SEED = read_seed_dir(REAL_SEED)
MODALITIES = [x.slug for x in SEED.modalities]
CONDITIONS = [c.slug for c in SEED.conditions]

# The seed files as plain YAML, read without the app's reader, to hold the API to them.
RAW_MODALITIES = [
    yaml.safe_load(path.read_text()) for path in sorted((REAL_SEED / "modalities").glob("*.yaml"))
]
RAW_CONDITIONS = yaml.safe_load((REAL_SEED / "conditions.yaml").read_text())["conditions"]
# (modality, condition, population, variant or "") -> evidence, for every indication in the
# files.
RAW_INDICATIONS = {
    (x["slug"], i["condition"], i["population"], i.get("variant") or ""): i["evidence"]
    for x in RAW_MODALITIES
    for i in x["indications"]
}


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


def test_cbt_for_depression_is_strong(client: TestClient) -> None:
    body = client.get("/v1/modalities?condition=major-depression&sort=evidence").json()
    cbt = next(i for i in body["items"] if i["slug"] == "cbt")
    assert cbt["evidence"] == "strong"
    assert body["items"][0]["slug"] == "cbt"


def test_search_finds_ipt_grief_area(client: TestClient) -> None:
    body = client.get("/v1/search?q=grief&type=claim").json()
    assert any(hit["id"].startswith("ipt#components") for hit in body["items"])


def every_item(client: TestClient, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged list, following the Link headers; and the total."""
    items: list[dict[str, Any]] = []
    totals = set()
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        items.extend(response.json()["items"])
        totals.add(response.json()["total"])
        next_url = response.links.get("next", {}).get("url")
    assert len(totals) == 1
    return items, totals.pop()


def indication_keys(items: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(i["modality"], i["condition"], i["population"], i["variant"] or "") for i in items]


@pytest.mark.parametrize("population", ["adolescents", "adults", "older-adults", "children"])
def test_indications_of_a_population_are_the_seeds(client: TestClient, population: str) -> None:
    items, total = every_item(client, f"/v1/indications?population={population}&limit=7")
    expected = {k: v for k, v in RAW_INDICATIONS.items() if k[2] == population}
    assert expected, f"the seed has no {population} indications to compare with"
    assert sorted(indication_keys(items)) == sorted(expected)
    assert total == len(expected)
    assert dict(zip(indication_keys(items), (i["evidence"] for i in items), strict=True)) == (
        expected
    )


def test_indication_list_is_every_indication_in_a_stable_order(client: TestClient) -> None:
    paged, total = every_item(client, "/v1/indications?limit=9")
    whole = client.get("/v1/indications?limit=100").json()["items"]
    assert total == len(RAW_INDICATIONS) == len(whole)
    assert paged == whole
    # Strongest first, then by modality slug, condition slug, population and variant.
    assert indication_keys(whole) == sorted(
        RAW_INDICATIONS, key=lambda k: (-rank(RAW_INDICATIONS[k]), *k)
    )
    for item in whole:
        assert item["citations"], item
        assert item["url"] == f"{ORIGIN}/v1/modalities/{item['modality']}"


def test_population_filters_agree_with_the_seed(client: TestClient) -> None:
    population = "adolescents"
    indicated = {c for (_, c, p, _) in RAW_INDICATIONS if p == population}
    parents = {c["slug"]: c.get("parent") for c in RAW_CONDITIONS}
    covered = set()
    for slug in indicated:
        node: str | None = slug
        while node is not None:
            covered.add(node)
            node = parents[node]
    conditions, _ = every_item(client, f"/v1/conditions?population={population}&limit=5")
    assert {c["slug"] for c in conditions} == covered
    modalities = client.get(f"/v1/modalities?population={population}&limit=100").json()
    best: dict[str, int] = {}
    for (x, _, p, _), level in RAW_INDICATIONS.items():
        if p == population:
            best[x] = max(best.get(x, 0), rank(level))
    assert {i["slug"]: rank(i["evidence"]) for i in modalities["items"]} == best


def test_evidence_column_without_a_condition_explains_the_order(client: TestClient) -> None:
    body = client.get("/v1/modalities?sort=evidence&limit=100").json()
    best: dict[str, int] = {}
    for (x, _, _, _), level in RAW_INDICATIONS.items():
        best[x] = max(best.get(x, 0), rank(level))
    assert {i["slug"]: rank(i["evidence"]) for i in body["items"]} == best
    ranks = [rank(i["evidence"]) for i in body["items"]]
    assert ranks == sorted(ranks, reverse=True)


def test_compare_for_a_population_uses_only_its_indications(client: TestClient) -> None:
    population = "adolescents"
    body = client.get(f"/v1/compare?modalities={','.join(MODALITIES)}&population={population}")
    matrix = body.json()["evidence_matrix"]
    cells = {
        (slug, row["condition"]): rank(level)
        for row in matrix["rows"]
        for slug, level in row["evidence"].items()
        if level is not None
    }
    expected: dict[tuple[str, str], int] = {}
    for (x, c, p, _), level in RAW_INDICATIONS.items():
        if p == population:
            expected[(x, c)] = max(expected.get((x, c), 0), rank(level))
    assert cells == expected


@pytest.mark.parametrize(
    ("code", "slug"),
    [(code["code"], c["slug"]) for c in RAW_CONDITIONS for code in c.get("codes", [])],
)
def test_every_code_redirects_to_its_condition(client: TestClient, code: str, slug: str) -> None:
    for asked in (code, code.lower()):
        response = client.get(f"/v1/conditions/{asked}", follow_redirects=False)
        assert response.status_code == 308, asked
        assert response.headers["location"] == f"{ORIGIN}/v1/conditions/{slug}"
