"""Errors under ``/fhir`` as FHIR ``OperationOutcome`` resources.

The service writes every error as a problem (RFC 9457), wherever it arises: a route, a
dependency, FastAPI's own validation and 404s, the guards before routing, the admission queue,
an unhandled error. ``OperationOutcomeMiddleware`` sits outside all of them and, for paths
under ``/fhir``, sends each problem as the ``OperationOutcome`` it stands for: this is the one
place our error hierarchy meets FHIR's. Problems stay problems everywhere else.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.fhir.terminology import FHIR_JSON
from app.web.openapi import ErrorShape

PREFIX = "/fhir"
PROBLEM_JSON = b"application/problem+json"

# HTTP status of our problem → (FHIR issue type, status sent). FHIR answers a search or read
# it cannot process with 400, where we say 422 for an invalid parameter.
ISSUE_TYPES: dict[int, tuple[str, int]] = {
    400: ("invalid", 400),
    404: ("not-found", 404),
    405: ("not-supported", 405),
    406: ("not-supported", 406),
    414: ("too-long", 414),
    422: ("invalid", 400),
    429: ("throttled", 429),
    431: ("too-long", 431),
    503: ("transient", 503),
}


def operation_outcome(status: int, problem: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The status and OperationOutcome for a problem answered with ``status``."""
    code, sent = ISSUE_TYPES.get(status, ("exception" if status >= 500 else "processing", status))
    severity = "fatal" if status >= 500 and status != 503 else "error"
    title = str(problem.get("title") or "Error")
    # A bad-parameter problem lists each parameter and why: one issue each.
    errors = problem.get("errors") or [None]
    issues = []
    for error in errors:
        diagnostics = problem.get("detail")
        if isinstance(error, dict) and error.get("parameter"):
            diagnostics = f"{error['parameter']}: {error.get('reason', '')}"
        issue: dict[str, Any] = {"severity": severity, "code": code, "details": {"text": title}}
        if diagnostics:
            issue["diagnostics"] = str(diagnostics)
        issues.append(issue)
    return sent, {"resourceType": "OperationOutcome", "issue": issues}


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


def under_fhir(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


# How the OpenAPI document describes this face's errors: an invalid parameter is a 400, never
# a 422.
ERROR_SHAPE = ErrorShape(
    under_fhir, "OperationOutcome", OPERATION_OUTCOME_SCHEMA, FHIR_JSON, never=("422",)
)


class OperationOutcomeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not under_fhir(scope["path"]):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        problem_start: Message | None = None
        chunks: list[bytes] = []

        async def translate(message: Message) -> None:
            nonlocal problem_start
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(PROBLEM_JSON):
                    problem_start = message  # held until the body is known
                    return
            elif message["type"] == "http.response.body" and problem_start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._send_outcome(problem_start, b"".join(chunks), send, head)
                return
            await send(message)

        await self.app(scope, receive, translate)

    @staticmethod
    async def _send_outcome(start: Message, body: bytes, send: Send, head: bool) -> None:
        try:
            problem = json.loads(body) if body else {}  # empty for HEAD
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        status, outcome = operation_outcome(start["status"], problem)
        data = json.dumps(outcome, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [
            (k, v)
            for k, v in start.get("headers", [])
            if k.lower() not in (b"content-type", b"content-length")
        ]
        headers += [
            (b"content-type", FHIR_JSON.encode()),
            (b"content-length", str(len(data)).encode()),
        ]
        await send({**start, "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else data})
