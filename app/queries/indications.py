"""Indications: one row per modality, condition and population, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import Category, Evidence, Population, Recommendation, indication_id
from app.errors import NotFound
from app.queries.common import EVIDENCE_RANK_SQL, Memo, codes_for, indication_criteria
from app.queries.conditions import indications_where
from app.queries.modalities import get_modality_row
from app.queries.trial_table import trial_table
from app.suggest import suggest
from app.urls import Urls

# Strongest first, then by modality slug, condition slug, population and variant: the four
# name one indication, so the order is total and a page never shifts between requests.
LIST_ORDER = (
    EVIDENCE_RANK_SQL.desc(),
    col(m.Modality.slug),
    col(m.Condition.slug),
    col(m.Indication.population),
    func.coalesce(m.Indication.variant, ""),
)


@dataclass(frozen=True)
class IndicationFilter:
    modality: str | None = None  # a slug; unknown is a 404
    condition_ids: list[int] | None = None  # a condition and its narrower ones, resolved
    population: Population | None = None
    min_evidence: Evidence | None = None
    guideline: Recommendation | None = None
    category: Category | None = None
    variant: str | None = None
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
        variant=f.variant,
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
    found = indications_where(
        session, urls, criteria, LIST_ORDER, f.limit, f.offset, trials=trial_table(session, memo)
    )
    codes = codes_for(session, (c.id for c, _ in found if c.id is not None))
    items = [
        s.IndicationRow(**fields, condition_name=c.name, codes=codes.get(c.id or 0, []))
        for c, fields in found
    ]
    return s.Page[s.IndicationRow](items=items, total=total, limit=f.limit, offset=f.offset)


def _every_id(session: Session) -> list[str]:
    rows = session.execute(
        select(
            col(m.Modality.slug),
            col(m.Condition.slug),
            col(m.Indication.population),
            col(m.Indication.variant),
        )
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
    ).all()
    return [indication_id(*row) for row in rows]


def get_indication(session: Session, memo: Memo, urls: Urls, id_: str) -> s.IndicationRow:
    """One indication by its id (``modality:condition:population[:variant]``): four
    statements; an unknown id is a 404 suggesting the nearest one."""
    parts = id_.split(":")
    criteria: list[ColumnElement[bool]] = [false()]
    if len(parts) in (3, 4):
        modality, condition, population, *variant = parts
        criteria = [
            col(m.Modality.slug) == modality,
            col(m.Condition.slug) == condition,
            col(m.Indication.population) == population,
            col(m.Indication.variant) == variant[0]
            if variant
            else col(m.Indication.variant).is_(None),
        ]
    found = indications_where(
        session, urls, criteria, LIST_ORDER, 1, trials=trial_table(session, memo)
    )
    if not found:
        known = memo("every indication id", lambda: _every_id(session))
        close = suggest(id_, known)
        detail = f"no indication '{id_}'"
        if close is not None:
            raise NotFound(f"{detail}; did you mean '{close}'?", suggestion=close)
        raise NotFound(detail)
    c, fields = found[0]
    codes = codes_for(session, [c.id or 0])
    return s.IndicationRow(**fields, condition_name=c.name, codes=codes.get(c.id or 0, []))
