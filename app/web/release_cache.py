"""Which release is loaded, and everything each worker keeps in memory for it.

The loaded release is the content hash of the release row, read from the database at most once
per ``release_check_seconds`` (one read at a time, in a worker thread, while other requests go
on with the last answer): a reload shows within that interval, on every replica.

What is kept for a release lives in one ``Generation``:

- ``answers``: successful ``GET /v1/...`` responses and explorer pages (``app.explorer``) as
  sent, keyed by path, query string and, for the routes whose answer depends on it, ``Accept``
  (a segmented LRU, ``Answers``);
- ``preloaded``: every answer of the routes marked ``@preloaded(...)``, built in a background
  thread when the release is first seen (up to ``preload_mb``), so that no request for one of
  them waits on the database;
- ``memo``: values derived from the release, such as the known slugs behind 404 suggestions.

**The invalidation rule.** A generation belongs to one release. When the check finds another
release, the generation is replaced whole by an empty one for it; anything built from another
release than the current generation's is never stored. A reader therefore gets wholly the old
release or wholly the new one, never a mix.

``ReleaseCacheMiddleware`` answers from the generation before routing, lets concurrent misses
for one key wait for the answer being built, and stamps what the routes send: ``X-KB-Release``
(the release the request's session read, ``app.db.record_release``), ``Cache-Control``, and a
strong ``ETag`` derived from the release and the body.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import models as m
from app.db import loaded_release
from app.errors import ServiceUnavailable
from app.explorer import is_page

log = logging.getLogger("app.release_cache")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
Headers = list[tuple[bytes, bytes]]
CacheKey = tuple[bytes, bytes, bytes]  # path (as ASGI gives it, decoded), query string, Accept
Records = Callable[[Session], Iterable[tuple[dict[str, str], BaseModel]]]

RELEASE_HEADER = b"x-kb-release"
MAX_CACHED_BODY = 4 * 1024 * 1024
PRELOAD_ATTRIBUTE = "preloaded_records"


def cache_key(path: str, query_string: bytes = b"", accept: bytes = b"") -> CacheKey:
    return (path.encode(), query_string, accept)


def make_etag(release: str, body: bytes) -> bytes:
    digest = hashlib.sha256(release.encode() + b"\0" + body).hexdigest()[:32]
    return f'"{digest}"'.encode()


@dataclass(frozen=True)
class Stored:
    """A 200 answer as sent, with X-KB-Release, Cache-Control and ETag in its headers."""

    release: str
    headers: Headers
    body: bytes


def preloaded(records: Records) -> Callable[[F], F]:
    """Mark a route as answered from memory before routing: ``records(session)`` yields every
    answer of the route for the loaded release, as (path parameters, body)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, PRELOAD_ATTRIBUTE, records)
        return endpoint

    return mark


@dataclass(frozen=True)
class Preload:
    path_format: str  # the route's path, e.g. /v1/modalities/{slug}
    records: Records


class Answers:
    """A segmented LRU: a new answer enters on probation and is protected once it is asked for
    again. A sweep of one-off URLs (a crawler walking every compare) then evicts only other
    one-off answers, not the pages people keep asking for; plain LRU would lose those."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.protected_max = max_entries * 4 // 5
        self.probation: OrderedDict[CacheKey, Stored] = OrderedDict()
        self.protected: OrderedDict[CacheKey, Stored] = OrderedDict()

    def __len__(self) -> int:
        return len(self.probation) + len(self.protected)

    def get(self, key: CacheKey) -> Stored | None:
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
        if self.max_entries <= 0:
            return
        if key in self.protected:
            self.protected[key] = stored
            self.protected.move_to_end(key)
            return
        self.probation[key] = stored
        self.probation.move_to_end(key)
        while len(self) > self.max_entries:
            (self.probation or self.protected).popitem(last=False)


@dataclass
class Generation:
    """Everything kept for one release; replaced whole when another release is loaded."""

    release: str | None
    answers: Answers
    preloaded: dict[CacheKey, Stored] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
    preload_done: threading.Event = field(default_factory=threading.Event)

    def lookup(self, key: CacheKey) -> Stored | None:
        return self.preloaded.get(key) or self.answers.get(key)


class ReleaseCache:
    def __init__(
        self,
        check_seconds: float,
        max_entries: int,
        preload_bytes: int,
        cache_control: bytes,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.check_seconds = check_seconds
        self.max_entries = max_entries
        self.preload_bytes = preload_bytes
        self.cache_control = cache_control
        self.clock = clock
        self.generation = Generation(None, Answers(max_entries))
        self.checked_at = float("-inf")
        self.checking = False
        self.read_release: Callable[[], str | None] = lambda: None
        self.sessions: sessionmaker[Session] | None = None
        self.preloads: list[Preload] = []

    def start(
        self, engine: Engine, sessions: sessionmaker[Session], routes: Sequence[BaseRoute]
    ) -> None:
        """Attach to the engine the app's lifespan built; find the routes marked to preload."""

        def read_release() -> str | None:
            try:
                with engine.connect() as conn:
                    value: str | None = conn.execute(
                        select(m.table(m.Release).c.content_hash)
                    ).scalar_one_or_none()
                    return value
            except SQLAlchemyError:
                return None  # the database is away: serve nothing from memory

        self.read_release = read_release
        self.sessions = sessions
        self.preloads = [
            Preload(route.path_format, records)
            for route in routes
            if isinstance(route, APIRoute)
            and (records := getattr(route.endpoint, PRELOAD_ATTRIBUTE, None)) is not None
        ]

    def due(self) -> bool:
        """Whether it is time to ask the database which release is loaded."""
        return not self.checking and self.clock() - self.checked_at >= self.check_seconds

    async def current(self) -> Generation:
        """The generation of the loaded release, asking the database when it is time to."""
        if not self.due():
            return self.generation
        self.checking = True
        try:
            release = await anyio.to_thread.run_sync(self.read_release)
        finally:
            self.checking = False
        self.checked_at = self.clock()
        return self.observe(release)

    def observe(self, release: str | None) -> Generation:
        """The one invalidation rule: another release, another (empty) generation."""
        if release == self.generation.release:
            return self.generation
        generation = Generation(release, Answers(self.max_entries))
        self.generation = generation
        if release is not None and self.preloads and self.preload_bytes > 0:
            threading.Thread(
                target=self.preload, args=(generation,), name="preload", daemon=True
            ).start()
        else:
            generation.preload_done.set()
        return generation

    def store(self, key: CacheKey, stored: Stored) -> None:
        generation = self.generation
        if stored.release == generation.release and len(stored.body) <= MAX_CACHED_BODY:
            generation.answers.put(key, stored)

    def memo(self, release: str, name: str, compute: Callable[[], T]) -> T:
        generation = self.generation
        if release != generation.release:
            return compute()  # read from another release than the one kept: not kept
        if name not in generation.memo:
            generation.memo[name] = compute()  # two requests may both compute it: same answer
        value: T = generation.memo[name]
        return value

    def stored_json(self, release: str, body: bytes) -> Stored:
        """A 200 JSON answer with the headers a route's answer gets on its way out."""
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            (RELEASE_HEADER, release.encode()),
            (b"cache-control", self.cache_control),
            (b"etag", make_etag(release, body)),
        ]
        return Stored(release, headers, body)

    def preload(self, generation: Generation) -> None:
        """Build every preloaded answer of ``generation``'s release, then publish them at once."""
        try:
            entries = self._build(generation)
        except (SQLAlchemyError, ServiceUnavailable) as exc:
            log.warning("preloading failed: %s", exc)
            entries = None
        if entries is not None and generation is self.generation:
            generation.preloaded = entries
        generation.preload_done.set()

    def _build(self, generation: Generation) -> dict[CacheKey, Stored] | None:
        release = generation.release
        assert release is not None
        assert self.sessions is not None
        entries: dict[CacheKey, Stored] = {}
        used = 0
        with self.sessions() as session:
            if loaded_release(session).content_hash != release:
                return None  # replaced meanwhile; the next check finds the newer one
            for preload in self.preloads:
                for params, model in preload.records(session):
                    body = model.model_dump_json().encode()
                    used += len(body)
                    if used > self.preload_bytes:
                        log.info("preload budget reached after %d answers", len(entries))
                        return entries
                    path = preload.path_format.format(**params)
                    entries[cache_key(path)] = self.stored_json(release, body)
        return entries


def memoized(session: Session, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept for the loaded release when the session serves a request."""
    cache = session.info.get("release_cache")
    if not isinstance(cache, ReleaseCache):
        return compute()
    return cache.memo(loaded_release(session).content_hash, name, compute)


class ReleaseCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        cache: ReleaseCache,
        varies_on_accept: Callable[[str], bool],
        wait_seconds: float,
    ) -> None:
        self.app = app
        self.cache = cache
        self.varies_on_accept = varies_on_accept
        self.wait_seconds = wait_seconds
        # Keys whose answer a request is building now, with the event that marks it done.
        self.building: dict[CacheKey, anyio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        api = path.startswith("/v1/") and not path.startswith("/v1/export")
        if not (api or is_page(path)):
            await self.app(scope, receive, _Stamp(self.cache, scope, send, None))
            return
        accept = b""
        if self.varies_on_accept(path):
            accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
        key: CacheKey = (path.encode(), scope["query_string"], accept)
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
            await send({"type": "http.response.start", "status": 200, "headers": stored.headers})
            await send({"type": "http.response.body", "body": stored.body})
            return
        # Claimed before the first await below, so requests arriving meanwhile wait for it.
        building = key not in self.building
        if building:
            self.building[key] = anyio.Event()
        try:
            await self.app(scope, receive, _Stamp(self.cache, scope, send, key))
        finally:
            if building:
                self.building.pop(key).set()


class _Stamp:
    """Wraps ``send``: adds X-KB-Release, Cache-Control and ETag, and stores what it may."""

    def __init__(self, cache: ReleaseCache, scope: Scope, send: Send, key: CacheKey | None):
        self.cache = cache
        self.scope = scope
        self.send = send
        self.key = key
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.passthrough = False

    def _release(self) -> str | None:
        state: dict[str, Any] = self.scope.get("state") or {}
        value = state.get("kb_release")
        return value if isinstance(value, str) else None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] == "http.response.body" and not self.passthrough:
            await self._on_body(message)
        else:
            await self.send(message)

    async def _on_start(self, message: Message) -> None:
        release = self._release()
        headers: Headers = list(message.get("headers", []))
        names = {k.lower() for k, _ in headers}
        if release is not None and RELEASE_HEADER not in names:
            headers.append((RELEASE_HEADER, release.encode()))
        if message["status"] != 200 or release is None or b"etag" in names:
            # Not ours to cache, or the route chose its own ETag (a stream it cannot hash). A
            # permanent redirect (a condition's code to its slug) holds for the release as a 200
            # does: Cache-Control bounds how long clients keep it, which they would otherwise
            # do for ever.
            fresh = message["status"] in (200, 308)
            if release is not None and fresh and b"cache-control" not in names:
                headers.append((b"cache-control", self.cache.cache_control))
            self.passthrough = True
            await self.send({**message, "headers": headers})
            return
        if b"cache-control" not in names:
            headers.append((b"cache-control", self.cache.cache_control))
        self.start = {**message, "headers": headers}  # held until the body is known

    async def _on_body(self, message: Message) -> None:
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        assert self.start is not None
        release = self._release() or ""
        body = b"".join(self.chunks)
        headers = [*self.start["headers"], (b"etag", make_etag(release, body))]
        if self.key is not None:
            self.cache.store(self.key, Stored(release, headers, body))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})
