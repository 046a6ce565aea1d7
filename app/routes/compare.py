"""/v1/compare: modalities side by side, with an evidence matrix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app import schemas as s
from app.deps import SessionDep
from app.errors import InvalidParameter
from app.queries.compare import compare
from app.routes.params import ConditionDep, PopulationQuery

router = APIRouter(prefix="/v1", tags=["compare"])

MIN_COMPARE, MAX_COMPARE = 2, 6


def parse_modalities(value: str) -> list[str]:
    slugs = [part.strip() for part in value.split(",")]
    reasons = []
    if any(not slug for slug in slugs):
        reasons.append("empty entry in the list")
    repeated = sorted({slug for slug in slugs if slug and slugs.count(slug) > 1})
    if repeated:
        reasons.append(f"repeated: {', '.join(repeated)}")
    if not MIN_COMPARE <= len(slugs) <= MAX_COMPARE:
        reasons.append(f"give {MIN_COMPARE} to {MAX_COMPARE} modalities, not {len(slugs)}")
    if reasons:
        raise InvalidParameter(
            "modalities: " + "; ".join(reasons),
            errors=[{"parameter": "modalities", "reason": r} for r in reasons],
        )
    return slugs


@router.get("/compare", response_model=s.Comparison)
def compare_(
    session: SessionDep,
    condition: ConditionDep,
    modalities: Annotated[
        str,
        Query(
            min_length=1,
            max_length=500,
            description="2 to 6 modality slugs, comma-separated.",
            examples=["ipt,cbt,dbt"],
        ),
    ],
    population: PopulationQuery = None,
) -> s.Comparison:
    """Compare 2-6 modalities; with a condition, strongest evidence first. With a population,
    only its indications count: the evidence matrix has a row for each condition one of the
    modalities has an indication for in that population, and each modality's evidence and
    indications (given with a condition) are that population's."""
    return compare(
        session,
        parse_modalities(modalities),
        condition.ids if condition else None,
        condition.slug if condition else None,
        population,
    )
