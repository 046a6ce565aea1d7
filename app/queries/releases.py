"""The kept releases: listed, looked up by version, and their stored exports."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import EXPORT_MEDIA_TYPES, ExportFormat
from app.queries.common import Memo, as_utc, not_found
from app.urls import Urls


def _summary(urls: Urls, record: m.ReleaseRecord, current_hash: str) -> s.ReleaseSummary:
    return s.ReleaseSummary(
        name=record.name,
        version=record.version,
        license=record.license,
        description=record.description,
        release_date=record.release_date,
        content_hash=record.content_hash,
        loaded_at=as_utc(record.loaded_at),
        current=record.content_hash == current_hash,
        counts=record.counts,
        exports=[
            s.ExportLink(
                format=fmt, media_type=EXPORT_MEDIA_TYPES[fmt], url=urls.export(record.version, fmt)
            )
            for fmt in ExportFormat
        ],
    )


def list_releases(
    session: Session, urls: Urls, current_hash: str, limit: int, offset: int
) -> s.Page[s.ReleaseSummary]:
    """Newest first: by load order, which is the order versions were published in."""
    total = session.execute(select(func.count()).select_from(m.ReleaseRecord)).scalar_one()
    records = session.execute(
        select(m.ReleaseRecord).order_by(col(m.ReleaseRecord.id).desc()).limit(limit).offset(offset)
    ).scalars()
    return s.Page(
        items=[_summary(urls, r, current_hash) for r in records],
        total=total,
        limit=limit,
        offset=offset,
    )


def history_length(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(m.ReleaseRecord)).scalar_one())


def get_release(session: Session, memo: Memo, version: str) -> m.ReleaseRecord:
    record = session.execute(
        select(m.ReleaseRecord).where(col(m.ReleaseRecord.version) == version)
    ).scalar_one_or_none()
    if record is None:
        raise not_found(session, memo, "release", m.ReleaseRecord.version, version)
    found: m.ReleaseRecord = record
    return found


def release_summary(
    session: Session, memo: Memo, urls: Urls, version: str, current_hash: str
) -> s.ReleaseSummary:
    return _summary(urls, get_release(session, memo, version), current_hash)


def snapshot(
    session: Session, memo: Memo, version: str, fmt: str
) -> tuple[m.ReleaseRecord, m.ReleaseSnapshot]:
    record = get_release(session, memo, version)
    stored = session.execute(
        select(m.ReleaseSnapshot).where(
            col(m.ReleaseSnapshot.release_id) == record.id,
            col(m.ReleaseSnapshot.format) == fmt,
        )
    ).scalar_one()
    return record, stored


def current_export(session: Session, release: m.Release, fmt: str) -> m.ReleaseSnapshot | None:
    """The export the load of the current release kept, in one format; ``None`` for a release
    loaded before exports were kept."""
    stored: m.ReleaseSnapshot | None = session.execute(
        select(m.ReleaseSnapshot)
        .join(m.ReleaseRecord, col(m.ReleaseRecord.id) == col(m.ReleaseSnapshot.release_id))
        .where(
            col(m.ReleaseRecord.version) == release.version,
            col(m.ReleaseRecord.content_hash) == release.content_hash,
            col(m.ReleaseSnapshot.format) == fmt,
        )
    ).scalar_one_or_none()
    return stored
