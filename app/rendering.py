"""Rendering, at seed time, the answers that are costly to assemble per request."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session, col

from app import models as m
from app.queries.modalities import modality_details

BATCH = 200


def render_modalities(session: Session) -> int:
    """Rewrite every modality's served JSON from the loaded content; returns how many."""
    session.execute(delete(m.RenderedModality))
    done, last_id = 0, 0
    while True:
        rows = list(
            session.execute(
                select(m.Modality)
                .where(col(m.Modality.id) > last_id)
                .order_by(col(m.Modality.id))
                .limit(BATCH)
            ).scalars()
        )
        if not rows:
            return done
        details = modality_details(session, rows)
        session.execute(
            insert(m.RenderedModality),
            [
                {"modality_id": row.id, "body": detail.model_dump_json()}
                for row, detail in zip(rows, details, strict=True)
            ],
        )
        done += len(rows)
        last_id = rows[-1].id or 0


def rendering_incomplete(session: Session) -> bool:
    """True when some modality has no rendered record (say, right after the migration)."""
    rendered = session.execute(select(func.count()).select_from(m.RenderedModality)).scalar_one()
    total = session.execute(select(func.count()).select_from(m.Modality)).scalar_one()
    return bool(rendered != total)
