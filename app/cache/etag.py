"""Strong ETags computed from the exact bytes sent, and If-None-Match answered with 304.

A tag is a digest of the representation, so two responses share a tag only when their bodies
are byte-identical (a viewer's redacted detail and a reviewer's full one differ).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response
from prometheus_client import Counter
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.cache.store import Rendered, ResponseCache, response_key
from app.cache.version import VersionReader
from app.core.context import Context
from app.core.etags import body_etag, matches

CACHED = Counter(
    "hydrascope_response_cache_lookups_total",
    "Cacheable GET responses by whether the rendered body was reused",
    ["result"],
)
HITS, MISSES = CACHED.labels("hit"), CACHED.labels("miss")


def cached_body(request: Request, body: bytes, *, max_age: int = 0) -> Response:
    """A JSON body with its ETag, or 304 when the client already holds it."""
    return _respond(request, body, body_etag(body), max_age)


async def rendered(
    request: Request,
    build: Callable[[Session], BaseModel],
    *,
    personal: bool,
    role: str = "viewer",
) -> Response:
    """``build(session)`` as JSON with its ETag (or 304), served from the process's response
    cache while the database's data version is unchanged (see app.cache.store); only a
    miss renders, in the threadpool. ``personal`` says whether the caller's role sees
    personal values (it is part of the cache key); ``role`` is the role the route requires
    (app.cache.middleware serves the body again only to keys that have it)."""
    ctx: Context = request.app.state.ctx
    cache: ResponseCache | None = getattr(request.app.state, "responses", None)
    if cache is None or not cache.enabled:
        body = await run_in_threadpool(_render, ctx, build)
        return _respond(request, body, body_etag(body), 0)
    versions: VersionReader = request.app.state.versions
    version = request.scope.get("state", {}).get("data_version")
    if version is None:  # not read by app.cache.middleware for this request
        version = await versions.current()
    key = response_key(request.scope, personal)
    hit = cache.get(key, version)
    if hit is not None:
        HITS.inc()
    else:
        MISSES.inc()
        body = await run_in_threadpool(_render, ctx, build)
        hit = Rendered(body, body_etag(body), role, request.scope.get("route"))
        cache.put(key, version, hit)
    return _respond(request, hit.body, hit.etag, 0)


def _render(ctx: Context, build: Callable[[Session], BaseModel]) -> bytes:
    with ctx.reads() as s:
        return build(s).model_dump_json().encode()


def _respond(request: Request, body: bytes, tag: str, max_age: int) -> Response:
    headers = {"ETag": tag, "Cache-Control": f"private, max-age={max_age}, must-revalidate"}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)
