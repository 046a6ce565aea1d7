"""The OpenAPI document describes everything: fails when a parameter, a field or an operation
is undocumented, or a response model has no example (as datasette fails on undocumented
settings)."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import pytest
from asgi_correlation_id import correlation_id

from app.config import Settings
from app.main import create_app

DOC: dict[str, Any] = create_app(Settings()).openapi()
OPERATIONS = [
    (path, method, op) for path, item in DOC["paths"].items() for method, op in item.items()
]
SCHEMAS = DOC["components"]["schemas"]


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
    ],
)
def test_enums_are_listed(name: str, values: list[str]) -> None:
    params = {p["name"]: p for _, _, op in OPERATIONS for p in op.get("parameters", [])}
    assert set(values) <= set(enum_of(params[name]["schema"]))


# What any request may be answered with before it reaches its route (app/web/).
EVERYWHERE = {"400", "404", "406", "414", "422", "429", "431", "500", "503"}


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[p for p, _, _ in OPERATIONS])
def test_every_status_an_operation_can_answer_is_documented(
    path: str, method: str, op: dict[str, Any]
) -> None:
    # Under /fhir every error is an OperationOutcome, and an invalid parameter a 400, not a 422.
    fhir = path.startswith("/fhir/")
    statuses = EVERYWHERE - {"422"} if fhir else EVERYWHERE
    missing = statuses - set(op["responses"])
    assert not missing, f"{method} {path} does not document {sorted(missing)}"
    media = "application/fhir+json" if fhir else "application/problem+json"
    for status in statuses:
        content = op["responses"][status]["content"]
        assert list(content) == [media], (path, status)


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
    schema = op["responses"]["200"].get("content", {}).get("application/json", {}).get("schema")
    paged = schema is not None and schema.get("$ref", "").split("/")[-1].startswith("Page_")
    assert ("Link" in headers) == paged, path
    for status in ("429", "503"):
        assert "Retry-After" in op["responses"][status]["headers"], (path, status)
