"""HTTP caching for a read-only API whose content changes only when a release is loaded.

``HttpCacheMiddleware`` (pure ASGI, so a cache hit costs no routing or validation):

- serves ``HEAD`` as ``GET`` without the body;
- adds ``X-KB-Release`` (the release the body was built from, recorded in ``scope["state"]``
  by the request's session as it reads it: ``app.db.record_release``), a strong ``ETag``
  derived from that release and the representation, and ``Cache-Control`` to every successful
  ``GET``;
- answers ``If-None-Match`` with ``304 Not Modified`` and no body;
- answers from the modality records preloaded for the release (``app.preload``), else keeps
  successful ``/v1`` responses in memory, keyed by path, query and (for the routes that
  negotiate on it) ``Accept``, and serves them again while the same release is loaded. Each
  stored response carries its own release, so a reader gets wholly the old release or wholly
  the new one, never a mix;
- lets concurrent misses for one key wait for the answer being built, and admits at most as
  many requests to the routes as there are database connections (the rest queue here).

Which release is current is read from the database at most once per
``release_check_seconds``: a reload shows within that interval, on every replica.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import models as m
from app.config import Settings

if TYPE_CHECKING:
    from app.preload import Preloaded

RELEASE_HEADER = b"x-kb-release"
MAX_CACHED_BODY = 4 * 1024 * 1024
Headers = list[tuple[bytes, bytes]]
CacheKey = tuple[bytes, bytes, bytes]  # path, query string, Accept (only where it matters)


class ReleaseWatch:
    """The content hash of the loaded release, re-read at most every ``interval`` seconds."""

    def __init__(
        self, engine: Engine, interval: float, clock: Callable[[], float] = time.monotonic
    ):
        self.engine = engine
        self.interval = interval
        self.clock = clock
        self.value: str | None = None
        self.checked_at = float("-inf")
        self.refreshing = False  # one refresh at a time (see HttpCacheMiddleware)

    def stale(self) -> bool:
        return self.clock() - self.checked_at >= self.interval

    def refresh(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                self.value = conn.execute(select(col(m.Release.content_hash))).scalar_one_or_none()
        except SQLAlchemyError:
            self.value = None  # the database is away: serve nothing from memory
        self.checked_at = self.clock()
        return self.value


@dataclass(frozen=True)
class Stored:
    release: str
    status: int
    headers: Headers  # with ETag, Cache-Control and X-KB-Release already in place
    etag: bytes
    body: bytes


def stored_json(release: str, body: bytes, cache_control: bytes) -> Stored:
    """A 200 JSON answer with the headers the routes and ``_Recorder`` give it together."""
    etag = make_etag(release, body)
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        (RELEASE_HEADER, release.encode()),
        (b"cache-control", cache_control),
        (b"etag", etag),
    ]
    return Stored(release, 200, headers, etag, body)


class ResponseCache:
    """Answers in memory, per release, as a segmented LRU: a new answer enters on probation
    and is protected once it is asked for again. A sweep of one-off URLs (a crawler walking
    every compare) then evicts only other one-off answers, not the pages people keep asking
    for; plain LRU would lose those to any such sweep."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.protected_max = max_entries * 4 // 5
        self.probation: OrderedDict[CacheKey, Stored] = OrderedDict()
        self.protected: OrderedDict[CacheKey, Stored] = OrderedDict()
        self.release: str | None = None

    def __len__(self) -> int:
        return len(self.probation) + len(self.protected)

    def get(self, key: CacheKey, release: str | None) -> Stored | None:
        if release != self.release:
            # A new release: everything stored belongs to the old one.
            self.probation.clear()
            self.protected.clear()
            self.release = release
            return None
        found = self.protected.get(key)
        if found is not None:
            self.protected.move_to_end(key)
            return found
        found = self.probation.pop(key, None)
        if found is not None:  # asked for again: protect it
            self.protected[key] = found
            if len(self.protected) > self.protected_max:
                demoted, stored = self.protected.popitem(last=False)
                self.probation[demoted] = stored
        return found

    def put(self, key: CacheKey, stored: Stored) -> None:
        if self.max_entries <= 0 or stored.release != self.release:
            return
        if key in self.protected:
            self.protected[key] = stored
            self.protected.move_to_end(key)
            return
        self.probation[key] = stored
        self.probation.move_to_end(key)
        while len(self) > self.max_entries:
            (self.probation or self.protected).popitem(last=False)


def cache_control(settings: Settings) -> bytes:
    return f"public, max-age={settings.cache_max_age}".encode()


def make_etag(release: str, body: bytes) -> bytes:
    digest = hashlib.sha256(release.encode() + b"\0" + body).hexdigest()[:32]
    return f'"{digest}"'.encode()


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    if if_none_match.strip() == b"*":
        return True
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate.startswith(b"W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


# Headers a 304 repeats from the 200 it stands for (RFC 9110, section 15.4.5).
NOT_MODIFIED_KEEP = {b"etag", b"cache-control", b"vary", b"x-kb-release", b"content-location"}


class HttpCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        watch: Callable[[], ReleaseWatch],
        cache_control: bytes,
        max_entries: int,
        max_in_flight: int = 10,
        queue_seconds: float = 2.0,
        preloaded: Callable[[], Preloaded | None] = lambda: None,
        varies_on_accept: Callable[[str], bool] = lambda path: True,
    ) -> None:
        self.app = app
        # Requests that reach the routes each hold one database connection while they run, and
        # hop between worker threads. More of them at once than there are connections would
        # leave threads waiting for connections held by requests waiting for threads (a
        # deadlock until the pool times out). So they queue here, in the event loop, holding
        # neither, and a request that cannot start within queue_seconds gets a 503.
        self.in_flight = anyio.Semaphore(max_in_flight)
        self.queue_seconds = queue_seconds
        # Cache keys whose answer a request is building now, with the event that marks it done.
        self.computing: dict[CacheKey, anyio.Event] = {}
        # Called per request: the engine, and so these, exist only once the app has started.
        self.watch = watch
        self.preloaded = preloaded
        # Accept is part of the key only for the routes whose answer depends on it.
        self.varies_on_accept = varies_on_accept
        self.cache_control = cache_control
        self.cache = ResponseCache(max_entries)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        request_headers = dict(scope["headers"])
        if_none_match = request_headers.get(b"if-none-match")
        path: str = scope["path"]
        cacheable = path.startswith("/v1/") and not path.startswith("/v1/export")

        key: CacheKey | None = None
        if cacheable:
            accept = request_headers.get(b"accept", b"") if self.varies_on_accept(path) else b""
            key = (path.encode(), scope["query_string"], accept)
            release = await self._current_release()
            preloaded = self.preloaded()
            stored = preloaded.get(key, release) if preloaded is not None else None
            if stored is None:
                stored = self.cache.get(key, release)
            if stored is None and key in self.computing:
                # The same answer is being built for another request: wait for it rather than
                # build it again (a burst on one cold URL costs one query, not fifty).
                with anyio.move_on_after(self.queue_seconds):
                    await self.computing[key].wait()
                stored = self.cache.get(key, release)
            if stored is not None:
                await self._replay(stored, if_none_match, head, send)
                return

        recorder = _Recorder(self, scope, send, key, if_none_match, head)
        if path == "/healthz" or path.startswith(("/docs", "/redoc", "/static-offline-docs")):
            await self.app(scope, receive, recorder)  # no database: never queued
            return
        # Claim the key before the first await below, so that requests arriving meanwhile
        # find it and wait for this answer.
        building = key is not None and key not in self.computing
        if building:
            assert key is not None
            self.computing[key] = anyio.Event()
        try:
            try:
                with anyio.fail_after(self.queue_seconds):
                    await self.in_flight.acquire()
            except TimeoutError:
                await _busy(send)
                return
            try:
                await self.app(scope, receive, recorder)
            finally:
                self.in_flight.release()
        finally:
            if building:
                assert key is not None
                self.computing.pop(key).set()

    async def _current_release(self) -> str | None:
        """The loaded release. When it is time to ask the database again, one request asks
        (in a worker thread) while the others go on with the answer from the last check:
        a whole burst of requests must not stampede the database every interval."""
        watch = self.watch()
        if not watch.stale() or watch.refreshing:
            return watch.value
        watch.refreshing = True
        try:
            release = await anyio.to_thread.run_sync(watch.refresh)
        finally:
            watch.refreshing = False
        preloaded = self.preloaded()
        if preloaded is not None:
            preloaded.ensure(release)  # a new release: materialise its records in the background
        return release

    async def _replay(
        self, stored: Stored, if_none_match: bytes | None, head: bool, send: Send
    ) -> None:
        if if_none_match is not None and etag_matches(if_none_match, stored.etag):
            headers = [(k, v) for k, v in stored.headers if k in NOT_MODIFIED_KEEP]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {"type": "http.response.start", "status": stored.status, "headers": stored.headers}
        )
        await send({"type": "http.response.body", "body": b"" if head else stored.body})


async def _busy(send: Send) -> None:
    body = (
        b'{"type":"https://therapy-kb.example/problems/unavailable","title":"Service Unavailable",'
        b'"status":503,"detail":"Too many requests need the database at once; try again shortly."}'
    )
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Recorder:
    """Wraps ``send``: adds the caching headers, answers 304, and stores what it may."""

    def __init__(
        self,
        middleware: HttpCacheMiddleware,
        scope: Scope,
        send: Send,
        key: CacheKey | None,
        if_none_match: bytes | None,
        head: bool,
    ) -> None:
        self.mw = middleware
        self.scope = scope
        self.send = send
        self.key = key
        self.if_none_match = if_none_match
        self.head = head
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.passthrough = False
        self.swallow = False

    def _release(self) -> str | None:
        state: dict[str, Any] = self.scope.get("state") or {}
        value = state.get("kb_release")
        return value if isinstance(value, str) else None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] == "http.response.body":
            await self._on_body(message)
        else:
            await self.send(message)

    async def _on_start(self, message: Message) -> None:
        release = self._release()
        headers: Headers = list(message.get("headers", []))
        names = {k.lower() for k, _ in headers}
        if release is not None and RELEASE_HEADER not in names:
            headers.append((RELEASE_HEADER, release.encode()))
        if message["status"] != 200 or release is None:
            await self.send({**message, "headers": headers})
            self.passthrough = True
            return
        if b"cache-control" not in names:
            headers.append((b"cache-control", self.mw.cache_control))
        self.start = {**message, "headers": headers}
        if b"etag" in names:
            # The route chose its own ETag (a stream it cannot hash in advance).
            etag = next(v for k, v in headers if k.lower() == b"etag")
            if self.if_none_match is not None and etag_matches(self.if_none_match, etag):
                await self._not_modified(headers)
                self.swallow = True
            else:
                await self.send(self.start)
                self.passthrough = True
        # Otherwise hold the start until the body is known: the ETag hashes it.

    async def _on_body(self, message: Message) -> None:
        if self.swallow:
            return
        if self.passthrough:
            await self.send({**message, "body": b""} if self.head else message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        assert self.start is not None
        body = b"".join(self.chunks)
        release = self._release() or ""
        etag = make_etag(release, body)
        headers = [*self.start["headers"], (b"etag", etag)]
        if self.key is not None and len(body) <= MAX_CACHED_BODY:
            self.mw.cache.put(self.key, Stored(release, 200, headers, etag, body))
        if self.if_none_match is not None and etag_matches(self.if_none_match, etag):
            await self._not_modified(headers)
            return
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": b"" if self.head else body})

    async def _not_modified(self, headers: Headers) -> None:
        kept = [(k, v) for k, v in headers if k.lower() in NOT_MODIFIED_KEEP]
        await self.send({"type": "http.response.start", "status": 304, "headers": kept})
        await self.send({"type": "http.response.body", "body": b""})
