"""The release a request reads, handed to the route as a dependency (``ReleaseDep``).

``open_snapshot`` opens the request's session and yields a ``Snapshot``: the session, the
release row its transaction reads, and the memo kept for that release. The release row is the
transaction's first statement (``Snapshot.session`` reads it before handing the session out), so
every statement the request runs afterwards reads the same release: PostgreSQL requests read one
``REPEATABLE READ`` snapshot, SQLite ones one WAL snapshot, and a seed load replaces the release
row in the same transaction as the content.

The row is read on first use rather than by the dependency itself: the route runs in a worker
thread, and a dependency that did I/O would cost the request a second hop between threads.

The release leaves the route in one place a reader can see: the response's ``X-KB-Release``
header, which the snapshot sets when it reads the row (FastAPI copies the headers of the
``Response`` a dependency declares onto the answer a route returns; a route that builds its own
``Response`` passes ``snapshot.headers``; an ``AppError`` raised after the read leaves with it
in its ``headers``). ``app.release.middleware`` reads that header to derive the ``ETag`` and to
decide whether the answer may be kept for the current release.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Response
from sqlmodel import Session

from app import models as m
from app.errors import AppError
from app.release.cache import RELEASE_HEADER, ReleaseCache, read_release_row

T = TypeVar("T")


class Snapshot:
    """One release as one request reads it: the session, the release row that session's
    transaction read first, and the values kept for that release (``memo``)."""

    def __init__(
        self,
        session: Session,
        cache: ReleaseCache | None = None,
        response: Response | None = None,
    ) -> None:
        self._session = session
        self._cache = cache
        self._response = response
        self._release: m.Release | None = None

    @property
    def release(self) -> m.Release:
        """The release every statement of this session reads (read now if not yet read)."""
        if self._release is None:
            self._release = read_release_row(self._session)
            if self._response is not None:
                self._response.headers[RELEASE_HEADER] = self._release.content_hash
        return self._release

    @property
    def has_read(self) -> bool:
        """Whether the release has been read (the session used)."""
        return self._release is not None

    @property
    def session(self) -> Session:
        """The session, its transaction begun by reading the release."""
        self.release  # noqa: B018 - the read is the point: it comes first in the transaction
        return self._session

    @property
    def headers(self) -> dict[str, str]:
        """``X-KB-Release``, for a route that builds its own ``Response``."""
        return {RELEASE_HEADER: self.release.content_hash}

    def memo(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()``, kept for this release while it is the loaded one (``ReleaseCache``);
        ``compute`` must depend on the release alone, never on the request."""
        if self._cache is None:
            return compute()
        return self._cache.memo(self.release.content_hash, name, compute)


async def open_snapshot(request: Request, response: Response) -> AsyncIterator[Snapshot]:
    """The request's snapshot. Opening the session does no I/O, so this runs in the event loop;
    the release is read on first use, in the route's own thread."""
    cache: ReleaseCache = request.app.state.release_cache
    session = cache.sessions()
    snapshot = Snapshot(session, cache, response)
    try:
        yield snapshot
    except AppError as exc:
        # An answer read from a release says which, a 404 as much as a 200.
        if snapshot.has_read:
            exc.headers.update(snapshot.headers)
        raise
    finally:
        # Ends the read-only transaction and returns the connection: a rollback, no waiting.
        session.close()


ReleaseDep = Annotated[Snapshot, Depends(open_snapshot)]
