"""/v1/citations: the literature behind every claim, as JSON or in a citation format."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app import schemas as s
from app.queries.citations import CitationFilter, get_citation, list_citations
from app.release import ReleaseDep, Snapshot
from app.routes.citation_formats import NegotiatedDep, add_citation_formats, negotiated_responses
from app.routes.params import Paging, PagingDep, TextQuery, set_link_header

router = APIRouter(prefix="/v1/citations", tags=["citations"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such citation; may suggest the nearest key."}
}


async def citation_filter(
    paging: PagingDep,
    q: TextQuery = None,
    year: Annotated[int | None, Query(ge=1800, le=2100, description="Publication year.")] = None,
    modality: Annotated[
        str | None,
        Query(min_length=1, max_length=80, description="Only works cited by this modality."),
    ] = None,
) -> CitationFilter:
    """The list's filters and page."""
    return CitationFilter(
        q=q, year=year, modality=modality, limit=paging.limit, offset=paging.offset
    )


async def citation_key(
    key: Annotated[str, Path(max_length=80, description="Citation key.")],
) -> str:
    return key


FilterDep = Annotated[CitationFilter, Depends(citation_filter)]
KeyDep = Annotated[str, Depends(citation_key)]


def citation_page(
    request: Request, response: Response, snapshot: Snapshot, where: CitationFilter
) -> s.Page[s.Citation]:
    """A page of citations, with the Link header to the pages beside it."""
    page = list_citations(snapshot.session, where)
    set_link_header(request, response, page.total, Paging(limit=where.limit, offset=where.offset))
    return page


def _page_items(
    request: Request, response: Response, snapshot: Snapshot, where: CitationFilter
) -> list[s.Citation]:
    return citation_page(request, response, snapshot, where).items


def _citation(
    _request: Request, _response: Response, snapshot: Snapshot, key: str
) -> list[s.Citation]:
    return [get_citation(snapshot.session, snapshot.memo, key)]


# Each format as an operation of its own: before /{key}, which would take "x.bib" for a key.
add_citation_formats(
    router, "", "listCitations", "A page of citations", citation_filter, _page_items
)
add_citation_formats(
    router, "/{key}", "getCitation", "The citation", citation_key, _citation, NOT_FOUND
)


@router.get(
    "",
    operation_id="listCitations",
    response_model=s.Page[s.Citation],
    responses=negotiated_responses("A page of citations"),
)
def list_(
    request: Request,
    response: Response,
    snapshot: ReleaseDep,
    where: FilterDep,
    negotiated: NegotiatedDep,
) -> s.Page[s.Citation] | Response:
    """List citations, filtered and paged, in key order.

    In a citation format too, the answer holds the current page only: ask for the next with
    limit and offset, or follow the Link header.
    """
    page = citation_page(request, response, snapshot, where)
    return negotiated.respond(page, page.items, response)


@router.get(
    "/{key}",
    operation_id="getCitation",
    response_model=s.CitationDetail,
    responses={
        **negotiated_responses("The citation, with every claim that cites it"),
        **NOT_FOUND,
    },
)
def show(
    response: Response, snapshot: ReleaseDep, negotiated: NegotiatedDep, key: KeyDep
) -> s.CitationDetail | Response:
    """One citation, with every claim that cites it."""
    citation = get_citation(snapshot.session, snapshot.memo, key)
    return negotiated.respond(citation, [citation], response)
