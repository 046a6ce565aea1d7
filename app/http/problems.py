"""The one error writer. Every error the service sends, from a route, a dependency, FastAPI's own
validation, a guard, the admission queue or an unhandled exception, is written here, in the
shape of the part of the service it is answered from (``app.urls.area``):

- ``application/problem+json`` (RFC 9457) everywhere but under ``/fhir``: its ``type`` is
  ``PROBLEM_BASE`` plus the error's ``type_slug``, and it names the request id;
- under ``/fhir``, the FHIR ``OperationOutcome`` the problem stands for (an invalid parameter
  as 400, as FHIR servers answer a search they cannot process).

So no layer rewrites an error body on its way out: it is written once, in its final shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi.responses import Response
from starlette.types import Send

from app.errors import AppError
from app.urls import is_fhir

PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"
PROBLEM_BASE = "https://therapy-kb.example/problems/"
# How long a client should wait before retrying a 503 (the database away, or too busy).
RETRY_AFTER_SECONDS = 2

Header = tuple[bytes, bytes]

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


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def problem(error: AppError) -> dict[str, Any]:
    """The problem ``error`` stands for; names the request id when there is one."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.type_slug,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        **error.extra,
    }
    request_id = correlation_id.get()
    if request_id is not None and "request_id" not in body:
        body["request_id"] = request_id
    return body


def problem_json(error: AppError) -> bytes:
    """The body of the problem ``error`` stands for."""
    return _dumps(problem(error))


def operation_outcome(error: AppError) -> tuple[int, dict[str, Any]]:
    """The status and FHIR OperationOutcome for ``error``: one issue per refused parameter."""
    status = error.status
    code, sent = ISSUE_TYPES.get(status, ("exception" if status >= 500 else "processing", status))
    severity = "fatal" if status >= 500 and status != 503 else "error"
    errors = error.extra.get("errors") or [None]
    issues = []
    for each in errors:
        diagnostics = error.detail
        if isinstance(each, dict) and each.get("parameter"):
            diagnostics = f"{each['parameter']}: {each.get('reason', '')}"
        issue: dict[str, Any] = {
            "severity": severity,
            "code": code,
            "details": {"text": error.title},
        }
        if diagnostics:
            issue["diagnostics"] = str(diagnostics)
        issues.append(issue)
    return sent, {"resourceType": "OperationOutcome", "issue": issues}


def written(path: str, error: AppError) -> tuple[int, str, bytes]:
    """Status, media type and body of ``error`` answered at ``path``."""
    if is_fhir(path):
        status, outcome = operation_outcome(error)
        return status, FHIR_JSON, _dumps(outcome)
    return error.status, PROBLEM_JSON, problem_json(error)


def problem_response(
    path: str, error: AppError, headers: Mapping[str, str] | None = None
) -> Response:
    """``error`` as the answer of a route or exception handler at ``path``."""
    status, media_type, body = written(path, error)
    return Response(body, status, headers, media_type)


async def send_problem(
    send: Send, path: str, error: AppError, headers: Sequence[Header] = ()
) -> None:
    """Answer with ``error`` straight from an ASGI middleware, before any routing."""
    status, media_type, body = written(path, error)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def http_error(status: int, detail: str | None = None) -> AppError:
    """An ``AppError`` for a bare HTTP status (FastAPI's own 404s and 405s)."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    error = AppError(detail or phrase)
    error.status, error.title = status, phrase
    error.type_slug = phrase.lower().replace(" ", "-")
    return error
