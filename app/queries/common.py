"""Pieces the resource queries share: evidence ordering, citation links, codes, conversions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, case, exists, func, or_, select
from sqlmodel import Session, col

from app import grading, icd
from app import models as m
from app import schemas as s
from app.domain import (
    EVIDENCE_RANK,
    CodeSystem,
    Comparator,
    EffectDirection,
    EffectMeasure,
    Evidence,
    Population,
    Recommendation,
    indication_id,
    oriented,
)
from app.errors import NotFound
from app.queries.trial_table import TrialTable
from app.suggest import nearest, suggest
from app.urls import Urls

T = TypeVar("T")

# Evidence levels as numbers in SQL, so "strongest first" and "at least moderate" sort and
# compare by the scale, never alphabetically.
EVIDENCE_RANK_SQL: ColumnElement[int] = case(
    {level.value: rank for level, rank in EVIDENCE_RANK.items()}, value=m.Indication.evidence
)


def rank_of(level: Evidence) -> int:
    return EVIDENCE_RANK[level]


def strongest(levels: Iterable[str]) -> Evidence | None:
    ranked = [Evidence(level) for level in levels]
    return max(ranked, key=lambda e: e.rank) if ranked else None


class Memo(Protocol):
    """Keeps a value derived from the release for as long as that release is loaded: the
    request's ``app.release.Snapshot.memo``, handed to the queries that need one. ``no_memo``
    (the CLI, the tests) computes the value every time."""

    def __call__(self, name: str, compute: Callable[[], T], /) -> T: ...


def no_memo(name: str, compute: Callable[[], T], /) -> T:
    return compute()


def not_found(session: Session, memo: Memo, what: str, column: Any, value: str) -> NotFound:
    """A 404 that suggests the nearest existing slug or key, when one is close. 404s are not
    cached, so this must stay cheap however many there are: the known values are read once
    per release (``memo``) and compared by ``app.suggest``."""

    def every_value() -> list[str]:
        return list(session.execute(select(column)).scalars())

    known = memo(f"every {column}", every_value)
    close = suggest(value, known)
    detail = f"no {what} '{value}'"
    if close is not None:
        return NotFound(f"{detail}; did you mean '{close}'?", suggestion=close)
    return NotFound(detail)


def text_match(q: str, *columns: Any) -> ColumnElement[bool]:
    """Case-insensitive substring match on any of the columns; % and _ in q match literally."""
    needle = q.lower()
    return or_(*(func.lower(c).contains(needle, autoescape=True) for c in columns))


ClaimKey = tuple[str, int]  # (claim type, claim id); a modality-level claim uses the modality id


def citation_links(session: Session, modality_ids: list[int]) -> dict[ClaimKey, list[str]]:
    """Citation keys of every claim of these modalities, in their seed order: one statement."""
    if not modality_ids:
        return {}
    # The schema sets exactly one claim column per link (or none, for a modality-level claim),
    # so the first non-NULL of them, else the modality, is the claim's id.
    claim_id = func.coalesce(
        m.ClaimCitation.indication_id,
        m.ClaimCitation.consideration_id,
        m.ClaimCitation.format_id,
        m.ClaimCitation.component_id,
        m.ClaimCitation.modality_id,
    )
    rows = session.execute(
        select(col(m.ClaimCitation.claim_type), claim_id, col(m.Citation.key))
        .join(m.Citation, col(m.Citation.id) == m.ClaimCitation.citation_id)
        .where(col(m.ClaimCitation.modality_id).in_(modality_ids))
        .order_by(col(m.ClaimCitation.id))
    ).all()
    out: dict[ClaimKey, list[str]] = defaultdict(list)
    for claim_type, claim, key in rows:
        out[(claim_type, claim)].append(key)
    return out


def codes_for(session: Session, condition_ids: Iterable[int]) -> dict[int, list[s.Code]]:
    ids = list(set(condition_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(m.ConditionCode)
        .where(col(m.ConditionCode.condition_id).in_(ids))
        .order_by(col(m.ConditionCode.condition_id), col(m.ConditionCode.position))
    ).scalars()
    out: dict[int, list[s.Code]] = defaultdict(list)
    for row in rows:
        out[row.condition_id].append(s.Code(system=row.system, code=row.code, display=row.display))
    return out


def _parents(session: Session) -> dict[int, int | None]:
    """Every condition's parent (None for a condition without one): the tree in one statement."""
    rows = session.execute(select(col(m.Condition.id), col(m.Condition.parent_id))).all()
    return dict(rows)


def descendants(session: Session, *condition_ids: int) -> list[int]:
    """The conditions and every narrower one (one statement for any number of them; the tree
    is walked in Python)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for cid, parent in _parents(session).items():
        children[parent].append(cid)
    out: list[int] = []
    seen: set[int] = set()
    stack = list(condition_ids)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        out.append(node)
        stack.extend(children.get(node, []))
    return out


def resolve_condition(session: Session, value: str) -> m.Condition | None:
    """The condition a slug names, or else the one an ICD-10-CM / ICD-11 code (any case) leads
    to by the classification's hierarchy (``code_condition``). A slug wins over a code. One
    statement for a slug, two for a code."""
    found: m.Condition | None = session.execute(
        select(m.Condition).where(col(m.Condition.slug) == value)
    ).scalar_one_or_none()
    if found is not None:
        return found
    return code_condition(session, value).condition


@dataclass(frozen=True)
class CodeMatch:
    """What the code lookup says of a code: ``known`` when the lookup holds it (or, for an
    ICD-11 subcategory, its stem code), with its title where the classification gives one, and
    the condition it leads to (None for an excluded branch)."""

    known: bool
    title: str | None = None
    condition: m.Condition | None = None


def code_condition(session: Session, code: str, system: CodeSystem | None = None) -> CodeMatch:
    """The condition ``code`` leads to: the deepest of the code and its ancestors that the
    lookup holds decides (app/icd.py). Without a system, one string may stand in both (real
    ICD-10-CM and ICD-11 codes differ in shape, but the seed format allows it): then the one
    that leads to a condition, the deepest condition in the tree, and the first by slug. One
    statement; two when the string stands in both."""
    wanted = icd.candidates(code)
    query = (
        select(col(m.CodeLookup.code), col(m.CodeLookup.title), m.Condition)
        .outerjoin(m.Condition, col(m.Condition.id) == m.CodeLookup.condition_id)
        .where(func.upper(m.CodeLookup.code).in_(wanted))
    )
    if system is not None:
        query = query.where(col(m.CodeLookup.system) == system.value)
    rows: dict[str, list[tuple[str | None, m.Condition | None]]] = defaultdict(list)
    for c, title, cond in session.execute(query).all():
        rows[str(c).upper()].append((title, cond))
    for candidate in wanted:  # deepest first
        found = rows.get(candidate)
        if not found:
            continue
        leading = [(title, cond) for title, cond in found if cond is not None]
        if len(leading) > 1:
            depth = _depths(session)
            leading.sort(key=lambda pair: (-depth(pair[1]), pair[1].slug if pair[1] else ""))
        title, condition = (leading or found)[0]
        return CodeMatch(True, title, condition)
    return CodeMatch(False)


def _depths(session: Session) -> Callable[[m.Condition | None], int]:
    """How deep a condition sits in the tree (0 for a root), from the tree read once."""
    parents = _parents(session)

    def depth(condition: m.Condition | None) -> int:
        steps, parent = 0, None if condition is None else condition.parent_id
        while parent is not None and steps < len(parents):  # bounded, were the tree a cycle
            steps, parent = steps + 1, parents.get(parent)
        return steps

    return depth


def condition_not_found(session: Session, memo: Memo, value: str) -> NotFound:
    """A 404 for a condition asked for by slug or code. A value shaped like an ICD code is
    answered with the nearest codes that lead to a condition (and, for a known code that leads
    to none, its title); anything else like an unknown slug."""
    if icd.system_of(value) is None:
        return not_found(session, memo, "condition", m.Condition.slug, value)
    match = code_condition(session, value)

    def every_code() -> list[str]:
        return list(
            session.execute(
                select(col(m.CodeLookup.code))
                .where(col(m.CodeLookup.condition_id).is_not(None))
                .order_by(m.CodeLookup.code)
            ).scalars()
        )

    close = nearest(value.strip().upper(), memo("every code that leads", every_code))
    detail = f"no condition for code '{value}'"
    if match.known:
        titled = f" ({match.title})" if match.title else ""
        detail = f"code '{value}'{titled} leads to no condition in this knowledge base"
    if close:
        return NotFound(
            f"{detail}; nearest codes: {', '.join(close)}", suggestion=close[0], nearest=close
        )
    return NotFound(detail)


def indication_criteria(
    *,
    condition_ids: list[int] | None = None,
    population: Population | None = None,
    min_evidence: Evidence | None = None,
    guideline: Recommendation | None = None,
    variant: str | None = None,
) -> list[ColumnElement[bool]]:
    """What one indication must meet, as conditions on ``m.Indication`` (each filter may be
    absent, and none gives none): for one of these conditions, for this population, at least
    this strong, with a guideline in this position. Filters that hold together hold within one
    indication, wherever they are used."""
    criteria: list[ColumnElement[bool]] = []
    if condition_ids is not None:
        criteria.append(col(m.Indication.condition_id).in_(condition_ids))
    if population is not None:
        criteria.append(col(m.Indication.population) == population.value)
    if variant is not None:
        criteria.append(col(m.Indication.variant) == variant)
    if min_evidence is not None:
        criteria.append(EVIDENCE_RANK_SQL >= rank_of(min_evidence))
    if guideline is not None:
        criteria.append(
            exists().where(
                (col(m.IndicationGuideline.indication_id) == m.Indication.id)
                & (m.IndicationGuideline.recommendation == guideline.value)
            )
        )
    return criteria


def range_of(lo: int | None, hi: int | None) -> s.Range | None:
    return s.Range(min=lo, max=hi) if lo is not None and hi is not None else None


def format_ranges(f: m.Format) -> dict[str, Any]:
    return {
        "delivery": f.delivery,
        "variant": f.variant,
        "sessions": range_of(f.sessions_min, f.sessions_max),
        "weeks": range_of(f.weeks_min, f.weeks_max),
        "session_minutes": range_of(f.session_minutes_min, f.session_minutes_max),
        "group_size": range_of(f.group_size_min, f.group_size_max),
    }


def citation_out(row: m.Citation, urls: Urls) -> s.Citation:
    return s.Citation(
        key=row.key,
        type=row.type,
        title=row.title,
        authors=[s.Author(**a) for a in row.authors],
        year=row.year,
        container_title=row.container_title,
        volume=row.volume,
        issue=row.issue,
        pages=row.pages,
        publisher=row.publisher,
        doi=row.doi,
        pmid=row.pmid,
        pmcid=row.pmcid,
        isbn=row.isbn,
        source_url=row.url,
        note=row.note,
        url=urls.citation(row.key),
    )


@dataclass
class EvidenceBases:
    """What evidence_basis_fields needs: each indication's guideline positions and effects, and
    the release's trial table for the figures pooled from the trial data (None: no figures)."""

    parts: dict[int, EvidenceParts]
    trials: TrialTable | None = None


def evidence_bases(
    session: Session, indication_ids: Iterable[int], trials: TrialTable | None = None
) -> EvidenceBases:
    """Guideline positions and effects of these indications, in seed order: two statements
    (the pooled figures come from ``trials``, kept per release, with none)."""
    ids = sorted(set(indication_ids))
    out: dict[int, EvidenceParts] = defaultdict(lambda: ([], []))
    bases = EvidenceBases(out, trials)
    if not ids:
        return bases
    for row, key in session.execute(
        select(m.IndicationGuideline, col(m.Citation.key))
        .join(m.Citation, col(m.Citation.id) == m.IndicationGuideline.citation_id)
        .where(col(m.IndicationGuideline.indication_id).in_(ids))
        .order_by(col(m.IndicationGuideline.indication_id), col(m.IndicationGuideline.position))
    ).all():
        out[row.indication_id][0].append(
            s.GuidelinePosition(
                body=row.body,
                document=row.document,
                recommendation=row.recommendation,
                citation=key,
                note=row.note,
            )
        )
    for row, key in session.execute(
        select(m.IndicationEffect, col(m.Citation.key))
        .join(m.Citation, col(m.Citation.id) == m.IndicationEffect.citation_id)
        .where(col(m.IndicationEffect.indication_id).in_(ids))
        .order_by(col(m.IndicationEffect.indication_id), col(m.IndicationEffect.position))
    ).all():
        out[row.indication_id][1].append(effect_out(row, key))
    return bases


EvidenceParts = tuple[list[s.GuidelinePosition], list[s.Effect]]


def effect_out(row: m.IndicationEffect, citation: str) -> s.Effect:
    measure = EffectMeasure(row.measure)
    significant = None
    if row.ci_low is not None and row.ci_high is not None:
        significant = not row.ci_low <= measure.null_value <= row.ci_high
    direction = EffectDirection(row.direction) if row.direction else None
    turned = None
    if direction is not None:
        value, ci_low, ci_high = oriented(measure, direction, row.value, row.ci_low, row.ci_high)
        turned = s.OrientedFigure(value=value, ci_low=ci_low, ci_high=ci_high)
    low = None
    if row.low_risk_of_bias is not None:
        check = grading.recorded_effect(
            Comparator(row.comparator),
            measure,
            direction,
            (row.value, row.ci_low, row.ci_high),
            (
                row.low_risk_of_bias["value"],
                row.low_risk_of_bias["ci_low"],
                row.low_risk_of_bias["ci_high"],
                row.low_risk_of_bias.get("studies"),
            ),
        ).low_rob
        low = s.RecordedLowRiskOfBias(**row.low_risk_of_bias, check=check.value)
    return s.Effect(
        measure=measure,
        direction=direction,
        oriented=turned,
        value=row.value,
        ci_low=row.ci_low,
        ci_high=row.ci_high,
        studies=row.studies,
        participants=row.participants,
        comparator=row.comparator,
        outcome=row.outcome,
        citation=citation,
        note=row.note,
        significant=significant,
        low_risk_of_bias=low,
    )


def identity_fields(
    urls: Urls, indication: m.Indication, modality: str, condition: str
) -> dict[str, Any]:
    """The IndicationIdentity fields of one indication: its id, variant and address."""
    id_ = indication_id(modality, condition, indication.population, indication.variant)
    return {"id": id_, "variant": indication.variant, "record": s.Link(url=urls.indication(id_))}


def evidence_basis_fields(
    urls: Urls, indication: m.Indication, bases: EvidenceBases
) -> dict[str, Any]:
    """The EvidenceBasis fields of one indication, for a schema's constructor."""
    guidelines, effects = bases.parts.get(indication.id or 0, ([], []))
    fields: dict[str, Any] = {
        "grade_basis": indication.grade_basis,
        "guidelines": guidelines,
        "effects": effects,
        "acceptability": [s.Acceptability(**a) for a in indication.acceptability or []],
        "harms": [s.Harm(**h) for h in indication.harms or []],
        "certainty": [s.CertaintyRating(**c) for c in indication.certainty or []],
    }
    if bases.trials is not None:
        fields["pooled"] = bases.trials.indication_figures(
            urls,
            indication.modality_id,
            indication.condition_id,
            indication.population,
            indication.variant,
        )
        fields["grading"] = bases.trials.grading(indication.id or 0)
        fields["trial_basis"] = bases.trials.indication_basis(
            urls,
            indication.modality_id,
            indication.condition_id,
            indication.population,
            indication.variant,
        )
    return fields


def as_utc(moment: datetime) -> datetime:
    """A stored load time as an aware UTC datetime (SQLite hands back naive ones; loads store
    UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
