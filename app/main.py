"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__, problems
from app.config import Settings, get_settings
from app.db import create_db_engine
from app.routes import citations, compare, conditions, health, modalities, search


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine is created in the lifespan, from ``settings``."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(settings)
        app.state.engine = engine
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="therapy-kb",
        version=__version__,
        summary="A curated, cited knowledge base of psychotherapy modalities.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    problems.install(app)
    for module in (health, modalities, conditions, citations, compare, search):
        app.include_router(module.router)
    return app
