"""Request dependencies, as ``Annotated`` aliases the routes declare."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from app import queries
from app.errors import ServiceUnavailable
from app.models import Release


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def current_release(request: Request, session: Annotated[Session, Depends(get_session)]) -> Release:
    """The loaded release, read first in the request's transaction so every later read in the
    request sees the same release; recorded for the X-KB-Release header. 503 when none."""
    release = queries.current_release(session)
    if release is None:
        raise ServiceUnavailable("no release is loaded; run 'therapy-kb seed'")
    request.state.kb_release = release.content_hash
    return release


ReleaseDep = Annotated[Release, Depends(current_release)]
SessionDep = Annotated[Session, Depends(get_session)]
