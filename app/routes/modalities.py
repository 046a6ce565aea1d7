"""/v1/modalities: list, filter and show modalities."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from app import schemas as s
from app.citations import CitationFormat
from app.domain import Category, Delivery, Evidence, Recommendation
from app.http.origin import UrlsDep
from app.queries.citations import modality_citations
from app.queries.modalities import (
    ModalityFilter,
    ModalitySort,
    every_modality,
    get_modality,
    list_modalities,
)
from app.release import ReleaseDep, Snapshot, preloaded
from app.routes.citation_formats import NegotiatedDep, add_citation_formats, negotiated_responses
from app.routes.params import (
    ConditionDep,
    PagingDep,
    PopulationQuery,
    TextQuery,
    VariantQuery,
    set_link_header,
)
from app.urls import Urls

router = APIRouter(tags=["modalities"])

SlugPath = Annotated[
    str, Path(max_length=80, description="Modality slug.", examples=["ipt", "cbt"])
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such modality; the problem may suggest the nearest slug."}
}


@router.get(
    "/v1/modalities",
    operation_id="listModalities",
    response_model=s.Page[s.ModalitySummary],
    responses={404: {"description": "No such condition; may suggest the nearest slug."}},
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
    q: TextQuery = None,
    category: Annotated[Category | None, Query(description="approach or delivery.")] = None,
    min_evidence: Annotated[
        Evidence | None,
        Query(
            description="Only modalities with an indication at least this strong "
            "(for the condition and population, when given: the same indication)."
        ),
    ] = None,
    delivery: Annotated[
        Delivery | None, Query(description="Only modalities offered in this delivery format.")
    ] = None,
    guideline: Annotated[
        Recommendation | None,
        Query(
            description="Only modalities with an indication that a guideline gives this position"
            " (for the condition and population, when given: the same indication), e.g."
            " first-line."
        ),
    ] = None,
    sort: Annotated[
        ModalitySort,
        Query(
            description="name, -name, or evidence: strongest evidence first (each item's "
            "'evidence': for the condition and population when given, else for any)."
        ),
    ] = ModalitySort.name,
) -> s.Page[s.ModalitySummary]:
    """List modalities, filtered and paged."""
    page = list_modalities(
        snapshot.session,
        urls,
        ModalityFilter(
            category=category,
            condition_ids=condition.ids if condition else None,
            min_evidence=min_evidence,
            delivery=delivery,
            guideline=guideline,
            population=population,
            variant=variant,
            q=q,
            sort=sort,
            limit=paging.limit,
            offset=paging.offset,
        ),
    )
    set_link_header(request, response, urls, page.total, paging)
    return page


@router.get(
    "/v1/modalities/{slug}",
    operation_id="getModality",
    response_model=s.ModalityDetail,
    responses=NOT_FOUND,
)
@preloaded(every_modality)  # answered from memory before routing, but for ?include=citations
def show(
    snapshot: ReleaseDep,
    urls: UrlsDep,
    slug: SlugPath,
    include: Annotated[
        Literal["citations"] | None,
        Query(description="'citations' embeds every cited work once, at the top level."),
    ] = None,
) -> s.ModalityDetail:
    """One modality: indications, pros, cons, formats, components, with citation keys."""
    return get_modality(
        snapshot.session, snapshot.memo, urls, slug, include_citations=include == "citations"
    )


async def modality_slug(slug: SlugPath) -> str:
    return slug


def _citations(
    _request: Request, _response: Response, snapshot: Snapshot, urls: Urls, slug: str
) -> list[s.Citation]:
    return modality_citations(snapshot.session, snapshot.memo, urls, slug)


# Each citation format as an operation of its own.
add_citation_formats(
    router,
    {
        "/v1/modalities/{slug}/citations.csl.json": CitationFormat.csl_json,
        "/v1/modalities/{slug}/citations.bib": CitationFormat.bibtex,
        "/v1/modalities/{slug}/citations.ris": CitationFormat.ris,
        "/v1/modalities/{slug}/citations.txt": CitationFormat.text,
    },
    "listModalityCitations",
    "The modality's citations",
    modality_slug,
    _citations,
    NOT_FOUND,
    kept=lambda slug: f"modality:{slug}",  # one per modality, found before it is kept
)


@router.get(
    "/v1/modalities/{slug}/citations",
    operation_id="listModalityCitations",
    response_model=s.ModalityCitations,
    responses={**negotiated_responses("The modality's citations"), **NOT_FOUND},
)
def citations(
    response: Response,
    snapshot: ReleaseDep,
    urls: UrlsDep,
    negotiated: NegotiatedDep,
    slug: SlugPath,
) -> s.ModalityCitations | Response:
    """Every work the modality cites, once, in key order: as JSON or in a citation format."""
    items = modality_citations(snapshot.session, snapshot.memo, urls, slug)
    return negotiated.respond(s.ModalityCitations(modality=slug, items=items), items, response)
