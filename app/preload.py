"""Modality records materialised in memory once per release.

The seed load renders every modality's record (``rendered_modality``); each worker then loads
them all into memory in a background thread when it first sees a release, up to a byte budget.
``GET /v1/modalities/{slug}`` is answered from there for as long as that release is loaded:
no thread hop, no database read, however many distinct modalities are asked for. A record not
(yet) loaded, or beyond the budget, is read from the database as before.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.db import loaded_release
from app.errors import ServiceUnavailable
from app.httpcache import CacheKey, Stored, stored_json
from app.queries.modalities import rendered_modalities

log = logging.getLogger("app.preload")


class Preloaded:
    """The records of one release, by cache key; swapped whole when the next one is ready."""

    def __init__(self, sessions: sessionmaker[Session], max_bytes: int, cache_control: bytes):
        self.sessions = sessions
        self.max_bytes = max_bytes
        self.cache_control = cache_control
        # (release, entries) in one attribute, so a reader never pairs one release's entries
        # with another's hash.
        self.current: tuple[str | None, dict[CacheKey, Stored]] = (None, {})
        self.loading: str | None = None
        self.lock = threading.Lock()

    def get(self, key: CacheKey, release: str | None) -> Stored | None:
        loaded, entries = self.current
        if release is None or loaded != release:
            return None
        return entries.get(key)

    def ensure(self, release: str | None) -> None:
        """Start loading ``release`` in the background unless it is loaded or loading."""
        if release is None or self.max_bytes <= 0:
            return
        with self.lock:
            if release in (self.current[0], self.loading):
                return
            self.loading = release
        threading.Thread(target=self.load, args=(release,), name="preload", daemon=True).start()

    def load(self, release: str) -> None:
        try:
            entries = self._read(release)
        except (SQLAlchemyError, ServiceUnavailable) as exc:
            log.warning("preloading release %s failed: %s", release[:12], exc)
            entries = None
        with self.lock:
            if entries is not None:
                self.current = (release, entries)
            self.loading = None

    def _read(self, release: str) -> dict[CacheKey, Stored] | None:
        entries: dict[CacheKey, Stored] = {}
        used = 0
        with self.sessions() as session:
            if loaded_release(session).content_hash != release:
                return None  # replaced meanwhile; the next request asks for the newer one
            for slug, body in rendered_modalities(session):
                data = body.encode()
                used += len(data)
                if used > self.max_bytes:
                    log.info("preload budget reached after %d modality records", len(entries))
                    break
                path = f"/v1/modalities/{slug}".encode()  # as ASGI gives it: decoded
                entries[(path, b"", b"")] = stored_json(release, data, self.cache_control)
        return entries
