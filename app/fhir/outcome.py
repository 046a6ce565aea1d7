"""How the OpenAPI document describes errors under ``/fhir``: FHIR ``OperationOutcome``
resources. They are written by the one error writer, ``app.http.problems``, which chooses that
shape for every error answered under ``/fhir`` (the URL map, ``app.urls``, says which paths
those are): no layer rewrites an error body on its way out."""

from __future__ import annotations

from typing import Any

# How the OpenAPI document describes an error under /fhir.
OPERATION_OUTCOME_SCHEMA: dict[str, Any] = {
    "title": "OperationOutcome",
    "type": "object",
    "description": "An error under /fhir, as a FHIR R5 OperationOutcome"
    " (https://hl7.org/fhir/R5/operationoutcome.html).",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {
            "type": "string",
            "enum": ["OperationOutcome"],
            "description": "Always OperationOutcome.",
        },
        "issue": {
            "type": "array",
            "description": "What went wrong: one issue per refused parameter.",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string", "enum": ["fatal", "error"]},
                    "code": {"type": "string", "description": "FHIR issue type."},
                    "details": {"type": "object", "description": "The kind of problem."},
                    "diagnostics": {"type": "string", "description": "What to fix."},
                },
            },
        },
    },
    "examples": [
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "invalid",
                    "details": {"text": "Invalid parameter"},
                    "diagnostics": "foo: unknown parameter; this operation takes: _count, _id",
                }
            ],
        }
    ],
}
