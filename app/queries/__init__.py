"""Named read functions: the only place that builds SELECTs.

One module per resource; each public function takes a ``Session`` (and, when it can answer
404, the release's ``Memo`` for the suggestion: ``app.queries.common``) and returns public shapes
from ``app.schemas``. Every function issues a fixed number of statements, however large the
knowledge base (tests/test_query_counts.py holds them to it).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app import models as m


def current_release(session: Session) -> m.Release | None:
    return session.execute(select(m.Release)).scalar_one_or_none()
