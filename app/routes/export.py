"""/v1/export: the whole knowledge base, streamed, as JSON, NDJSON or a zip of CSV tables."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from app.domain import EXPORT_EXTENSIONS, EXPORT_MEDIA_TYPES, ExportFormat
from app.export import attachment, export
from app.http.negotiation import Representation, Responses, accept_of, add_representations, choose
from app.release import ReleaseDep, Snapshot

router = APIRouter(tags=["export"])


def _format(fmt: ExportFormat, title: str, schema: dict[str, str]) -> Representation:
    extension = EXPORT_EXTENSIONS[fmt]
    media_type = EXPORT_MEDIA_TYPES[fmt]
    return Representation(
        fmt.value, media_type, media_type, title, f".{extension}", extension.capitalize(), schema
    )


# The export's representations, shared with a kept release's export; in order of preference
# when a client accepts several equally (so */* means JSON).
EXPORT_FORMATS = (
    _format(ExportFormat.json, "nested JSON", {"type": "object"}),
    _format(ExportFormat.ndjson, "NDJSON, one record per line", {"type": "string"}),
    _format(ExportFormat.csv, "a zip of CSV tables", {"type": "string", "format": "binary"}),
)


async def export_format(
    request: Request,
    format: Annotated[  # noqa: A002  (the public parameter name)
        ExportFormat | None,
        Query(
            description="json (nested, the default), ndjson (one record per line) or csv (a zip "
            "of tables). Wins over the Accept header."
        ),
    ] = None,
) -> ExportFormat:
    """Dependency: the ``format`` parameter, else the ``Accept`` header."""
    if format is not None:
        return format
    representation, _ = choose(EXPORT_FORMATS, accept_of(request))
    return ExportFormat(representation.format)


ExportFormatDep = Annotated[ExportFormat, Depends(export_format)]


def export_responses(description: str) -> Responses:
    suffixes = ", ".join(r.suffix for r in EXPORT_FORMATS if r.suffix)
    return {
        200: {
            "description": f"{description} With format= or Accept, in another format; every "
            "answer carries 'Vary: Accept'. Each format is also an operation of its own, at "
            f"this path plus {suffixes}.",
            "content": {k: v for r in EXPORT_FORMATS for k, v in r.content().items()},
        }
    }


def export_response(snapshot: Snapshot, fmt: ExportFormat) -> StreamingResponse:
    release = snapshot.release
    # The body is streamed, so the ETag comes from what determines it: release and format.
    etag = hashlib.sha256(f"{release.content_hash}:{fmt.value}".encode()).hexdigest()[:32]
    return StreamingResponse(
        export(snapshot.session, release, fmt),
        media_type=EXPORT_MEDIA_TYPES[fmt],
        headers={
            "ETag": f'"{etag}"',
            "Content-Disposition": attachment(release.name, release.version, fmt),
            **snapshot.headers,
        },
    )


def _export_in(representation: Representation) -> Callable[..., StreamingResponse]:
    fmt = ExportFormat(representation.format)

    def endpoint(snapshot: ReleaseDep) -> StreamingResponse:
        return export_response(snapshot, fmt)

    return endpoint


WHAT = "The whole knowledge base with its release metadata"
JSON, NDJSON, CSV = EXPORT_FORMATS
add_representations(
    router,
    "exportKnowledgeBase",
    {"/v1/export.json": JSON, "/v1/export.ndjson": NDJSON, "/v1/export.zip": CSV},
    _export_in,
    WHAT,
)


@router.get(
    "/v1/export",
    operation_id="exportKnowledgeBase",
    response_class=StreamingResponse,
    responses=export_responses(f"{WHAT}."),
)
def export_(snapshot: ReleaseDep, fmt: ExportFormatDep) -> StreamingResponse:
    """Download everything: the release, citations, conditions, modalities and every claim."""
    return export_response(snapshot, fmt)
