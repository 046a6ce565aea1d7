"""Logging: one line per request, and every line of the app's loggers in JSON (python-json-logger)
or, for development, as text; each names the request it belongs to (asgi-correlation-id sets
the id, ``CorrelationIdFilter`` puts it on every record)."""

from __future__ import annotations

import logging
import time

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("app.access")

# The standard attributes of a log record; anything else on a record came from ``extra``.
RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
RENAMED = {"correlation_id": "request_id"}


class TextFormatter(logging.Formatter):
    """For development: the message, then the ``extra`` fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{RENAMED.get(k, k)}={v}"
            for k, v in vars(record).items()
            if k not in RECORD_ATTRIBUTES and v
        )
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        datefmt="%Y-%m-%dT%H:%M:%S",
        rename_fields={
            "asctime": "time",
            "levelname": "level",
            "name": "logger",
            **RENAMED,
            "exc_info": "error",
        },
    )


def configure_logging(fmt: str, level: str) -> None:
    """Send the app's loggers to stderr in ``fmt`` ("json" or "text"); idempotent."""
    handler = logging.StreamHandler()
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    handler.addFilter(CorrelationIdFilter())
    # asgi_correlation_id warns when it replaces a request id that failed validation.
    for name in ("app", "asgi_correlation_id"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


class AccessLogMiddleware:
    """One line per request: method, path, status, duration, client (and the request id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
