"""One handler per error family, all writing ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://therapy-kb.example/problems/"

log = logging.getLogger("app.errors")


def problem_response(
    status: int,
    title: str,
    detail: str,
    type_slug: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + type_slug,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(exc.status, exc.title, exc.detail, exc.type_slug, **exc.extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
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
    return problem_response(422, "Invalid parameter", detail, "invalid-parameter", errors=errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    response = problem_response(status, phrase, detail, phrase.lower().replace(" ", "-"))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # The database is away or too slow: a temporary condition, not a bug of ours.
    log.warning("database error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(
        503,
        "Service Unavailable",
        "The database is not answering; try again shortly.",
        "unavailable",
        headers={"Retry-After": "2"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(SQLAlchemyTimeoutError, _database_error)
