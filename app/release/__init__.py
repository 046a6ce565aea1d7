"""The release: which one a request reads, what a worker keeps in memory for it, and the
history of releases kept so far.

- ``snapshot``: ``ReleaseDep``, the dependency that opens a request's session and reads the
  release row as its transaction's first statement, handing both to the route (``Snapshot``);
- ``cache``: ``ReleaseCache``, the one owner of "which release is loaded" in a worker, and the
  ``Generation`` it keeps for it (answers, preloaded answers, memo), replaced whole when another
  release is loaded;
- ``middleware``: ``ReleaseMiddleware``, the one layer that answers from that cache and labels
  answers: ``X-KB-Release``, ``Cache-Control``, a strong ``ETag``, 304 on ``If-None-Match``;
- ``history``: differences between two kept releases, and the suggested citation.

**Writing a route against it.** A route declares ``ReleaseDep`` and uses what it hands over::

    @router.get("/v1/trials", operation_id="listTrials", response_model=s.Page[s.Trial])
    def list_trials(snapshot: ReleaseDep, urls: UrlsDep, paging: PagingDep) -> s.Page[s.Trial]:
        return list_trials_query(snapshot.session, snapshot.memo, urls, paging)

(``UrlsDep``, from ``app.http.origin``, hands the queries the addresses on the client's origin
for the answer's ``url`` fields.)

- ``snapshot.session``: the session; every statement on it reads the release in
  ``snapshot.release`` (the row is read before the session is handed out);
- ``snapshot.release``: the release row (version, content hash, ...);
- ``snapshot.memo(name, compute)``: ``compute()`` kept for this release while it is loaded,
  for values that depend on the release alone (the known slugs behind a 404's suggestion);
  queries take it as an argument (``app.queries.common.Memo``), never look it up;
- ``snapshot.headers``: ``X-KB-Release``, for a route that builds its own ``Response``; a route
  that returns a model gets the header without asking.

Nothing else is needed: a ``GET`` under ``/v1`` is then kept per release and origin, labelled
and answered with 304 by ``ReleaseMiddleware`` (its ``ETag`` comes from the ``X-KB-Release`` of
the answer, that is, from the release its queries read). A route whose every answer can be
built ahead is marked ``@preloaded(records)``.
"""

from __future__ import annotations

from app.release.cache import RELEASE_HEADER, ReleaseCache, preloaded
from app.release.snapshot import ReleaseDep, Snapshot

__all__ = ["RELEASE_HEADER", "ReleaseCache", "ReleaseDep", "Snapshot", "preloaded"]
