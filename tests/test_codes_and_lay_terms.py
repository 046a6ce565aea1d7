"""Codes looked up by the classifications' hierarchies, and conditions found by everyday words,
over the real knowledge base in seed/, on both engines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.seeding import read_seed_dir
from tests.conftest import REAL_SEED

SEED = read_seed_dir(REAL_SEED)
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture(scope="module")
def client(real_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=real_db_url))) as client:
        yield client


# (code as asked, the condition it leads to)
BY_HIERARCHY = [
    ("F32.1", "major-depression"),
    ("f32.1", "major-depression"),
    ("F32.4", "major-depression"),
    ("F33.1", "recurrent-depression"),
    ("F43.1", "ptsd"),
    ("F43.10", "ptsd"),
    ("F41.9", "anxiety-disorders"),
    ("G47.00", "insomnia"),
    ("F51.01", "insomnia"),
    ("F50.01", "anorexia-nervosa"),
    ("F29", "psychosis"),
    ("6A70.1", "major-depression"),
    ("6B41", "complex-ptsd"),
]


@pytest.mark.parametrize(("code", "slug"), BY_HIERARCHY)
def test_a_code_redirects_to_the_condition_its_hierarchy_leads_to(
    client: TestClient, code: str, slug: str
) -> None:
    response = client.get(f"/v1/conditions/{code}", follow_redirects=False)
    assert response.status_code == 308, response.text
    assert response.headers["location"].endswith(f"/v1/conditions/{slug}")


@pytest.mark.parametrize(("code", "slug"), BY_HIERARCHY)
def test_the_code_filter_finds_the_condition_by_hierarchy(
    client: TestClient, code: str, slug: str
) -> None:
    body = client.get("/v1/conditions", params={"code": code}).json()
    assert [c["slug"] for c in body["items"]] == [slug]


@pytest.mark.parametrize(("code", "slug"), BY_HIERARCHY[:6])
def test_modalities_and_indications_take_a_code_by_hierarchy(
    client: TestClient, code: str, slug: str
) -> None:
    by_code = client.get("/v1/indications", params={"condition": code, "limit": 100}).json()
    by_slug = client.get("/v1/indications", params={"condition": slug, "limit": 100}).json()
    assert by_code == by_slug
    assert by_code["total"] > 0
    listed = client.get("/v1/modalities", params={"condition": code, "limit": 100}).json()
    assert listed == client.get("/v1/modalities", params={"condition": slug, "limit": 100}).json()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        # Premenstrual dysphoric disorder sits under F32.8, a branch excluded from depression.
        ("F32.81", "Premenstrual dysphoric disorder"),
        ("F21", "Schizotypal disorder"),
        ("F99", "no condition for code 'F99'"),
        ("F32.7", "no condition for code 'F32.7'"),
    ],
)
def test_a_code_that_leads_nowhere_is_a_404_naming_the_nearest_codes(
    client: TestClient, code: str, words: str
) -> None:
    for path, params in (
        (f"/v1/conditions/{code}", {}),
        ("/v1/modalities", {"condition": code}),
        ("/v1/indications", {"condition": code}),
    ):
        response = client.get(path, params=params, follow_redirects=False)
        assert response.status_code == 404, path
        problem = response.json()
        assert words in problem["detail"]
        assert problem["nearest"], problem
        assert problem["suggestion"] == problem["nearest"][0]
        for near in problem["nearest"]:
            # Each one named leads to a condition.
            assert client.get(f"/v1/conditions/{near}", follow_redirects=False).status_code == 308


def test_an_unknown_slug_still_suggests_a_slug(client: TestClient) -> None:
    problem = client.get("/v1/conditions/insomina").json()
    assert problem["suggestion"] == "insomnia"


@pytest.mark.parametrize(
    ("token", "slug"),
    [
        (f"{ICD10CM}|F43.1", "ptsd"),
        (f"{ICD10CM}|F32.1", "major-depression"),
        ("F41.9", "anxiety-disorders"),
        ("http://id.who.int/icd/release/11/mms|6A70.1", "major-depression"),
    ],
)
def test_fhir_evidence_takes_a_code_by_hierarchy(client: TestClient, token: str, slug: str) -> None:
    by_code = client.get("/fhir/Evidence", params={"condition": token, "_count": 100}).json()
    by_slug = client.get("/fhir/Evidence", params={"condition": slug, "_count": 100}).json()
    assert by_code["total"] == by_slug["total"] > 0
    assert [e["resource"]["id"] for e in by_code["entry"]] == [
        e["resource"]["id"] for e in by_slug["entry"]
    ]


def test_fhir_code_in_the_wrong_system_finds_nothing(client: TestClient) -> None:
    body = client.get(
        "/fhir/Evidence", params={"condition": "http://id.who.int/icd/release/11/mms|F43.1"}
    ).json()
    assert body["total"] == 0


# --- lay terms ---------------------------------------------------------------------------------

# What a member of the public might type, and the condition it must find first. Most are lay
# terms in the seed; some are worded differently from any of them.
LAY_QUERIES = [
    ("hearing voices", "psychosis"),
    ("seeing things that aren't there", "psychosis"),
    ("paranoid thoughts", "psychosis"),
    ("can't sleep", "insomnia"),
    ("sleep trouble", "insomnia"),
    ("trouble sleeping", "insomnia"),
    ("lying awake", "insomnia"),
    ("cutting myself", "self-harm"),
    ("hurting myself on purpose", "self-harm"),
    ("burning myself", "self-harm"),
    ("binge eating at night", "binge-eating-disorder"),
    ("out of control eating", "binge-eating-disorder"),
    ("grief after a death", "prolonged-grief-disorder"),
    ("can't get over a death", "prolonged-grief-disorder"),
    ("still grieving years later", "prolonged-grief-disorder"),
    ("making myself sick after eating", "bulimia-nervosa"),
    ("binge and purge", "bulimia-nervosa"),
    ("starving myself", "anorexia-nervosa"),
    ("scared of gaining weight", "anorexia-nervosa"),
    ("flashbacks", "ptsd"),
    ("nightmares about what happened", "ptsd"),
    ("trauma from childhood abuse", "complex-ptsd"),
    ("panic attacks", "panic-disorder"),
    ("heart racing out of nowhere", "panic-disorder"),
    ("worrying about everything", "generalized-anxiety-disorder"),
    ("can't stop worrying", "generalized-anxiety-disorder"),
    ("fear of being judged", "social-anxiety-disorder"),
    ("scared of talking to people", "social-anxiety-disorder"),
    ("scared of spiders", "specific-phobia"),
    ("afraid of flying", "specific-phobia"),
    ("fear of needles", "specific-phobia"),
    ("checking things over and over", "obsessive-compulsive-disorder"),
    ("intrusive thoughts", "obsessive-compulsive-disorder"),
    ("washing hands all the time", "obsessive-compulsive-disorder"),
    ("hate the way i look", "body-dysmorphic-disorder"),
    ("feeling depressed", "major-depression"),
    ("lost interest in everything", "major-depression"),
    ("depression keeps coming back", "recurrent-depression"),
    ("low for years", "dysthymia"),
    ("extreme highs and lows", "bipolar-disorder"),
    ("depressed after having a baby", "postpartum-depression"),
    ("drinking too much", "substance-use-disorders"),
    ("can't stop drinking", "substance-use-disorders"),
    ("fear of abandonment", "borderline-personality-disorder"),
    ("unhealthy relationship with food", "eating-disorders"),
    ("anxious all the time", "anxiety-disorders"),
]


@pytest.mark.parametrize(("q", "slug"), LAY_QUERIES)
def test_a_lay_query_finds_its_condition_first(client: TestClient, q: str, slug: str) -> None:
    for params in ({"q": q}, {"q": q, "type": "condition"}):
        items = client.get("/v1/search", params={**params, "limit": 5}).json()["items"]
        assert items, f"{q!r} found nothing"
        assert (items[0]["type"], items[0]["id"]) == ("condition", slug), (q, items[:3])


def test_every_lay_query_condition_exists_and_the_set_is_large_enough() -> None:
    slugs = {c.slug for c in SEED.conditions}
    assert len(LAY_QUERIES) >= 40
    assert {slug for _, slug in LAY_QUERIES} <= slugs


def test_conditions_serve_their_lay_terms(client: TestClient) -> None:
    for c in SEED.conditions:
        body = client.get(f"/v1/conditions/{c.slug}").json()
        assert body["lay_terms"] == list(c.lay_terms)
    listed = client.get("/v1/conditions", params={"limit": 100}).json()["items"]
    assert {c["slug"]: c["lay_terms"] for c in listed} == {
        c.slug: list(c.lay_terms) for c in SEED.conditions
    }


def test_every_condition_has_lay_terms() -> None:
    assert [c.slug for c in SEED.conditions if not c.lay_terms] == []
