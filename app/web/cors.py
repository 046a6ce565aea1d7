"""CORS (the Fetch standard's CORS protocol), for browsers reading the API from other origins.

Work only when a request has an ``Origin`` header: any other request passes straight through.
A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here; any other
request from an allowed origin gets ``Access-Control-Allow-Origin`` and the headers a script
may read (``Access-Control-Expose-Headers``) on its answer.

This layer never sets ``Vary``: the representations layer (``app.web.accept``) is the one
place that does, and it says ``Vary: Origin`` on every answer, whether or not the request had
an ``Origin``, so a shared cache never hands one origin's answer to another.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Header = tuple[bytes, bytes]


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


class CorsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str],
        allow_methods: Sequence[str],
        allow_headers: Sequence[str],
        expose_headers: Sequence[str],
        max_age: int,
    ) -> None:
        self.app = app
        self.anyone = "*" in allow_origins
        self.origins = {o.encode() for o in allow_origins if o != "*"}
        self.methods = {m.encode() for m in allow_methods}
        self.headers = {h.lower().encode() for h in allow_headers}
        self.exposed: list[Header] = [
            (b"access-control-expose-headers", ", ".join(expose_headers).encode())
        ]
        self.preflight_headers: list[Header] = [
            (b"access-control-allow-methods", ", ".join(allow_methods).encode()),
            (b"access-control-allow-headers", ", ".join(allow_headers).encode()),
            (b"access-control-max-age", str(max_age).encode()),
        ]

    def allowed(self, origin: bytes) -> bytes | None:
        """The ``Access-Control-Allow-Origin`` for ``origin``, or None when it is not allowed."""
        if self.anyone:
            return b"*"
        return origin if origin in self.origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None:
            await self.app(scope, receive, send)
            return
        allow = self.allowed(origin)
        requested = _header(scope, b"access-control-request-method")
        if scope["method"] == "OPTIONS" and requested is not None:
            await self._preflight(scope, send, allow, requested)
            return
        if allow is None:
            await self.app(scope, receive, send)
            return
        added = [(b"access-control-allow-origin", allow), *self.exposed]

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(
        self, scope: Scope, send: Send, allow: bytes | None, requested: bytes
    ) -> None:
        asked = _header(scope, b"access-control-request-headers") or b""
        headers = [h.strip().lower() for h in asked.split(b",") if h.strip()]
        ok = (
            allow is not None
            and requested in self.methods
            and all(h in self.headers for h in headers)
        )
        body = b"OK" if ok else b"Disallowed CORS request"
        sent: list[Header] = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            *self.preflight_headers,
        ]
        if allow is not None:
            sent.append((b"access-control-allow-origin", allow))
        await send({"type": "http.response.start", "status": 200 if ok else 400, "headers": sent})
        await send({"type": "http.response.body", "body": body})
