"""/v1/citations: the literature behind every claim, as JSON or in a citation format."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app import schemas as s
from app.deps import SessionDep
from app.queries.citations import CitationFilter, get_citation, list_citations
from app.routes.params import PagingDep, TextQuery, set_link_header
from app.web.negotiation import NegotiatedDep, negotiated_responses

router = APIRouter(prefix="/v1/citations", tags=["citations"])


@router.get(
    "",
    operation_id="listCitations",
    response_model=s.Page[s.Citation],
    responses=negotiated_responses("A page of citations"),
)
def list_(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingDep,
    negotiated: NegotiatedDep,
    q: TextQuery = None,
    year: Annotated[int | None, Query(ge=1800, le=2100, description="Publication year.")] = None,
    modality: Annotated[
        str | None,
        Query(min_length=1, max_length=80, description="Only works cited by this modality."),
    ] = None,
) -> s.Page[s.Citation] | Response:
    """List citations, filtered and paged, in key order.

    In a citation format too, the answer holds the current page only: ask for the next with
    limit and offset, or follow the Link header.
    """
    page = list_citations(
        session,
        CitationFilter(q=q, year=year, modality=modality, limit=paging.limit, offset=paging.offset),
    )
    set_link_header(request, response, page.total, paging)
    return negotiated.respond(page, page.items, response)


@router.get(
    "/{key}",
    operation_id="getCitation",
    response_model=s.CitationDetail,
    responses={
        **negotiated_responses("The citation, with every claim that cites it"),
        404: {"description": "No such citation; may suggest the nearest key."},
    },
)
def show(
    response: Response,
    session: SessionDep,
    negotiated: NegotiatedDep,
    key: Annotated[str, Path(max_length=80, description="Citation key.")],
) -> s.CitationDetail | Response:
    """One citation, with every claim that cites it."""
    citation = get_citation(session, key)
    return negotiated.respond(citation, [citation], response)
