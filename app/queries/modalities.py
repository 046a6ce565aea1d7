"""Modalities: the filtered list and the whole record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, cast, exists, func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import (
    Category,
    ClaimType,
    Delivery,
    Evidence,
    Population,
    Recommendation,
)
from app.queries.common import (
    EVIDENCE_RANK_SQL,
    Memo,
    citation_links,
    citation_out,
    codes_for,
    evidence_bases,
    evidence_basis_fields,
    format_ranges,
    identity_fields,
    indication_criteria,
    not_found,
    text_match,
)
from app.queries.ordering import bytewise
from app.queries.trial_table import TrialTable, load_trial_table, trial_table
from app.urls import Urls


class ModalitySort(StrEnum):
    name = "name"
    name_desc = "-name"
    evidence = "evidence"


@dataclass(frozen=True)
class ModalityFilter:
    category: Category | None = None
    condition_ids: list[int] | None = None  # a condition and its narrower ones, resolved
    min_evidence: Evidence | None = None
    delivery: Delivery | None = None
    guideline: Recommendation | None = None
    population: Population | None = None
    variant: str | None = None
    q: str | None = None
    sort: ModalitySort = ModalitySort.name
    limit: int = 20
    offset: int = 0


def _indicated(f: ModalityFilter) -> ColumnElement[bool] | None:
    """Has one indication matching the condition, population, evidence and guideline filters
    together (any may be absent)."""
    criteria = indication_criteria(
        condition_ids=f.condition_ids,
        population=f.population,
        min_evidence=f.min_evidence,
        guideline=f.guideline,
        variant=f.variant,
    )
    if not criteria:
        return None
    return exists().where(col(m.Indication.modality_id) == m.Modality.id, *criteria)


def _filtered(f: ModalityFilter) -> Select[int | None]:
    query = select(m.Modality.id)
    if f.category is not None:
        query = query.where(m.Modality.category == f.category.value)
    indicated = _indicated(f)
    if indicated is not None:
        query = query.where(indicated)
    if f.delivery is not None:
        query = query.where(
            exists().where(
                (col(m.Format.modality_id) == m.Modality.id)
                & (m.Format.delivery == f.delivery.value)
            )
        )
    if f.q:
        query = query.where(
            text_match(
                f.q,
                m.Modality.slug,
                m.Modality.name,
                m.Modality.abbreviation,
                m.Modality.summary,
                m.Modality.description,
                cast(m.Modality.aliases, String),
            )
        )
    return query


def list_modalities(session: Session, urls: Urls, f: ModalityFilter) -> s.Page[s.ModalitySummary]:
    """One page of modalities: a count, then the page with each modality's evidence."""
    ids = _filtered(f).subquery()
    total = session.execute(select(func.count()).select_from(ids)).scalar_one()

    # The strongest level among the indications in scope: the condition's (and its narrower
    # ones') and the population's when given, else all of the modality's.
    best = (
        select(func.max(EVIDENCE_RANK_SQL))
        .where(
            col(m.Indication.modality_id) == m.Modality.id,
            *indication_criteria(
                condition_ids=f.condition_ids, population=f.population, variant=f.variant
            ),
        )
        .scalar_subquery()
    )
    name_key = func.lower(m.Modality.name)  # indexed with slug: ix_modality_name_order
    order: list[Any]  # ORDER BY terms
    if f.sort is ModalitySort.evidence:
        # NULL (no indication) sorts last on both engines.
        order = [func.coalesce(best, 0).desc(), name_key, col(m.Modality.slug)]
    elif f.sort is ModalitySort.name_desc:
        order = [name_key.desc(), col(m.Modality.slug).desc()]
    else:
        order = [name_key, col(m.Modality.slug)]
    # The page's ids first, sorted on narrow rows (along the name index when sorting by name),
    # then only those rows: paging deep into a large list stays cheap.
    page = _filtered(f).order_by(*order).limit(f.limit).offset(f.offset)
    columns: list[Any] = [
        col(m.Modality.slug),
        col(m.Modality.name),
        col(m.Modality.abbreviation),
        col(m.Modality.category),
        col(m.Modality.aliases),
        col(m.Modality.summary),
        best.label("best"),
    ]
    rows = session.execute(
        select(*columns).where(col(m.Modality.id).in_(page)).order_by(*order)
    ).all()

    by_rank = {level.rank: level for level in Evidence}
    items = [
        s.ModalitySummary(
            slug=row.slug,
            name=row.name,
            abbreviation=row.abbreviation,
            category=row.category,
            aliases=row.aliases,
            summary=row.summary,
            evidence=by_rank.get(row.best),
            url=urls.modality(row.slug),
        )
        for row in rows
    ]
    return s.Page[s.ModalitySummary](items=items, total=total, limit=f.limit, offset=f.offset)


PRELOAD_BATCH = 200


def every_modality(
    session: Session, urls: Urls
) -> Iterator[tuple[dict[str, str], s.ModalityDetail]]:
    """Every whole record, as (path parameters, record), read in batches of 200 modalities
    (six statements a batch, and seven for the trial table once): what
    ``GET /v1/modalities/{slug}`` preloads per release."""
    trials = load_trial_table(session)
    last = ""
    while True:
        rows = list(
            session.execute(
                select(m.Modality)
                .where(col(m.Modality.slug) > last)
                .order_by(bytewise(col(m.Modality.slug)))
                .limit(PRELOAD_BATCH)
            ).scalars()
        )
        if not rows:
            return
        details = modality_details(session, urls, rows, trials)
        for row, detail in zip(rows, details, strict=True):
            yield {"slug": row.slug}, detail
        last = rows[-1].slug


def get_modality_row(session: Session, memo: Memo, slug: str) -> m.Modality:
    query = select(m.Modality).where(m.Modality.slug == slug)
    row: m.Modality | None = session.execute(query).scalar_one_or_none()
    if row is None:
        raise not_found(session, memo, "modality", m.Modality.slug, slug)
    return row


def get_modality(
    session: Session, memo: Memo, urls: Urls, slug: str, include_citations: bool
) -> s.ModalityDetail:
    """The whole record: nine statements, ten with the citations embedded."""
    row = get_modality_row(session, memo, slug)
    detail = modality_details(session, urls, [row], trial_table(session, memo))[0]
    if include_citations:
        cited = sorted({key for part in _cited_parts(detail) for key in part})
        rows = session.execute(
            select(m.Citation)
            .where(col(m.Citation.key).in_(cited))
            .order_by(bytewise(m.Citation.key))
        ).scalars()
        detail.included_citations = [citation_out(r, urls) for r in rows]
    return detail


def _cited_parts(detail: s.ModalityDetail) -> list[list[str]]:
    parts: list[list[str]] = [detail.citations]
    for claims in (detail.indications, detail.pros, detail.cons, detail.formats, detail.components):
        parts.extend(claim.citations for claim in claims)
    return parts


def modality_details(
    session: Session, urls: Urls, rows: list[m.Modality], trials: TrialTable | None = None
) -> list[s.ModalityDetail]:
    """Whole records for several modalities at once: eight statements for any number of them."""
    ids = [x.id for x in rows if x.id is not None]
    links = citation_links(session, ids)

    indications: dict[int, list[tuple[m.Indication, m.Condition]]] = defaultdict(list)
    for i, c in session.execute(
        select(m.Indication, m.Condition)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .where(col(m.Indication.modality_id).in_(ids))
        .order_by(EVIDENCE_RANK_SQL.desc(), col(m.Indication.position))
    ).all():
        indications[i.modality_id].append((i, c))
    codes = codes_for(
        session, (c.id for pairs in indications.values() for _, c in pairs if c.id is not None)
    )
    bases = evidence_bases(
        session,
        (i.id for pairs in indications.values() for i, _ in pairs if i.id is not None),
        trials,
    )
    considerations = _by_modality(session, m.Consideration, ids)
    formats = _by_modality(session, m.Format, ids)
    components = _by_modality(session, m.Component, ids)

    def keys(claim_type: ClaimType, claim_id: int | None) -> list[str]:
        return links.get((claim_type.value, claim_id or 0), [])

    def consideration(c: m.Consideration) -> s.Consideration:
        return s.Consideration(
            statement=c.statement, detail=c.detail, citations=keys(ClaimType.consideration, c.id)
        )

    out = []
    for x in rows:
        mid = x.id or 0
        out.append(
            s.ModalityDetail(
                url=urls.modality(x.slug),
                slug=x.slug,
                name=x.name,
                abbreviation=x.abbreviation,
                category=x.category,
                aliases=x.aliases,
                summary=x.summary,
                description=x.description,
                origin=x.origin,
                goals=x.goals,
                citations=keys(ClaimType.modality, x.id),
                indications=[
                    s.Indication(
                        **identity_fields(urls, i, x.slug, c.slug),
                        condition=c.slug,
                        condition_name=c.name,
                        codes=codes.get(c.id or 0, []),
                        evidence=i.evidence,
                        population=i.population,
                        summary=i.summary,
                        **evidence_basis_fields(urls, i, bases),
                        citations=keys(ClaimType.indication, i.id),
                    )
                    for i, c in indications[mid]
                ],
                pros=[consideration(c) for c in considerations[mid] if c.kind == "pro"],
                cons=[consideration(c) for c in considerations[mid] if c.kind == "con"],
                formats=[
                    s.Format(
                        **format_ranges(f), notes=f.notes, citations=keys(ClaimType.format, f.id)
                    )
                    for f in formats[mid]
                ],
                components=[
                    s.Component(
                        kind=c.kind,
                        name=c.name,
                        description=c.description,
                        citations=keys(ClaimType.component, c.id),
                    )
                    for c in components[mid]
                ],
            )
        )
    return out


ClaimRow = TypeVar("ClaimRow", m.Consideration, m.Format, m.Component)


def _by_modality(
    session: Session, table: type[ClaimRow], ids: list[int]
) -> dict[int, list[ClaimRow]]:
    out: dict[int, list[ClaimRow]] = defaultdict(list)
    for row in session.execute(
        select(table).where(col(table.modality_id).in_(ids)).order_by(col(table.position))
    ).scalars():
        out[row.modality_id].append(row)
    return out
