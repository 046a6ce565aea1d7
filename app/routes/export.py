"""/v1/export: the whole knowledge base, streamed, as JSON, NDJSON or a zip of CSV tables."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.db import loaded_release
from app.deps import SessionDep
from app.export import MEDIA_TYPES, ExportFormat, export, filename

router = APIRouter(prefix="/v1", tags=["export"])

# The export's format parameter and its representations, shared with a kept release's export.
FormatQuery = Annotated[
    ExportFormat,
    Query(description="json (nested), ndjson (one record per line) or csv (zip of tables)."),
]


def export_responses(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }


@router.get(
    "/export",
    operation_id="exportKnowledgeBase",
    response_class=StreamingResponse,
    responses=export_responses("The whole knowledge base with its release metadata."),
)
def export_(
    session: SessionDep,
    format: FormatQuery = ExportFormat.json,  # noqa: A002  (the public parameter name)
) -> StreamingResponse:
    """Download everything: the release, citations, conditions, modalities and every claim."""
    release = loaded_release(session)
    # The body is streamed, so the ETag comes from what determines it: release and format.
    etag = hashlib.sha256(f"{release.content_hash}:{format.value}".encode()).hexdigest()[:32]
    return StreamingResponse(
        export(session, release, format),
        media_type=MEDIA_TYPES[format],
        headers={
            "ETag": f'"{etag}"',
            "Content-Disposition": f'attachment; filename="{filename(release, format)}"',
        },
    )
