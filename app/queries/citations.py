"""Citations: the list, and one work with every claim that cites it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, cast, exists, func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import ClaimType, claim_path, claim_ref, indication_id
from app.queries.common import Memo, citation_out, not_found, text_match
from app.queries.ordering import bytewise
from app.urls import Urls

SEED_ORDER: list[tuple[ClaimType, str | None]] = [
    (ClaimType.modality, None),
    (ClaimType.indication, None),
    (ClaimType.consideration, "pro"),
    (ClaimType.consideration, "con"),
    (ClaimType.format, None),
    (ClaimType.component, None),
]


@dataclass(frozen=True)
class CitationFilter:
    q: str | None = None
    year: int | None = None
    modality: str | None = None
    limit: int | None = 20  # None: every match (a whole bibliography)
    offset: int = 0

    @property
    def whole(self) -> bool:
        """Every citation there is: no filter, no page."""
        return self == CitationFilter(limit=None)


def list_citations(session: Session, urls: Urls, f: CitationFilter) -> s.Page[s.Citation]:
    query = select(m.Citation.id)
    if f.q:
        query = query.where(
            text_match(
                f.q,
                m.Citation.key,
                m.Citation.title,
                m.Citation.container_title,
                m.Citation.doi,
                cast(m.Citation.authors, String),
            )
        )
    if f.year is not None:
        query = query.where(m.Citation.year == f.year)
    if f.modality:
        query = query.where(
            exists().where(
                (col(m.ClaimCitation.citation_id) == m.Citation.id)
                & (m.ClaimCitation.modality_id == m.Modality.id)
                & (m.Modality.slug == f.modality)
            )
        )
    ids = query.subquery()
    total = session.execute(select(func.count()).select_from(ids)).scalar_one()
    rows = session.execute(
        select(m.Citation)
        .where(col(m.Citation.id).in_(select(ids.c.id)))
        .order_by(bytewise(m.Citation.key))
        .limit(f.limit)
        .offset(f.offset)
    ).scalars()
    return s.Page[s.Citation](
        items=[citation_out(r, urls) for r in rows],
        total=total,
        limit=total if f.limit is None else f.limit,
        offset=f.offset,
    )


def all_citations(session: Session, urls: Urls, modality: str | None = None) -> list[s.Citation]:
    """Every citation (of one modality, when given), in key order: for the citation formats."""
    query = select(m.Citation).order_by(bytewise(m.Citation.key))
    if modality is not None:
        query = query.where(
            exists().where(
                (col(m.ClaimCitation.citation_id) == m.Citation.id)
                & (m.ClaimCitation.modality_id == m.Modality.id)
                & (m.Modality.slug == modality)
            )
        )
    return [citation_out(r, urls) for r in session.execute(query).scalars()]


def citations_by_key(session: Session, urls: Urls, keys: Iterable[str]) -> dict[str, s.Citation]:
    """The citations with these keys (unknown keys are left out): one statement."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.execute(select(m.Citation).where(col(m.Citation.key).in_(wanted))).scalars()
    return {row.key: citation_out(row, urls) for row in rows}


def modality_citations(session: Session, memo: Memo, urls: Urls, slug: str) -> list[s.Citation]:
    """Every work a modality cites, once, in key order; a 404 for an unknown modality."""
    found = session.execute(select(col(m.Modality.id)).where(col(m.Modality.slug) == slug)).first()
    if found is None:
        raise not_found(session, memo, "modality", m.Modality.slug, slug)
    return all_citations(session, urls, modality=slug)


def get_citation(session: Session, memo: Memo, urls: Urls, key: str) -> s.CitationDetail:
    row = session.execute(select(m.Citation).where(m.Citation.key == key)).scalar_one_or_none()
    if row is None:
        raise not_found(session, memo, "citation", m.Citation.key, key)
    links = session.execute(
        select(m.ClaimCitation, m.Modality.slug, m.Modality.name)
        .join(m.Modality, col(m.Modality.id) == m.ClaimCitation.modality_id)
        .where(m.ClaimCitation.citation_id == row.id)
        .order_by(col(m.ClaimCitation.id))
    ).all()
    texts = _claim_texts(session, [link for link, _, _ in links])
    cited: list[tuple[tuple[str, int, int], s.ClaimRef]] = []
    for link, slug, name in links:
        claim_type = ClaimType(link.claim_type)
        column = m.CLAIM_COLUMNS[claim_type]
        position, kind, own_id = 0, None, None
        if column is None:
            path, text = "", name
        else:
            position, kind, text, own_id = texts[(claim_type, getattr(link, column))]
            path = claim_path(claim_type, position, kind)
        # An indication is named by its one id and links its own record.
        ref = s.ClaimRef(
            modality=slug,
            type=claim_type,
            path=path,
            id=own_id or claim_ref(slug, path),
            text=text,
            url=urls.indication(own_id) if own_id else urls.modality(slug),
        )
        # In the order the claims stand in the modality's seed file.
        cited.append(((slug, SEED_ORDER.index((claim_type, kind)), position), ref))
    cited_by = [ref for _, ref in sorted(cited, key=lambda pair: pair[0])]
    return s.CitationDetail(**citation_out(row, urls).model_dump(), cited_by=cited_by)


def _claim_texts(
    session: Session, links: list[m.ClaimCitation]
) -> dict[tuple[ClaimType, int], tuple[int, str | None, str, str | None]]:
    """(claim type, id) → (position, consideration kind, short text, the indication's id for an
    indication): one statement per type."""
    wanted: dict[ClaimType, set[int]] = {}
    for link in links:
        column = m.CLAIM_COLUMNS[ClaimType(link.claim_type)]
        if column is not None:
            wanted.setdefault(ClaimType(link.claim_type), set()).add(getattr(link, column))
    out: dict[tuple[ClaimType, int], tuple[int, str | None, str, str | None]] = {}
    if ids := wanted.get(ClaimType.indication):
        for i, x, condition, condition_slug in session.execute(
            select(m.Indication, m.Modality, col(m.Condition.name), col(m.Condition.slug))
            .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
            .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
            .where(col(m.Indication.id).in_(ids))
        ).all():
            out[(ClaimType.indication, i.id)] = (
                i.position,
                None,
                f"{x.abbreviation} for {condition} ({i.evidence}, {i.population}"
                + (f", {i.variant})" if i.variant else ")"),
                indication_id(x.slug, condition_slug, i.population, i.variant),
            )
    if ids := wanted.get(ClaimType.consideration):
        considerations = select(m.Consideration).where(col(m.Consideration.id).in_(ids))
        for c in session.execute(considerations).scalars():
            out[(ClaimType.consideration, c.id or 0)] = (
                c.position,
                c.kind,
                f"{c.kind}: {c.statement}",
                None,
            )
    if ids := wanted.get(ClaimType.format):
        for f in session.execute(select(m.Format).where(col(m.Format.id).in_(ids))).scalars():
            out[(ClaimType.format, f.id or 0)] = (f.position, None, f"{f.delivery} format", None)
    if ids := wanted.get(ClaimType.component):
        for c in session.execute(select(m.Component).where(col(m.Component.id).in_(ids))).scalars():
            out[(ClaimType.component, c.id or 0)] = (
                c.position,
                None,
                f"{c.kind}: {c.name}",
                None,
            )
    return out
