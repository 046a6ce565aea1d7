"""/v1/search: full-text search with ranked, highlighted hits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app import schemas as s
from app.domain import SearchType
from app.http.origin import UrlsDep
from app.http.params import CONTROL_CHARACTERS, MAX_Q
from app.queries.search import search
from app.release import ReleaseDep
from app.routes.params import PagingDep, VariantQuery, set_link_header

# Something besides spaces, and no control characters.
SOMETHING_BESIDES_SPACES = (
    f"^[^{CONTROL_CHARACTERS}]*[^\\s{CONTROL_CHARACTERS}][^{CONTROL_CHARACTERS}]*$"
)

router = APIRouter(tags=["search"])


@router.get("/v1/search", operation_id="search", response_model=s.Page[s.SearchHit])
def search_(
    request: Request,
    response: Response,
    snapshot: ReleaseDep,
    urls: UrlsDep,
    paging: PagingDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_Q,
            pattern=SOMETHING_BESIDES_SPACES,
            description="Words to look for (any text is safe). Every word must match; the last "
            "may be the start of a word, as you type ('cogn' finds 'cognitive').",
            examples=["grief"],
        ),
    ],
    type: Annotated[  # noqa: A002  (the public parameter name)
        SearchType | None, Query(description="Only hits of this type.")
    ] = None,
    variant: VariantQuery = None,
) -> s.Page[s.SearchHit]:
    """Search modalities, conditions, claims and citations; best match first. With a variant,
    only the indications and formats of that variant."""
    page = search(snapshot.session, urls, q, type, paging.limit, paging.offset, variant)
    set_link_header(request, response, urls, page.total, paging)
    return page
