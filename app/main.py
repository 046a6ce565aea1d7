"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from app import __version__, openapi, problems
from app.config import Settings, get_settings
from app.db import create_db_engine, session_factory
from app.httpcache import HttpCacheMiddleware, ReleaseWatch, cache_control
from app.middleware import GuardMiddleware, configure_logging
from app.negotiation import VaryOnAccept
from app.preload import Preloaded
from app.routes import citations, compare, conditions, export, health, meta, modalities, search

DESCRIPTION = """
A curated, cited knowledge base of psychotherapy modalities: what each is indicated for and how
strong the evidence is, its pros and cons, how it is delivered, and the literature behind every
claim. Read-only; the content changes only when a new release is loaded.

Every successful `GET` carries a strong `ETag` (answering `If-None-Match` with 304), a
`Cache-Control` header and `X-KB-Release`, the content hash of the release it was built from.
Every error is `application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine is created in the lifespan, from ``settings``."""
    settings = settings or get_settings()
    configure_logging(settings.log_format, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(settings)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.release_watch = ReleaseWatch(engine, settings.release_check_seconds)
        app.state.preloaded = Preloaded(
            app.state.sessions, settings.preload_mb * 1024 * 1024, cache_control(settings)
        )
        # Know the release before the first request, so a burst at start-up finds it.
        release = await anyio.to_thread.run_sync(app.state.release_watch.refresh)
        app.state.preloaded.ensure(release)
        try:
            yield
        finally:
            engine.dispose()

    # FastAPIOffline serves Swagger UI and ReDoc from assets shipped in its PyPI package.
    app = FastAPIOffline(
        title="therapy-kb",
        version=__version__,
        summary="A curated, cited knowledge base of psychotherapy modalities.",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    problems.install(app)
    openapi.install(app)
    app.include_router(health.router)
    routers = [m.router for m in (modalities, conditions, citations, compare, search, export, meta)]
    for router in routers:
        app.include_router(router)

    # Routes whose answer depends on Accept; for the others Accept is left out of the cache key.
    negotiated = [
        route.path_regex
        for router in routers
        for route in router.routes
        if isinstance(route, VaryOnAccept)
    ]
    app.add_middleware(
        HttpCacheMiddleware,
        watch=lambda: app.state.release_watch,
        preloaded=lambda: getattr(app.state, "preloaded", None),
        varies_on_accept=lambda path: any(regex.match(path) for regex in negotiated),
        cache_control=cache_control(settings),
        max_entries=settings.response_cache_entries,
        max_in_flight=settings.db_pool_size,
        queue_seconds=settings.db_timeout_seconds,
    )
    # Around the cache, so cached answers and errors get CORS headers too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["Accept", "If-None-Match", "Content-Type", "X-Request-ID"],
        expose_headers=["ETag", "Link", "X-KB-Release", "X-Request-ID", "Retry-After"],
        max_age=600,
    )
    # Outermost: request id, logging, limits and security headers apply to every answer.
    app.add_middleware(GuardMiddleware, rate_limit=settings.rate_limit)
    return app
