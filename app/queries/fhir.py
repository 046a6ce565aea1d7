"""Reads for the FHIR face (``/fhir``): pages of modalities, indications and citations, filtered
the way FHIR searches ask (ids, string prefixes, condition codes, the intervention).

Each page is counted and read in a fixed number of statements, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import CodeSystem
from app.queries.common import (
    EVIDENCE_RANK_SQL,
    citation_out,
    code_condition,
    codes_for,
    descendants,
    evidence_bases,
    evidence_basis_fields,
    identity_fields,
)
from app.queries.conditions import indication_citations
from app.queries.modalities import modality_details
from app.queries.ordering import bytewise
from app.queries.trial_table import TrialTable
from app.urls import PATHS


class StringMode(StrEnum):
    """FHIR string search: by default a case-insensitive prefix; ``:exact`` and ``:contains``."""

    prefix = "prefix"
    exact = "exact"
    contains = "contains"


@dataclass(frozen=True)
class StringMatch:
    value: str
    mode: StringMode = StringMode.prefix

    def clause(self, column: Any) -> ColumnElement[bool]:
        if self.mode is StringMode.exact:
            return col(column) == self.value
        needle = self.value.lower()
        if self.mode is StringMode.contains:
            return func.lower(column).contains(needle, autoescape=True)
        return func.lower(column).startswith(needle, autoescape=True)


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int


@dataclass(frozen=True)
class ModalitySearch:
    slugs: list[str] | None = None
    # Each parameter given (plain or with a modifier) must match: FHIR's 'and'.
    abbreviation: tuple[StringMatch, ...] = ()
    name: tuple[StringMatch, ...] = ()


def modality_page(
    session: Session, f: ModalitySearch, window: Window
) -> tuple[int, list[s.ModalityDetail]]:
    """The matching modalities' whole records, in slug order: ten statements."""
    query = select(m.Modality.id)
    if f.slugs is not None:
        query = query.where(col(m.Modality.slug).in_(f.slugs))
    for match in f.abbreviation:
        query = query.where(match.clause(m.Modality.abbreviation))
    for match in f.name:
        query = query.where(match.clause(m.Modality.name))
    ids = query.subquery()
    total = session.execute(select(func.count()).select_from(ids)).scalar_one()
    if window.limit == 0:
        return total, []
    rows = list(
        session.execute(
            select(m.Modality)
            .where(col(m.Modality.id).in_(select(ids.c.id)))
            .order_by(bytewise(col(m.Modality.slug)))
            .limit(window.limit)
            .offset(window.offset)
        ).scalars()
    )
    # FHIR resources take their addresses from the FHIR base, never from these url fields.
    return total, modality_details(session, PATHS, rows)


def citation_titles(session: Session, keys: set[str]) -> dict[str, str]:
    """Key → title of these citations: one statement."""
    if not keys:
        return {}
    query = select(col(m.Citation.key), col(m.Citation.title)).where(col(m.Citation.key).in_(keys))
    return {row.key: row.title for row in session.execute(query)}


@dataclass(frozen=True)
class IndicationKey:
    """An indication's natural key, which is unique (and its FHIR id)."""

    modality: str
    condition: str
    population: str
    variant: str | None = None


@dataclass(frozen=True)
class IndicationSearch:
    keys: list[IndicationKey] | None = None
    condition_ids: list[int] | None = None
    modalities: list[str] | None = None


@dataclass(frozen=True)
class IndicationRecord:
    """One indication with its modality's names, as an ``Evidence`` shows it."""

    modality: str
    modality_name: str
    abbreviation: str
    indication: s.Indication


def indication_page(
    session: Session, f: IndicationSearch, window: Window, trials: TrialTable | None = None
) -> tuple[int, list[IndicationRecord]]:
    """The matching indications, strongest evidence first, each with its condition's codes,
    evidence basis (with the pooled trial figure it is graded by, from ``trials``, the
    release's memoised trial table) and citations: six statements."""
    query = (
        select(m.Indication.id)
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
    )
    if f.keys is not None:
        query = query.where(
            or_(
                false(),
                *(
                    and_(
                        col(m.Modality.slug) == k.modality,
                        col(m.Condition.slug) == k.condition,
                        col(m.Indication.population) == k.population,
                        col(m.Indication.variant).is_(None)
                        if k.variant is None
                        else col(m.Indication.variant) == k.variant,
                    )
                    for k in f.keys
                ),
            )
        )
    if f.condition_ids is not None:
        query = query.where(col(m.Indication.condition_id).in_(f.condition_ids))
    if f.modalities is not None:
        query = query.where(col(m.Modality.slug).in_(f.modalities))
    ids = query.subquery()
    total = session.execute(select(func.count()).select_from(ids)).scalar_one()
    if window.limit == 0:
        return total, []
    rows = session.execute(
        select(m.Indication, m.Modality, m.Condition)
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .where(col(m.Indication.id).in_(select(ids.c.id)))
        # A total order, so that pages neither repeat nor skip an indication.
        .order_by(
            EVIDENCE_RANK_SQL.desc(),
            func.lower(m.Modality.name),
            col(m.Modality.slug),
            col(m.Indication.position),
        )
        .limit(window.limit)
        .offset(window.offset)
    ).all()
    indication_ids = [i.id for i, _, _ in rows if i.id is not None]
    codes = codes_for(session, (c.id for _, _, c in rows if c.id is not None))
    bases = evidence_bases(session, indication_ids, trials)
    keys = indication_citations(session, indication_ids)
    return total, [
        IndicationRecord(
            modality=x.slug,
            modality_name=x.name,
            abbreviation=x.abbreviation,
            indication=s.Indication(
                **identity_fields(PATHS, i, x.slug, c.slug),
                condition=c.slug,
                condition_name=c.name,
                codes=codes.get(c.id or 0, []),
                evidence=i.evidence,
                population=i.population,
                summary=i.summary,
                **evidence_basis_fields(PATHS, i, bases),
                citations=keys.get(i.id or 0, []),
            ),
        )
        for i, x, c in rows
    ]


def conditions_coded(
    session: Session, system: CodeSystem | None, code: str | None, narrower: bool = False
) -> list[int]:
    """The condition this code (in any case) leads to in this system, by the classification's
    hierarchy (F32.1 to major depression); without a system, the code in either, or else the
    condition whose slug it is; without a code, every condition coded in the system. With
    ``narrower``, each one's narrower conditions too."""
    if code is None:
        coded = select(col(m.ConditionCode.condition_id))
        if system is not None:
            coded = coded.where(col(m.ConditionCode.system) == system.value)
        ids = sorted(set(session.execute(coded).scalars()))
    else:
        led_to = code_condition(session, code, system).condition
        if led_to is None and system is None:
            led_to = session.execute(
                select(m.Condition).where(col(m.Condition.slug) == code)
            ).scalar_one_or_none()
        ids = [] if led_to is None or led_to.id is None else [led_to.id]
    if narrower and ids:
        ids = sorted(descendants(session, *ids))
    return ids


@dataclass(frozen=True)
class CitationSearch:
    keys: list[str] | None = None
    title: tuple[StringMatch, ...] = ()


def citation_page(
    session: Session, f: CitationSearch, window: Window
) -> tuple[int, list[s.Citation]]:
    """The matching citations, in key order: two statements."""
    query = select(m.Citation.id)
    if f.keys is not None:
        query = query.where(col(m.Citation.key).in_(f.keys))
    for match in f.title:
        query = query.where(match.clause(m.Citation.title))
    ids = query.subquery()
    total = session.execute(select(func.count()).select_from(ids)).scalar_one()
    if window.limit == 0:
        return total, []
    rows = session.execute(
        select(m.Citation)
        .where(col(m.Citation.id).in_(select(ids.c.id)))
        .order_by(bytewise(col(m.Citation.key)))
        .limit(window.limit)
        .offset(window.offset)
    ).scalars()
    return total, [citation_out(r, PATHS) for r in rows]
