"""/v1/compare: modalities side by side, with an evidence matrix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app import schemas as s
from app.errors import InvalidParameter
from app.queries.compare import compare
from app.release import ReleaseDep
from app.routes.params import ConditionDep, PopulationQuery
from app.seeding.format import SLUG_RE

router = APIRouter(prefix="/v1", tags=["compare"])

MIN_COMPARE, MAX_COMPARE = 2, 6


def parse_modalities(values: list[str]) -> list[str]:
    """The slugs, whether given as repeated parameters, comma-separated, or both."""
    slugs = [part.strip() for value in values for part in value.split(",")]
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


@router.get("/compare", operation_id="compareModalities", response_model=s.Comparison)
def compare_(
    snapshot: ReleaseDep,
    condition: ConditionDep,
    modalities: Annotated[
        list[str],
        Query(
            description="2 to 6 modality slugs: repeat the parameter "
            "(modalities=ipt&modalities=cbt), separate them with commas (modalities=ipt,cbt), "
            "or both.",
            examples=[["ipt", "cbt", "dbt"]],
            # What the schema promises is the repeated form; commas are accepted besides it.
            json_schema_extra={
                "minItems": MIN_COMPARE,
                "maxItems": MAX_COMPARE,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": SLUG_RE, "maxLength": 80},
            },
        ),
    ],
    population: PopulationQuery = None,
) -> s.Comparison:
    """Compare 2-6 modalities; with a condition, strongest evidence first. With a population,
    only its indications count: the evidence matrix has a row for each condition one of the
    modalities has an indication for in that population, and each modality's evidence and
    indications (given with a condition) are that population's."""
    return compare(
        snapshot.session,
        snapshot.memo,
        parse_modalities(modalities),
        condition.ids if condition else None,
        condition.slug if condition else None,
        population,
    )
