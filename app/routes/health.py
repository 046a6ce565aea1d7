"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from app import queries
from app.deps import SessionDep
from app.errors import ServiceUnavailable
from app.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the process is up. Touches no database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "Database unreachable or no release loaded."}},
)
def readyz(session: SessionDep) -> Readiness:
    """Readiness: the database answers and a release is loaded."""
    try:
        queries.ping(session)
        release = queries.current_release(session)
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("the database is not answering") from exc
    if release is None:
        raise ServiceUnavailable("no release is loaded; run 'therapy-kb seed'")
    return Readiness(status="ready", database="ok", release=release.content_hash)
