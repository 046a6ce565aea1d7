"""Side-by-side comparison of 2 to 6 modalities, with an evidence matrix."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain import Evidence, Population
from app.queries.common import (
    Memo,
    format_ranges,
    indication_criteria,
    not_found,
    strongest,
)
from app.queries.conditions import indications_for
from app.queries.ordering import bytewise
from app.queries.trial_table import trial_table
from app.urls import Urls


def compare(
    session: Session,
    memo: Memo,
    urls: Urls,
    slugs: list[str],
    condition_ids: list[int] | None,
    condition_slug: str | None,
    population: Population | None = None,
    variant: str | None = None,
) -> s.Comparison:
    """Five statements (nine with a condition), whatever the number of modalities or claims.
    With a population, only its indications count: in the matrix, and in each modality's
    evidence and indications; the same with a variant."""
    rows = {
        x.slug: x
        for x in session.execute(
            select(m.Modality).where(col(m.Modality.slug).in_(slugs))
        ).scalars()
    }
    unknown = [slug for slug in slugs if slug not in rows]
    if unknown:
        problem = not_found(session, memo, "modality", m.Modality.slug, unknown[0])
        if len(unknown) > 1:
            problem.detail = f"no modalities {', '.join(repr(u) for u in unknown)}"
        problem.extra["unknown"] = unknown
        raise problem
    ids = [rows[slug].id for slug in slugs]
    formats: dict[int, list[s.CompareFormat]] = defaultdict(list)
    for f in session.execute(
        select(m.Format).where(col(m.Format.modality_id).in_(ids)).order_by(col(m.Format.position))
    ).scalars():
        formats[f.modality_id].append(s.CompareFormat(**format_ranges(f)))
    pros: dict[int, list[str]] = defaultdict(list)
    cons: dict[int, list[str]] = defaultdict(list)
    for c in session.execute(
        select(m.Consideration)
        .where(col(m.Consideration.modality_id).in_(ids))
        .order_by(col(m.Consideration.position))
    ).scalars():
        (pros if c.kind == "pro" else cons)[c.modality_id].append(c.statement)
    components: dict[int, list[str]] = defaultdict(list)
    for c in session.execute(
        select(m.Component)
        .where(col(m.Component.modality_id).in_(ids))
        .order_by(col(m.Component.position))
    ).scalars():
        components[c.modality_id].append(f"{c.kind}: {c.name}")

    query = (
        select(m.Indication.modality_id, m.Indication.evidence, m.Condition.slug, m.Condition.name)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .where(
            col(m.Indication.modality_id).in_(ids),
            *indication_criteria(
                condition_ids=condition_ids, population=population, variant=variant
            ),
        )
        .order_by(bytewise(func.lower(m.Condition.name)))
    )
    levels: dict[tuple[str, int], list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for modality_id, evidence, c_slug, c_name in session.execute(query).all():
        levels[(c_slug, modality_id)].append(evidence)
        names[c_slug] = c_name

    details: dict[str, list[s.ConditionIndication]] = defaultdict(list)
    if condition_ids is not None:
        for indication in indications_for(
            session,
            urls,
            condition_ids,
            [x for x in ids if x],
            population,
            variant,
            trials=trial_table(session, memo),
        ):
            details[indication.modality].append(indication)

    def best_for(modality_id: int) -> Evidence | None:
        return strongest(
            level for (_, mid), found in levels.items() if mid == modality_id for level in found
        )

    columns = [
        s.CompareColumn(
            slug=x.slug,
            name=x.name,
            abbreviation=x.abbreviation,
            category=x.category,
            summary=x.summary,
            evidence=best_for(x.id or 0) if condition_ids is not None else None,
            indications=details[x.slug],
            formats=formats[x.id or 0],
            pros=pros[x.id or 0],
            cons=cons[x.id or 0],
            components=components[x.id or 0],
            url=urls.modality(x.slug),
        )
        for x in (rows[slug] for slug in slugs)
    ]
    if condition_ids is not None:
        # Strongest first; the sort is stable, so equal levels keep the order asked for.
        columns.sort(key=lambda c: -(c.evidence.rank if c.evidence else 0))
    order = [c.slug for c in columns]
    matrix_rows = [
        s.EvidenceRow(
            condition=c_slug,
            condition_name=names[c_slug],
            evidence={
                slug: strongest(levels.get((c_slug, rows[slug].id or 0), [])) for slug in order
            },
        )
        for c_slug in names
    ]
    return s.Comparison(
        modalities=columns,
        condition=condition_slug,
        population=population,
        variant=variant,
        evidence_matrix=s.EvidenceMatrix(columns=order, rows=matrix_rows),
    )
