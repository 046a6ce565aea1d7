"""The outer guard of every request, as one pure-ASGI middleware (one wrapper, not five):

- a request id (``X-Request-ID``, taken from the request when it is sane) on every response;
- only GET, HEAD and OPTIONS; absurdly long URLs or headers are refused before any routing;
- an optional per-client rate limit (counted by the ``limits`` library);
- security headers on every response;
- one log line per request, and any unhandled error turned into a logged 500 problem that
  names the request id and shows no trace.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from typing import Any
from urllib.parse import unquote_to_bytes

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PROBLEM_BASE, PROBLEM_JSON

access_log = logging.getLogger("app.access")
error_log = logging.getLogger("app.errors")

ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_TARGET_BYTES = 2048  # path plus query string
MAX_HEADER_BYTES = 8192
REQUEST_ID_RE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc run their own inline bootstrap script and styles, all from this host.
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc", "/static-offline-docs")


def _problem(
    status: int, title: str, detail: str, request_id: bytes
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + title.lower().replace(" ", "-"),
            "title": title,
            "status": status,
            "detail": detail,
            "request_id": request_id.decode(),
        }
    ).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    return body, headers


class GuardMiddleware:
    def __init__(self, app: ASGIApp, rate_limit: str | None = None) -> None:
        self.app = app
        self.limit: RateLimitItem | None = parse(rate_limit) if rate_limit else None
        self.limiter = MovingWindowRateLimiter(MemoryStorage()) if self.limit else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = given if given and REQUEST_ID_RE.match(given) else uuid.uuid4().hex.encode()
        scope.setdefault("state", {})["request_id"] = request_id.decode()
        path: str = scope["path"]
        security = [
            (b"x-request-id", request_id),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", DOCS_CSP if path.startswith(DOCS_PATHS) else API_CSP),
        ]
        status_seen = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status_seen
            if message["type"] == "http.response.start":
                status_seen = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *security]}
            await send(message)

        async def refuse(
            status: int, title: str, detail: str, extra: list[tuple[bytes, bytes]]
        ) -> None:
            body, headers = _problem(status, title, detail, request_id)
            await send_with_headers(
                {"type": "http.response.start", "status": status, "headers": headers + extra}
            )
            await send_with_headers({"type": "http.response.body", "body": body})

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refuse(*refusal)
            else:
                await self.app(scope, receive, send_with_headers)
        except Exception:
            error_log.exception(
                "unhandled error", extra={"request_id": request_id.decode(), "path": path}
            )
            if status_seen:
                raise  # too late for a clean answer: let the server drop the connection
            await refuse(
                500, "Internal Server Error", "The server could not answer this request.", []
            )
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": path,
                        "status": status_seen,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        "request_id": request_id.decode(),
                        "client": (scope.get("client") or ("", 0))[0],
                    },
                )

    def _refusal(self, scope: Scope) -> tuple[int, str, str, list[tuple[bytes, bytes]]] | None:
        if scope["method"] not in ALLOWED_METHODS:
            return (
                405,
                "Method Not Allowed",
                f"{scope['method']} is not served; this API is read-only.",
                [(b"allow", ", ".join(ALLOWED_METHODS).encode())],
            )
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if len(raw_path) + len(scope["query_string"]) > MAX_TARGET_BYTES:
            return (
                414,
                "URI Too Long",
                f"The request target is over {MAX_TARGET_BYTES} bytes.",
                [],
            )
        try:
            target_text = unquote_to_bytes(raw_path).decode("utf-8") + unquote_to_bytes(
                scope["query_string"].replace(b"+", b" ")
            ).decode("utf-8")
        except UnicodeDecodeError:
            return (400, "Bad Request", "The path or query string is not valid UTF-8.", [])
        # NUL and other control characters have no place in a slug or a search, and
        # PostgreSQL refuses NUL in text outright.
        if CONTROL_RE.search(target_text) or CONTROL_RE.search(scope["path"]):
            return (400, "Bad Request", "The path or query string holds control characters.", [])
        if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
            return (
                431,
                "Request Header Fields Too Large",
                f"The request headers are over {MAX_HEADER_BYTES} bytes.",
                [],
            )
        if self.limit is not None and self.limiter is not None:
            client = (scope.get("client") or ("unknown", 0))[0]
            if not self.limiter.hit(self.limit, client):
                reset = self.limiter.get_window_stats(self.limit, client).reset_time
                retry = max(1, math.ceil(reset - time.time()))
                return (
                    429,
                    "Too Many Requests",
                    f"Over the limit of {self.limit}; retry after {retry} s.",
                    [(b"retry-after", str(retry).encode())],
                )
        return None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra`` fields."""

    RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in self.RESERVED})
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """For development: the message, then the ``extra`` fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{k}={v}" for k, v in vars(record).items() if k not in JsonFormatter.RESERVED
        )
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(fmt: str, level: str) -> None:
    """Send the app's loggers to stderr in ``fmt`` ("json" or "text"); idempotent."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger = logging.getLogger("app")
    logger.handlers = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
