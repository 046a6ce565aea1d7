"""/v1/compare: modalities side by side, with an evidence matrix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app import schemas as s
from app.domain import SLUG_RE
from app.http.origin import UrlsDep
from app.http.params import MAX_COMPARE, MIN_COMPARE, parse_modalities
from app.queries.compare import compare
from app.release import ReleaseDep
from app.routes.params import ConditionDep, PopulationQuery, VariantQuery

router = APIRouter(tags=["compare"])


@router.get(
    "/v1/compare",
    operation_id="compareModalities",
    response_model=s.Comparison,
    responses={404: {"description": "No such modality or condition; may suggest the nearest."}},
)
def compare_(
    snapshot: ReleaseDep,
    urls: UrlsDep,
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
    variant: VariantQuery = None,
) -> s.Comparison:
    """Compare 2-6 modalities; with a condition, strongest evidence first. With a population,
    only its indications count: the evidence matrix has a row for each condition one of the
    modalities has an indication for in that population, and each modality's evidence and
    indications (given with a condition) are that population's."""
    return compare(
        snapshot.session,
        snapshot.memo,
        urls,
        parse_modalities(modalities),
        condition.ids if condition else None,
        condition.slug if condition else None,
        population,
        variant,
    )
