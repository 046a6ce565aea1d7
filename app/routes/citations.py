"""/v1/citations: the literature behind every claim, as JSON or in a citation format."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app import schemas as s
from app.citations import CitationFormat
from app.http.origin import UrlsDep
from app.queries.citations import CitationFilter, get_citation, list_citations
from app.release import ReleaseDep, Snapshot
from app.routes.citation_formats import NegotiatedDep, add_citation_formats, negotiated_responses
from app.routes.params import (
    MAX_LIMIT,
    MAX_OFFSET,
    Paging,
    PagingDep,
    TextQuery,
    set_link_header,
)
from app.urls import Urls

router = APIRouter(tags=["citations"])

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


async def whole_citation_filter(
    q: TextQuery = None,
    year: Annotated[int | None, Query(ge=1800, le=2100, description="Publication year.")] = None,
    modality: Annotated[
        str | None,
        Query(min_length=1, max_length=80, description="Only works cited by this modality."),
    ] = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_LIMIT,
            description="Works per page (1-100); without it, every work that matches: the "
            "whole bibliography when nothing else is given.",
        ),
    ] = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Works to skip before this page.")
    ] = 0,
) -> CitationFilter:
    """The filters of a citation format's list, and its page when ``limit`` is given."""
    return CitationFilter(q=q, year=year, modality=modality, limit=limit, offset=offset)


FilterDep = Annotated[CitationFilter, Depends(citation_filter)]
KeyDep = Annotated[str, Depends(citation_key)]


def citation_page(
    request: Request, response: Response, snapshot: Snapshot, urls: Urls, where: CitationFilter
) -> s.Page[s.Citation]:
    """A page of citations, with the Link header to the pages beside it (none for every match
    at once)."""
    page = list_citations(snapshot.session, urls, where)
    if where.limit is not None:
        paging = Paging(limit=where.limit, offset=where.offset)
        set_link_header(request, response, urls, page.total, paging)
    return page


def _page_items(
    request: Request, response: Response, snapshot: Snapshot, urls: Urls, where: CitationFilter
) -> list[s.Citation]:
    return citation_page(request, response, snapshot, urls, where).items


def _citation(
    _request: Request, _response: Response, snapshot: Snapshot, urls: Urls, key: str
) -> list[s.Citation]:
    return [get_citation(snapshot.session, snapshot.memo, urls, key)]


# Each format as an operation of its own: before /{key}, which would take "x.bib" for a key.
add_citation_formats(
    router,
    {
        "/v1/citations.csl.json": CitationFormat.csl_json,
        "/v1/citations.bib": CitationFormat.bibtex,
        "/v1/citations.ris": CitationFormat.ris,
        "/v1/citations.txt": CitationFormat.text,
    },
    "listCitations",
    "Every citation (filtered, and a page of them with limit)",
    whole_citation_filter,
    _page_items,
    kept=lambda where: "all" if where.whole else None,
)
add_citation_formats(
    router,
    {
        "/v1/citations/{key}.csl.json": CitationFormat.csl_json,
        "/v1/citations/{key}.bib": CitationFormat.bibtex,
        "/v1/citations/{key}.ris": CitationFormat.ris,
        "/v1/citations/{key}.txt": CitationFormat.text,
    },
    "getCitation",
    "The citation",
    citation_key,
    _citation,
    NOT_FOUND,
)


@router.get(
    "/v1/citations",
    operation_id="listCitations",
    response_model=s.Page[s.Citation],
    responses=negotiated_responses("A page of citations"),
)
def list_(
    request: Request,
    response: Response,
    snapshot: ReleaseDep,
    urls: UrlsDep,
    where: FilterDep,
    negotiated: NegotiatedDep,
) -> s.Page[s.Citation] | Response:
    """List citations, filtered and paged, in key order.

    In a citation format too, the answer holds the current page only: ask for the next with
    limit and offset, or follow the Link header.
    """
    page = citation_page(request, response, snapshot, urls, where)
    return negotiated.respond(page, page.items, response)


@router.get(
    "/v1/citations/{key}",
    operation_id="getCitation",
    response_model=s.CitationDetail,
    responses={
        **negotiated_responses("The citation, with every claim that cites it"),
        **NOT_FOUND,
    },
)
def show(
    response: Response,
    snapshot: ReleaseDep,
    urls: UrlsDep,
    negotiated: NegotiatedDep,
    key: KeyDep,
) -> s.CitationDetail | Response:
    """One citation, with every claim that cites it."""
    citation = get_citation(snapshot.session, snapshot.memo, urls, key)
    return negotiated.respond(citation, [citation], response)
