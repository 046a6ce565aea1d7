"""/v1/meta: what release is loaded, what it holds, and the evidence scale."""

from __future__ import annotations

from fastapi import APIRouter

from app import schemas as s
from app.db import loaded_release
from app.deps import SessionDep
from app.queries.meta import meta

router = APIRouter(prefix="/v1", tags=["meta"])


@router.get("/meta", response_model=s.Meta)
def meta_(session: SessionDep) -> s.Meta:
    """Release metadata: name, version, licence, content hash, counts, evidence scale."""
    return meta(session, loaded_release(session))
