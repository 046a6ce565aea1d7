"""/v1/releases: every release ever loaded, its export as first served, and diffs between two."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app import schemas as s
from app.domain import EXPORT_MEDIA_TYPES, ExportFormat
from app.export import EXPORT_TABLES, attachment, no_such_table, table_bytes
from app.http.negotiation import Representation, add_representations, readable, sent_as
from app.http.origin import UrlsDep
from app.queries.releases import list_releases, release_summary
from app.queries.releases import snapshot as kept_export
from app.release import ReleaseDep, Snapshot
from app.release.history import diff
from app.routes.export import (
    CSV,
    JSON,
    NDJSON,
    NO_TABLE,
    ExportFormatDep,
    TableDep,
    export_responses,
)
from app.routes.params import PagingDep, set_link_header

router = APIRouter(tags=["releases"])

Version = Annotated[
    str, Path(min_length=1, max_length=64, description="A release version, e.g. 1.0.0.")
]
# An old release never changes again; the current one is cached like the rest of /v1.
IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/v1/releases", operation_id="listReleases", response_model=s.Page[s.ReleaseSummary])
def list_(
    request: Request, response: Response, snapshot: ReleaseDep, urls: UrlsDep, paging: PagingDep
) -> s.Page[s.ReleaseSummary]:
    """List every release loaded so far, newest first."""
    current = snapshot.release.content_hash
    page = list_releases(snapshot.session, urls, current, paging.limit, paging.offset)
    set_link_header(request, response, urls, page.total, paging)
    return page


@router.get("/v1/releases/{version}", operation_id="getRelease", response_model=s.ReleaseSummary)
def get(snapshot: ReleaseDep, urls: UrlsDep, version: Version) -> s.ReleaseSummary:
    """One release: metadata, counts and where its exports are."""
    current = snapshot.release.content_hash
    return release_summary(snapshot.session, snapshot.memo, urls, version, current)


def release_export(
    snapshot: Snapshot, version: str, fmt: ExportFormat, content_type: str | None = None
) -> Response:
    """A release's export exactly as it was when the release was loaded (sent as
    ``content_type``, else its format's media type)."""
    record, stored = kept_export(snapshot.session, snapshot.memo, version, fmt.value)
    headers = {
        # From the stored bytes alone: loading a later release does not change it.
        "ETag": f'"{stored.sha256[:32]}"',
        "Content-Disposition": attachment(record.name, record.version, fmt),
        **snapshot.headers,
    }
    if record.content_hash != snapshot.release.content_hash:
        headers["Cache-Control"] = IMMUTABLE
    return Response(
        stored.body, media_type=content_type or EXPORT_MEDIA_TYPES[fmt], headers=headers
    )


def _release_export_in(representation: Representation) -> Callable[..., Response]:
    fmt = ExportFormat(representation.format)

    def endpoint(request: Request, snapshot: ReleaseDep, version: Version) -> Response:
        return release_export(snapshot, version, fmt, representation.sent_as(request))

    return endpoint


WHAT = "The release's whole export, the same bytes every time"
add_representations(
    router,
    "exportRelease",
    {
        "/v1/releases/{version}/export.json": JSON,
        "/v1/releases/{version}/export.ndjson": NDJSON,
        "/v1/releases/{version}/export.zip": CSV,
    },
    _release_export_in,
    WHAT,
)


@router.get(
    "/v1/releases/{version}/export",
    operation_id="exportRelease",
    response_class=Response,
    responses=export_responses(f"{WHAT}."),
)
def export_(snapshot: ReleaseDep, version: Version, fmt: ExportFormatDep) -> Response:
    """Download a release's export exactly as it was when the release was loaded."""
    return release_export(snapshot, version, fmt)


def release_table(
    snapshot: Snapshot, version: str, fmt: ExportFormat, table: str, content_type: str
) -> Response:
    """One table of a release's kept export: the zip's member, or the NDJSON lines of it."""
    if table not in EXPORT_TABLES:
        raise no_such_table(table)
    record, stored = kept_export(snapshot.session, snapshot.memo, version, fmt.value)
    body = table_bytes(stored.body, fmt, table)
    headers = {"ETag": f'"{hashlib.sha256(body).hexdigest()[:32]}"', **snapshot.headers}
    if record.content_hash != snapshot.release.content_hash:
        headers["Cache-Control"] = IMMUTABLE
    return Response(body, media_type=content_type, headers=headers)


@router.get(
    "/v1/releases/{version}/export/{table}.csv",
    operation_id="exportReleaseTableCsv",
    response_class=Response,
    responses={
        200: {
            "description": "One table of the release's export as CSV: the same bytes as its "
            "member of /v1/releases/{version}/export.zip.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **NO_TABLE,
    },
)
def export_table_csv(snapshot: ReleaseDep, version: Version, table: TableDep) -> Response:
    """One table of a release's export as CSV, as it was when the release was loaded."""
    csv_type = "text/csv; charset=utf-8"
    return release_table(snapshot, version, ExportFormat.csv, table, csv_type)


@router.get(
    "/v1/releases/{version}/export/{table}.ndjson",
    operation_id="exportReleaseTableNdjson",
    response_class=Response,
    responses={
        200: {
            "description": "One table of the release's export as NDJSON: the lines of "
            "/v1/releases/{version}/export.ndjson that hold its records.",
            "content": readable(EXPORT_MEDIA_TYPES[ExportFormat.ndjson], {"type": "string"}),
        },
        **NO_TABLE,
    },
)
def export_table_ndjson(
    request: Request, snapshot: ReleaseDep, version: Version, table: TableDep
) -> Response:
    """One table of a release's export as NDJSON, as it was when the release was loaded."""
    media_type = EXPORT_MEDIA_TYPES[ExportFormat.ndjson]
    content_type = sent_as(media_type, media_type, request)
    return release_table(snapshot, version, ExportFormat.ndjson, table, content_type)


@router.get(
    "/v1/releases/{old}/diff/{new}", operation_id="diffReleases", response_model=s.ReleaseDiff
)
def diff_(snapshot: ReleaseDep, old: Version, new: Version) -> s.ReleaseDiff:
    """What changed from one release to another: added, removed and changed entities."""
    _, before = kept_export(snapshot.session, snapshot.memo, old, ExportFormat.json.value)
    _, after = kept_export(snapshot.session, snapshot.memo, new, ExportFormat.json.value)
    return diff(before.body, after.body)
