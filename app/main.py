"""The application factory: the lifespan, the routers, and the stack of layers around them
(declared once, outermost first). It is the one place that knows every face, and hands each
lower layer what it needs of them. docs/architecture.md walks a request through them."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.middleware import Middleware

from app import __version__
from app.config import Settings, get_settings
from app.db import create_db_engine, session_factory
from app.explorer import routes as explorer
from app.explorer.render import STATIC
from app.fhir.terminology import Canonical
from app.http.negotiation import MediaTypes
from app.http.origin import Trusted, origin
from app.http.strict_query import strict_query
from app.release import RELEASE_HEADER, ReleaseCache
from app.release.middleware import ReleaseMiddleware
from app.routes import (
    citations,
    compare,
    conditions,
    export,
    fhir,
    health,
    indications,
    meta,
    modalities,
    releases,
    search,
    trials,
)
from app.urls import FHIR, Area, area, kept_per_release
from app.urls import STATIC as STATIC_PREFIX
from app.web import openapi, problems, redoc
from app.web.accept import AcceptMiddleware
from app.web.admission import AdmissionMiddleware
from app.web.cors import CorsMiddleware
from app.web.guards import RequestGuardMiddleware
from app.web.head import HeadAsGetMiddleware
from app.web.problems import ServerErrorMiddleware
from app.web.rate_limit import RateLimitMiddleware
from app.web.request_log import AccessLogMiddleware, configure_logging
from app.web.security_headers import SecurityHeadersMiddleware

DESCRIPTION = """
A curated, cited knowledge base of psychotherapy modalities: what each is indicated for and how
strong the evidence is, its pros and cons, how it is delivered, and the literature behind every
claim. Read-only; the content changes only when a new release is loaded.

Every successful `GET` carries a strong `ETag` (answering `If-None-Match` with 304), a
`Cache-Control` header and `X-KB-Release`, the content hash of the release it was built from.
Every error is `application/problem+json` (RFC 9457), except under `/fhir`: a read-only FHIR R5
server (PlanDefinition, Evidence, Citation) whose errors are `OperationOutcome` resources.
"""
REQUEST_ID = "X-Request-ID"
# A client's request id is kept only when it is short and plain; otherwise a new one is made.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine is created in the lifespan, from ``settings``."""
    settings = settings or get_settings()
    configure_logging(settings.log_format, settings.log_level)
    release_cache = ReleaseCache(
        check_seconds=settings.release_check_seconds,
        max_entries=settings.response_cache_entries,
        preload_bytes=settings.preload_mb * 1024 * 1024,
        cache_control=f"public, max-age={settings.cache_max_age}".encode(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(settings)
        app.state.engine = engine
        release_cache.start(engine, session_factory(engine), routes)
        # Know the release before the first request, so a burst at start-up finds it.
        await release_cache.current()
        try:
            yield
        finally:
            engine.dispose()

    # FastAPIOffline serves Swagger UI and the assets (from its PyPI package); ReDoc is ours
    # (app/web/redoc.py), so that its bundle fetches nothing from elsewhere.
    app = FastAPIOffline(
        redoc_url=None,
        title="therapy-kb",
        version=__version__,
        summary="A curated, cited knowledge base of psychotherapy modalities.",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    # What ``app.release.ReleaseDep`` opens each request's session and memo from, and whose
    # X-Forwarded-* headers ``app.http.origin.UrlsDep`` believes.
    app.state.release_cache = release_cache
    trusted = Trusted(settings.trusted_proxies)
    app.state.trusted_proxies = trusted
    # Where FHIR canonical URLs live: the configured public origin, not the request's.
    app.state.fhir_canonical = Canonical(f"{settings.public_url}{FHIR}")
    problems.install(app)
    openapi.install(app)
    routers = [
        module.router
        for module in (
            health,
            modalities,
            conditions,
            indications,
            citations,
            compare,
            search,
            export,
            releases,
            trials,
            meta,
            fhir,
        )
    ]
    strict = [Depends(strict_query)]  # one rule for query parameters (app.http.strict_query)
    for router in routers:
        # FHIR's routes take the same rule themselves, refusing with a 400 OperationOutcome.
        app.include_router(router, dependencies=[] if router is fhir.router else strict)
    # The routes with their full paths (app.routes holds the included routers, not their routes).
    routes = [route for router in routers for route in router.routes]
    # The explorer: HTML pages over the same queries, and the stylesheet they share.
    app.include_router(explorer.router)
    app.include_router(redoc.router)
    app.add_exception_handler(explorer.PageError, explorer.page_error)
    app.mount(STATIC_PREFIX.rstrip("/"), StaticFiles(directory=STATIC), name="static")

    # What each operation of the API sends, from its route (FHIR has its own formats; the
    # probes answer whatever a prober accepts).
    media_types = MediaTypes(
        route for route in routes if area(getattr(route, "path", "")) is Area.api
    )
    app.state.media_types = media_types
    # Optional: counted per client address when a limit is set.
    rate_limit = (
        [Middleware(RateLimitMiddleware, rate_limit=settings.rate_limit)]
        if settings.rate_limit
        else []
    )

    # The layers, outermost first: a request passes them in this order, its answer in reverse.
    stack = [
        Middleware(
            CorrelationIdMiddleware,
            header_name=REQUEST_ID,
            generator=lambda: uuid.uuid4().hex,
            validator=lambda value: SANE_REQUEST_ID.fullmatch(value) is not None,
            update_request_header=False,  # nothing reads it from the request: it is in context
        ),
        Middleware(AccessLogMiddleware),
        Middleware(SecurityHeadersMiddleware),
        Middleware(ServerErrorMiddleware),
        Middleware(RequestGuardMiddleware),
        *rate_limit,
        Middleware(
            CorsMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["Accept", "If-None-Match", "Content-Type", REQUEST_ID],
            expose_headers=["ETag", "Link", RELEASE_HEADER, REQUEST_ID, "Retry-After"],
            max_age=600,
        ),
        # Outside every layer that looks only at GET, so HEAD gets what GET would.
        Middleware(HeadAsGetMiddleware),
        # 406 and Vary, in front of the release layer: an answer kept in memory is refused too.
        Middleware(AcceptMiddleware, media_types=media_types),
        Middleware(
            ReleaseMiddleware,
            cache=release_cache,
            cacheable=kept_per_release,
            varies_on_accept=media_types.varies,
            origin=lambda scope: origin(scope, trusted),  # answers are kept per origin
            wait_seconds=settings.db_pool_timeout_seconds,
        ),
        Middleware(
            AdmissionMiddleware,
            slots=settings.db_pool_size,
            queue_limit=settings.queue_limit,
            wait_seconds=settings.db_pool_timeout_seconds,
        ),
    ]
    for layer in reversed(stack):  # add_middleware wraps what was added before it
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
    return app
