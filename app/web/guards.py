"""Requests this read-only API refuses before any routing: other methods (405), absurd
targets (414) or headers (431), and targets that are not UTF-8 or hold control characters (400).

The one rule for control characters (``app.http.params.HAS_CONTROL``) is applied here to
the path and query string; the OpenAPI document and the search parameter say it in their
patterns, so clients (and a fuzzer) know such a value is not valid.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import (
    AppError,
    BadRequest,
    HeadersTooLarge,
    MethodNotAllowed,
    UriTooLong,
)
from app.http.params import HAS_CONTROL
from app.http.problems import send_problem

ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_TARGET_BYTES = 2048  # path plus query string
MAX_HEADER_BYTES = 8192


def refusal(scope: Scope) -> AppError | None:
    """Why the request is refused, or None."""
    if scope["method"] not in ALLOWED_METHODS:
        return MethodNotAllowed(f"{scope['method']} is not served; this API is read-only.")
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope["query_string"]
    if len(raw_path) + len(query) > MAX_TARGET_BYTES:
        return UriTooLong(f"The request target is over {MAX_TARGET_BYTES} bytes.")
    if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
        return HeadersTooLarge(f"The request headers are over {MAX_HEADER_BYTES} bytes.")
    target = raw_path + b"?" + query
    if b"%" in target or not target.isascii():  # else it is already the text it stands for
        try:
            text = unquote_to_bytes(target.replace(b"+", b" ")).decode()
        except UnicodeDecodeError:
            return BadRequest("The path or query string is not valid UTF-8.")
    else:
        text = target.decode()
    if HAS_CONTROL.search(text) or HAS_CONTROL.search(scope["path"]):
        return BadRequest("The path or query string holds control characters.")
    return None


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = refusal(scope)
            if refused is not None:
                allow = [(b"allow", ", ".join(ALLOWED_METHODS).encode())]
                await send_problem(
                    send, scope["path"], refused, allow if refused.status == 405 else ()
                )
                return
        await self.app(scope, receive, send)
