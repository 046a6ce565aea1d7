"""Errors as ``application/problem+json`` (RFC 9457): the one writer, the app's exception
handlers, and the middleware that turns any unhandled error into a logged 500.

Every problem the service sends, from a route, a guard or the admission queue, is written by
``problem_json``; its ``type`` is ``PROBLEM_BASE`` plus the error's ``type_slug``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import AppError, InvalidParameter, ServiceUnavailable

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://therapy-kb.example/problems/"
# How long a client should wait before retrying a 503 (the database away, or too busy).
RETRY_AFTER_SECONDS = 2

log = logging.getLogger("app.errors")
Header = tuple[bytes, bytes]


def problem_json(error: AppError) -> bytes:
    """The body of the problem ``error`` stands for; names the request id when there is one."""
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
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def problem_response(error: AppError, headers: Mapping[str, str] | None = None) -> Response:
    return Response(problem_json(error), error.status, headers, PROBLEM_JSON)


async def send_problem(send: Send, error: AppError, headers: Sequence[Header] = ()) -> None:
    """Answer with ``error`` straight from an ASGI middleware, before any routing."""
    body = problem_json(error)
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
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


async def _app_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    headers = dict(exc.headers)
    if exc.status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return problem_response(exc, headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            # ("query", "limit") -> "limit": the parameter a client would fix.
            "parameter": ".".join(str(p) for p in err.get("loc", ())[1:]) or None,
            "in": err.get("loc", ("",))[0],
            "reason": err.get("msg", ""),
        }
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['parameter']}: {e['reason']}" for e in errors)
    return problem_response(InvalidParameter(detail, errors=errors))


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(http_error(exc.status_code, detail), exc.headers)


async def _database_error(request: Request, exc: Exception) -> Response:
    # The database is away or too slow: a temporary condition, not a bug of ours.
    log.warning("database error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    unavailable = ServiceUnavailable("The database is not answering; try again shortly.")
    return problem_response(unavailable, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(SQLAlchemyTimeoutError, _database_error)


class ServerErrorMiddleware:
    """Any error nothing else handled becomes a logged 500 problem that shows no trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("unhandled error", extra={"path": scope["path"]})
            if started:
                raise  # too late for a clean answer: let the server drop the connection
            await send_problem(send, AppError("The server could not answer this request."))
