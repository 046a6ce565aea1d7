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
from app.explorer import forest, trial_plots
from app.explorer.figure import Layout
from app.explorer.render import page, short_label
from app.explorer.summary import lead_sentences
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
from app.queries.trials import indication_trials
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
        detail=extra.get("page_detail", detail),
        # People read names: the route that raised names the suggestion where it can.
        suggestion=extra.get("suggestion_name", suggestion),
        suggestion_url=suggestion_url,
    )


def named(exc: AppError, kind: str, asked: str, names: dict[str, str]) -> AppError:
    """A 404 told in names: what was asked for, and the nearest thing by its name."""
    suggestion = exc.extra.get("suggestion")
    if isinstance(suggestion, str) and suggestion in names:
        exc.extra["suggestion_name"] = names[suggestion]
    exc.extra["page_detail"] = f"There is no {kind} called \u201c{asked}\u201d."
    return exc


def condition_names(snapshot: ReleaseDep) -> dict[str, str]:
    items = list_conditions(snapshot.session, PATHS, ConditionFilter(limit=MENU_LIMIT)).items
    return {c.slug: c.name for c in items}


def modality_names(snapshot: ReleaseDep) -> dict[str, str]:
    items = list_modalities(snapshot.session, PATHS, ModalityFilter(limit=MENU_LIMIT)).items
    return {x.slug: x.name for x in items}


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
    """A condition: what to offer first, its modalities strongest first, their evidence, the
    curated effects' forest plot and the trial-level plots. Named by one of its codes, a
    permanent redirect to its page, as in the API."""
    try:
        condition = condition_or_code(snapshot.session, snapshot.memo, PATHS, slug)
    except NotFound as exc:
        raise named(exc, "condition", slug, condition_names(snapshot)) from None
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
    citations = citations_by_key(snapshot.session, PATHS, keys)
    by_modality: dict[str, list[s.ConditionIndication]] = {}
    for indication in condition.modalities:
        by_modality.setdefault(indication.modality, []).append(indication)
    rows = forest.forest_rows(condition.modalities, _sources(citations))
    return page(
        "condition.html",
        snapshot.release,
        [("This condition", condition_path(condition.slug))],
        condition=condition,
        lead=lead_sentences(condition),
        names=condition_names(snapshot),
        by_modality=by_modality,
        citations=citations,
        forest_rows=rows,
        forest_panels=forest.panels(rows),
        phone_studies=trial_plots.PHONE_STUDIES,
        funnel_min=trial_plots.FUNNEL_MIN,
    )


def _sources(citations: dict[str, s.Citation]) -> dict[str, str]:
    return {key: short_label(c) for key, c in citations.items()}


LayoutQuery = Annotated[
    Layout, Query(description="wide (every row), or phone (narrow; the heaviest studies)")
]


@router.get("/conditions/{slug}/forest.svg")
def forest_plot(
    snapshot: ReleaseDep, slug: ConditionSlug, layout: LayoutQuery = Layout.wide
) -> Response:
    """The condition's forest plot (drawn once per release: the response cache keeps it)."""
    indications = get_condition(snapshot.session, snapshot.memo, PATHS, slug).modalities
    keys = {e.citation for i in indications for e in i.effects}
    rows = forest.forest_rows(
        indications, _sources(citations_by_key(snapshot.session, PATHS, keys))
    )
    if not rows:
        raise NotFound(f"no pooled effects are recorded for '{slug}'")
    return _svg(forest.forest_svg(rows, layout), snapshot)


def _svg(body: str, snapshot: ReleaseDep) -> Response:
    return Response(body, media_type="image/svg+xml", headers=snapshot.headers)


IndicationId = Annotated[str, Path(max_length=200)]
ComparatorClass = Annotated[str, Path(max_length=40)]


def _trial_figure(
    snapshot: ReleaseDep, slug: str, indication: str, comparator: str
) -> tuple[s.Pooled, dict[str, str], str]:
    """The pooled figure one of the condition page's trial plots shows, its study labels and
    its title; a 404 unless the page offers that plot."""
    condition = get_condition(snapshot.session, snapshot.memo, PATHS, slug)
    found = next((i for i in condition.modalities if i.id == indication), None)
    if found is None or comparator not in {p.comparator for p in found.pooled}:
        raise NotFound(f"no trial plot '{indication}' against '{comparator}' on '{slug}'")
    answer = indication_trials(
        snapshot.session,
        snapshot.memo,
        found.modality,
        found.condition,
        found.population.value,
        found.variant,
        comparator,
    )
    if answer is None:
        raise NotFound(f"no trial matches '{indication}' against '{comparator}'")
    pooled, labels = answer
    against = "any control" if comparator == "control" else comparator.replace("-", " ")
    variant = f", {found.variant}" if found.variant else ""
    title = f"{found.modality_name} vs {against} ({found.population.value}{variant})"
    return pooled, labels, title


@router.get("/conditions/{slug}/trials/{indication}/{comparator}.svg")
def trial_forest_plot(
    snapshot: ReleaseDep,
    slug: ConditionSlug,
    indication: IndicationId,
    comparator: ComparatorClass,
    layout: LayoutQuery = Layout.wide,
) -> Response:
    """One study a row, the pooled diamond and the prediction interval: the figure of
    /v1/pooled for one indication and comparator class. The phone layout shows the heaviest
    studies; the wide one every study."""
    pooled, labels, title = _trial_figure(snapshot, slug, indication, comparator)
    limit = trial_plots.PHONE_STUDIES if layout is Layout.phone else None
    return _svg(trial_plots.forest_svg(pooled, labels, title, layout, limit), snapshot)


@router.get("/conditions/{slug}/trials/{indication}/{comparator}/funnel.svg")
def trial_funnel_plot(
    snapshot: ReleaseDep,
    slug: ConditionSlug,
    indication: IndicationId,
    comparator: ComparatorClass,
    layout: LayoutQuery = Layout.wide,
) -> Response:
    """The same effects against their standard error, where there are at least ten."""
    pooled, _, title = _trial_figure(snapshot, slug, indication, comparator)
    if len(pooled.studies) < trial_plots.FUNNEL_MIN:
        raise NotFound(f"a funnel plot needs {trial_plots.FUNNEL_MIN} effects or more")
    return _svg(trial_plots.funnel_svg(pooled, title, layout), snapshot)


@router.get("/modalities/{slug}")
def modality_page(snapshot: ReleaseDep, slug: Annotated[str, Path(max_length=80)]) -> Response:
    """A modality: summary, formats, components, pros and cons, numbered citations."""
    try:
        modality = get_modality(
            snapshot.session, snapshot.memo, PATHS, slug, include_citations=True
        )
    except NotFound as exc:
        raise named(exc, "modality", slug, modality_names(snapshot)) from None
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
    """Two to six modalities side by side, optionally for one condition. A choice the
    comparison cannot take keeps the form as it was sent, with the reason beside it."""
    release = snapshot.release
    comparison = None
    error: AppError | None = None
    json_links: list[tuple[str, str]] = []
    names = modality_names(snapshot)
    if modalities:
        try:
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
        except AppError as exc:
            error = exc
        else:
            params = {"modalities": ",".join(slugs)}
            if resolved:
                params["condition"] = resolved.slug
            json_links.append(("This comparison", f"/v1/compare?{urlencode(params)}"))
    suggestion = error.extra.get("suggestion") if error else None
    return page(
        "compare.html",
        release,
        json_links,
        status=error.status if error else 200,
        comparison=comparison,
        error=error,
        suggestion=(suggestion, names[suggestion]) if suggestion in names else None,
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
    try:
        citation = get_citation(snapshot.session, snapshot.memo, PATHS, key)
    except NotFound as exc:
        close = exc.extra.get("suggestion")
        found = citations_by_key(snapshot.session, PATHS, {close}) if isinstance(close, str) else {}
        raise named(exc, "citation", key, _sources(found)) from None
    return page(
        "citation.html",
        snapshot.release,
        [("This citation", citation_path(key))],
        citation=citation,
        modality_names=modality_names(snapshot),
        reference=render_text([citation]).strip(),
    )


@router.get("/search")
def search_page(snapshot: ReleaseDep, q: Annotated[str, Query(max_length=MAX_Q)] = "") -> Response:
    """Full-text search, the same as /v1/search."""
    release = snapshot.release
    hits = search(snapshot.session, PATHS, q, None, SEARCH_PAGE, 0) if q.strip() else None
    json_links = [("These results", f"/v1/search?{urlencode({'q': q})}")] if q.strip() else []
    return page("search.html", release, json_links, hits=hits, q=q)
