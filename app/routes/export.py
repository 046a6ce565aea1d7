"""/v1/export: the whole knowledge base, streamed, as JSON, NDJSON or a zip of CSV tables."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.db import loaded_release
from app.deps import SessionDep
from app.export import MEDIA_TYPES, ExportFormat, export, filename

router = APIRouter(prefix="/v1", tags=["export"])


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The whole knowledge base with its release metadata.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def export_(
    session: SessionDep,
    format: Annotated[  # noqa: A002  (the public parameter name)
        ExportFormat,
        Query(description="json (nested), ndjson (one record per line) or csv (zip of tables)."),
    ] = ExportFormat.json,
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
