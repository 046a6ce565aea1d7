"""Release metadata and counts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session, col

from app import models as m
from app import schemas as s
from app.domain import API_VERSION, EVIDENCE_CRITERIA, EVIDENCE_DEFINITIONS, Evidence
from app.queries.common import as_utc
from app.queries.trials import dataset_attributions

COUNTED = {
    "modalities": m.Modality,
    "conditions": m.Condition,
    "condition_codes": m.ConditionCode,
    "indications": m.Indication,
    "guideline_positions": m.IndicationGuideline,
    "effects": m.IndicationEffect,
    "considerations": m.Consideration,
    "formats": m.Format,
    "components": m.Component,
    "citations": m.Citation,
    "claim_citations": m.ClaimCitation,
    "trial_datasets": m.TrialDataset,
    "trial_studies": m.TrialStudy,
    "trial_comparisons": m.TrialComparison,
}


def meta(session: Session, release: m.Release) -> s.Meta:
    """Three statements: every count as a scalar subquery, considerations per kind, and the
    trial datasets to attribute."""
    counts_row = session.execute(
        select(
            *(
                select(func.count()).select_from(table).scalar_subquery().label(name)
                for name, table in COUNTED.items()
            )
        )
    ).one()
    counts = dict(counts_row._mapping)
    # In the order of the kinds' names, on every engine: the export holds these counts, and
    # its bytes must not depend on the order a database happens to group in.
    for kind, n in session.execute(
        select(col(m.Consideration.kind), func.count())
        .group_by(m.Consideration.kind)
        .order_by(m.Consideration.kind)
    ).all():
        counts[f"{kind}s"] = n
    counts.setdefault("pros", 0)
    counts.setdefault("cons", 0)
    return s.Meta(
        name=release.name,
        version=release.version,
        license=release.license,
        description=release.description,
        release_date=release.release_date,
        content_hash=release.content_hash,
        loaded_at=as_utc(release.loaded_at),
        api_version=API_VERSION,
        counts=counts,
        datasets=dataset_attributions(session),
        evidence_scale=[
            s.EvidenceLevel(
                level=level,
                rank=level.rank,
                definition=EVIDENCE_DEFINITIONS[level],
                criteria=list(EVIDENCE_CRITERIA[level]),
            )
            for level in Evidence
        ],
    )
