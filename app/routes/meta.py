"""/v1/meta: what release is loaded, what it holds, and the evidence scale."""

from __future__ import annotations

from fastapi import APIRouter

from app import schemas as s
from app.domain import ExportFormat
from app.http.origin import UrlsDep
from app.queries.meta import meta
from app.queries.releases import history_length
from app.release import ReleaseDep
from app.release.history import suggested_citation

router = APIRouter(tags=["meta"])


@router.get("/v1/meta", operation_id="getMeta", response_model=s.CurrentMeta)
def meta_(snapshot: ReleaseDep, urls: UrlsDep) -> s.CurrentMeta:
    """Release metadata: name, version, licence, content hash, counts, evidence scale, history
    length and how to cite it."""
    current = meta(snapshot.session, snapshot.release)
    return s.CurrentMeta(
        **current.model_dump(),
        releases=history_length(snapshot.session),
        citation=suggested_citation(current, urls.export(current.version, ExportFormat.json)),
    )
