"""Read API v1 on the fixture seed: tables of requests and expected answers, on both engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import ORIGIN, copy_seed

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(fixture_db_url: str) -> Iterator[TestClient]:
    # Read-only tests: one loaded database per engine for the whole module.
    with TestClient(create_app(Settings(database_url=fixture_db_url))) as client:
        yield client


def slugs(body: dict[str, Any]) -> list[str]:
    return [item["slug"] for item in body["items"]]


# (request, expected slugs in order, expected total)
MODALITY_LISTS: list[tuple[str, list[str], int]] = [
    ("/v1/modalities", ["alpha", "beta"], 2),
    ("/v1/modalities?sort=-name", ["beta", "alpha"], 2),
    ("/v1/modalities?category=approach", ["alpha"], 1),
    ("/v1/modalities?category=delivery", ["beta"], 1),
    ("/v1/modalities?delivery=group", ["beta"], 1),
    ("/v1/modalities?delivery=individual", ["alpha"], 1),
    ("/v1/modalities?delivery=telephone", [], 0),
    ("/v1/modalities?condition=worry", ["alpha", "beta"], 2),
    ("/v1/modalities?condition=worry&sort=evidence", ["beta", "alpha"], 2),
    # Without a condition: strongest evidence for any condition (alpha has a "strong").
    ("/v1/modalities?sort=evidence", ["alpha", "beta"], 2),
    ("/v1/modalities?condition=low-mood&sort=evidence", ["alpha", "beta"], 2),
    # A parent condition matches its children's indications.
    ("/v1/modalities?condition=mood-disorders&min_evidence=moderate", ["alpha"], 1),
    # Codes work as well as slugs, in any case.
    ("/v1/modalities?condition=F99.1&min_evidence=strong", ["alpha"], 1),
    ("/v1/modalities?condition=6z98&min_evidence=moderate", ["beta"], 1),
    ("/v1/modalities?condition=worry&min_evidence=strong", [], 0),
    ("/v1/modalities?min_evidence=strong", ["alpha"], 1),
    ("/v1/modalities?min_evidence=moderate", ["alpha", "beta"], 2),
    ("/v1/modalities?min_evidence=insufficient", ["alpha", "beta"], 2),
    ("/v1/modalities?q=GROUP", ["beta"], 1),
    ("/v1/modalities?q=talking therapy", ["alpha"], 1),
    ("/v1/modalities?q=100%", [], 0),
    ("/v1/modalities?q=_", [], 0),
    ("/v1/modalities?limit=1", ["alpha"], 2),
    ("/v1/modalities?limit=1&offset=1", ["beta"], 2),
    ("/v1/modalities?offset=2", [], 2),
    ("/v1/modalities?offset=100000", [], 2),
    ("/v1/modalities?category=approach&delivery=group", [], 0),
    # A population: only modalities with an indication for it.
    ("/v1/modalities?population=adults", ["alpha", "beta"], 2),
    ("/v1/modalities?population=adolescents", ["alpha"], 1),
    ("/v1/modalities?population=mixed", ["beta"], 1),
    ("/v1/modalities?population=children", [], 0),
    # With the other indication filters it holds within one indication: alpha is strong for
    # low mood (adults) and limited for worry (adolescents), never both for one population.
    ("/v1/modalities?population=adolescents&condition=worry", ["alpha"], 1),
    ("/v1/modalities?population=adolescents&condition=low-mood", [], 0),
    ("/v1/modalities?population=adolescents&condition=mood-disorders", [], 0),
    ("/v1/modalities?population=mixed&condition=mood-disorders", ["beta"], 1),
    ("/v1/modalities?population=adults&min_evidence=strong", ["alpha"], 1),
    ("/v1/modalities?population=adolescents&min_evidence=moderate", [], 0),
    ("/v1/modalities?population=adolescents&min_evidence=limited", ["alpha"], 1),
    ("/v1/modalities?population=mixed&min_evidence=limited", [], 0),
    # Sorted by the population's evidence: beta is moderate for adults, alpha only limited
    # for adolescents, but alpha strong for adults.
    ("/v1/modalities?population=adults&sort=evidence", ["alpha", "beta"], 2),
]


@pytest.mark.parametrize(("url", "expected", "total"), MODALITY_LISTS)
def test_modality_list(client: TestClient, url: str, expected: list[str], total: int) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text
    body = response.json()
    assert slugs(body) == expected
    assert body["total"] == total


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "/v1/modalities?condition=worry&sort=evidence",
            [("beta", "moderate"), ("alpha", "limited")],
        ),
        # Without a condition: the strongest level over all of a modality's indications, so
        # the order of sort=evidence can be read off the items.
        ("/v1/modalities?sort=evidence", [("alpha", "strong"), ("beta", "moderate")]),
        ("/v1/modalities", [("alpha", "strong"), ("beta", "moderate")]),
        ("/v1/modalities?min_evidence=strong", [("alpha", "strong")]),
        # With a population, that population's indications only.
        ("/v1/modalities?population=adolescents", [("alpha", "limited")]),
        ("/v1/modalities?population=mixed&sort=evidence", [("beta", "insufficient")]),
        (
            "/v1/modalities?population=adults&sort=evidence",
            [("alpha", "strong"), ("beta", "moderate")],
        ),
        (
            "/v1/modalities?condition=mood-disorders&sort=evidence",
            [("alpha", "strong"), ("beta", "insufficient")],
        ),
        ("/v1/modalities?condition=low-mood&population=mixed", [("beta", "insufficient")]),
    ],
)
def test_modality_list_evidence_column(
    client: TestClient, url: str, expected: list[tuple[str, str | None]]
) -> None:
    body = client.get(url).json()
    assert [(i["slug"], i["evidence"]) for i in body["items"]] == expected


@pytest.mark.parametrize(
    ("url", "next_", "prev"),
    [
        ("/v1/modalities?limit=1", "/v1/modalities?limit=1&offset=1", None),
        ("/v1/modalities?limit=1&offset=1", None, "/v1/modalities?limit=1&offset=0"),
        (
            "/v1/modalities?category=approach&limit=1&offset=5",
            None,
            "/v1/modalities?category=approach&limit=1&offset=4",
        ),
        ("/v1/modalities", None, None),
    ],
)
def test_link_headers(client: TestClient, url: str, next_: str | None, prev: str | None) -> None:
    response = client.get(url)
    link = response.links
    # Absolute, with the origin the client used (app/http/origin.py).
    assert (link.get("next") or {}).get("url") == (next_ and ORIGIN + next_)
    assert (link.get("prev") or {}).get("url") == (prev and ORIGIN + prev)


# (request, parameter the problem must name)
BAD_REQUESTS: list[tuple[str, str]] = [
    ("/v1/modalities?limit=0", "limit"),
    ("/v1/modalities?limit=101", "limit"),
    ("/v1/modalities?limit=abc", "limit"),
    ("/v1/modalities?offset=-1", "offset"),
    ("/v1/modalities?offset=100001", "offset"),
    ("/v1/modalities?category=therapy", "category"),
    ("/v1/modalities?min_evidence=excellent", "min_evidence"),
    ("/v1/modalities?delivery=pigeon", "delivery"),
    ("/v1/modalities?sort=size", "sort"),
    ("/v1/modalities?q=", "q"),
    ("/v1/modalities?q=" + "x" * 201, "q"),
    ("/v1/modalities/alpha?include=everything", "include"),
    ("/v1/conditions?limit=500", "limit"),
    ("/v1/citations?year=20x", "year"),
    ("/v1/citations?year=1500", "year"),
    ("/v1/compare", "modalities"),
    ("/v1/compare?modalities=alpha", "modalities"),
    ("/v1/compare?modalities=alpha,alpha", "modalities"),
    ("/v1/compare?modalities=alpha,beta,c,d,e,f,g", "modalities"),
    ("/v1/compare?modalities=alpha,,beta", "modalities"),
    ("/v1/search", "q"),
    ("/v1/search?q=", "q"),
    ("/v1/search?q=%20%20", "q"),
    ("/v1/search?q=" + "y" * 201, "q"),
    ("/v1/search?q=x&type=book", "type"),
    ("/v1/modalities?population=elderly", "population"),
    ("/v1/conditions?population=elderly", "population"),
    ("/v1/compare?modalities=alpha,beta&population=elderly", "population"),
    ("/v1/indications?population=elderly", "population"),
    ("/v1/indications?min_evidence=excellent", "min_evidence"),
    ("/v1/indications?guideline=strongly", "guideline"),
    ("/v1/indications?category=therapy", "category"),
    ("/v1/indications?modality=", "modality"),
    ("/v1/indications?condition=", "condition"),
    ("/v1/indications?limit=101", "limit"),
    ("/v1/indications?offset=-1", "offset"),
]


@pytest.mark.parametrize(("url", "parameter"), BAD_REQUESTS)
def test_bad_parameters_are_problems(client: TestClient, url: str, parameter: str) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    assert parameter in [e["parameter"] for e in body["errors"]]


@pytest.mark.parametrize(
    ("url", "suggestion"),
    [
        ("/v1/modalities/alpah", "alpha"),
        ("/v1/modalities/zzzzzz", None),
        ("/v1/conditions/wory", "worry"),
        ("/v1/citations/alpha2010", "alpha2001"),
        # Unknown ids in filters are 404s too, naming what was not found.
        ("/v1/modalities?condition=wory", "worry"),
        ("/v1/compare?modalities=alpha,betta", "beta"),
        ("/v1/compare?modalities=alpha,beta&condition=low-mod", "low-mood"),
        ("/v1/indications?modality=alpah", "alpha"),
        ("/v1/indications?modality=zzzzzz", None),
        ("/v1/indications?condition=wory", "worry"),
        # Neither a slug nor a code of ours, but shaped like a code: the nearest code of ours.
        ("/v1/conditions/F99.9", "F99.1"),
        ("/v1/conditions/nothing", None),
        ("/v1/conditions/low-mod", "low-mood"),
    ],
)
def test_unknown_slug_is_404_with_suggestion(
    client: TestClient, url: str, suggestion: str | None
) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json().get("suggestion") == suggestion


def test_modality_detail_whole_shape(client: TestClient) -> None:
    body = client.get("/v1/modalities/alpha").json()
    assert body == {
        "slug": "alpha",
        "name": "Alpha therapy",
        "abbreviation": "AT",
        "category": "approach",
        "aliases": ["alpha talking therapy"],
        "summary": "A time-limited fixture therapy focused on relationships.",
        "description": "Alpha therapy is a fixture modality used by the tests. It has two "
        "indications, two pros, one con, one format and two components.",
        "origin": "Invented for the test suite by A. Alpha in 2001.",
        "goals": ["Reduce fixture symptoms.", "Improve fixture relationships."],
        "citations": ["alpha2001"],
        "indications": [
            {
                "id": "alpha:low-mood:adults",
                "variant": None,
                "record": {"url": f"{ORIGIN}/v1/indications/alpha:low-mood:adults"},
                "condition": "low-mood",
                "condition_name": "Low mood disorder",
                "codes": [
                    {"system": "icd-10-cm", "code": "F99.1", "display": "Fixture low mood"},
                    {"system": "icd-11", "code": "6Z99", "display": "Fixture low mood"},
                ],
                "evidence": "strong",
                "population": "adults",
                "summary": "Several fixture trials show benefit for low mood.",
                "grade_basis": "Fixture grade basis naming the fixture trials.",
                "guidelines": [
                    {
                        "body": "Fixture Institute",
                        "document": "FG1: Low mood in adults (2020)",
                        "recommendation": "first-line",
                        "citation": "alpha2001",
                        "note": "Offered as the first step.",
                    }
                ],
                "effects": [
                    {
                        "measure": "g",
                        "direction": "higher-favours-therapy",
                        "value": 0.6,
                        "ci_low": 0.4,
                        "ci_high": 0.8,
                        "studies": 12,
                        "participants": 900,
                        "comparator": "waitlist",
                        "outcome": "Low-mood symptoms after treatment",
                        "citation": "alpha2001",
                        "note": None,
                        "significant": True,
                        "oriented": {"value": 0.6, "ci_low": 0.4, "ci_high": 0.8},
                        "low_risk_of_bias": None,
                    },
                    {
                        # Lower favours the therapy: inverted, the interval's ends swapped.
                        "measure": "OR",
                        "direction": "lower-favours-therapy",
                        "value": 1.3,
                        "ci_low": 0.9,
                        "ci_high": 1.8,
                        "studies": None,
                        "participants": None,
                        "comparator": "active-psychotherapy",
                        "outcome": "Response after treatment",
                        "citation": "alpha2001",
                        "note": "No significant difference.",
                        "significant": False,
                        "oriented": {"value": 1 / 1.3, "ci_low": 1 / 1.8, "ci_high": 1 / 0.9},
                        "low_risk_of_bias": None,
                    },
                ],
                "acceptability": [],
                "harms": [],
                "certainty": [],
                # A waiting-list effect alone is no pooled effect against control.
                "grading": {
                    "floor": "insufficient",
                    "ceiling": "moderate",
                    "criteria_met": ["guideline recommends"],
                },
                "pooled": [],  # the fixture seed has no trial layer
                "trial_basis": None,
                "citations": ["alpha2001"],
            },
            {
                "id": "alpha:worry:adolescents",
                "variant": None,
                "record": {"url": f"{ORIGIN}/v1/indications/alpha:worry:adolescents"},
                "condition": "worry",
                "condition_name": "Worry disorder",
                "codes": [{"system": "icd-11", "code": "6Z98", "display": "Fixture worry"}],
                "evidence": "limited",
                "population": "adolescents",
                "summary": "One pilot fixture trial in adolescents.",
                "grade_basis": "Fixture grade basis naming the fixture trials.",
                "guidelines": [],
                "effects": [],
                "acceptability": [],
                "harms": [],
                "certainty": [],
                "grading": {"floor": "insufficient", "ceiling": "moderate", "criteria_met": []},
                "pooled": [],
                "trial_basis": None,
                "citations": ["alpha2001", "gamma2010"],
            },
        ],
        "pros": [
            {
                "statement": "Time-limited",
                "detail": "Ends after a fixed number of sessions.",
                "citations": ["gamma2010"],
            },
            {"statement": "Well studied", "detail": None, "citations": ["alpha2001"]},
        ],
        "cons": [
            {"statement": "Needs weekly attendance", "detail": None, "citations": ["gamma2010"]}
        ],
        "formats": [
            {
                "delivery": "individual",
                "variant": None,
                "sessions": {"min": 12, "max": 16},
                "weeks": {"min": 12, "max": 16},
                "session_minutes": {"min": 45, "max": 50},
                "group_size": None,
                "notes": "Weekly individual sessions.",
                "citations": ["alpha2001"],
            }
        ],
        "components": [
            {
                "kind": "phase",
                "name": "Initial phase",
                "description": "Assessment and choice of focus.",
                "citations": ["gamma2010"],
            },
            {
                "kind": "problem_area",
                "name": "Role disputes",
                "description": "Conflicting expectations with others.",
                "citations": ["gamma2010"],
            },
        ],
        "included_citations": None,
        "url": f"{ORIGIN}/v1/modalities/alpha",
    }


def test_include_citations_embeds_each_work_once(client: TestClient) -> None:
    body = client.get("/v1/modalities/alpha?include=citations").json()
    assert [c["key"] for c in body["included_citations"]] == ["alpha2001", "gamma2010"]
    alpha = body["included_citations"][0]
    assert alpha["doi"] == "10.1234/fixture.2001.001"
    assert alpha["authors"][0] == {"family": "Alpha", "given": "Ann", "literal": None}


def test_condition_list_and_filters(client: TestClient) -> None:
    def get(url: str) -> list[str]:
        return slugs(client.get(url).json())

    assert get("/v1/conditions") == ["low-mood", "mood-disorders", "worry"]
    assert get("/v1/conditions?parent=mood-disorders") == ["low-mood"]
    assert get("/v1/conditions?code=f99.1") == ["low-mood"]
    assert get("/v1/conditions?code=F30-F39") == ["mood-disorders"]
    assert get("/v1/conditions?q=persistent") == ["low-mood"]
    assert get("/v1/conditions?q=nothing-like-this") == []
    assert get("/v1/conditions?parent=worry") == []
    # A population: conditions with an indication for it, their own or a narrower one's (as
    # their detail lists them): mood disorders through low mood.
    assert get("/v1/conditions?population=adults") == ["low-mood", "mood-disorders", "worry"]
    assert get("/v1/conditions?population=adolescents") == ["worry"]
    assert get("/v1/conditions?population=mixed") == ["low-mood", "mood-disorders"]
    assert get("/v1/conditions?population=children") == []
    assert get("/v1/conditions?population=mixed&parent=mood-disorders") == ["low-mood"]
    assert get("/v1/conditions?population=adolescents&parent=mood-disorders") == []
    assert client.get("/v1/conditions?population=mixed").json()["total"] == 2


def test_condition_detail_strongest_first_with_children(client: TestClient) -> None:
    body = client.get("/v1/conditions/mood-disorders").json()
    assert body["children"] == [
        {"slug": "low-mood", "name": "Low mood disorder", "url": f"{ORIGIN}/v1/conditions/low-mood"}
    ]
    assert [(x["modality"], x["condition"], x["evidence"]) for x in body["modalities"]] == [
        ("alpha", "low-mood", "strong"),
        ("beta", "low-mood", "insufficient"),
    ]
    worry = client.get("/v1/conditions/worry").json()
    assert [(x["modality"], x["evidence"]) for x in worry["modalities"]] == [
        ("beta", "moderate"),
        ("alpha", "limited"),
    ]
    assert worry["modalities"][1]["citations"] == ["alpha2001", "gamma2010"]
    assert worry["parent"] is None
    assert client.get("/v1/conditions/low-mood").json()["parent"] == "mood-disorders"


@pytest.mark.parametrize(
    ("url", "keys", "total"),
    [
        ("/v1/citations", ["alpha2001", "delta2020", "gamma2010"], 3),
        ("/v1/citations?year=2010", ["gamma2010"], 1),
        ("/v1/citations?modality=beta", ["delta2020"], 1),
        ("/v1/citations?modality=alpha", ["alpha2001", "gamma2010"], 2),
        ("/v1/citations?q=institute", ["delta2020"], 1),
        ("/v1/citations?q=10.1234", ["alpha2001"], 1),
        ("/v1/citations?limit=1&offset=1", ["delta2020"], 3),
        ("/v1/citations?modality=nosuch", [], 0),
    ],
)
def test_citation_list(client: TestClient, url: str, keys: list[str], total: int) -> None:
    body = client.get(url).json()
    assert [c["key"] for c in body["items"]] == keys
    assert body["total"] == total


def test_citation_detail_lists_every_claim_citing_it(client: TestClient) -> None:
    body = client.get("/v1/citations/gamma2010").json()
    # In the order the claims stand in the seed file.
    assert [c["id"] for c in body["cited_by"]] == [
        "alpha:worry:adolescents",
        "alpha#pros[0]",
        "alpha#cons[0]",
        "alpha#components[0]",
        "alpha#components[1]",
    ]
    delta = client.get("/v1/citations/delta2020").json()
    types = sorted({c["type"] for c in delta["cited_by"]})
    assert types == ["consideration", "format", "indication", "modality"]
    assert {
        "modality": "beta",
        "type": "modality",
        "path": "",
        "id": "beta",
        "text": "Beta group therapy",
        "url": f"{ORIGIN}/v1/modalities/beta",
    } in delta["cited_by"]


def test_compare_aligns_fields_and_builds_matrix(client: TestClient) -> None:
    body = client.get("/v1/compare?modalities=alpha,beta").json()
    assert [c["slug"] for c in body["modalities"]] == ["alpha", "beta"]
    assert body["condition"] is None
    alpha, beta = body["modalities"]
    assert alpha["formats"] == [
        {
            "delivery": "individual",
            "variant": None,
            "sessions": {"min": 12, "max": 16},
            "weeks": {"min": 12, "max": 16},
            "session_minutes": {"min": 45, "max": 50},
            "group_size": None,
        }
    ]
    assert beta["pros"] == ["Peer support"]
    assert beta["cons"] == ["Less individual time", "Not for everyone"]
    assert alpha["components"] == ["phase: Initial phase", "problem_area: Role disputes"]
    assert body["evidence_matrix"] == {
        "columns": ["alpha", "beta"],
        "rows": [
            {
                "condition": "low-mood",
                "condition_name": "Low mood disorder",
                "evidence": {"alpha": "strong", "beta": "insufficient"},
            },
            {
                "condition": "worry",
                "condition_name": "Worry disorder",
                "evidence": {"alpha": "limited", "beta": "moderate"},
            },
        ],
    }


def test_compare_with_condition_puts_strongest_first(client: TestClient) -> None:
    body = client.get("/v1/compare?modalities=alpha,beta&condition=worry").json()
    assert [(c["slug"], c["evidence"]) for c in body["modalities"]] == [
        ("beta", "moderate"),
        ("alpha", "limited"),
    ]
    assert body["condition"] == "worry"
    assert body["evidence_matrix"]["columns"] == ["beta", "alpha"]
    assert [r["condition"] for r in body["evidence_matrix"]["rows"]] == ["worry"]


def test_compare_names_the_unknown_modalities(client: TestClient) -> None:
    response = client.get("/v1/compare?modalities=alpha,nosuch,beta,zzz")
    assert response.status_code == 404
    body = response.json()
    assert body["unknown"] == ["nosuch", "zzz"]
    assert "nosuch" in body["detail"]
    assert "zzz" in body["detail"]
    assert "alpha" not in body["detail"]


@pytest.mark.parametrize(
    ("url", "check"),
    [
        ("/v1/search?q=fixture trial", lambda b: b["items"][0]["id"] == "alpha2001"),
        (
            "/v1/search?q=fixture&type=modality",
            lambda b: {i["type"] for i in b["items"]} == {"modality"},
        ),
        ("/v1/search?q=worry&type=condition", lambda b: [i["id"] for i in b["items"]] == ["worry"]),
        ("/v1/search?q=role disputes", lambda b: b["items"][0]["id"] == "alpha#components[1]"),
        ("/v1/search?q=peer", lambda b: b["items"][0]["id"] == "beta#pros[0]"),
        (
            "/v1/search?q=Institute&type=citation",
            lambda b: [i["id"] for i in b["items"]] == ["delta2020"],
        ),
        ("/v1/search?q=trial", lambda b: all("<mark>" in i["snippet"] for i in b["items"])),
        (
            "/v1/search?q=trial",
            lambda b: (
                [i["score"] for i in b["items"]]
                == sorted((i["score"] for i in b["items"]), reverse=True)
            ),
        ),
        ("/v1/search?q=trial&limit=1", lambda b: len(b["items"]) == 1 and b["total"] > 1),
        ("/v1/search?q=zebra", lambda b: b == {"items": [], "total": 0, "limit": 20, "offset": 0}),
        # The last word may be the start of a word; the others are whole (stemmed) words.
        ("/v1/search?q=trial fixtu", lambda b: b["items"][0]["id"] == "alpha2001"),
        ("/v1/search?q=fixtu trial", lambda b: b["total"] == 0),
        (
            "/v1/search?q=fixtu&type=citation",
            lambda b: b["total"] == len(b["items"]) > 0,
        ),
    ],
)
def test_search(client: TestClient, url: str, check: Callable[[dict[str, Any]], bool]) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert check(response.json()), response.json()


HOSTILE_QUERIES = [
    '"',
    '""',
    "'",
    "fixture*",
    "*",
    "NEAR(fixture trial)",
    "fixture NEAR trial",
    "fixture AND OR NOT trial",
    "(((",
    ")",
    "title:fixture",
    "-fixture",
    "^fixture",
    "fixture:*",
    "!fixture & | <->",
    "'; DROP TABLE modality; --",
    "1 OR 1=1",
    "%00",
    "\\",
    "ünïcödé Grüße 抑郁 депрессия",
    "🙂",
    "a" * 200,
    "_",
    "the",
]


@pytest.mark.parametrize("q", HOSTILE_QUERIES)
def test_any_search_text_is_safe(client: TestClient, q: str) -> None:
    response = client.get("/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["items"], list)
    # The tables are still there.
    assert client.get("/v1/modalities").json()["total"] == 2


def test_search_matches_operators_as_words(client: TestClient) -> None:
    # "fixture*" and "NEAR(fixture trial)" are plain words: they find what "fixture" finds.
    plain = client.get("/v1/search", params={"q": "fixture"}).json()["total"]
    assert client.get("/v1/search", params={"q": "fixture*"}).json()["total"] == plain
    assert client.get("/v1/search", params={"q": '"fixture"'}).json()["total"] == plain
    assert plain > 0


@pytest.mark.parametrize("q", ["trial", "fixture", "therapy alp"])
def test_a_typed_search_is_the_untyped_search_filtered(client: TestClient, q: str) -> None:
    """Both are ranked the same way, whichever statements each engine runs for them."""
    everything = client.get("/v1/search", params={"q": q, "limit": 100}).json()
    assert everything["items"], q
    assert everything["total"] == len(everything["items"])
    for doc_type in ("modality", "condition", "claim", "citation"):
        typed = client.get("/v1/search", params={"q": q, "type": doc_type, "limit": 100}).json()
        assert typed["items"] == [h for h in everything["items"] if h["type"] == doc_type]
        assert typed["total"] == len(typed["items"])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/v1/modalities?guideline=first-line", ["alpha"]),
        ("/v1/modalities?guideline=first-line&condition=low-mood", ["alpha"]),
        # alpha's first-line position is for low mood, not for worry.
        ("/v1/modalities?guideline=first-line&condition=worry", []),
        ("/v1/modalities?guideline=consider", []),
    ],
)
def test_guideline_filter(client: TestClient, url: str, expected: list[str]) -> None:
    assert [x["slug"] for x in client.get(url).json()["items"]] == expected


def test_bad_guideline_value_is_a_problem(client: TestClient) -> None:
    response = client.get("/v1/modalities?guideline=strongly")
    assert response.status_code == 422
    assert "guideline" in [e["parameter"] for e in response.json()["errors"]]


def test_condition_and_compare_carry_the_evidence_basis(client: TestClient) -> None:
    detail = client.get("/v1/modalities/alpha").json()["indications"][0]
    basis = {k: detail[k] for k in ("grade_basis", "guidelines", "effects")}
    condition = client.get("/v1/conditions/low-mood").json()["modalities"]
    alpha = next(i for i in condition if i["modality"] == "alpha")
    assert {k: alpha[k] for k in basis} == basis
    compared = client.get("/v1/compare?modalities=beta,alpha&condition=low-mood").json()
    columns = {c["slug"]: c for c in compared["modalities"]}
    assert [{k: i[k] for k in basis} for i in columns["alpha"]["indications"]] == [basis]
    assert [i["evidence"] for i in columns["beta"]["indications"]] == ["insufficient"]
    # Without a condition there is nothing to narrow the indications to.
    plain = client.get("/v1/compare?modalities=beta,alpha").json()
    assert all(c["indications"] == [] for c in plain["modalities"])


@pytest.mark.parametrize(
    ("code", "slug"),
    [
        ("F99.1", "low-mood"),
        ("f99.1", "low-mood"),
        ("6z99", "low-mood"),
        ("6Z98", "worry"),
        ("F30-F39", "mood-disorders"),
    ],
)
def test_condition_code_redirects_to_its_slug(client: TestClient, code: str, slug: str) -> None:
    response = client.get(f"/v1/conditions/{code}", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == f"{ORIGIN}/v1/conditions/{slug}"
    assert (
        client.get(f"/v1/conditions/{code}").json() == client.get(f"/v1/conditions/{slug}").json()
    )


def test_a_code_naming_two_conditions_names_the_most_specific(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    """A code is unique within its coding system, but the same string may stand in both: then
    the deepest condition in the tree wins, and between equally deep ones the first slug."""
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    path = seed_dir / "conditions.yaml"
    conditions = yaml.safe_load(path.read_text())
    shared = [
        # ICD-11-shaped strings that low mood (deeper, later by slug) and zz-worry (as deep,
        # later by slug) hold as ICD-10-CM codes.
        {"system": "icd-11", "code": "F99.1", "display": "Fixture shared code"},
        {"system": "icd-11", "code": "Z99", "display": "Fixture shared code"},
    ]
    conditions["conditions"] += [
        {"slug": "anxious-mood", "name": "Anxious mood", "codes": shared},
        {
            "slug": "zz-worry",
            "name": "Last worry",
            "codes": [{"system": "icd-10-cm", "code": "Z99", "display": "Fixture shared code"}],
        },
    ]
    path.write_text(yaml.safe_dump(conditions, sort_keys=False))
    load_seed(engine, read_seed_dir(seed_dir))
    with TestClient(create_app(settings)) as client:

        def target(code: str) -> str:
            response = client.get(f"/v1/conditions/{code}", follow_redirects=False)
            assert response.status_code == 308, response.text
            return str(response.headers["location"])

        assert target("F99.1") == target("f99.1") == f"{ORIGIN}/v1/conditions/low-mood"
        assert target("z99") == f"{ORIGIN}/v1/conditions/anxious-mood"
        # A filter reads a code the same way.
        assert client.get("/v1/modalities?condition=F99.1").json()["total"] == 2
        assert client.get("/v1/indications?condition=Z99").json()["total"] == 0
        assert client.get("/v1/conditions/zz-worry").status_code == 200


def test_condition_slug_answers_directly(client: TestClient) -> None:
    response = client.get("/v1/conditions/low-mood", follow_redirects=False)
    assert response.status_code == 200
    assert response.json()["slug"] == "low-mood"


def rows(body: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(i["modality"], i["condition"], i["population"], i["evidence"]) for i in body["items"]]


ALPHA_LOW_MOOD = ("alpha", "low-mood", "adults", "strong")
BETA_WORRY = ("beta", "worry", "adults", "moderate")
ALPHA_WORRY = ("alpha", "worry", "adolescents", "limited")
BETA_LOW_MOOD = ("beta", "low-mood", "mixed", "insufficient")


@pytest.mark.parametrize(
    ("url", "expected", "total"),
    [
        # Strongest first; every indication of the fixture.
        ("/v1/indications", [ALPHA_LOW_MOOD, BETA_WORRY, ALPHA_WORRY, BETA_LOW_MOOD], 4),
        ("/v1/indications?modality=alpha", [ALPHA_LOW_MOOD, ALPHA_WORRY], 2),
        ("/v1/indications?category=delivery", [BETA_WORRY, BETA_LOW_MOOD], 2),
        # A condition includes its narrower ones, and may be named by a code in any case.
        ("/v1/indications?condition=mood-disorders", [ALPHA_LOW_MOOD, BETA_LOW_MOOD], 2),
        ("/v1/indications?condition=f99.1", [ALPHA_LOW_MOOD, BETA_LOW_MOOD], 2),
        ("/v1/indications?condition=worry", [BETA_WORRY, ALPHA_WORRY], 2),
        ("/v1/indications?population=adults", [ALPHA_LOW_MOOD, BETA_WORRY], 2),
        ("/v1/indications?population=adolescents", [ALPHA_WORRY], 1),
        ("/v1/indications?population=children", [], 0),
        ("/v1/indications?min_evidence=moderate", [ALPHA_LOW_MOOD, BETA_WORRY], 2),
        (
            "/v1/indications?min_evidence=insufficient",
            [ALPHA_LOW_MOOD, BETA_WORRY, ALPHA_WORRY, BETA_LOW_MOOD],
            4,
        ),
        ("/v1/indications?guideline=first-line", [ALPHA_LOW_MOOD], 1),
        ("/v1/indications?guideline=consider", [], 0),
        # Every filter holds for each row.
        ("/v1/indications?modality=alpha&population=adolescents", [ALPHA_WORRY], 1),
        ("/v1/indications?modality=alpha&min_evidence=moderate&condition=worry", [], 0),
        ("/v1/indications?category=approach&condition=worry", [ALPHA_WORRY], 1),
        ("/v1/indications?guideline=first-line&population=mixed", [], 0),
        # Paged.
        ("/v1/indications?limit=2", [ALPHA_LOW_MOOD, BETA_WORRY], 4),
        ("/v1/indications?limit=2&offset=2", [ALPHA_WORRY, BETA_LOW_MOOD], 4),
        ("/v1/indications?offset=4", [], 4),
    ],
)
def test_indication_list(
    client: TestClient, url: str, expected: list[tuple[str, str, str, str]], total: int
) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text
    body = response.json()
    assert rows(body) == expected
    assert body["total"] == total


def test_indication_list_links_pages(client: TestClient) -> None:
    response = client.get("/v1/indications?population=adults&limit=1")
    next_ = f"{ORIGIN}/v1/indications?population=adults&limit=1&offset=1"
    assert response.links["next"]["url"] == next_
    assert "prev" not in response.links


def test_indication_rows_are_the_modality_records_indications(client: TestClient) -> None:
    """Each row says what the modality's record says of the same indication, and links it."""
    body = client.get("/v1/indications").json()
    assert body["items"]
    for row in body["items"]:
        record = client.get(row["url"]).json()
        assert row["url"] == f"{ORIGIN}/v1/modalities/{row['modality']}"
        assert (row["modality_name"], row["category"]) == (record["name"], record["category"])
        stated = next(
            i
            for i in record["indications"]
            if (i["condition"], i["population"]) == (row["condition"], row["population"])
        )
        assert {k: row[k] for k in stated} == stated
    first = body["items"][0]
    assert first["condition_name"] == "Low mood disorder"
    assert [c["code"] for c in first["codes"]] == ["F99.1", "6Z99"]
    assert [g["recommendation"] for g in first["guidelines"]] == ["first-line"]
    assert len(first["effects"]) == 2


def test_compare_narrowed_to_a_population(client: TestClient) -> None:
    body = client.get("/v1/compare?modalities=alpha,beta&population=adults").json()
    assert body["population"] == "adults"
    assert body["evidence_matrix"]["rows"] == [
        {
            "condition": "low-mood",
            "condition_name": "Low mood disorder",
            "evidence": {"alpha": "strong", "beta": None},
        },
        {
            "condition": "worry",
            "condition_name": "Worry disorder",
            "evidence": {"alpha": None, "beta": "moderate"},
        },
    ]
    # Without a condition the columns keep the order asked for, with no indications listed.
    assert [(c["slug"], c["evidence"], c["indications"]) for c in body["modalities"]] == [
        ("alpha", None, []),
        ("beta", None, []),
    ]
    assert client.get("/v1/compare?modalities=alpha,beta").json()["population"] is None


def test_compare_with_condition_and_population(client: TestClient) -> None:
    # For worry, beta is the stronger (moderate, adults); for adolescents only alpha counts.
    body = client.get("/v1/compare?modalities=beta,alpha&condition=worry&population=adolescents")
    columns = body.json()["modalities"]
    assert [(c["slug"], c["evidence"]) for c in columns] == [("alpha", "limited"), ("beta", None)]
    assert [(i["condition"], i["population"]) for i in columns[0]["indications"]] == [
        ("worry", "adolescents")
    ]
    assert columns[1]["indications"] == []
    assert body.json()["evidence_matrix"] == {
        "columns": ["alpha", "beta"],
        "rows": [
            {
                "condition": "worry",
                "condition_name": "Worry disorder",
                "evidence": {"alpha": "limited", "beta": None},
            }
        ],
    }
    nobody = client.get("/v1/compare?modalities=alpha,beta&population=children").json()
    assert nobody["evidence_matrix"]["rows"] == []
