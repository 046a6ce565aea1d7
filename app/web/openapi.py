"""The OpenAPI document, finished: each operation's errors documented as problem+json (or, under
``/fhir``, as FHIR's OperationOutcome), headers and field descriptions added where FastAPI
cannot say them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.errors import (
    AppError,
    BadRequest,
    HeadersTooLarge,
    InvalidParameter,
    NotAcceptable,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    UriTooLong,
)
from app.fhir.outcome import OPERATION_OUTCOME_SCHEMA
from app.http.negotiation import FORMAT_PARAMETER
from app.http.params import NO_CONTROLS_PATTERN
from app.http.problems import FHIR_JSON, PROBLEM_JSON, problem_json
from app.urls import Area, area, is_fhir, uses_database
from app.web.guards import MAX_HEADER_BYTES, MAX_TARGET_BYTES

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An error, as RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "URI naming the kind of problem."},
        "title": {"type": "string", "description": "Short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong, for this request."},
        "errors": {
            "type": "array",
            "description": "For bad parameters: each parameter and why it was refused.",
            "items": {
                "type": "object",
                "properties": {
                    "parameter": {"type": ["string", "null"]},
                    "in": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
        "suggestion": {
            "type": "string",
            "description": "For a 404 or an unknown parameter: the nearest existing name.",
        },
        "nearest": {
            "type": "array",
            "items": {"type": "string"},
            "description": "For a 404 on an ICD code that leads to no condition: the nearest"
            " codes that lead to one, nearest first.",
        },
        "available": {
            "type": "array",
            "items": {"type": "string"},
            "description": "For a 406: the media types this operation can send.",
        },
        "request_id": {"type": "string"},
    },
}


# What each error status means, wherever an operation documents it (``error_statuses`` says
# which statuses an operation can answer).
ERRORS = {
    "400": "Malformed request (bytes that are not UTF-8, control characters, or a query string"
    " where the operation takes no parameters).",
    "404": "Not found; may suggest the nearest existing id.",
    "406": "Accept allows none of the media types this operation sends; 'available' lists them.",
    "414": f"The path and query string are over {MAX_TARGET_BYTES} bytes.",
    "422": "A parameter is invalid; 'errors' names each one and why.",
    "429": "Over the rate limit; see Retry-After.",
    "431": f"The request headers are over {MAX_HEADER_BYTES} bytes.",
    "500": "Unexpected error; the problem names the request id (X-Request-ID).",
    "503": "The database is unavailable, too busy (see Retry-After), or no release is loaded.",
}
# Any request may meet these before its route: the guards (400, 414, 431; app.web.guards), the
# rate limit (429, when one is set) and the server-error layer (500).
ANY_REQUEST = frozenset({"400", "414", "429", "431", "500"})


def error_statuses(path: str, operation: dict[str, Any]) -> set[str]:
    """The error statuses the operation at ``path`` can answer, from where it is and what it
    takes: 503 where it needs the database (the admission queue, the release); 404 where a path
    parameter names something; 406 where the ``Accept`` rule applies (the API's operations,
    app.web.accept); 422 where it takes parameters (the strict query rule and their
    validation), except under /fhir, where an invalid parameter is a 400. An operation adds
    those its route declares itself (a query parameter that names something: 404)."""
    params = operation.get("parameters", [])
    statuses = set(ANY_REQUEST)
    if uses_database(path):
        statuses.add("503")
    if any(p.get("in") == "path" for p in params):
        statuses.add("404")
    if area(path) is Area.api:
        statuses.add("406")
    if params and not is_fhir(path):
        statuses.add("422")
    return statuses


# One example per status, written by the one problem writer, so the docs never show a 404 beside
# a 429 and an example cannot drift from what is sent.
PROBLEM_EXAMPLES: dict[str, AppError] = {
    "400": BadRequest("the query string holds control characters"),
    "404": NotFound("no modality 'ipy'; did you mean 'ipt'?", suggestion="ipt"),
    "406": NotAcceptable(
        "none of the media types in Accept can be served; available: application/json",
        available=["application/json"],
    ),
    "414": UriTooLong(f"the path and query string are over {MAX_TARGET_BYTES} bytes"),
    "422": InvalidParameter(
        "popluation: unknown parameter (did you mean 'population'?); this operation takes: …",
        errors=[{"parameter": "popluation", "in": "query", "reason": "unknown parameter …"}],
        suggestion="population",
    ),
    "429": TooManyRequests("over the rate limit; retry after 1 s"),
    "431": HeadersTooLarge(f"the request headers are over {MAX_HEADER_BYTES} bytes"),
    "500": AppError("unexpected error; the request id names it in the logs"),
    "503": ServiceUnavailable("the database is not answering"),
}


def problem_example(status: str) -> dict[str, Any]:
    # Written outside any request: the document is built once, during whichever request asks for
    # it first, and must not carry that request's id.
    token = correlation_id.set(None)
    try:
        example: dict[str, Any] = json.loads(problem_json(PROBLEM_EXAMPLES[status]))
    finally:
        correlation_id.reset(token)
    return example


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


# The headers every successful /v1 answer carries (app.release.middleware, app.web.request_log).
ANSWER_HEADERS = {
    "ETag": _header("Strong validator of this answer; send it back in If-None-Match."),
    "Cache-Control": _header("How long the answer may be kept (public, max-age=…)."),
    "X-KB-Release": _header("Content hash of the knowledge-base release the answer comes from."),
    "X-Request-ID": _header("Id of this request, as it appears in the logs."),
}
LINK_HEADER = {
    "Link": _header('RFC 8288 links to the next and previous pages (rel="next", rel="prev").')
}
RETRY_AFTER = {"Retry-After": _header("Seconds to wait before asking again.")}
NOT_MODIFIED = {
    "description": "If-None-Match named the current ETag: no body.",
    "headers": {k: ANSWER_HEADERS[k] for k in ("ETag", "Cache-Control", "X-KB-Release")},
}


@dataclass(frozen=True)
class ErrorShape:
    """The errors of a part of the API that does not speak problem+json."""

    applies: Callable[[str], bool]  # to an operation's path
    name: str  # of its schema among the document's components
    schema: dict[str, Any]
    media_type: str


# Under /fhir, every error is an OperationOutcome (app.http.problems writes it).
FHIR_ERRORS = ErrorShape(is_fhir, "OperationOutcome", OPERATION_OUTCOME_SCHEMA, FHIR_JSON)


# Descriptions for fields whose meaning is the same wherever they appear; a field described in
# its schema keeps its own. tests/test_openapi.py fails when a field has neither.
FIELD_DESCRIPTIONS = {
    "abbreviation": "The usual abbreviation, e.g. IPT.",
    "aliases": "Other names in use (true synonyms only).",
    "api_version": "Version of this API (the path prefix).",
    "authors": "Authors in order: persons (family, given) or organisations (literal).",
    "category": "'approach' (a therapy) or 'delivery' (a way of delivering therapy).",
    "codes": "ICD-10-CM and ICD-11 codes of the condition.",
    "components": "What the modality is made of: problem areas, skill modules, modes, phases.",
    "condition": "Slug of the condition.",
    "condition_name": "Name of the condition.",
    "cons": "Drawbacks, each cited; includes who the modality does not suit.",
    "definition": "What the level means.",
    "delivery": "How the therapy is delivered.",
    "description": "A fuller account, in prose.",
    "doi": "Digital Object Identifier, when verified.",
    "evidence": "Evidence level on the ordered scale strong > moderate > limited > insufficient.",
    "evidence_matrix": "One row per condition, one column per modality: the evidence level.",
    "formats": "Usual formats, with numeric ranges.",
    "goals": "What the modality aims to achieve.",
    "group_size": "Members per group (min-max), for group formats.",
    "isbn": "ISBN, for books, when verified.",
    "issue": "Journal issue, when verified.",
    "items": "This page's items.",
    "level": "The evidence level.",
    "limit": "Page size asked for.",
    "modality_name": "Name of the modality.",
    "name": "Display name.",
    "offset": "Items skipped before this page.",
    "pages": "Page range, when verified.",
    "pmcid": "PubMed Central id, when verified.",
    "pmid": "PubMed id, when verified.",
    "population": "Population the evidence concerns.",
    "pros": "Advantages, each cited.",
    "publisher": "Publisher, for books and reports.",
    "release_date": "Date of the release.",
    "request_id": "Id of the request, as in the X-Request-ID header.",
    "session_minutes": "Length of one session in minutes (min-max).",
    "sessions": "Number of sessions (min-max).",
    "slug": "Stable public id.",
    "summary": "One or two sentences.",
    "title": "Title of the work.",
    "type": "Kind of item.",
    "url": "Where this item is in the API.",
    "volume": "Journal volume, when verified.",
    "weeks": "Duration in weeks (min-max).",
}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = {**PROBLEM_SCHEMA, "examples": [problem_example("404")]}
    components[FHIR_ERRORS.name] = FHIR_ERRORS.schema
    for path, item in doc.get("paths", {}).items():
        shape = FHIR_ERRORS if FHIR_ERRORS.applies(path) else None
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            # What the route declares itself (FastAPI adds a 422 of its own: the rule says
            # where one can happen).
            declared = {s for s in responses if s.isdigit() and int(s) >= 400 and s != "422"}
            statuses = error_statuses(path, operation) | declared
            for status in [s for s in responses if s.isdigit() and int(s) >= 400]:
                if status not in statuses:
                    responses.pop(status)  # FastAPI's own 422 where no parameter can fail
            if uses_database(path):
                responses.setdefault("304", NOT_MODIFIED)
            for status in sorted(statuses):
                given = responses.get(status, {})
                responses[status] = {
                    "description": given.get("description", ERRORS.get(status, "Error.")),
                    "content": _problem(status) if shape is None else _shaped(shape),
                }
                if status in ("429", "503"):
                    responses[status]["headers"] = RETRY_AFTER
            if area(path) is Area.api and "200" in responses:
                ok = responses["200"].setdefault("headers", {})
                ok.update(ANSWER_HEADERS)
                if _is_paged(operation):
                    ok.update(LINK_HEADER)
            _one_representation(doc["paths"], path, operation)
            for parameter in operation.get("parameters", []):
                _forbid_controls(parameter.get("schema", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    for name, schema in components.items():
        for field, prop in schema.get("properties", {}).items():
            if "description" not in prop and field in FIELD_DESCRIPTIONS:
                prop["description"] = FIELD_DESCRIPTIONS[field]
        if name.startswith("Page_") and "examples" not in schema:
            schema["examples"] = [{"items": [], "total": 0, "limit": 20, "offset": 0}]
    return doc


def _problem(status: str) -> dict[str, Any]:
    return {
        PROBLEM_JSON: {
            "schema": {"$ref": "#/components/schemas/Problem"},
            "example": problem_example(status),
        }
    }


def _shaped(shape: ErrorShape) -> dict[str, Any]:
    return {shape.media_type: {"schema": {"$ref": f"#/components/schemas/{shape.name}"}}}


def _is_paged(operation: dict[str, Any]) -> bool:
    """Paged by limit and offset, in whatever representation: it sends Link headers."""
    names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    return {"limit", "offset"} <= names


def _forbid_controls(schema: dict[str, Any]) -> None:
    """Add the no-control-characters pattern to every string schema without a pattern."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string" and "pattern" not in option and "enum" not in option:
            option["pattern"] = NO_CONTROLS_PATTERN


# What chooses among representations: the format, and the reference list's style.
CHOOSERS = {FORMAT_PARAMETER, "style"}


def _one_representation(paths: dict[str, Any], path: str, operation: dict[str, Any]) -> None:
    """An operation that chooses among several representations (by ``format`` or ``Accept``),
    each of which is also an operation of its own at the path plus a suffix, is documented with
    its first (JSON) only, and without the parameters that choose (``CHOOSERS``): a generated
    client reads one media type per answer and parses every answer as that one, so a ``format``
    it could send would hand it bytes it cannot read. ``format``, ``style`` and ``Accept`` still
    work for people (README); the other representations are documented at their own paths."""
    ok = operation.get("responses", {}).get("200", {})
    content = ok.get("content", {})
    if len(content) < 2 or not any(other.startswith(path + ".") for other in paths):
        return
    first = next(iter(content))
    ok["content"] = {first: content[first]}
    operation["parameters"] = [
        p for p in operation.get("parameters", []) if p["name"] not in CHOOSERS
    ]
