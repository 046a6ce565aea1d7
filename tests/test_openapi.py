"""The OpenAPI document describes everything: fails when a parameter, a field or an operation
is undocumented, or a response model has no example (as datasette fails on undocumented
settings)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from asgi_correlation_id import correlation_id
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import app.routes as routes_package
from app.config import Settings
from app.http.negotiation import GENERIC
from app.http.strict_query import declared as declared_query
from app.main import create_app

DOC: dict[str, Any] = create_app(Settings()).openapi()
OPERATIONS = [
    (path, method, op) for path, item in DOC["paths"].items() for method, op in item.items()
]
SCHEMAS = DOC["components"]["schemas"]
_NONE = APIRouter()


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[p for p, _, _ in OPERATIONS])
def test_operation_is_documented(path: str, method: str, op: dict[str, Any]) -> None:
    assert op.get("summary") or op.get("description"), f"{method} {path} has no summary"
    for parameter in op.get("parameters", []):
        assert parameter.get("description"), f"{path}: parameter {parameter['name']}"
    for status, response in op["responses"].items():
        for media, content in response.get("content", {}).items():
            ref = content.get("schema", {}).get("$ref")
            if ref:
                schema = SCHEMAS[ref.rsplit("/", 1)[-1]]
                assert schema.get("examples"), f"{path} {status} {media}: no example"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_field_is_described(name: str) -> None:
    undescribed = [
        f for f, p in SCHEMAS[name].get("properties", {}).items() if "description" not in p
    ]
    assert not undescribed, f"{name}: {undescribed}"


def enum_of(schema: dict[str, Any]) -> list[str]:
    for option in schema.get("anyOf", [schema]):
        if "$ref" in option:
            option = SCHEMAS[option["$ref"].rsplit("/", 1)[-1]]
        if "enum" in option:
            return list(option["enum"])
    return []


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("category", ["approach", "delivery"]),
        ("min_evidence", ["strong", "moderate", "limited", "insufficient"]),
        ("delivery", ["individual", "group", "online-synchronous", "online-guided"]),
        ("sort", ["name", "-name", "evidence"]),
        (
            "population",
            ["adults", "adolescents", "children", "older-adults", "perinatal", "mixed"],
        ),
    ],
)
def test_enums_are_listed(name: str, values: list[str]) -> None:
    params = {p["name"]: p for _, _, op in OPERATIONS for p in op.get("parameters", [])}
    assert set(values) <= set(enum_of(params[name]["schema"]))


def test_population_is_one_parameter_wherever_it_is_taken() -> None:
    """One parameter over the indications; another, as one, over the trial rows (a row's own
    population, not an indication's)."""
    taking = {
        path: next(p for p in op.get("parameters", []) if p["name"] == "population")
        for path, method, op in OPERATIONS
        if any(p["name"] == "population" for p in op.get("parameters", []))
    }
    trials = {path for path, _, op in OPERATIONS if op.get("tags") == ["trials"]}
    assert {"/v1/modalities", "/v1/conditions", "/v1/compare", "/v1/indications"} <= set(taking)
    assert {"/v1/trials", "/v1/trials.csv", "/v1/pooled"} <= set(taking)
    indications = {repr(p) for path, p in taking.items() if path not in trials}
    rows = {repr(p) for path, p in taking.items() if path in trials}
    assert len(indications) == 1, "described differently somewhere"
    assert len(rows) == 1, "described differently somewhere"


def test_indication_list_operation() -> None:
    op = DOC["paths"]["/v1/indications"]["get"]
    assert op["operationId"] == "listIndications"
    assert op["tags"] == ["indications"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert schema.endswith("/Page_IndicationRow_")
    assert {p["name"] for p in op["parameters"]} == {
        "modality",
        "condition",
        "population",
        "variant",
        "min_evidence",
        "guideline",
        "category",
        "limit",
        "offset",
    }
    assert SCHEMAS["IndicationRow"]["examples"]
    one = DOC["paths"]["/v1/indications/{id}"]["get"]
    assert one["operationId"] == "getIndication"
    assert one["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/IndicationRow"
    )


def test_condition_code_redirect_is_declared() -> None:
    redirect = DOC["paths"]["/v1/conditions/{slug}"]["get"]["responses"]["308"]
    assert "Location" in redirect["headers"]
    assert redirect["description"]


# What any request may meet before its route: the guards, the rate limit, the server errors.
ANY_REQUEST = {"400", "414", "429", "431", "500"}
# Every route of the API and FHIR, by its path (each decorator names its whole path).
ROUTES = {
    route.path: route
    for info in pkgutil.iter_modules(routes_package.__path__)
    for route in getattr(importlib.import_module(f"app.routes.{info.name}"), "router", _NONE).routes
    if isinstance(route, APIRoute)
}


def expected_errors(path: str, op: dict[str, Any]) -> set[str]:
    """The error statuses an operation can answer, by the rule, from its route: the path
    parameters it takes (404), its query parameters (422, or 400 under /fhir), the media types
    it sends (406 from the API's Accept rule), whether it reads the database (503), and what
    its route declares itself."""
    params = op.get("parameters", [])
    # An operation that chooses its representation by format= is documented without it.
    takes_query = bool(params) or bool(declared_query(ROUTES[path]).names)
    fhir = path.startswith("/fhir/")
    expected = set(ANY_REQUEST)
    if path != "/healthz":
        expected.add("503")
    if any(p["in"] == "path" for p in params):
        expected.add("404")
    if path.startswith("/v1/"):
        expected.add("406")
    if takes_query and not fhir:
        expected.add("422")
    declared = {str(status) for status in ROUTES[path].responses if int(status) >= 400}
    return expected | declared


def documented_errors(op: dict[str, Any]) -> set[str]:
    return {status for status in op["responses"] if int(status) >= 400}


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[p for p, _, _ in OPERATIONS])
def test_each_operation_documents_the_errors_it_can_answer(
    path: str, method: str, op: dict[str, Any]
) -> None:
    assert documented_errors(op) == expected_errors(path, op), f"{method} {path}"
    # Under /fhir every error is an OperationOutcome, and an invalid parameter a 400.
    media = "application/fhir+json" if path.startswith("/fhir/") else "application/problem+json"
    for status in documented_errors(op):
        assert list(op["responses"][status]["content"]) == [media], (path, status)


@pytest.mark.parametrize(
    ("path", "errors"),
    [
        ("/healthz", {"400", "414", "429", "431", "500"}),
        ("/readyz", {"400", "414", "429", "431", "500", "503"}),
        ("/v1/meta", {"400", "406", "414", "429", "431", "500", "503"}),
        ("/v1/export.zip", {"400", "406", "414", "429", "431", "500", "503"}),
        ("/v1/modalities/{slug}", {"400", "404", "406", "414", "422", "429", "431", "500", "503"}),
        ("/fhir/Citation/{id}", {"400", "404", "414", "429", "431", "500", "503"}),
    ],
)
def test_the_rule_in_examples(path: str, errors: set[str]) -> None:
    assert documented_errors(DOC["paths"][path]["get"]) == errors


def test_operation_ids_are_chosen_names() -> None:
    """Generated SDKs name their functions after these: camelCase verbs, each used once, never
    FastAPI's path-derived default (list__v1_modalities_get)."""
    ids = [op["operationId"] for _, _, op in OPERATIONS]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", operation_id), operation_id


def test_info_version_is_the_package_version() -> None:
    assert DOC["info"]["version"] == version("therapy-kb")


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[p for p, _, _ in OPERATIONS])
def test_problem_examples_match_their_status(path: str, method: str, op: dict[str, Any]) -> None:
    for status, response in op["responses"].items():
        example = response.get("content", {}).get("application/problem+json", {}).get("example")
        if example is not None:
            assert example["status"] == int(status), (path, status)


def answers_a_page(path: str) -> bool:
    """Whether the operation's JSON is a page, or it is a representation of one at its own path
    (the path of one whose JSON is a page, plus a suffix such as .bib)."""
    if path in WHOLE_SETS:
        return False
    for base, item in DOC["paths"].items():
        if path == base or (path.startswith(base) and path[len(base)] == "."):
            content = item["get"]["responses"]["200"].get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            if schema.get("$ref", "").split("/")[-1].startswith("Page_"):
                return True
    return False


def test_the_document_is_the_same_whichever_request_builds_it() -> None:
    """The problem examples are written by the one problem writer, which names the current
    request's id: built during a request, the document must still not carry it."""
    token = correlation_id.set("0123456789abcdef0123456789abcdef")
    try:
        during_a_request = create_app(Settings()).openapi()
    finally:
        correlation_id.reset(token)
    assert during_a_request == DOC
    assert "request_id" not in during_a_request["components"]["schemas"]["Problem"]["examples"][0]


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[p for p, _, _ in OPERATIONS])
def test_answer_headers_are_declared(path: str, method: str, op: dict[str, Any]) -> None:
    if not path.startswith("/v1/"):
        return  # FHIR resources name their release in meta; the probes read no release
    headers = op["responses"]["200"]["headers"]
    assert {"ETag", "Cache-Control", "X-KB-Release"} <= set(headers), path
    assert set(op["responses"]["304"]["headers"]) == {"ETag", "Cache-Control", "X-KB-Release"}
    assert ("Link" in headers) == answers_a_page(path), path
    for status in ("429", "503"):
        assert "Retry-After" in op["responses"][status]["headers"], (path, status)


# Every representation of an operation with several also has an operation of its own, named
# after the operation and the representation (the path's suffix), with that one media type.
OWN_OPERATIONS = {
    "/v1/citations.csl.json": "listCitationsCslJson",
    "/v1/citations.bib": "listCitationsBibtex",
    "/v1/citations.ris": "listCitationsRis",
    "/v1/citations.txt": "listCitationsText",
    "/v1/citations/{key}.csl.json": "getCitationCslJson",
    "/v1/citations/{key}.bib": "getCitationBibtex",
    "/v1/citations/{key}.ris": "getCitationRis",
    "/v1/citations/{key}.txt": "getCitationText",
    "/v1/modalities/{slug}/citations.csl.json": "listModalityCitationsCslJson",
    "/v1/modalities/{slug}/citations.bib": "listModalityCitationsBibtex",
    "/v1/modalities/{slug}/citations.ris": "listModalityCitationsRis",
    "/v1/modalities/{slug}/citations.txt": "listModalityCitationsText",
    "/v1/export.json": "exportKnowledgeBaseJson",
    "/v1/export.ndjson": "exportKnowledgeBaseNdjson",
    "/v1/export.zip": "exportKnowledgeBaseZip",
    "/v1/releases/{version}/export.json": "exportReleaseJson",
    "/v1/releases/{version}/export.ndjson": "exportReleaseNdjson",
    "/v1/releases/{version}/export.zip": "exportReleaseZip",
}
STRING = {"type": "string"}
# suffix: (the one media type, its schema)
SUFFIXES: dict[str, tuple[str, dict[str, Any]]] = {
    ".csl.json": (
        "application/vnd.citationstyles.csl+json",
        {"type": "array", "items": {"type": "object"}},
    ),
    ".bib": ("application/x-bibtex", STRING),
    ".ris": ("application/x-research-info-systems", STRING),
    ".txt": ("text/x-bibliography", STRING),
    ".json": ("application/json", {"type": "object"}),
    ".ndjson": ("application/x-ndjson", STRING),
    ".zip": ("application/zip", {"type": "string", "format": "binary"}),
}


# The whole filtered set of trial rows, at paths of their own (not a page, and not chosen by
# format= on /v1/trials, whose `format` is the delivery-format filter).
WHOLE_SETS = {
    "/v1/trials.csv": ("listTrialsCsv", "text/csv"),
    "/v1/trials.ndjson": ("listTrialsNdjson", "application/x-ndjson"),
}


def test_the_trial_sets_are_operations_of_their_own() -> None:
    page = {p["name"] for p in DOC["paths"]["/v1/trials"]["get"]["parameters"]}
    for path, (operation_id, media_type) in WHOLE_SETS.items():
        op = DOC["paths"][path]["get"]
        assert op["operationId"] == operation_id
        assert list(op["responses"]["200"]["content"])[0] == media_type
        assert {p["name"] for p in op["parameters"]} == page - {"limit", "offset"}


# The tables of the export, each at a path of its own.
TABLE_PATHS = {
    "/v1/export/{table}.csv": ("exportTableCsv", ["text/csv"]),
    "/v1/export/{table}.ndjson": ("exportTableNdjson", ["application/x-ndjson", "text/plain"]),
    "/v1/releases/{version}/export/{table}.csv": ("exportReleaseTableCsv", ["text/csv"]),
    "/v1/releases/{version}/export/{table}.ndjson": (
        "exportReleaseTableNdjson",
        ["application/x-ndjson", "text/plain"],
    ),
}


def test_each_table_of_the_export_is_an_operation() -> None:
    for path, (operation_id, media_types) in TABLE_PATHS.items():
        op = DOC["paths"][path]["get"]
        assert op["operationId"] == operation_id
        assert list(op["responses"]["200"]["content"]) == media_types
        path_names = [name for name in ("version", "table") if f"{{{name}}}" in path]
        assert [p["name"] for p in op["parameters"]] == path_names


def test_generated_clients_read_every_answer() -> None:
    """openapi-python-client, left to its defaults, reads JSON (and +json), text/* and
    application/octet-stream only: every 200 offers one of them."""
    for path, method, op in OPERATIONS:
        types = list(op["responses"]["200"]["content"])
        readable = [
            t
            for t in types
            if t == "application/octet-stream" or t.startswith("text/") or "json" in t
        ]
        assert readable, f"{method} {path}: {types}"
        assert not ("application/x-ndjson" in types and readable == ["application/json"])


def test_each_representation_is_an_operation_of_its_own() -> None:
    ids = {path: op["operationId"] for path, method, op in OPERATIONS if method == "get"}
    dotted = {path for path in ids if "." in path.rsplit("/", 1)[-1]}
    assert dotted - set(WHOLE_SETS) - set(TABLE_PATHS) == set(OWN_OPERATIONS)
    for path, operation_id in OWN_OPERATIONS.items():
        assert ids[path] == operation_id, path
        suffix = next(s for s in SUFFIXES if path.endswith(s) and not path.endswith(".csl" + s))
        base = path.removesuffix(suffix)
        negotiating = DOC["paths"][base]["get"]
        assert operation_id.startswith(negotiating["operationId"]), path
        media_type, schema = SUFFIXES[suffix]
        ok = DOC["paths"][path]["get"]["responses"]["200"]
        # Its own media type, then the generic one a generated client reads it as, if any.
        assert list(ok["content"])[0] == media_type, path
        assert list(ok["content"])[1:] == ([GENERIC[media_type]] if media_type in GENERIC else [])
        assert ok["content"][media_type]["schema"] == schema, path
        # The negotiating operation is documented as JSON only, without format and style.
        assert list(negotiating["responses"]["200"]["content"]) == ["application/json"]
        # It takes the same parameters, but format (and style, but for the reference list).
        own = {p["name"] for p in DOC["paths"][path]["get"].get("parameters", [])}
        theirs = {p["name"] for p in negotiating.get("parameters", [])}
        assert not theirs & {"format", "style"}, base
        assert own == (theirs | {"style"} if suffix == ".txt" else theirs), path


def test_only_the_reference_list_takes_a_style() -> None:
    takes = {
        p for p, _, op in OPERATIONS if "style" in {x["name"] for x in op.get("parameters", [])}
    }
    assert all(p.endswith(".txt") or "." not in p.rsplit("/", 1)[-1] for p in takes)


# -- What the app answers to crafted bad requests is documented ----------------------------------

# A valid value for every path parameter and required query parameter, from the fixture seed.
GOOD = {
    "slug": "alpha",
    "key": "alpha2001",
    "version": "0.0.1",
    "old": "0.0.1",
    "new": "0.0.1",
    "id": "alpha",
    "modalities": "alpha,beta",
    "q": "fixture",
    "table": "indications",
}


def bad_requests(path: str, op: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """(url, headers) of requests each wrong in one way: every path parameter naming nothing,
    an unknown query parameter, an impossible Accept, a control character, a huge target, and
    (for each query parameter with constraints) a value that breaks them."""
    params = op.get("parameters", [])
    path_names = [p["name"] for p in params if p["in"] == "path"]
    required = {p["name"]: GOOD[p["name"]] for p in params if p["in"] == "query" and p["required"]}

    def url(values: dict[str, str], query: dict[str, str]) -> str:
        found = path
        for name in path_names:
            found = found.replace(f"{{{name}}}", values.get(name, GOOD[name]))
        pairs = "&".join(f"{k}={v}" for k, v in {**required, **query}.items())
        return found + (f"?{pairs}" if pairs else "")

    crafted = [(url({name: "zz-nothing"}, {}), {}) for name in path_names]
    crafted += [
        (url({}, {"zz_unknown": "1"}), {}),
        (url({}, {}), {"Accept": "application/x-unknown"}),
        (url({}, {}) + ("&" if "?" in url({}, {}) else "?") + "x=%01", {}),
        (url({}, {"pad": "x" * 3000}), {}),
    ]
    for p in params:
        if p["in"] == "query" and p["schema"].get("maximum") is not None:
            crafted.append((url({}, {p["name"]: str(p["schema"]["maximum"] + 1)}), {}))
    return crafted


@pytest.fixture(scope="module")
def client(fixture_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=fixture_db_url))) as client:
        yield client


def test_what_bad_requests_get_is_documented(client: TestClient) -> None:
    undocumented = []
    for path, method, op in OPERATIONS:
        for url, headers in bad_requests(path, op):
            status = client.get(url, headers=headers).status_code
            assert status < 500, (url, status)
            if status >= 400 and str(status) not in op["responses"]:
                undocumented.append(f"{method} {path}: {url} {headers} -> {status}")
    assert undocumented == []


def test_every_operation_is_found_by_its_path() -> None:
    """A reader finds each operation by grepping for its path: it is written out, whole and
    once, in app/routes (a decorator's path, or a representation's in its route module)."""
    sources = "".join(p.read_text() for p in sorted(Path(routes_package.__path__[0]).glob("*.py")))
    for path in DOC["paths"]:
        assert sources.count(f'"{path}"') == 1, path
