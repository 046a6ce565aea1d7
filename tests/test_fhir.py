"""The FHIR R5 server (/fhir) on the fixture seed, on both engines: every resource parsed by the
``fhir.resources`` R5 models, searches as tables of requests and expected ids, paging followed to
the end, every refusal an OperationOutcome, and the same caching headers as /v1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app import schemas as s
from app.config import Settings
from app.domain import Evidence
from app.fhir.resources import condition_concept
from app.fhir.search import SEARCH_PARAMS
from app.fhir.terminology import CERTAINTY_OF
from app.main import create_app
from tests.helpers import FHIR_JSON, fhir_get, follow, ids, valid

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ICD11 = "http://id.who.int/icd/release/11/mms"


# The public origin the service is configured with: canonical URLs are built on it, whatever
# origin a request used (the test client's is http://testserver).
PUBLIC_URL = "https://kb.example.org"
CANONICAL = f"{PUBLIC_URL}/fhir"


@pytest.fixture(scope="module")
def client(fixture_db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=fixture_db_url, public_url=PUBLIC_URL)
    with TestClient(create_app(settings)) as client:
        yield client


# (search, expected ids in order)
SEARCHES: list[tuple[str, list[str]]] = [
    ("/fhir/PlanDefinition", ["alpha", "beta"]),
    ("/fhir/PlanDefinition?_id=beta", ["beta"]),
    ("/fhir/PlanDefinition?_id=alpha,beta,nope", ["alpha", "beta"]),
    ("/fhir/PlanDefinition?name=at", ["alpha"]),
    ("/fhir/PlanDefinition?name=B", ["beta"]),
    ("/fhir/PlanDefinition?name:exact=AT", ["alpha"]),
    ("/fhir/PlanDefinition?name:exact=at", []),
    ("/fhir/PlanDefinition?name:contains=g", ["beta"]),
    # Parameters given together must all match (FHIR's 'and').
    ("/fhir/PlanDefinition?name=b&name:exact=BGT", ["beta"]),
    ("/fhir/PlanDefinition?name=a&name:exact=BGT", []),
    ("/fhir/PlanDefinition?name=a&title:contains=therapy", ["alpha"]),
    ("/fhir/PlanDefinition?title=alpha%20THERAPY", ["alpha"]),
    ("/fhir/PlanDefinition?title=therapy", []),
    ("/fhir/PlanDefinition?title:contains=group", ["beta"]),
    ("/fhir/PlanDefinition?title=%25", []),
    ("/fhir/PlanDefinition?_format=json", ["alpha", "beta"]),
    # Strongest evidence first.
    (
        "/fhir/Evidence",
        [
            "alpha.low-mood.adults",
            "beta.worry.adults",
            "alpha.worry.adolescents",
            "beta.low-mood.mixed",
        ],
    ),
    ("/fhir/Evidence?condition=F99.1", ["alpha.low-mood.adults", "beta.low-mood.mixed"]),
    (f"/fhir/Evidence?condition={ICD10}|F99.1", ["alpha.low-mood.adults", "beta.low-mood.mixed"]),
    (f"/fhir/Evidence?condition={ICD11}|F99.1", []),
    (f"/fhir/Evidence?condition={ICD11}|6z99", ["alpha.low-mood.adults", "beta.low-mood.mixed"]),
    ("/fhir/Evidence?condition=|F99.1", []),
    ("/fhir/Evidence?condition=6Z98", ["beta.worry.adults", "alpha.worry.adolescents"]),
    ("/fhir/Evidence?condition=worry", ["beta.worry.adults", "alpha.worry.adolescents"]),
    ("/fhir/Evidence?condition=Z99.9", []),
    # A broader condition: its own indications (none), or with :below its narrower ones' too.
    ("/fhir/Evidence?condition=F30-F39", []),
    ("/fhir/Evidence?condition:below=F30-F39", ["alpha.low-mood.adults", "beta.low-mood.mixed"]),
    (
        f"/fhir/Evidence?condition={ICD11}|",
        [
            "alpha.low-mood.adults",
            "beta.worry.adults",
            "alpha.worry.adolescents",
            "beta.low-mood.mixed",
        ],
    ),
    (
        "/fhir/Evidence?condition=6Z98,F99.1&intervention=beta",
        [
            "beta.worry.adults",
            "beta.low-mood.mixed",
        ],
    ),
    (
        "/fhir/Evidence?intervention=PlanDefinition/alpha",
        [
            "alpha.low-mood.adults",
            "alpha.worry.adolescents",
        ],
    ),
    (
        "/fhir/Evidence?intervention=http://testserver/fhir/PlanDefinition/beta",
        [
            "beta.worry.adults",
            "beta.low-mood.mixed",
        ],
    ),
    ("/fhir/Evidence?intervention=gamma", []),
    ("/fhir/Evidence?intervention=Patient/alpha", []),
    (
        "/fhir/Evidence?condition=F99.1&condition:below=F30-F39",
        ["alpha.low-mood.adults", "beta.low-mood.mixed"],
    ),
    ("/fhir/Evidence?condition=6Z98&condition:below=F30-F39", []),
    ("/fhir/Evidence?_id=alpha.worry.adolescents,nonsense", ["alpha.worry.adolescents"]),
    ("/fhir/Citation", ["alpha2001", "delta2020", "gamma2010"]),
    ("/fhir/Citation?title=the%20FIXTURE", ["gamma2010"]),
    ("/fhir/Citation?title:contains=guideline", ["delta2020"]),
    ("/fhir/Citation?title:exact=The fixture handbook", ["gamma2010"]),
    ("/fhir/Citation?_id=gamma2010", ["gamma2010"]),
]


@pytest.mark.parametrize(("url", "expected"), SEARCHES, ids=[u for u, _ in SEARCHES])
def test_search(client: TestClient, url: str, expected: list[str]) -> None:
    bundle = fhir_get(client, url)
    assert ids(bundle) == expected
    assert bundle["total"] == len(expected)
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        assert (
            entry["fullUrl"]
            == f"http://testserver/fhir/{resource['resourceType']}/{resource['id']}"
        )
        assert entry["search"] == {"mode": "match"}


@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize("resource_type", ["PlanDefinition", "Evidence", "Citation"])
def test_paging_follows_next_links_to_the_end(
    client: TestClient, resource_type: str, count: int
) -> None:
    everything = ids(fhir_get(client, f"/fhir/{resource_type}?_count=100"))
    paged, total = follow(client, f"/fhir/{resource_type}?_count={count}")
    assert [r["id"] for r in paged] == everything
    assert total == len(everything)


def test_next_link_keeps_the_search(client: TestClient) -> None:
    paged, total = follow(client, "/fhir/Evidence?condition=6Z98,F99.1&_count=1")
    assert total == 4
    assert len({r["id"] for r in paged}) == 4


@pytest.mark.parametrize(
    ("resource_type", "total"), [("PlanDefinition", 2), ("Evidence", 4), ("Citation", 3)]
)
def test_count_zero_gives_the_total_only(
    client: TestClient, resource_type: str, total: int
) -> None:
    bundle = fhir_get(client, f"/fhir/{resource_type}?_count=0")
    assert bundle["total"] == total
    assert "entry" not in bundle
    assert [link["relation"] for link in bundle["link"]] == ["self"]


def test_previous_link(client: TestClient) -> None:
    bundle = fhir_get(client, "/fhir/Citation?_count=1&_offset=2")
    links = {link["relation"]: urlsplit(link["url"]).query for link in bundle["link"]}
    assert links == {"self": "_count=1&_offset=2", "previous": "_count=1&_offset=1"}


@pytest.mark.parametrize("resource_type", ["PlanDefinition", "Evidence", "Citation"])
def test_every_resource_reads_as_it_searches(client: TestClient, resource_type: str) -> None:
    found, _ = follow(client, f"/fhir/{resource_type}?_count=2")
    assert found
    for resource in found:
        assert fhir_get(client, f"/fhir/{resource_type}/{resource['id']}") == resource


def test_plan_definition(client: TestClient) -> None:
    plan = fhir_get(client, "/fhir/PlanDefinition/alpha")
    assert plan["url"] == f"{CANONICAL}/PlanDefinition/alpha"
    assert (plan["name"], plan["title"], plan["subtitle"]) == ("AT", "Alpha therapy", "AT")
    assert (plan["status"], plan["version"], plan["publisher"]) == (
        "active",
        "0.0.1",
        "therapy-kb-fixture",
    )
    assert plan["purpose"] == "A time-limited fixture therapy focused on relationships."
    assert plan["description"].startswith("Alpha therapy is a fixture modality")
    assert plan["description"].endswith("Invented for the test suite by A. Alpha in 2001.")
    assert plan["goal"] == [
        {"description": {"text": "Reduce fixture symptoms."}},
        {"description": {"text": "Improve fixture relationships."}},
    ]
    assert plan["usage"] == (
        "- Pro: Time-limited. Ends after a fixed number of sessions.\n"
        "- Pro: Well studied\n"
        "- Con: Needs weekly attendance"
    )
    # The modality's own claims and its pros and cons cite these.
    assert [a["resourceReference"]["reference"] for a in plan["relatedArtifact"]] == [
        "Citation/alpha2001",
        "Citation/gamma2010",
    ]
    phases, problem_areas, formats = plan["action"]
    assert phases["title"] == "Phases"
    assert phases["code"]["coding"][0]["code"] == "phase"
    assert [a["title"] for a in phases["action"]] == ["Initial phase"]
    assert problem_areas["action"][0] == {
        "title": "Role disputes",
        "description": "Conflicting expectations with others.",
        "documentation": [
            {
                "type": "citation",
                "display": "The fixture handbook",
                "resource": f"{CANONICAL}/Citation/gamma2010",
                "resourceReference": {"reference": "Citation/gamma2010"},
            }
        ],
    }
    (individual,) = formats["action"]
    assert individual["title"] == "Individual"
    assert individual["textEquivalent"] == "12-16 sessions of 45-50 minutes over 12-16 weeks."
    assert individual["timingTiming"] == {
        "repeat": {
            "count": 12,
            "countMax": 16,
            "duration": 45,
            "durationMax": 50,
            "durationUnit": "min",
            "boundsRange": {
                "low": {
                    "value": 12,
                    "unit": "wk",
                    "system": "http://unitsofmeasure.org",
                    "code": "wk",
                },
                "high": {
                    "value": 16,
                    "unit": "wk",
                    "system": "http://unitsofmeasure.org",
                    "code": "wk",
                },
            },
        }
    }


def test_group_format(client: TestClient) -> None:
    plan = fhir_get(client, "/fhir/PlanDefinition/beta")
    (formats,) = plan["action"]
    group, online = formats["action"]
    assert group["textEquivalent"] == "8 sessions of 90-120 minutes in groups of 6-10."
    assert group["timingTiming"] == {
        "repeat": {"count": 8, "duration": 90, "durationMax": 120, "durationUnit": "min"}
    }
    assert online["timingTiming"] == {"repeat": {"count": 6, "countMax": 12}}


def test_evidence(client: TestClient) -> None:
    evidence = fhir_get(client, "/fhir/Evidence/alpha.low-mood.adults")
    assert evidence["title"] == "AT for Low mood disorder (adults)"
    assert evidence["description"] == "Several fixture trials show benefit for low mood."
    (context,) = evidence["useContext"]
    assert context["code"]["code"] == "focus"
    assert context["valueCodeableConcept"] == {
        "coding": [
            {"system": ICD10, "code": "F99.1", "display": "Fixture low mood"},
            {"system": ICD11, "code": "6Z99", "display": "Fixture low mood"},
        ],
        "text": "Low mood disorder",
    }
    population, exposure = evidence["variableDefinition"]
    assert population["description"] == "Adults with low mood disorder"
    assert exposure["observed"] == {"reference": "#intervention", "display": "Alpha therapy"}
    assert evidence["contained"][0]["characteristic"] == [
        {"definitionCanonical": f"{CANONICAL}/PlanDefinition/alpha"}
    ]
    intervention = evidence["relatedArtifact"][0]
    assert intervention["resourceReference"] == {"reference": "PlanDefinition/alpha"}
    guideline = evidence["relatedArtifact"][-1]
    assert guideline == {
        "type": "justification",
        "label": "first-line",
        "display": "Fixture Institute, FG1: Low mood in adults (2020): first-line."
        " Offered as the first step.",
        "resource": f"{CANONICAL}/Citation/alpha2001",
        "resourceReference": {"reference": "Citation/alpha2001"},
    }
    (certainty,) = evidence["certainty"]
    assert certainty["description"] == "Fixture grade basis naming the fixture trials."
    assert [c["code"] for c in certainty["rating"]["coding"]] == ["high", "strong"]
    g, odds = evidence["statistic"]
    assert g["statisticType"]["coding"][0]["code"] == "0000100"
    assert g["statisticType"]["text"] == "Hedges' g"
    assert g["description"] == "Hedges' g against a waiting list: Low-mood symptoms after treatment"
    assert g["quantity"] == {"value": 0.6}
    assert g["sampleSize"] == {"numberOfStudies": 12, "numberOfParticipants": 900}
    (interval,) = g["attributeEstimate"]
    assert interval["level"] == 0.95
    assert interval["type"]["coding"][0]["code"] == "C53324"
    assert interval["range"] == {"low": {"value": 0.4}, "high": {"value": 0.8}}
    assert odds["statisticType"]["coding"][0]["code"] == "C16932"
    assert "sampleSize" not in odds
    assert [n["text"] for n in odds["note"]] == [
        "No significant difference.",
        "Direction: lower-favours-therapy. Oriented so that above 1 favours the therapy:"
        " 0.7692 (95% interval 0.5556 to 1.111).",
        "Stated in: A fixture trial of talking therapy (Citation/alpha2001).",
    ]
    assert odds["quantity"] == {"value": 1.3}  # the source's own figure


def test_evidence_without_effects_has_no_statistic(client: TestClient) -> None:
    evidence = fhir_get(client, "/fhir/Evidence/beta.low-mood.mixed")
    assert "statistic" not in evidence
    assert [c["code"] for c in evidence["certainty"][0]["rating"]["coding"]] == [
        "very-low",
        "insufficient",
    ]


def test_a_condition_without_codes_is_text_only() -> None:
    indication = s.Indication(
        id="x:anxiety-disorders:adults",
        variant=None,
        record=s.Link(url="/v1/indications/x:anxiety-disorders:adults"),
        condition="anxiety-disorders",
        condition_name="Anxiety disorders",
        codes=[],
        evidence=Evidence.moderate,
        population="adults",
        summary="…",
        grade_basis=None,
        guidelines=[],
        effects=[],
        citations=[],
    )
    assert condition_concept(indication) == {"text": "Anxiety disorders"}


def test_certainty_mapping_is_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "fhir.md").read_text(encoding="utf-8")
    for level, (code, _) in CERTAINTY_OF.items():
        assert f"| `{level.value}` | `{code}` |" in doc


def test_citation(client: TestClient) -> None:
    citation = fhir_get(client, "/fhir/Citation/alpha2001")
    work = citation["citedArtifact"]
    assert work["identifier"] == [
        {"system": "https://doi.org", "value": "10.1234/fixture.2001.001"},
        {"system": "https://pubmed.ncbi.nlm.nih.gov", "value": "10000001"},
    ]
    assert work["title"] == [{"text": "A fixture trial of talking therapy"}]
    assert work["publicationForm"] == [
        {
            "publishedIn": {"title": "Journal of Fixtures"},
            "volume": "12",
            "issue": "3",
            "pageString": "100-110",
            "publicationDateText": "2001",
        }
    ]
    assert work["webLocation"] == [{"url": "https://doi.org/10.1234/fixture.2001.001"}]
    assert [e["contributor"]["display"] for e in work["contributorship"]["entry"]] == [
        "Alpha, Ann",
        "Beta, Bo",
    ]
    book = fhir_get(client, "/fhir/Citation/gamma2010")["citedArtifact"]
    assert book["identifier"] == [{"system": "urn:isbn", "value": "9780000000002"}]
    assert book["publicationForm"][0]["publishedIn"] == {"publisher": {"display": "Fixture Press"}}
    report = fhir_get(client, "/fhir/Citation/delta2020")["citedArtifact"]
    assert report["contributorship"]["entry"][0]["contributor"] == {"display": "Fixture Institute"}
    assert report["webLocation"] == [{"url": "https://example.org/fixture-guideline"}]


def test_capability_statement(client: TestClient) -> None:
    capability = fhir_get(client, "/fhir/metadata")
    assert (capability["fhirVersion"], capability["kind"]) == ("5.0.0", "instance")
    assert capability["implementation"]["url"] == "http://testserver/fhir"
    (rest,) = capability["rest"]
    resources = {r["type"]: r for r in rest["resource"]}
    assert sorted(resources) == ["Citation", "CodeSystem", "Evidence", "PlanDefinition"]
    assert resources.pop("CodeSystem")["interaction"] == [{"code": "read"}]
    doc = client.get("/openapi.json").json()
    for resource_type, resource in resources.items():
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]
        documented = {
            p["name"].partition(":")[0]
            for p in doc["paths"][f"/fhir/{resource_type}"]["get"]["parameters"]
        } - {"_count", "_offset", "_format"}
        assert {p["name"] for p in resource["searchParam"]} == documented
        assert [p["name"] for p in resource["searchParam"]] == [
            p.name for p in SEARCH_PARAMS[resource_type]
        ]


def test_canonical_urls_are_on_the_configured_origin(client: TestClient) -> None:
    """Canonical URLs name a resource wherever it is read from: the configured public origin,
    not the request's, which only the Bundle's fullUrl and links use."""
    bundle = fhir_get(client, "/fhir/PlanDefinition?_count=1")
    plan = bundle["entry"][0]
    assert plan["fullUrl"].startswith("http://testserver/fhir/PlanDefinition/")
    assert plan["resource"]["url"] == f"{CANONICAL}/PlanDefinition/{plan['resource']['id']}"
    capability = fhir_get(client, "/fhir/metadata")
    assert capability["url"] == f"{CANONICAL}/CapabilityStatement/therapy-kb"
    assert fhir_get(client, "/fhir/CodeSystem/evidence-level")["url"] == (
        f"{CANONICAL}/CodeSystem/evidence-level"
    )
    # Unconfigured: the address `serve` binds by default.
    assert create_app(Settings()).state.fhir_canonical.base == "http://127.0.0.1:8000/fhir"
    with pytest.raises(ValueError, match="public_url"):
        Settings(public_url="kb.example.org/path")


def test_the_evidence_levels_are_a_code_system(client: TestClient) -> None:
    """Every Evidence codes its certainty in our evidence levels beside GRADE's: the system
    URL they name is served as a CodeSystem (valid under fhir.resources), one concept a level."""
    evidence = fhir_get(client, "/fhir/Evidence?_count=1")["entry"][0]["resource"]
    codings = [c for r in evidence["certainty"] for c in r.get("rating", {}).get("coding", [])]
    system = next(c["system"] for c in codings if c["system"].endswith("/evidence-level"))
    code_system = fhir_get(client, "/fhir/CodeSystem/evidence-level")
    assert code_system["url"] == system
    assert (code_system["content"], code_system["count"]) == ("complete", len(Evidence))
    concepts = {c["code"]: c for c in code_system["concept"]}
    assert list(concepts) == [level.value for level in Evidence]
    for level in Evidence:
        assert concepts[level.value]["property"] == [{"code": "rank", "valueInteger": level.rank}]
        assert concepts[level.value]["definition"]
    assert {c["code"] for c in codings if c["system"] == system} <= set(concepts)


# (request, status): every refusal under /fhir is an OperationOutcome.
REFUSALS: list[tuple[str, int]] = [
    ("/fhir/PlanDefinition?foo=1", 400),
    ("/fhir/PlanDefinition?name:missing=true", 400),
    ("/fhir/PlanDefinition?_id=alpha&_id=beta", 400),
    ("/fhir/PlanDefinition?name=", 400),
    ("/fhir/PlanDefinition?_format=xml", 400),
    ("/fhir/Evidence?_count=-1", 400),
    ("/fhir/Evidence?_count=101", 400),
    ("/fhir/Evidence?_count=abc", 400),
    ("/fhir/Evidence?_offset=-1", 400),
    ("/fhir/Evidence?condition=http://example.org/codes|F99.1", 400),
    ("/fhir/Evidence?name=x", 400),
    ("/fhir/Citation?intervention=alpha", 400),
    ("/fhir/metadata?mode=full", 400),
    ("/fhir/PlanDefinition/not_an_id!", 400),
    ("/fhir/PlanDefinition?title=%ff", 400),  # not UTF-8: refused by the guard, before routing
    ("/fhir/PlanDefinition/alpah", 404),
    ("/fhir/Evidence/alpha.worry.adults", 404),
    ("/fhir/Evidence/alpha", 404),
    ("/fhir/Citation/nope", 404),
    ("/fhir/Patient/1", 404),
    ("/fhir", 404),
]


@pytest.mark.parametrize(("url", "status"), REFUSALS, ids=[u for u, _ in REFUSALS])
def test_refusals_are_operation_outcomes(client: TestClient, url: str, status: int) -> None:
    outcome = fhir_get(client, url, status)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"]
    for issue in outcome["issue"]:
        assert issue["severity"] == "error"
        assert issue["code"] == ("not-found" if status == 404 else "invalid")
        assert issue["diagnostics"]


def test_an_outcome_names_the_parameter(client: TestClient) -> None:
    outcome = fhir_get(client, "/fhir/Evidence?foo=1", 400)
    (issue,) = outcome["issue"]
    assert issue["diagnostics"].startswith("foo: unknown parameter")
    assert "condition" in issue["diagnostics"]
    outcome = fhir_get(client, "/fhir/Evidence?_count=101", 400)
    assert outcome["issue"][0]["diagnostics"].startswith("_count: ")


def test_not_found_suggests(client: TestClient) -> None:
    outcome = fhir_get(client, "/fhir/PlanDefinition/alpah", 404)
    assert outcome["issue"][0]["diagnostics"] == "no PlanDefinition 'alpah'; did you mean 'alpha'?"


def test_other_methods_are_refused_as_outcomes(client: TestClient) -> None:
    response = client.post("/fhir/PlanDefinition", json={"resourceType": "PlanDefinition"})
    assert response.status_code == 405
    assert response.headers["content-type"] == FHIR_JSON
    assert valid(response.json())["issue"][0]["code"] == "not-supported"


def test_guards_answer_in_fhir_too(client: TestClient) -> None:
    """Refusals before routing (here: a request target over the limit) are OperationOutcomes."""
    response = client.get("/fhir/PlanDefinition?title=" + "x" * 3000)
    assert response.status_code == 414
    assert response.headers["content-type"] == FHIR_JSON
    assert valid(response.json())["issue"][0]["code"] == "too-long"
    assert response.headers["x-request-id"]


def test_head_of_a_refusal_has_no_body(client: TestClient) -> None:
    response = client.head("/fhir/Citation/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == FHIR_JSON
    assert response.content == b""


def test_v1_errors_stay_problems(client: TestClient) -> None:
    response = client.get("/v1/modalities/nope")
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/metadata",
        "/fhir/PlanDefinition/alpha",
        "/fhir/Evidence?condition=F99.1",
        "/fhir/Citation",
    ],
)
def test_caching_headers_as_v1(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    release = client.get("/v1/meta").json()["content_hash"]
    assert response.headers["x-kb-release"] == release
    assert response.headers["cache-control"] == client.get("/v1/meta").headers["cache-control"]
    etag = response.headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["x-kb-release"] == release
    head = client.head(url)
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)


def test_openapi_lists_the_fhir_routes(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    fhir = {path: item for path, item in doc["paths"].items() if path.startswith("/fhir")}
    assert sorted(fhir) == [
        "/fhir/Citation",
        "/fhir/Citation/{id}",
        "/fhir/CodeSystem/evidence-level",
        "/fhir/Evidence",
        "/fhir/Evidence/{id}",
        "/fhir/PlanDefinition",
        "/fhir/PlanDefinition/{id}",
        "/fhir/metadata",
    ]
    for item in fhir.values():
        responses = item["get"]["responses"]
        assert list(responses["200"]["content"]) == [FHIR_JSON]
        assert responses["400"]["content"][FHIR_JSON]["schema"] == {
            "$ref": "#/components/schemas/OperationOutcome"
        }
        assert "422" not in responses
