"""/v1/conditions: conditions with their codes and the modalities indicated for them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from app import schemas as s
from app.http.origin import UrlsDep
from app.queries.conditions import (
    CodeRedirect,
    ConditionFilter,
    condition_or_code,
    list_conditions,
)
from app.release import ReleaseDep
from app.routes.params import PagingDep, PopulationQuery, TextQuery, set_link_header

router = APIRouter(tags=["conditions"])


@router.get(
    "/v1/conditions", operation_id="listConditions", response_model=s.Page[s.ConditionSummary]
)
def list_(
    request: Request,
    response: Response,
    snapshot: ReleaseDep,
    urls: UrlsDep,
    paging: PagingDep,
    q: TextQuery = None,
    code: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=20,
            description="An ICD-10-CM or ICD-11 code.",
            examples=["F43.10"],
        ),
    ] = None,
    parent: Annotated[
        str | None,
        Query(min_length=1, max_length=80, description="Only the children of this condition."),
    ] = None,
    population: PopulationQuery = None,
) -> s.Page[s.ConditionSummary]:
    """List conditions, filtered and paged. With a population, only the conditions with an
    indication for it, their own or a narrower condition's (as their detail lists them)."""
    page = list_conditions(
        snapshot.session,
        urls,
        ConditionFilter(
            q=q,
            code=code,
            parent=parent,
            population=population,
            limit=paging.limit,
            offset=paging.offset,
        ),
    )
    set_link_header(request, response, urls, page.total, paging)
    return page


@router.get(
    "/v1/conditions/{slug}",
    operation_id="getCondition",
    response_model=s.ConditionDetail,
    responses={
        308: {
            "description": "The path named the condition by a code: Location is its slug's"
            " address (when a code names several conditions, the most specific).",
            "headers": {
                "Location": {
                    "description": "The condition's address, /v1/conditions/{slug}.",
                    "schema": {"type": "string"},
                }
            },
        },
        404: {"description": "No such condition or code; may suggest the nearest slug."},
    },
)
def show(
    snapshot: ReleaseDep,
    urls: UrlsDep,
    slug: Annotated[
        str,
        Path(
            max_length=80,
            description="Condition slug; an ICD-10-CM or ICD-11 code (any case) redirects to it.",
            examples=["major-depression", "F32.9"],
        ),
    ],
) -> s.ConditionDetail | Response:
    """One condition: codes, children, and the modalities indicated for it, strongest first.
    Named by a code, the answer is a permanent redirect (308) to the condition's slug."""
    found = condition_or_code(snapshot.session, snapshot.memo, urls, slug)
    if isinstance(found, CodeRedirect):
        return RedirectResponse(found.url, status_code=308, headers=snapshot.headers)
    return found
