"""FastAPI dependencies: who is calling (Bearer API key) and may they.

Both are ``async``: a sync dependency costs a hop through the threadpool per request, and a
key found in the process's key cache needs no I/O. Only a cache miss reads the database,
in the threadpool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.auth.apikeys import RANK, Principal, authenticate
from app.auth.keycache import KeyCache
from app.auth.ratelimit import RateLimiter
from app.core.context import Context
from app.core.errors import Forbidden, Unauthorized


def _authenticate(ctx: Context, token: str) -> Principal | None:
    with ctx.reads() as session:
        return authenticate(session, token)


def bearer_token(authorization: str) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header value, or None."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def principal(request: Request) -> Principal:
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer KEY'")
    ctx: Context = request.app.state.ctx
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    found = cache.get(token) if cache is not None else None
    if found is None:
        found = await run_in_threadpool(_authenticate, ctx, token)
        if found is not None and cache is not None:
            cache.put(token, found)
    if found is None:
        raise Unauthorized("unknown or revoked API key")
    return found


def require(role: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits keys of ``role`` or above."""
    if role not in RANK:
        raise ValueError(role)

    async def check(request: Request) -> Principal:
        who = await principal(request)  # called, not a sub-dependency: one level less to solve
        limiter: RateLimiter | None = getattr(request.app.state, "limiter", None)
        if limiter is not None:
            limiter.check(who.key_id)
        request.state.key_id = who.key_id  # for the access log
        if not who.can(role):
            raise Forbidden(f"this needs the {role} role; this key has the {who.role} role")
        return who

    return check
