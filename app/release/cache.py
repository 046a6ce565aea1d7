"""Which release is loaded, and everything a worker keeps in memory for it.

The loaded release is the content hash of the release row, read from the database at most once
per ``release_check_seconds`` (one read at a time, in a worker thread, while other requests go
on with the last answer): a reload shows within that interval, on every replica.

What is kept for a release lives in one ``Generation``:

- ``answers``: successful ``GET /v1/...`` responses and explorer pages as sent, keyed by the
  origin the client used (the answers' links name it), path, query string and, for the routes
  whose answer depends on it, ``Accept`` (a segmented LRU, ``Answers``);
- ``preloaded``: every answer of the routes marked ``@preloaded(...)``, built in a background
  thread when an origin is first seen for the release (for at most ``PRELOAD_ORIGINS``
  origins, within ``preload_mb`` together), so that no later request for one of them waits on
  the database;
- ``memo``: values derived from the release, such as the known slugs behind 404 suggestions
  (``Snapshot.memo``).

**The invalidation rule.** A generation belongs to one release. When the check finds another
release, the generation is replaced whole by an empty one for it; anything built from another
release than the current generation's is never stored. A reader therefore gets wholly the old
release or wholly the new one, never a mix.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from cachetools import LRUCache
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.routing import BaseRoute

from app import models as m
from app.errors import ServiceUnavailable
from app.urls import Urls

log = logging.getLogger("app.release")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
Headers = list[tuple[bytes, bytes]]
# origin, path (as ASGI gives it, decoded), query string, Accept
CacheKey = tuple[bytes, bytes, bytes, bytes]
Records = Callable[[Session, Urls], Iterable[tuple[dict[str, str], BaseModel]]]

RELEASE_HEADER = "X-KB-Release"  # the release an answer was built from, as sent
RELEASE_ROW = select(m.table(m.Release))  # Core: no ORM instance per request
MAX_CACHED_BODY = 4 * 1024 * 1024
PRELOAD_ATTRIBUTE = "preloaded_records"
# Origins preloaded per release: the public one or two a deployment has, not every Host sent.
PRELOAD_ORIGINS = 4


def read_release_row(session: Session) -> m.Release:
    """The loaded release, read in the session's transaction; 503 when none is loaded."""
    row = session.execute(RELEASE_ROW).first()
    if row is None:
        raise ServiceUnavailable("no release is loaded; run 'therapy-kb seed'")
    return m.Release(**row._mapping)


def cache_key(origin: str, path: str, query_string: bytes = b"", accept: bytes = b"") -> CacheKey:
    return (origin.encode(), path.encode(), query_string, accept)


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
    """Mark a route as answered from memory before routing: ``records(session, urls)`` yields
    every answer of the route for the loaded release, as (path parameters, body), its links on
    the origin of ``urls``."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, PRELOAD_ATTRIBUTE, records)
        return endpoint

    return mark


@dataclass(frozen=True)
class Preload:
    path_format: str  # the route's path, e.g. /v1/modalities/{slug}
    records: Records


class _Protected(LRUCache[CacheKey, Stored]):
    """The protected segment: what it evicts goes back on probation instead of away."""

    def __init__(self, maxsize: int, demote: Callable[[CacheKey, Stored], None]) -> None:
        super().__init__(maxsize)
        self.demote = demote

    def popitem(self) -> tuple[CacheKey, Stored]:
        key, stored = super().popitem()
        self.demote(key, stored)
        return key, stored


class Answers:
    """A segmented LRU: a new answer enters on probation and is protected once it is asked for
    again. A sweep of one-off URLs (a crawler walking every compare) then evicts only other
    one-off answers, not the pages people keep asking for; plain LRU would lose those.
    cachetools keeps each segment's order; the segments share one budget, ``max_entries``, of
    which probation may use whatever protection leaves free."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.probation: LRUCache[CacheKey, Stored] = LRUCache(max(max_entries, 1))
        self.protected = _Protected(max_entries * 4 // 5, self.probation.__setitem__)

    def __len__(self) -> int:
        return len(self.probation) + len(self.protected)

    def get(self, key: CacheKey) -> Stored | None:
        found = self.protected.get(key)
        if found is not None:
            return found
        found = self.probation.pop(key, None)
        if found is not None:  # asked for again: protect it (or keep it on probation)
            if self.protected.maxsize > 0:
                self.protected[key] = found
            else:
                self.probation[key] = found
        return found

    def put(self, key: CacheKey, stored: Stored) -> None:
        if self.max_entries <= 0:
            return
        if key in self.protected:
            self.protected[key] = stored
            return
        self.probation[key] = stored
        while len(self) > self.max_entries:
            self.probation.popitem()


@dataclass
class Generation:
    """Everything kept for one release; replaced whole when another release is loaded."""

    release: str | None
    answers: Answers
    preloaded: dict[CacheKey, Stored] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
    # Origin -> set when its preload is over (done, out of budget, or failed).
    preloads: dict[str, threading.Event] = field(default_factory=dict)
    preload_used: int = 0  # bytes preloaded so far, every origin's together

    def lookup(self, key: CacheKey) -> Stored | None:
        return self.preloaded.get(key) or self.answers.get(key)


class ReleaseCache:
    """The one owner of "which release is loaded" in a worker, and of its ``Generation``."""

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
        self._sessions: sessionmaker[Session] | None = None
        self.preloads: list[Preload] = []
        self._preloading = threading.Lock()  # one preload at a time: they share a budget

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
        self._sessions = sessions
        self.preloads = [
            Preload(route.path_format, records)
            for route in routes
            if isinstance(route, APIRoute)
            and (records := getattr(route.endpoint, PRELOAD_ATTRIBUTE, None)) is not None
        ]

    def sessions(self) -> Session:
        """A new session on the engine ``start`` attached (no I/O until it is used)."""
        if self._sessions is None:
            raise RuntimeError("the release cache is not started: the app's lifespan starts it")
        return self._sessions()

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
        return generation

    def preload_for(self, generation: Generation, origin: str) -> None:
        """Start preloading ``generation``'s answers for ``origin`` (in a thread), unless done
        or under way already, or nothing is to be preloaded."""
        if (
            origin in generation.preloads
            or generation.release is None
            or not self.preloads
            or self.preload_bytes <= 0
            or len(generation.preloads) >= PRELOAD_ORIGINS
        ):
            return
        generation.preloads[origin] = threading.Event()
        threading.Thread(
            target=self.preload, args=(generation, origin), name="preload", daemon=True
        ).start()

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
            (RELEASE_HEADER.lower().encode(), release.encode()),
            (b"cache-control", self.cache_control),
            (b"etag", make_etag(release, body)),
        ]
        return Stored(release, headers, body)

    def preload(self, generation: Generation, origin: str) -> None:
        """Build every preloaded answer of ``generation``'s release for ``origin``, then publish
        them at once."""
        done = generation.preloads.setdefault(origin, threading.Event())
        try:
            with self._preloading:
                entries = self._build(generation, origin)
        except (SQLAlchemyError, ServiceUnavailable) as exc:
            log.warning("preloading failed: %s", exc)
            entries = None
        if entries is not None and generation is self.generation:
            generation.preloaded = {**generation.preloaded, **entries}
        done.set()

    def _build(self, generation: Generation, origin: str) -> dict[CacheKey, Stored] | None:
        release = generation.release
        assert release is not None
        entries: dict[CacheKey, Stored] = {}
        urls = Urls(origin)
        with self.sessions() as session:
            # The release first, as in a request, so the records are of the release compared.
            if read_release_row(session).content_hash != release:
                return None  # replaced meanwhile; the next check finds the newer one
            for preload in self.preloads:
                for params, model in preload.records(session, urls):
                    body = model.model_dump_json().encode()
                    if generation.preload_used + len(body) > self.preload_bytes:
                        log.info("preload budget reached after %d answers", len(entries))
                        return entries
                    generation.preload_used += len(body)
                    path = preload.path_format.format(**params)
                    entries[cache_key(origin, path)] = self.stored_json(release, body)
        return entries
