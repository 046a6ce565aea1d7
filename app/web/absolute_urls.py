"""Absolute links: every ``url`` field, ``Link`` and ``Location`` the API sends names the origin
the client used, so a page on another origin never resolves them against itself.

Answers are built and kept in memory with paths (``"url":"/v1/modalities/ipt"``), the same for
every host; this layer puts the request's origin in front of them on the way out, so cached and
preloaded answers stay shared between hosts and their ETag does not depend on the host.

Finding the ``url`` fields costs a scan of the body (about 40 µs for a 45 KB modality, where
a ``"`` is on every few bytes), so the rewritten body is kept by the answer's ``ETag`` and the
origin (a bounded LRU): the same answer to the same origin is rewritten once. The strong ETag
is a hash of the release and the body, so equal ETags mean equal bodies.

The origin is the request's scheme and ``Host``. ``X-Forwarded-Proto`` and ``X-Forwarded-Host``
replace them only when the peer's address is a trusted proxy (``THERAPY_KB_TRUSTED_PROXIES``):
anyone else could otherwise choose the links the API hands out. The origin is kept in the
request's state for the other faces (FHIR's bundle links) to use.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from cachetools import LRUCache
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# In JSON a quote inside a string is escaped, so this byte sequence is always a key named "url"
# whose value is a path: exactly the fields to make absolute, at any depth.
URL_FIELD = b'"url":"/'
# A host, with its port, as RFC 9110 allows it (no user info, no path); anything else is ignored.
SANE_HOST = re.compile(rb"[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")
DEFAULT_PORTS = {"http": 80, "https": 443}
ORIGIN = "origin"  # the key under the request's state
KEPT_BODIES = 1024  # rewritten bodies kept, by (ETag, origin)
MAX_KEPT_BODY = 1024 * 1024


class Trusted:
    """The peers whose ``X-Forwarded-*`` headers are believed: addresses, networks, or ``*``."""

    def __init__(self, proxies: Sequence[str]) -> None:
        self.anyone = "*" in proxies
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies if p != "*"]

    def __call__(self, client: tuple[str, int] | None) -> bool:
        if self.anyone:
            return True
        if not self.networks or client is None:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def origin(scope: Scope, trusted: Trusted) -> str:
    """``scheme://host[:port]`` of the request as the client addressed it."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in (b"host", b"x-forwarded-host", b"x-forwarded-proto") and name not in headers:
            headers[name] = value
    scheme: str = scope.get("scheme", "http")
    host = headers.get(b"host", b"")
    if trusted(scope.get("client")):
        proto = headers.get(b"x-forwarded-proto", b"").split(b",")[0].strip().lower()
        if proto in (b"http", b"https"):
            scheme = proto.decode()
        forwarded = headers.get(b"x-forwarded-host", b"").split(b",")[0].strip()
        if forwarded:
            host = forwarded
    if not SANE_HOST.fullmatch(host):
        server = scope.get("server")
        if not server:
            return f"{scheme}://localhost"
        name, port = server
        host = (name if port in (None, DEFAULT_PORTS.get(scheme)) else f"{name}:{port}").encode()
    return f"{scheme}://{host.decode('ascii')}"


def origin_of(request: Request) -> str:
    """The origin this layer worked out for ``request`` (its base URL when the layer is absent)."""
    found: Any = request.scope.get("state", {}).get(ORIGIN)
    return found if isinstance(found, str) else str(request.base_url).rstrip("/")


class Rewritten:
    """Bodies already rewritten, by (ETag, origin): least recently used first out."""

    def __init__(self, size: int = KEPT_BODIES) -> None:
        self.bodies: LRUCache[tuple[bytes, bytes], bytes] = LRUCache(size)

    def get(self, key: tuple[bytes, bytes]) -> bytes | None:
        return self.bodies.get(key)

    def put(self, key: tuple[bytes, bytes], body: bytes) -> None:
        if len(body) <= MAX_KEPT_BODY:
            self.bodies[key] = body


class AbsoluteUrlMiddleware:
    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str]) -> None:
        self.app = app
        self.trusted = Trusted(trusted_proxies)
        self.rewritten = Rewritten()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        base = origin(scope, self.trusted)
        scope.setdefault("state", {})[ORIGIN] = base
        # Bodies of the API only: the OpenAPI document's examples keep their paths.
        api = scope["path"].startswith("/v1/")
        await self.app(scope, receive, _Rewrite(send, base.encode(), self.rewritten, api))


class _Rewrite:
    """Wraps ``send``: absolute ``Link``/``Location``; absolute ``url`` fields in the body of a
    whole JSON answer of the API. A stream (no Content-Length) and a download (an export, sent
    with Content-Disposition as the very bytes a release keeps) are left as they are."""

    def __init__(self, send: Send, base: bytes, rewritten: Rewritten, api: bool) -> None:
        self.send = send
        self.base = base
        self.rewritten = rewritten
        self.api = api
        self.start: Message | None = None
        self.length_at = -1  # where Content-Length is in the held start's headers
        self.etag: bytes | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            # One pass over the headers: rewrite the links, and learn what the body is.
            headers = list(message.get("headers", ()))
            json = download = False
            for i, (name, value) in enumerate(headers):
                if name == b"link":
                    headers[i] = (name, value.replace(b"</", b"<" + self.base + b"/"))
                elif name == b"location" and value[:1] == b"/" and value[:2] != b"//":
                    headers[i] = (name, self.base + value)
                elif name == b"content-type":
                    json = value == b"application/json"
                elif name == b"content-length":
                    self.length_at = i
                elif name == b"content-disposition":
                    download = True
                elif name == b"etag":
                    self.etag = value
            message = {**message, "headers": headers}
            if self.api and json and self.length_at >= 0 and not download:
                self.start = message  # held until the body is known: its length changes
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = self._rewrite(b"".join(self.chunks))
            headers = self.start["headers"]
            headers[self.length_at] = (b"content-length", str(len(body)).encode())
            await self.send(self.start)
            message = {"type": "http.response.body", "body": body}
        await self.send(message)

    def _rewrite(self, body: bytes) -> bytes:
        key = None if self.etag is None else (self.etag, self.base)
        done = None if key is None else self.rewritten.get(key)
        if done is None:
            done = body.replace(URL_FIELD, b'"url":"' + self.base + b"/")
            if key is not None:
                self.rewritten.put(key, done)
        return done
