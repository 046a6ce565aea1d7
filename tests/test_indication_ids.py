"""One id per indication, variants and oriented effects, over the real knowledge base, on both
engines: the id in JSON, the exports and search; ``GET /v1/indications/{id}``; the ``variant``
filter on modalities, compare, indications and search; the oriented figure beside the source's.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.domain import (
    RATIO_MEASURES,
    EffectDirection,
    EffectMeasure,
    indication_id,
    oriented,
)
from app.explorer.render import variant_name
from app.main import create_app
from app.release.history import diff
from app.seeding import read_seed_dir
from tests.conftest import REAL_SEED
from tests.helpers import ORIGIN

SEED = read_seed_dir(REAL_SEED)
# id -> (evidence, variant), from the files.
SEED_IDS = {
    indication_id(x.slug, i.condition, i.population.value, i.variant): (i.evidence.value, i.variant)
    for x in SEED.modalities
    for i in x.indications
}


@pytest.fixture(scope="module")
def client(real_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=real_db_url))) as client:
        yield client


def every_indication(client: TestClient) -> list[dict[str, Any]]:
    body = client.get("/v1/indications?limit=100").json()
    assert body["total"] <= 100
    items: list[dict[str, Any]] = body["items"]
    return items


def test_ids_are_unique_and_name_every_indication(client: TestClient) -> None:
    items = every_indication(client)
    assert len(SEED_IDS) == len(items)
    assert {i["id"]: (i["evidence"], i["variant"]) for i in items} == SEED_IDS


def test_each_indication_has_its_own_absolute_address(client: TestClient) -> None:
    for item in every_indication(client):
        url = item["record"]["url"]
        assert url == f"{ORIGIN}/v1/indications/{item['id']}"
        response = client.get(url.removeprefix(ORIGIN))
        assert response.status_code == 200, url
        assert response.json() == item


def test_modality_detail_carries_the_same_ids(client: TestClient) -> None:
    detail = client.get("/v1/modalities/online").json()
    ids = [i["id"] for i in detail["indications"]]
    assert "online:major-depression:adults:guided-icbt" in ids
    assert "online:major-depression:adults:unguided-icbt" in ids
    assert all(i.startswith("online:") for i in ids)


@pytest.mark.parametrize(
    ("id_", "suggestion"),
    [
        ("cbt:insomnia:adults", "cbt:insomnia:adults:cbt-i"),
        ("cbt:insomnia:adult:cbt-i", "cbt:insomnia:adults:cbt-i"),
        ("nothing-like-it", None),
        ("a:b:c:d:e", None),
    ],
)
def test_unknown_id_is_404_with_the_nearest(
    client: TestClient, id_: str, suggestion: str | None
) -> None:
    response = client.get(f"/v1/indications/{id_}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json().get("suggestion") == suggestion


@pytest.mark.parametrize("variant", ["guided-icbt", "unguided-icbt", "cbt-i", "dbt-a", "erp"])
def test_variant_filter_on_indications(client: TestClient, variant: str) -> None:
    body = client.get(f"/v1/indications?variant={variant}&limit=100").json()
    expected = sorted(i for i, (_, v) in SEED_IDS.items() if v == variant)
    assert expected  # each of these is named in the seed
    assert sorted(i["id"] for i in body["items"]) == expected


def test_variant_filter_on_modalities(client: TestClient) -> None:
    def slugs(query: str) -> list[str]:
        return [x["slug"] for x in client.get(f"/v1/modalities?{query}").json()["items"]]

    assert slugs("variant=erp") == ["cbt"]
    assert slugs("variant=dbt-a") == ["dbt"]
    # With a condition it holds within one indication.
    assert slugs("variant=cbt-i&condition=insomnia") == ["cbt"]
    assert slugs("variant=cbt-i&condition=major-depression") == []
    # The evidence shown is that variant's.
    online = client.get("/v1/modalities?variant=unguided-icbt").json()["items"]
    assert [(x["slug"], x["evidence"]) for x in online] == [("online", "moderate")]


def test_variant_filter_on_compare(client: TestClient) -> None:
    body = client.get(
        "/v1/compare?modalities=online,cbt&condition=major-depression&variant=unguided-icbt"
    ).json()
    assert body["variant"] == "unguided-icbt"
    columns = {c["slug"]: c for c in body["modalities"]}
    assert [i["id"] for i in columns["online"]["indications"]] == [
        "online:major-depression:adults:unguided-icbt"
    ]
    assert columns["online"]["evidence"] == "moderate"
    assert columns["cbt"]["indications"] == []


def test_variant_filter_on_search(client: TestClient) -> None:
    body = client.get("/v1/search?q=depression&variant=guided-icbt&limit=50").json()
    assert body["total"] >= 1
    for hit in body["items"]:
        if "#formats[" in hit["id"]:  # a format of that variant
            slug, index = hit["id"].removesuffix("]").split("#formats[")
            formats = client.get(f"/v1/modalities/{slug}").json()["formats"]
            assert formats[int(index)]["variant"] == "guided-icbt"
        else:
            assert hit["id"].endswith(":guided-icbt"), hit
    everything = client.get("/v1/search?q=depression&limit=50").json()
    assert everything["total"] > body["total"]


def test_search_hits_name_indications_by_their_id(client: TestClient) -> None:
    body = client.get("/v1/search?q=insomnia&type=claim&limit=50").json()
    hit = next(h for h in body["items"] if h["id"] == "cbt:insomnia:adults:cbt-i")
    assert hit["url"] == f"{ORIGIN}/v1/indications/cbt:insomnia:adults:cbt-i"


@pytest.mark.parametrize("bad", ["guided", "GUIDED-ICBT", ""])
def test_unknown_variant_is_422(client: TestClient, bad: str) -> None:
    for path in ("/v1/indications", "/v1/modalities", "/v1/search?q=cbt&"):
        joiner = "" if path.endswith("&") else "?"
        response = client.get(f"{path}{joiner}variant={bad}")
        assert response.status_code == 422, path


def test_oriented_figures_beside_the_source(client: TestClient) -> None:
    turned = 0
    for item in every_indication(client):
        for e in item["effects"]:
            if e["direction"] is None:
                assert e["oriented"] is None
                continue
            value, low, high = oriented(
                EffectMeasure(e["measure"]),
                EffectDirection(e["direction"]),
                e["value"],
                e["ci_low"],
                e["ci_high"],
            )
            assert e["oriented"] == pytest.approx({"value": value, "ci_low": low, "ci_high": high})
            turned += e["direction"] == "lower-favours-therapy"
    assert turned >= 10


def test_csv_tables_join_on_the_indication_id(client: TestClient) -> None:
    content = client.get("/v1/export?format=csv").content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:

        def table(name: str) -> list[dict[str, str]]:
            text = archive.read(f"{name}.csv").decode("utf-8")
            return list(csv.DictReader(io.StringIO(text)))

        indications = table("indications")
        effects = table("effects")
        guidelines = table("guidelines")
        claims = table("claim_citations")
    ids = [row["id"] for row in indications]
    assert sorted(ids) == sorted(SEED_IDS)
    assert {row["indication"] for row in effects} <= set(ids)
    assert {row["indication"] for row in guidelines} <= set(ids)
    indication_claims = {r["claim_id"] for r in claims if r["claim_type"] == "indication"}
    assert indication_claims == set(ids)
    lower = [row for row in effects if row["direction"] == "lower-favours-therapy"]
    assert lower
    for row in lower:
        expected = (
            1 / float(row["value"])
            if EffectMeasure(row["measure"]) in RATIO_MEASURES
            else -float(row["value"])
        )
        assert float(row["oriented_value"]) == pytest.approx(expected)


def test_ndjson_records_carry_ids_and_directions(client: TestClient) -> None:
    lines = client.get("/v1/export?format=ndjson").text.splitlines()
    records = [json.loads(line) for line in lines]
    ids = {r["id"] for r in records if r["type"] == "indication"}
    assert ids == set(SEED_IDS)
    effects = [r for r in records if r["type"] == "effect"]
    assert {r["indication"] for r in effects} <= ids
    assert all("direction" in r and "oriented_value" in r for r in effects)


def test_fhir_evidence_ids_use_dots(client: TestClient) -> None:
    response = client.get("/fhir/Evidence/online.major-depression.adults.guided-icbt")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "online.major-depression.adults.guided-icbt"
    notes = [n["text"] for s in body["statistic"] for n in s.get("note", [])]
    assert any(text.startswith("Direction: ") for text in notes)


def _export(version: str, indication: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "release": {"version": version, "content_hash": version},
            "citations": [],
            "conditions": [],
            "modalities": [
                {
                    "slug": "cbt",
                    "pros": [],
                    "cons": [],
                    "formats": [],
                    "components": [],
                    "indications": [indication],
                }
            ],
        }
    ).encode()


def test_diff_against_an_export_from_before_the_id() -> None:
    """An older stored export has no `id` on its indications: the diff derives the same id
    from its fields, so an unchanged indication is not reported as removed and added."""

    old = {"condition": "insomnia", "population": "adults", "evidence": "moderate"}
    new = {
        **old,
        "id": "cbt:insomnia:adults",
        "variant": None,
        "record": {"url": "/v1/indications/cbt:insomnia:adults"},
        "evidence": "strong",
    }
    d = diff(_export("1.0.0", old), _export("2.0.0", new))
    assert (d.indications.added, d.indications.removed) == ([], [])
    (change,) = d.indications.changed
    assert (change.id, change.fields) == ("cbt:insomnia:adults", ["evidence"])
    # A variant makes another indication.
    varied = {**new, "id": "cbt:insomnia:adults:cbt-i", "variant": "cbt-i"}
    d = diff(_export("1.0.0", old), _export("2.0.0", varied))
    assert d.indications.added == ["cbt:insomnia:adults:cbt-i"]
    assert d.indications.removed == ["cbt:insomnia:adults"]


def test_acceptability_and_harms_are_served(client: TestClient) -> None:
    ptsd = client.get("/v1/indications/online:ptsd:adults").json()
    assert ptsd["acceptability"] == [
        {
            "outcome": "Dropout from the study",
            "measure": "RR",
            "value": 1.39,
            "ci_low": 1.03,
            "ci_high": 1.88,
            "comparator": "waitlist",
            "comparator_value": None,
            "studies": 8,
            "participants": 585,
            "citation": "lewis2018",
            "note": "More people dropped out with internet-based CBT than on the waiting list;"
            " GRADE certainty low.",
        }
    ]
    assert all("dropout" not in e["outcome"].lower() for e in ptsd["effects"])
    insomnia = client.get("/v1/indications/cbt:insomnia:adults:cbt-i").json()
    assert [h["citation"] for h in insomnia["harms"]] == ["trauer2015"]
    anxiety = client.get("/v1/indications/cbt:anxiety-disorders:adults").json()
    (dropout,) = anxiety["acceptability"]
    assert (dropout["measure"], dropout["value"], dropout["comparator_value"]) == (
        "proportion",
        0.29,
        0.172,
    )
    # Every figure and statement cites a work its indication cites.
    for item in every_indication(client):
        for part in item["acceptability"] + item["harms"]:
            assert part["citation"] in item["citations"], item["id"]


def test_acceptability_and_harms_in_the_exports(client: TestClient) -> None:
    content = client.get("/v1/export?format=csv").content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        figures = list(
            csv.DictReader(io.StringIO(archive.read("acceptability_figures.csv").decode()))
        )
        harms = list(csv.DictReader(io.StringIO(archive.read("harms.csv").decode())))
    # One row per figure and per harm in the files, each under its indication's id.
    expected_figures: list[str] = []
    expected_harms: list[str] = []
    for x in SEED.modalities:
        for i in x.indications:
            id_ = indication_id(x.slug, i.condition, i.population.value, i.variant)
            expected_figures += [id_] * len(i.acceptability)
            expected_harms += [id_] * len(i.harms)
    assert {"online:ptsd:adults", "cbt:anxiety-disorders:adults"} <= set(expected_figures)
    assert "cbt:insomnia:adults:cbt-i" in expected_harms
    assert sorted(r["indication"] for r in figures) == sorted(expected_figures)
    assert sorted(r["indication"] for r in harms) == sorted(expected_harms)
    records = [
        json.loads(line) for line in client.get("/v1/export?format=ndjson").text.splitlines()
    ]
    kinds = {r["type"] for r in records}
    assert {"acceptability_figure", "harm"} <= kinds


def test_acceptability_and_harms_in_fhir(client: TestClient) -> None:
    evidence = client.get("/fhir/Evidence/online.ptsd.adults").json()
    (note,) = evidence["note"]
    assert note["text"].startswith("Acceptability: Dropout from the study, RR 1.39")
    assert "Citation/lewis2018" in note["text"]
    insomnia = client.get("/fhir/Evidence/cbt.insomnia.adults.cbt-i").json()
    assert [n["text"][:7] for n in insomnia["note"]] == ["Harms: "]


def test_condition_page_shows_dropout_and_harms(client: TestClient) -> None:
    page = client.get("/conditions/insomnia").text
    assert '<ul class="harms">' in page
    assert f"({variant_name('cbt-i')})" in page
    assert '<ul class="acceptability">' in client.get("/conditions/ptsd").text
    online = client.get("/modalities/online").text
    assert f"({variant_name('guided-icbt')})" in online
    assert f"({variant_name('unguided-icbt')})" in online
    assert f"({variant_name('videoconference')})" in online  # a format's variant


def test_a_citation_names_the_indications_citing_it_by_id(client: TestClient) -> None:
    cited_by = client.get("/v1/citations/trauer2015").json()["cited_by"]
    (ref,) = [r for r in cited_by if r["type"] == "indication"]
    assert ref["id"] == "cbt:insomnia:adults:cbt-i"
    assert ref["url"] == f"{ORIGIN}/v1/indications/cbt:insomnia:adults:cbt-i"
    assert ref["path"].startswith("indications[")
