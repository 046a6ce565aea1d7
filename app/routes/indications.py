"""/v1/indications: every indication (modality × condition × population), filtered and paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app import schemas as s
from app.domain import Category, Evidence, Recommendation
from app.http.origin import UrlsDep
from app.queries.indications import IndicationFilter, get_indication, list_indications
from app.release import ReleaseDep
from app.routes.params import (
    ConditionDep,
    PagingDep,
    PopulationQuery,
    VariantQuery,
    set_link_header,
)

router = APIRouter(tags=["indications"])


@router.get(
    "/v1/indications",
    response_model=s.Page[s.IndicationRow],
    operation_id="listIndications",
    responses={404: {"description": "No such modality or condition; may suggest the nearest."}},
)
def list_(
    request: Request,
    response: Response,
    snapshot: ReleaseDep,
    urls: UrlsDep,
    paging: PagingDep,
    condition: ConditionDep,
    population: PopulationQuery = None,
    variant: VariantQuery = None,
    modality: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=80,
            description="Slug of a modality: only its indications.",
            examples=["ipt"],
        ),
    ] = None,
    min_evidence: Annotated[
        Evidence | None, Query(description="Only indications at least this strong.")
    ] = None,
    guideline: Annotated[
        Recommendation | None,
        Query(description="Only indications a guideline gives this position, e.g. first-line."),
    ] = None,
    category: Annotated[
        Category | None,
        Query(description="Only indications of modalities in this category: approach or delivery."),
    ] = None,
) -> s.Page[s.IndicationRow]:
    """List indications: one row per modality, condition and population, each with its
    evidence level, grade basis, guideline positions, effects and citations. Every filter
    holds for each row. Ordered strongest evidence first, then by modality slug, condition slug,
    population and variant (alphabetical), an order that never changes between pages."""
    page = list_indications(
        snapshot.session,
        snapshot.memo,
        urls,
        IndicationFilter(
            modality=modality,
            condition_ids=condition.ids if condition else None,
            population=population,
            min_evidence=min_evidence,
            guideline=guideline,
            category=category,
            variant=variant,
            limit=paging.limit,
            offset=paging.offset,
        ),
    )
    set_link_header(request, response, urls, page.total, paging)
    return page


@router.get(
    "/v1/indications/{id}",
    response_model=s.IndicationRow,
    operation_id="getIndication",
    responses={404: {"description": "No such indication; may suggest the nearest id."}},
)
def show(
    snapshot: ReleaseDep,
    urls: UrlsDep,
    id: Annotated[  # noqa: A002  (the public parameter name)
        str,
        Path(
            max_length=200,
            description="The indication's id: modality:condition:population[:variant].",
            examples=["cbt:insomnia:adults:cbt-i"],
        ),
    ],
) -> s.IndicationRow:
    """One indication by its id, with its evidence level, grade basis, guideline positions,
    effects and citations."""
    return get_indication(snapshot.session, snapshot.memo, urls, id)
