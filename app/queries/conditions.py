"""Conditions: the list, and one condition with the modalities indicated for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import String, cast, exists, func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import ClaimType, condition_url, modality_url
from app.queries.common import (
    EVIDENCE_RANK_SQL,
    codes_for,
    descendants,
    evidence_bases,
    evidence_basis_fields,
    not_found,
    text_match,
)

Parent = m.ParentCondition


@dataclass(frozen=True)
class ConditionFilter:
    q: str | None = None
    code: str | None = None
    parent: str | None = None
    limit: int = 20
    offset: int = 0


def list_conditions(session: Session, f: ConditionFilter) -> s.Page[s.ConditionSummary]:
    query = select(m.Condition.id)
    if f.q:
        query = query.where(
            text_match(
                f.q,
                m.Condition.slug,
                m.Condition.name,
                m.Condition.description,
                cast(m.Condition.aliases, String),
            )
        )
    if f.code:
        query = query.where(
            exists().where(
                (col(m.ConditionCode.condition_id) == m.Condition.id)
                & (func.upper(m.ConditionCode.code) == f.code.upper())
            )
        )
    if f.parent:
        query = query.where(
            col(m.Condition.parent_id).in_(select(Parent.c.id).where(Parent.c.slug == f.parent))
        )
    ids = query.subquery()
    total = session.execute(select(func.count()).select_from(ids)).scalar_one()
    rows = session.execute(
        select(m.Condition, Parent.c.slug)
        .outerjoin(Parent, Parent.c.id == m.Condition.parent_id)
        .where(col(m.Condition.id).in_(select(ids.c.id)))
        .order_by(func.lower(m.Condition.name), m.Condition.slug)
        .limit(f.limit)
        .offset(f.offset)
    ).all()
    codes = codes_for(session, (c.id for c, _ in rows if c.id is not None))
    items = [_summary(c, parent, codes.get(c.id or 0, [])) for c, parent in rows]
    return s.Page[s.ConditionSummary](items=items, total=total, limit=f.limit, offset=f.offset)


def _summary(c: m.Condition, parent: str | None, codes: list[s.Code]) -> s.ConditionSummary:
    return s.ConditionSummary(
        slug=c.slug,
        name=c.name,
        aliases=c.aliases,
        parent=parent,
        description=c.description,
        codes=codes,
        url=condition_url(c.slug),
    )


def condition_summaries(session: Session) -> Iterator[s.ConditionSummary]:
    """Every condition in slug order (for the export): two statements."""
    rows = session.execute(
        select(m.Condition, Parent.c.slug)
        .outerjoin(Parent, Parent.c.id == m.Condition.parent_id)
        .order_by(m.Condition.slug)
    ).all()
    codes = codes_for(session, (c.id for c, _ in rows if c.id is not None))
    for c, parent in rows:
        yield _summary(c, parent, codes.get(c.id or 0, []))


def get_condition(session: Session, slug: str) -> s.ConditionDetail:
    found = session.execute(
        select(m.Condition, Parent.c.slug)
        .outerjoin(Parent, Parent.c.id == m.Condition.parent_id)
        .where(m.Condition.slug == slug)
    ).one_or_none()
    if found is None:
        raise not_found(session, "condition", m.Condition.slug, slug)
    condition, parent = found
    assert condition.id is not None
    codes = codes_for(session, [condition.id])
    children = session.execute(
        select(m.Condition.slug, m.Condition.name)
        .where(m.Condition.parent_id == condition.id)
        .order_by(func.lower(m.Condition.name))
    ).all()
    modalities = indications_for(session, descendants(session, condition.id))
    return s.ConditionDetail(
        **_summary(condition, parent, codes.get(condition.id, [])).model_dump(),
        children=[
            s.ConditionRef(slug=c_slug, name=name, url=condition_url(c_slug))
            for c_slug, name in children
        ],
        modalities=modalities,
    )


def indications_for(
    session: Session, condition_ids: list[int], modality_ids: list[int] | None = None
) -> list[s.ConditionIndication]:
    """Indications for these conditions (of these modalities), strongest first, each with its
    citations and evidence basis: four statements."""
    query = (
        select(m.Indication, m.Modality, m.Condition.slug)
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .where(col(m.Indication.condition_id).in_(condition_ids))
        .order_by(EVIDENCE_RANK_SQL.desc(), func.lower(m.Modality.name), col(m.Indication.position))
    )
    if modality_ids is not None:
        query = query.where(col(m.Indication.modality_id).in_(modality_ids))
    rows = session.execute(query).all()
    indication_ids = [i.id for i, _, _ in rows if i.id is not None]
    keys = indication_citations(session, indication_ids)
    bases = evidence_bases(session, indication_ids)
    return [
        s.ConditionIndication(
            modality=x.slug,
            modality_name=x.name,
            category=x.category,
            condition=c_slug,
            evidence=i.evidence,
            population=i.population,
            summary=i.summary,
            **evidence_basis_fields(i, bases),
            citations=keys.get(i.id or 0, []),
            url=modality_url(x.slug),
        )
        for i, x, c_slug in rows
    ]


def indication_citations(session: Session, indication_ids: list[int]) -> dict[int, list[str]]:
    if not indication_ids:
        return {}
    out: dict[int, list[str]] = {}
    for ind_id, key in session.execute(
        select(m.ClaimCitation.indication_id, m.Citation.key)
        .join(m.Citation, col(m.Citation.id) == m.ClaimCitation.citation_id)
        .where(
            (col(m.ClaimCitation.claim_type) == ClaimType.indication.value)
            & col(m.ClaimCitation.indication_id).in_(indication_ids)
        )
        .order_by(col(m.ClaimCitation.id))
    ).all():
        out.setdefault(ind_id, []).append(key)
    return out
