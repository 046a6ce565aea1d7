"""/v1/citations: the literature behind every claim."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app import schemas as s
from app.deps import SessionDep
from app.queries.citations import CitationFilter, get_citation, list_citations
from app.routes.params import PagingDep, TextQuery, set_link_header

router = APIRouter(prefix="/v1/citations", tags=["citations"])


@router.get("", response_model=s.Page[s.Citation])
def list_(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingDep,
    q: TextQuery = None,
    year: Annotated[int | None, Query(ge=1800, le=2100, description="Publication year.")] = None,
    modality: Annotated[
        str | None,
        Query(min_length=1, max_length=80, description="Only works cited by this modality."),
    ] = None,
) -> s.Page[s.Citation]:
    """List citations, filtered and paged, in key order."""
    page = list_citations(
        session,
        CitationFilter(q=q, year=year, modality=modality, limit=paging.limit, offset=paging.offset),
    )
    set_link_header(request, response, page.total, paging)
    return page


@router.get(
    "/{key}",
    response_model=s.CitationDetail,
    responses={404: {"description": "No such citation; may suggest the nearest key."}},
)
def show(
    session: SessionDep,
    key: Annotated[str, Path(max_length=80, description="Citation key.")],
) -> s.CitationDetail:
    """One citation, with every claim that cites it."""
    return get_citation(session, key)
