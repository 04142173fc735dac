"""create_app(): routers, lifespan and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__, problems
from app.context import Context, default_context


def create_app(ctx: Context | None = None, *, check_schema: bool = True) -> FastAPI:
    context = ctx or default_context()
    if check_schema:
        context.ready()
    context.settings.hashing_key()  # fail fast on an unsafe secret

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        context.engine.dispose()

    app = FastAPI(
        title="hydrascope",
        version=__version__,
        summary="Coordinated fake-account (Hydra) network detection for AI API platforms.",
        lifespan=lifespan,
    )
    app.state.ctx = context
    problems.install(app)

    from app import health
    from app.clusters import router as clusters_router
    from app.ingest import router as ingest_router
    from app.runs import router as runs_router

    app.include_router(health.router)
    app.include_router(ingest_router.router)
    app.include_router(clusters_router.router)
    app.include_router(runs_router.router)
    return app
