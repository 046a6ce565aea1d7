"""The app's exception handlers, and the middleware that turns any unhandled error into a
logged 500; each answers through the one error writer, ``app.http.problems``, which chooses
problem+json or FHIR's OperationOutcome by the path."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import AppError, InvalidParameter, ServiceUnavailable
from app.http.problems import RETRY_AFTER_SECONDS, http_error, problem_response, send_problem

log = logging.getLogger("app.errors")


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    headers = dict(exc.headers)
    if exc.status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return problem_response(request.url.path, exc, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
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
    return problem_response(request.url.path, InvalidParameter(detail, errors=errors))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    error = http_error(exc.status_code, detail)
    return problem_response(request.url.path, error, exc.headers)


async def _database_error(request: Request, exc: Exception) -> Response:
    # The database is away or too slow: a temporary condition, not a bug of ours.
    log.warning("database error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    unavailable = ServiceUnavailable("The database is not answering; try again shortly.")
    return problem_response(
        request.url.path, unavailable, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


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
            failed = AppError("The server could not answer this request.")
            await send_problem(send, scope["path"], failed)
