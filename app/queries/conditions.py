"""Conditions: the list, one condition with the modalities indicated for it, and the reading of
indications that the condition, the comparison and the indication list share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import ClaimType, Population
from app.queries.common import (
    EVIDENCE_RANK_SQL,
    Memo,
    code_condition,
    codes_for,
    condition_not_found,
    descendants,
    evidence_bases,
    evidence_basis_fields,
    identity_fields,
    indication_criteria,
    not_found,
    text_match,
)
from app.queries.ordering import bytewise
from app.queries.trial_table import TrialTable, trial_table
from app.urls import Urls

Parent = m.ParentCondition


@dataclass(frozen=True)
class ConditionFilter:
    q: str | None = None
    code: str | None = None
    parent: str | None = None
    population: Population | None = None
    limit: int = 20
    offset: int = 0


def list_conditions(session: Session, urls: Urls, f: ConditionFilter) -> s.Page[s.ConditionSummary]:
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
        # The condition the code leads to by the classification's hierarchy, or none.
        led_to = code_condition(session, f.code).condition
        query = query.where(col(m.Condition.id) == (led_to.id if led_to else None))
    if f.parent:
        query = query.where(
            col(m.Condition.parent_id).in_(select(Parent.c.id).where(Parent.c.slug == f.parent))
        )
    if f.population is not None:
        query = query.where(col(m.Condition.id).in_(_covered(f.population)))
    ids = query.subquery()
    total = session.execute(select(func.count()).select_from(ids)).scalar_one()
    rows = session.execute(
        select(m.Condition, Parent.c.slug)
        .outerjoin(Parent, Parent.c.id == m.Condition.parent_id)
        .where(col(m.Condition.id).in_(select(ids.c.id)))
        .order_by(bytewise(func.lower(m.Condition.name)), bytewise(m.Condition.slug))
        .limit(f.limit)
        .offset(f.offset)
    ).all()
    codes = codes_for(session, (c.id for c, _ in rows if c.id is not None))
    items = [_summary(urls, c, parent, codes.get(c.id or 0, [])) for c, parent in rows]
    return s.Page[s.ConditionSummary](items=items, total=total, limit=f.limit, offset=f.offset)


def _covered(population: Population) -> Select[Any]:
    """Ids of the conditions with an indication for the population, their own or a narrower
    condition's (what their detail lists): a recursive query up the tree, in the statement."""
    direct: Select[Any] = select(col(m.Indication.condition_id).label("id")).where(
        *indication_criteria(population=population)
    )
    covered = direct.cte("covered", recursive=True)
    broader: Select[Any] = select(col(m.Condition.parent_id).label("id")).join(
        covered, covered.c.id == m.Condition.id
    )
    covered = covered.union(broader.where(col(m.Condition.parent_id).is_not(None)))
    return select(covered.c.id)


def _summary(
    urls: Urls, c: m.Condition, parent: str | None, codes: list[s.Code]
) -> s.ConditionSummary:
    return s.ConditionSummary(
        slug=c.slug,
        name=c.name,
        aliases=c.aliases,
        lay_terms=c.lay_terms,
        parent=parent,
        description=c.description,
        codes=codes,
        url=urls.condition(c.slug),
    )


def condition_summaries(session: Session, urls: Urls) -> Iterator[s.ConditionSummary]:
    """Every condition in slug order (for the export): two statements."""
    rows = session.execute(
        select(m.Condition, Parent.c.slug)
        .outerjoin(Parent, Parent.c.id == m.Condition.parent_id)
        .order_by(bytewise(m.Condition.slug))
    ).all()
    codes = codes_for(session, (c.id for c, _ in rows if c.id is not None))
    for c, parent in rows:
        yield _summary(urls, c, parent, codes.get(c.id or 0, []))


def get_condition(session: Session, memo: Memo, urls: Urls, slug: str) -> s.ConditionDetail:
    """One condition by its slug: eight statements."""
    found = _with_parent(session, slug)
    if found is None:
        raise not_found(session, memo, "condition", m.Condition.slug, slug)
    return _detail(session, urls, *found, trial_table(session, memo))


@dataclass(frozen=True)
class CodeRedirect:
    """A code asked for where a slug belongs: the condition it names is at ``url``."""

    slug: str
    url: str


def condition_or_code(
    session: Session, memo: Memo, urls: Urls, slug_or_code: str
) -> s.ConditionDetail | CodeRedirect:
    """A condition by its slug; by an ICD code (any case), where the detail of the condition
    the code leads to by the classification's hierarchy is (F32.1 to major depression);
    otherwise a 404 that names the nearest slug, or the nearest codes. A slug costs what
    ``get_condition`` costs; a code, two statements."""
    found = _with_parent(session, slug_or_code)
    if found is not None:
        return _detail(session, urls, *found, trial_table(session, memo))
    led_to = code_condition(session, slug_or_code).condition
    if led_to is not None:
        return CodeRedirect(led_to.slug, urls.condition(led_to.slug))
    raise condition_not_found(session, memo, slug_or_code)


def _with_parent(session: Session, slug: str) -> tuple[m.Condition, str | None] | None:
    found = session.execute(
        select(m.Condition, Parent.c.slug)
        .outerjoin(Parent, Parent.c.id == m.Condition.parent_id)
        .where(m.Condition.slug == slug)
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def _detail(
    session: Session, urls: Urls, condition: m.Condition, parent: str | None, trials: TrialTable
) -> s.ConditionDetail:
    assert condition.id is not None
    codes = codes_for(session, [condition.id])
    children = session.execute(
        select(m.Condition.slug, m.Condition.name)
        .where(m.Condition.parent_id == condition.id)
        .order_by(bytewise(func.lower(m.Condition.name)))
    ).all()
    modalities = indications_for(session, urls, descendants(session, condition.id), trials=trials)
    return s.ConditionDetail(
        **_summary(urls, condition, parent, codes.get(condition.id, [])).model_dump(),
        children=[
            s.ConditionRef(slug=c_slug, name=name, url=urls.condition(c_slug))
            for c_slug, name in children
        ],
        modalities=modalities,
    )


# Strongest first, then by modality name, then in the modality's own order.
STRONGEST_FIRST: tuple[Any, ...] = (
    EVIDENCE_RANK_SQL.desc(),
    func.lower(m.Modality.name),
    col(m.Indication.position),
)


def indications_for(
    session: Session,
    urls: Urls,
    condition_ids: list[int],
    modality_ids: list[int] | None = None,
    population: Population | None = None,
    variant: str | None = None,
    trials: TrialTable | None = None,
) -> list[s.ConditionIndication]:
    """Indications for these conditions (of these modalities, for this population and
    variant), strongest first, each with its citations and evidence basis: four statements."""
    criteria = indication_criteria(
        condition_ids=condition_ids, population=population, variant=variant
    )
    if modality_ids is not None:
        criteria.append(col(m.Indication.modality_id).in_(modality_ids))
    found = indications_where(session, urls, criteria, trials=trials)
    return [s.ConditionIndication(**fields) for _, fields in found]


def indications_where(
    session: Session,
    urls: Urls,
    criteria: Sequence[ColumnElement[bool]],
    order: Sequence[Any] = STRONGEST_FIRST,
    limit: int | None = None,
    offset: int = 0,
    trials: TrialTable | None = None,
) -> list[tuple[m.Condition, dict[str, Any]]]:
    """The indications meeting every criterion (on the indication, its modality or its
    condition), in this order, one page of them when a limit is given: each as its condition's
    row and the fields of a ``ConditionIndication``, citations and evidence basis included.
    Four statements, however many indications."""
    rows = session.execute(
        select(m.Indication, m.Modality, m.Condition)
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .where(*criteria)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    ).all()
    indication_ids = [i.id for i, _, _ in rows if i.id is not None]
    keys = indication_citations(session, indication_ids)
    bases = evidence_bases(session, indication_ids, trials)
    return [
        (
            c,
            {
                **identity_fields(urls, i, x.slug, c.slug),
                "modality": x.slug,
                "modality_name": x.name,
                "category": x.category,
                "condition": c.slug,
                "evidence": i.evidence,
                "population": i.population,
                "summary": i.summary,
                **evidence_basis_fields(urls, i, bases),
                "citations": keys.get(i.id or 0, []),
                "url": urls.modality(x.slug),
            },
        )
        for i, x, c in rows
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
