"""/v1/export: the whole knowledge base, streamed, as JSON, NDJSON or a zip of CSV tables."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.domain import EXPORT_EXTENSIONS, EXPORT_MEDIA_TYPES, ExportFormat
from app.export import EXPORT_TABLES, attachment, export, no_such_table, table_bytes
from app.http.negotiation import (
    Representation,
    Responses,
    accept_of,
    add_representations,
    choose,
    readable,
    sent_as,
)
from app.queries.releases import current_export
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


def export_response(
    snapshot: Snapshot, fmt: ExportFormat, content_type: str | None = None
) -> Response:
    """The current release's export: the bytes its load kept (what
    /v1/releases/{version}/export serves), so every request is the same answer, kept in memory
    by the release layer like any other. A release loaded before exports were kept has its
    export built again, streamed."""
    release = snapshot.release
    disposition = {"Content-Disposition": attachment(release.name, release.version, fmt)}
    stored = current_export(snapshot.session, release, fmt.value)
    if stored is not None:
        return Response(
            stored.body,
            media_type=content_type or EXPORT_MEDIA_TYPES[fmt],
            headers={**disposition, **snapshot.headers},
        )
    # The body is streamed, so the ETag comes from what determines it: release and format.
    etag = hashlib.sha256(f"{release.content_hash}:{fmt.value}".encode()).hexdigest()[:32]
    return StreamingResponse(
        export(snapshot.session, release, fmt),
        media_type=content_type or EXPORT_MEDIA_TYPES[fmt],
        headers={"ETag": f'"{etag}"', **disposition, **snapshot.headers},
    )


def _export_in(representation: Representation) -> Callable[..., Response]:
    fmt = ExportFormat(representation.format)

    def endpoint(request: Request, snapshot: ReleaseDep) -> Response:
        return export_response(snapshot, fmt, representation.sent_as(request))

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


# Each table of the export on its own, at a path of its own: what read.csv(url) and
# pandas.read_csv(url) read, byte for byte the zip's member (or the NDJSON export's lines of it).
TABLE_NAMES = ", ".join(EXPORT_TABLES)


async def export_table_name(
    table: Annotated[
        str,
        Path(
            max_length=80,
            description=f"A table of the export: {TABLE_NAMES}.",
            examples=["indications"],
        ),
    ],
) -> str:
    return table


TableDep = Annotated[str, Depends(export_table_name)]
NO_TABLE: Responses = {404: {"description": "No such table; may suggest the nearest name."}}


def _stored_table(snapshot: Snapshot, fmt: ExportFormat, table: str) -> bytes:
    if table not in EXPORT_TABLES:
        raise no_such_table(table)
    stored = current_export(snapshot.session, snapshot.release, fmt.value)
    whole = (
        stored.body
        if stored is not None
        else b"".join(export(snapshot.session, snapshot.release, fmt))
    )
    return table_bytes(whole, fmt, table)


@router.get(
    "/v1/export/{table}.csv",
    operation_id="exportTableCsv",
    response_class=Response,
    responses={
        200: {
            "description": "One table of the export as CSV (UTF-8, header row): the same bytes "
            "as its member of /v1/export.zip.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **NO_TABLE,
    },
)
def export_table_csv(snapshot: ReleaseDep, table: TableDep) -> Response:
    """One table of the whole knowledge base as CSV, for read.csv(url) or pandas.read_csv(url)."""
    body = _stored_table(snapshot, ExportFormat.csv, table)
    return Response(body, media_type="text/csv; charset=utf-8", headers=snapshot.headers)


@router.get(
    "/v1/export/{table}.ndjson",
    operation_id="exportTableNdjson",
    response_class=Response,
    responses={
        200: {
            "description": "One table of the export as NDJSON: the lines of /v1/export.ndjson "
            "that hold its records, in the same order.",
            "content": readable(EXPORT_MEDIA_TYPES[ExportFormat.ndjson], {"type": "string"}),
        },
        **NO_TABLE,
    },
)
def export_table_ndjson(request: Request, snapshot: ReleaseDep, table: TableDep) -> Response:
    """One table of the whole knowledge base as NDJSON, one record per line."""
    body = _stored_table(snapshot, ExportFormat.ndjson, table)
    media_type = EXPORT_MEDIA_TYPES[ExportFormat.ndjson]
    return Response(
        body, media_type=sent_as(media_type, media_type, request), headers=snapshot.headers
    )


@router.get(
    "/v1/export",
    operation_id="exportKnowledgeBase",
    response_class=Response,
    responses=export_responses(f"{WHAT}."),
)
def export_(snapshot: ReleaseDep, fmt: ExportFormatDep) -> Response:
    """Download everything: the release, citations, conditions, modalities and every claim."""
    return export_response(snapshot, fmt)
