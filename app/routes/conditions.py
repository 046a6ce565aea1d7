"""/v1/conditions: conditions with their codes and the modalities indicated for them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app import schemas as s
from app.deps import SessionDep
from app.queries.conditions import ConditionFilter, get_condition, list_conditions
from app.routes.params import PagingDep, TextQuery, set_link_header

router = APIRouter(prefix="/v1/conditions", tags=["conditions"])


@router.get("", operation_id="listConditions", response_model=s.Page[s.ConditionSummary])
def list_(
    request: Request,
    response: Response,
    session: SessionDep,
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
) -> s.Page[s.ConditionSummary]:
    """List conditions, filtered and paged."""
    page = list_conditions(
        session,
        ConditionFilter(q=q, code=code, parent=parent, limit=paging.limit, offset=paging.offset),
    )
    set_link_header(request, response, page.total, paging)
    return page


@router.get(
    "/{slug}",
    operation_id="getCondition",
    response_model=s.ConditionDetail,
    responses={404: {"description": "No such condition; may suggest the nearest slug."}},
)
def show(
    session: SessionDep,
    slug: Annotated[str, Path(max_length=80, description="Condition slug.")],
) -> s.ConditionDetail:
    """One condition: codes, children, and the modalities indicated for it, strongest first."""
    return get_condition(session, slug)
