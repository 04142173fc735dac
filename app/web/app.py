"""create_app(): routers, lifespan and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from app import __version__
from app.auth.keycache import KeyCache
from app.auth.ratelimit import RateLimiter
from app.cache.middleware import CachedResponses
from app.cache.store import ResponseCache
from app.cache.version import VersionReader
from app.core.context import Context, default_context
from app.web import problems
from app.web.known_params import known_query_only
from app.web.nul_guard import NulGuard
from app.web.observability import AccessLog, configure_logging


def create_app(ctx: Context | None = None, *, check_schema: bool = True) -> FastAPI:
    context = ctx or default_context()
    if check_schema:
        context.ready()
    context.settings.hashing_key()  # fail fast on an unsafe secret

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await versions.start()
        yield
        await versions.stop()
        context.engine.dispose()

    app = FastAPI(
        title="hydrascope",
        version=__version__,
        summary="Coordinated fake-account (Hydra) network detection for AI API platforms.",
        lifespan=lifespan,
        docs_url=None,  # app.web.api_docs serves it without a CDN
        redoc_url=None,
        dependencies=[Depends(known_query_only)],  # a misspelt filter is an error, not ignored
    )
    app.state.ctx = context
    settings = context.settings
    configure_logging(settings.log_level, settings.log_format)
    app.state.key_cache = KeyCache(settings.api_key_cache_seconds)
    app.state.responses = ResponseCache(settings.response_cache_mib << 20)
    app.state.versions = versions = VersionReader(context)
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    # the documented allowance: N exports a minute, all N at once if the analyst needs them
    app.state.export_limiter = RateLimiter(
        settings.export_rate_per_minute, settings.export_rate_per_minute
    )
    problems.install(app)
    problems.add_openapi_schema(app)
    app.add_middleware(CachedResponses, state=app.state)  # inside AccessLog: logged
    app.add_middleware(NulGuard)  # inside AccessLog: logged
    app.add_middleware(AccessLog)

    from app.accounts import router as accounts_router
    from app.clusters import router as clusters_router
    from app.detection import router as runs_router
    from app.exports import router as exports_router
    from app.ingest import router as ingest_router
    from app.ops import router as ops_router
    from app.reviews import router as reviews_router
    from app.search import router as search_router
    from app.web import api_docs, console, health, metrics

    # routes are matched in order: the most requested first
    app.include_router(clusters_router.router)
    app.include_router(reviews_router.router)
    app.include_router(accounts_router.router)
    app.include_router(search_router.router)
    app.include_router(health.router)
    app.include_router(ingest_router.router)
    app.include_router(exports_router.router)
    app.include_router(runs_router.router)
    app.include_router(ops_router.router)
    app.include_router(metrics.router)
    app.include_router(console.router)
    api_docs.install(app)
    return app
