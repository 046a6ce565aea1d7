"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from app.errors import ServiceUnavailable
from app.release import ReleaseDep
from app.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="checkLiveness", response_model=Health)
def healthz() -> Health:
    """Liveness: the process is up. Touches no database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="checkReadiness",
    response_model=Readiness,
    responses={503: {"description": "Database unreachable or no release loaded."}},
)
def readyz(snapshot: ReleaseDep) -> Readiness:
    """Readiness: the database answers and a release is loaded."""
    try:
        # Begins the transaction, whose first statement reads the release (503 when none).
        release = snapshot.release
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("the database is not answering") from exc
    return Readiness(status="ready", database="ok", release=release.content_hash)
