"""The evidence map: every modality against every condition, the strongest level in each cell.

A shape for the explorer's front page, not part of the JSON API (which answers the same
question one condition or one comparison at a time), so it is a plain dataclass here rather
than a public schema.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import exists, func
from sqlmodel import Session, col, select

from app import models as m
from app.domain import Category, Evidence, Population, Recommendation
from app.queries.common import strongest
from app.queries.ordering import bytewise


@dataclass(frozen=True)
class MapModality:
    slug: str
    name: str
    abbreviation: str
    category: Category


@dataclass(frozen=True)
class MapRow:
    slug: str
    name: str
    depth: int  # 0 for a condition without a parent, 1 for its children, ...
    cells: dict[str, Evidence]  # modality slug -> strongest level; absent: no indication


@dataclass(frozen=True)
class MapGroup:
    """A condition without a parent, and the narrower conditions under it."""

    slug: str
    name: str
    rows: list[MapRow] = field(default_factory=list)


@dataclass(frozen=True)
class EvidenceMap:
    modalities: list[MapModality]
    groups: list[MapGroup]


def evidence_map(
    session: Session,
    population: Population | None = None,
    guideline: Recommendation | None = None,
) -> EvidenceMap:
    """Three statements. With ``population`` or ``guideline``, only indications for that
    population or with a guideline in that position count, and conditions left without any
    cell are dropped (their group stays while any of its rows has one)."""
    modalities = [
        MapModality(slug, name, abbreviation, Category(category))
        for slug, name, abbreviation, category in session.execute(
            select(
                m.Modality.slug, m.Modality.name, m.Modality.abbreviation, m.Modality.category
            ).order_by(bytewise(m.Modality.category), bytewise(func.lower(m.Modality.name)))
        ).all()
    ]
    conditions = session.execute(
        select(m.Condition.id, m.Condition.slug, m.Condition.name, m.Condition.parent_id).order_by(
            bytewise(func.lower(m.Condition.name))
        )
    ).all()
    query = select(m.Indication.condition_id, m.Modality.slug, m.Indication.evidence).join(
        m.Modality, col(m.Modality.id) == m.Indication.modality_id
    )
    if population is not None:
        query = query.where(m.Indication.population == population.value)
    if guideline is not None:
        query = query.where(
            exists().where(
                (col(m.IndicationGuideline.indication_id) == m.Indication.id)
                & (m.IndicationGuideline.recommendation == guideline.value)
            )
        )
    levels: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for condition_id, modality, evidence in session.execute(query).all():
        levels[condition_id][modality].append(evidence)

    children: dict[int | None, list[tuple[int, str, str]]] = defaultdict(list)
    for cid, slug, name, parent_id in conditions:
        children[parent_id].append((cid, slug, name))
    filtered = population is not None or guideline is not None

    def walk(cid: int, slug: str, name: str, depth: int) -> list[MapRow]:
        cells = {
            modality: level
            for modality, found in levels.get(cid, {}).items()
            if (level := strongest(found)) is not None
        }
        rows = [MapRow(slug, name, depth, cells)] if cells or not filtered else []
        for child in children.get(cid, []):
            rows.extend(walk(*child, depth + 1))
        return rows

    groups = []
    for cid, slug, name in children.get(None, []):
        rows = walk(cid, slug, name, 0)
        if rows:
            groups.append(MapGroup(slug, name, rows))
    return EvidenceMap(modalities=modalities, groups=groups)
