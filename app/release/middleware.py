"""``ReleaseMiddleware``: answers from memory for the loaded release, and labels every answer
with the release it was built from.

For a ``GET``:

- answered from the current ``Generation`` (``app.release.cache``) before routing when it holds
  the answer, kept per origin (the answer's links name it, so its body and ``ETag`` differ by
  origin); concurrent misses for one key wait for the one answer being built; the first miss
  from an origin starts the preload of the ``@preloaded`` routes for it;
- otherwise passed on; on the way out, an answer whose route read the release carries it in
  ``X-KB-Release`` (set by ``app.release.snapshot.Snapshot``): this layer adds
  ``Cache-Control`` and a strong ``ETag`` derived from that release and the body, and keeps a
  200 when it was built from the current generation's release;
- ``If-None-Match`` matching the answer's ``ETag`` (ours, or one a route chose for a stream)
  turns a 200 into a 304 with no body, keeping ``ETag``, ``Cache-Control``, ``Vary`` and
  ``X-KB-Release`` (RFC 9110, section 15.4.5).

``HEAD`` reaches this layer as ``GET``: ``app.web.head`` turns it round outside the layers that
look only at ``GET``.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.release.cache import RELEASE_HEADER, CacheKey, Headers, ReleaseCache, Stored, make_etag

RELEASE = RELEASE_HEADER.lower().encode()  # as ASGI gives header names
# Headers a 304 repeats from the 200 it stands for (RFC 9110, section 15.4.5).
NOT_MODIFIED_KEEP = {b"etag", b"cache-control", b"vary", RELEASE, b"content-location"}


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison, as If-None-Match asks: ``W/"x"`` matches ``"x"``; ``*`` matches all."""
    if if_none_match.strip() == b"*":
        return True
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate.startswith(b"W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def _header(headers: Headers, name: bytes) -> bytes | None:
    return next((v for k, v in headers if k == name), None)


class ReleaseMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        cache: ReleaseCache,
        cacheable: Callable[[str], bool],
        varies_on_accept: Callable[[str], bool],
        origin: Callable[[Scope], str],
        wait_seconds: float,
    ) -> None:
        """``cacheable(path)``: whether a path's answers depend on the release (and origin)
        alone; ``varies_on_accept(path)``: whether ``Accept`` chooses its representation (then
        it is part of the key); ``origin(scope)``: the origin the client used, as the routes
        build their links on it (``app.http.origin``). ``app.main`` hands in all three."""
        self.app = app
        self.cache = cache
        self.cacheable = cacheable
        self.varies_on_accept = varies_on_accept
        self.origin = origin
        self.wait_seconds = wait_seconds
        # Keys whose answer a request is building now, with the event that marks it done.
        self.building: dict[CacheKey, anyio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if_none_match = _header(scope["headers"], b"if-none-match")
        path: str = scope["path"]
        if not self.cacheable(path):
            await self.app(scope, receive, _Label(self.cache, send, None, if_none_match))
            return
        accept = b""
        if self.varies_on_accept(path):
            accept = _header(scope["headers"], b"accept") or b""
        origin = self.origin(scope)
        key: CacheKey = (origin.encode(), path.encode(), scope["query_string"], accept)
        cache = self.cache
        generation = await cache.current() if cache.due() else cache.generation
        stored = generation.lookup(key)
        if stored is None and key in self.building:
            # The same answer is being built for another request: wait for it rather than
            # build it again (a burst on one cold URL costs one query, not fifty).
            with anyio.move_on_after(self.wait_seconds):
                await self.building[key].wait()
            stored = self.cache.generation.lookup(key)
        if stored is not None:
            await _send_stored(send, stored, if_none_match)
            return
        cache.preload_for(generation, origin)
        # Claimed before the first await below, so requests arriving meanwhile wait for it.
        building = key not in self.building
        if building:
            self.building[key] = anyio.Event()
        try:
            await self.app(scope, receive, _Label(self.cache, send, key, if_none_match))
        finally:
            if building:
                self.building.pop(key).set()


async def _send_start(send: Send, message: Message, if_none_match: bytes | None) -> bool:
    """Send the start of a 200, or of the 304 it becomes; whether the body must follow."""
    headers: Headers = message["headers"]
    etag = _header(headers, b"etag")
    if if_none_match is not None and etag is not None and etag_matches(if_none_match, etag):
        kept = [(k, v) for k, v in headers if k in NOT_MODIFIED_KEEP]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b""})
        return False
    await send(message)
    return True


async def _send_stored(send: Send, stored: Stored, if_none_match: bytes | None) -> None:
    start = {"type": "http.response.start", "status": 200, "headers": stored.headers}
    if await _send_start(send, start, if_none_match):
        await send({"type": "http.response.body", "body": stored.body})


class _Label:
    """Wraps ``send``: adds Cache-Control and ETag to what the route labelled with its release,
    stores what it may, and answers 304 when ``If-None-Match`` matches."""

    def __init__(
        self, cache: ReleaseCache, send: Send, key: CacheKey | None, if_none_match: bytes | None
    ) -> None:
        self.cache = cache
        self.send = send
        self.key = key
        self.if_none_match = if_none_match
        self.start: Message | None = None
        self.release: str | None = None
        self.chunks: list[bytes] = []
        self.passthrough = False
        self.dropped = False  # the body of a 304: not sent

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] == "http.response.body" and self.dropped:
            return
        elif message["type"] == "http.response.body" and not self.passthrough:
            await self._on_body(message)
        else:
            await self.send(message)

    async def _on_start(self, message: Message) -> None:
        headers: Headers = list(message.get("headers", []))
        found = _header(headers, RELEASE)
        self.release = found.decode() if found is not None else None
        names = {k for k, _ in headers}
        status = message["status"]
        if status != 200 or self.release is None or b"etag" in names:
            # Not ours to hash, or the route chose its own ETag (a stream it cannot hash). A
            # permanent redirect (a condition's code to its slug) holds for the release as a 200
            # does: Cache-Control bounds how long clients keep it, which they would otherwise
            # do for ever.
            if self.release is not None and status in (200, 308) and b"cache-control" not in names:
                headers.append((b"cache-control", self.cache.cache_control))
            self.passthrough = True
            message = {**message, "headers": headers}
            if status == 200:
                self.dropped = not await _send_start(self.send, message, self.if_none_match)
            else:
                await self.send(message)
            return
        if b"cache-control" not in names:
            headers.append((b"cache-control", self.cache.cache_control))
        self.start = {**message, "headers": headers}  # held until the body is known

    async def _on_body(self, message: Message) -> None:
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        assert self.start is not None
        assert self.release is not None
        body = b"".join(self.chunks)
        headers = [*self.start["headers"], (b"etag", make_etag(self.release, body))]
        stored = Stored(self.release, headers, body)
        if self.key is not None:
            self.cache.store(self.key, stored)
        await _send_stored(self.send, stored, self.if_none_match)
