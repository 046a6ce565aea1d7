"""Indications: one row per modality, condition and population, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import Category, Evidence, Population, Recommendation
from app.queries.common import EVIDENCE_RANK_SQL, Memo, codes_for, indication_criteria
from app.queries.conditions import indications_where
from app.queries.modalities import get_modality_row
from app.urls import Urls

# Strongest first, then by modality slug, condition slug and population: the three name one
# indication, so the order is total and a page never shifts between requests.
LIST_ORDER = (
    EVIDENCE_RANK_SQL.desc(),
    col(m.Modality.slug),
    col(m.Condition.slug),
    col(m.Indication.population),
)


@dataclass(frozen=True)
class IndicationFilter:
    modality: str | None = None  # a slug; unknown is a 404
    condition_ids: list[int] | None = None  # a condition and its narrower ones, resolved
    population: Population | None = None
    min_evidence: Evidence | None = None
    guideline: Recommendation | None = None
    category: Category | None = None
    limit: int = 20
    offset: int = 0


def list_indications(
    session: Session, memo: Memo, urls: Urls, f: IndicationFilter
) -> s.Page[s.IndicationRow]:
    """One page of indications, every filter holding for each one: seven statements (one more
    with a modality), however many indications."""
    criteria: list[ColumnElement[bool]] = indication_criteria(
        condition_ids=f.condition_ids,
        population=f.population,
        min_evidence=f.min_evidence,
        guideline=f.guideline,
    )
    if f.modality is not None:
        criteria.append(
            col(m.Indication.modality_id) == get_modality_row(session, memo, f.modality).id
        )
    if f.category is not None:
        criteria.append(col(m.Modality.category) == f.category.value)
    total = session.execute(
        select(func.count())
        .select_from(m.Indication)
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .where(*criteria)
    ).scalar_one()
    found = indications_where(session, urls, criteria, LIST_ORDER, f.limit, f.offset)
    codes = codes_for(session, (c.id for c, _ in found if c.id is not None))
    items = [
        s.IndicationRow(**fields, condition_name=c.name, codes=codes.get(c.id or 0, []))
        for c, fields in found
    ]
    return s.Page[s.IndicationRow](items=items, total=total, limit=f.limit, offset=f.offset)
