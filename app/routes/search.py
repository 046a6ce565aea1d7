"""/v1/search: full-text search with ranked, highlighted hits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app import schemas as s
from app.domain import SearchType
from app.queries.search import search
from app.release import ReleaseDep
from app.routes.params import PagingDep, VariantQuery, set_link_header
from app.web.guards import CONTROL_CHARACTERS
from app.web.params import MAX_Q

# Something besides spaces, and no control characters.
SOMETHING_BESIDES_SPACES = (
    f"^[^{CONTROL_CHARACTERS}]*[^\\s{CONTROL_CHARACTERS}][^{CONTROL_CHARACTERS}]*$"
)

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", operation_id="search", response_model=s.Page[s.SearchHit])
def search_(
    request: Request,
    response: Response,
    snapshot: ReleaseDep,
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
    page = search(snapshot.session, q, type, paging.limit, paging.offset, variant)
    set_link_header(request, response, page.total, paging)
    return page
