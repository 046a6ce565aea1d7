"""The explorer's pages. Thin like the API's routes: parse, call the named queries in
``app.queries``, render a template. Left out of the OpenAPI document: they are HTML for
people, and the JSON each one shows is linked from the page and documented there."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from app import schemas as s
from app.citations import render_text
from app.domain import Population, Recommendation
from app.errors import AppError, InvalidParameter, NotFound
from app.explorer import forest
from app.explorer.render import page
from app.http.origin import UrlsDep
from app.http.params import MAX_Q, condition_filter, parse_modalities
from app.queries.citations import citations_by_key, get_citation
from app.queries.compare import compare
from app.queries.conditions import (
    CodeRedirect,
    ConditionFilter,
    condition_or_code,
    get_condition,
    list_conditions,
)
from app.queries.evidence_map import evidence_map
from app.queries.meta import meta
from app.queries.modalities import ModalityFilter, get_modality, list_modalities
from app.queries.search import search
from app.release import ReleaseDep
from app.urls import PATHS, citation_path, condition_path, modality_path

# A page links with paths, which the browser resolves against the page itself: the records it
# shows are built with paths too (``PATHS``), the same on every host.

E = TypeVar("E", bound=StrEnum)
SEARCH_PAGE = 30
MENU_LIMIT = 500  # modalities and conditions offered by the compare form


class PageRoute(APIRoute):
    """A page's errors are pages too: a friendly 404 that offers the nearest slug, and the
    same for bad parameters, instead of the API's problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except PageError:
                raise
            except AppError as exc:
                # Raised on, not answered here: on its way out it passes the page's
                # ReleaseDep, which names the release it was read from (X-KB-Release).
                raise PageError(exc) from exc
            except RequestValidationError as exc:
                detail = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}"
                    for e in exc.errors()
                )
                return error_page(request, 422, "Invalid parameter", detail, {})

        return page_handler


class PageError(AppError):
    """An error of a page: answered as a page (``page_error``), not as problem+json."""

    def __init__(self, cause: AppError) -> None:
        super().__init__(cause.detail, **cause.extra)
        self.status, self.title, self.type_slug = cause.status, cause.title, cause.type_slug
        self.headers = cause.headers


async def page_error(request: Request, exc: Exception) -> Response:
    """The exception handler for ``PageError`` (``app.main`` installs it)."""
    assert isinstance(exc, PageError)
    shown = error_page(request, exc.status, exc.title, exc.detail, exc.extra)
    shown.headers.update(exc.headers)
    return shown


def error_page(
    request: Request, status: int, title: str, detail: str, extra: dict[str, Any]
) -> HTMLResponse:
    suggestion = extra.get("suggestion")
    suggestion_url = None
    if isinstance(suggestion, str):
        # The unknown slug is the path's last segment: the suggestion takes its place.
        parent = request.url.path.rstrip("/").rsplit("/", 1)[0]
        suggestion_url = f"{parent}/{suggestion}" if parent else f"/modalities/{suggestion}"
    return page(
        "error.html",
        None,
        [],
        status=status,
        title=title,
        detail=detail,
        suggestion=suggestion,
        suggestion_url=suggestion_url,
    )


router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


def choice(enum: type[E], value: str | None, parameter: str) -> E | None:
    """A form's select: '' means any."""
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        reason = f"'{value}' is not one of {allowed}"
        raise InvalidParameter(
            f"{parameter}: {reason}", errors=[{"parameter": parameter, "reason": reason}]
        ) from None


FormValue = Annotated[str | None, Query(max_length=80)]


@router.get("/")
def evidence_map_page(
    snapshot: ReleaseDep, population: FormValue = None, guideline: FormValue = None
) -> Response:
    """The evidence map: modalities against conditions."""
    chosen_population = choice(Population, population, "population")
    chosen_guideline = choice(Recommendation, guideline, "guideline")
    release = snapshot.release
    return page(
        "map.html",
        release,
        [("Release and evidence scale", "/v1/meta"), ("Every indication", "/v1/export")],
        meta=meta(snapshot.session, release),
        data=evidence_map(snapshot.session, chosen_population, chosen_guideline),
        populations=list(Population),
        recommendations=list(Recommendation),
        population=chosen_population,
        guideline=chosen_guideline,
    )


ConditionSlug = Annotated[str, Path(max_length=80)]


@router.get("/conditions/{slug}")
def condition_page(snapshot: ReleaseDep, urls: UrlsDep, slug: ConditionSlug) -> Response:
    """A condition: its modalities strongest first, with their evidence and a forest plot.
    Named by one of its codes, a permanent redirect to its page, as in the API."""
    condition = condition_or_code(snapshot.session, snapshot.memo, PATHS, slug)
    if isinstance(condition, CodeRedirect):
        return RedirectResponse(
            urls.absolute(f"/conditions/{condition.slug}"),
            status_code=308,
            headers=snapshot.headers,
        )
    keys = {
        key
        for i in condition.modalities
        for key in [
            *i.citations,
            *(g.citation for g in i.guidelines),
            *(e.citation for e in i.effects),
        ]
    }
    by_modality: dict[str, list[s.ConditionIndication]] = {}
    for indication in condition.modalities:
        by_modality.setdefault(indication.modality, []).append(indication)
    rows = forest.forest_rows(condition.modalities)
    return page(
        "condition.html",
        snapshot.release,
        [("This condition", condition_path(condition.slug))],
        condition=condition,
        by_modality=by_modality,
        citations=citations_by_key(snapshot.session, PATHS, keys),
        forest_rows=rows,
        forest_panels=forest.panels(rows),
    )


@router.get("/conditions/{slug}/forest.svg")
def forest_plot(snapshot: ReleaseDep, slug: ConditionSlug) -> Response:
    """The condition's forest plot (drawn once per release: the response cache keeps it)."""
    rows = forest.forest_rows(
        get_condition(snapshot.session, snapshot.memo, PATHS, slug).modalities
    )
    if not rows:
        raise NotFound(f"no pooled effects are recorded for '{slug}'")
    return Response(forest.forest_svg(rows), media_type="image/svg+xml", headers=snapshot.headers)


@router.get("/modalities/{slug}")
def modality_page(snapshot: ReleaseDep, slug: Annotated[str, Path(max_length=80)]) -> Response:
    """A modality: summary, formats, components, pros and cons, numbered citations."""
    modality = get_modality(snapshot.session, snapshot.memo, PATHS, slug, include_citations=True)
    numbers: dict[str, int] = {}
    for keys in [
        modality.citations,
        *(i.citations for i in modality.indications),
        *(c.citations for c in [*modality.pros, *modality.cons]),
        *(f.citations for f in modality.formats),
        *(c.citations for c in modality.components),
    ]:
        for key in keys:
            numbers.setdefault(key, len(numbers) + 1)
    works = {c.key: c for c in modality.included_citations or []}
    return page(
        "modality.html",
        snapshot.release,
        [("This modality", modality_path(slug))],
        modality=modality,
        numbers=numbers,
        references=[(n, works[key]) for key, n in numbers.items() if key in works],
    )


@router.get("/compare")
def compare_page(
    snapshot: ReleaseDep,
    modalities: Annotated[list[str], Query(max_length=6)] = [],  # noqa: B006 (FastAPI copies it)
    condition: FormValue = None,
) -> Response:
    """Two to six modalities side by side, optionally for one condition."""
    release = snapshot.release
    comparison = None
    json_links: list[tuple[str, str]] = []
    if modalities:
        slugs = parse_modalities(modalities)
        resolved = condition_filter(snapshot, condition or None)
        comparison = compare(
            snapshot.session,
            snapshot.memo,
            PATHS,
            slugs,
            resolved.ids if resolved else None,
            resolved.slug if resolved else None,
        )
        params = {"modalities": ",".join(slugs)}
        if resolved:
            params["condition"] = resolved.slug
        json_links.append(("This comparison", f"/v1/compare?{urlencode(params)}"))
    return page(
        "compare.html",
        release,
        json_links,
        comparison=comparison,
        choices=list_modalities(snapshot.session, PATHS, ModalityFilter(limit=MENU_LIMIT)).items,
        conditions=list_conditions(
            snapshot.session, PATHS, ConditionFilter(limit=MENU_LIMIT)
        ).items,
        chosen=set(modalities),
        condition=condition or "",
    )


@router.get("/citations/{key}")
def citation_page(snapshot: ReleaseDep, key: Annotated[str, Path(max_length=80)]) -> Response:
    """A cited work: the reference, its links, the claims that cite it, downloads."""
    citation = get_citation(snapshot.session, snapshot.memo, PATHS, key)
    return page(
        "citation.html",
        snapshot.release,
        [("This citation", citation_path(key))],
        citation=citation,
        reference=render_text([citation]).strip(),
    )


@router.get("/search")
def search_page(snapshot: ReleaseDep, q: Annotated[str, Query(max_length=MAX_Q)] = "") -> Response:
    """Full-text search, the same as /v1/search."""
    release = snapshot.release
    hits = search(snapshot.session, PATHS, q, None, SEARCH_PAGE, 0) if q.strip() else None
    json_links = [("These results", f"/v1/search?{urlencode({'q': q})}")] if q.strip() else []
    return page("search.html", release, json_links, hits=hits, q=q)
