"""Parameters several routes of the API share, as dependencies that validate and resolve them
(those the explorer shares too are in ``app.http.params``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response

from app.domain import ALL_VARIANTS, MODALITY_VARIANTS, Population
from app.http.params import MAX_Q, ResolvedCondition, condition_filter
from app.urls import Urls

MAX_LIMIT = 100
MAX_OFFSET = 100_000


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


async def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1-100).")] = 20,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Items to skip before this page.")
    ] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]

TextQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=MAX_Q, description="Case-insensitive text to look for."),
]


ConditionDep = Annotated[ResolvedCondition | None, Depends(condition_filter)]


def set_link_header(
    request: Request, response: Response, urls: Urls, total: int, page: Paging
) -> None:
    """RFC 8288 ``Link`` header with next/prev pages on the client's origin, keeping every
    other query parameter."""
    links = []

    def url(offset: int) -> str:
        params = dict(request.query_params)
        params["offset"] = str(offset)
        params["limit"] = str(page.limit)
        return f"{urls.absolute(request.url.path)}?{urlencode(params)}"

    if page.offset + page.limit < total:
        links.append(f'<{url(page.offset + page.limit)}>; rel="next"')
    if page.offset > 0:
        links.append(f'<{url(max(page.offset - page.limit, 0))}>; rel="prev"')
    if links:
        response.headers["Link"] = ", ".join(links)


VariantQuery = Annotated[
    str | None,
    Query(
        description="Only indications for this variant of a modality: a modality or result"
        " matches through one of them, as with population. Each modality's variants: "
        + "; ".join(
            f"{modality}: {', '.join(v.value for v in vocabulary)}"
            for modality, vocabulary in MODALITY_VARIANTS.items()
        )
        + ".",
        examples=["guided-icbt"],
        pattern="^(?:" + "|".join(ALL_VARIANTS) + ")$",
        json_schema_extra={"enum": list(ALL_VARIANTS)},
    ),
]

PopulationQuery = Annotated[
    Population | None,
    Query(
        description="Only indications for this population count: a modality or condition "
        "matches through one of them, and every evidence level, matrix cell and list of "
        "indications in the answer is this population's alone.",
        examples=["adolescents"],
    ),
]
