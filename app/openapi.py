"""The OpenAPI document, finished: every error documented as problem+json, and the one
parameter FastAPI cannot describe (a comma-separated list) described as what it is."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.problems import PROBLEM_JSON

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
        "suggestion": {"type": "string", "description": "For a 404: the nearest existing id."},
        "request_id": {"type": "string"},
    },
    "examples": [
        {
            "type": "https://therapy-kb.example/problems/not-found",
            "title": "Not Found",
            "status": 404,
            "detail": "no modality 'ipy'; did you mean 'ipt'?",
            "suggestion": "ipt",
        }
    ],
}

ERRORS = {
    "400": "Malformed request (for example bytes that are not UTF-8).",
    "404": "Not found; may suggest the nearest existing id.",
    "406": "None of the media types in Accept can be served.",
    "422": "A parameter is invalid; 'errors' names each one and why.",
    "429": "Over the rate limit; see Retry-After.",
    "500": "Unexpected error; the response carries X-Request-ID.",
    "503": "The database is unavailable or no release is loaded.",
}

# Parameters sent as one comma-separated value: OpenAPI's style=form, explode=false.
LIST_PARAMETERS: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/compare", "modalities"): {
        "type": "array",
        "items": {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 80},
        "minItems": 2,
        "maxItems": 6,
        "uniqueItems": True,
    },
}


# What the guard middleware refuses (app.middleware.CONTROL_RE), said in the schema so that
# clients (and the fuzzer) know a control character is not a valid value.
NO_CONTROLS = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$"


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
    components["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                given = responses.get(status, {})
                responses[status] = {
                    "description": given.get("description", description),
                    "content": problem,
                }
            for parameter in operation.get("parameters", []):
                schema = LIST_PARAMETERS.get((path, parameter["name"]))
                if schema is not None:
                    parameter.update({"schema": schema, "style": "form", "explode": False})
                    continue
                _forbid_controls(parameter.get("schema", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return doc


def _forbid_controls(schema: dict[str, Any]) -> None:
    """Add the no-control-characters pattern to every string schema without a pattern."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string" and "pattern" not in option and "enum" not in option:
            option["pattern"] = NO_CONTROLS
