"""FastAPI dependencies: who is calling (Bearer API key) and may they."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from app.auth.keycache import KeyCache
from app.auth.keys import RANK, Principal, authenticate
from app.auth.ratelimit import RateLimiter
from app.context import Context
from app.problems import Forbidden, Unauthorized


def principal(request: Request) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer KEY'")
    ctx: Context = request.app.state.ctx
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    found = cache.get(token.strip()) if cache is not None else None
    if found is None:
        with ctx.reads() as session:
            found = authenticate(session, token.strip())
        if found is not None and cache is not None:
            cache.put(token.strip(), found)
    if found is None:
        raise Unauthorized("unknown or revoked API key")
    return found


def require(role: str) -> Callable[..., Principal]:
    """A dependency that admits keys of ``role`` or above."""
    if role not in RANK:
        raise ValueError(role)

    def check(request: Request, who: Principal = Depends(principal)) -> Principal:
        limiter: RateLimiter | None = getattr(request.app.state, "limiter", None)
        if limiter is not None:
            limiter.check(who.key_id)
        request.state.key_id = who.key_id  # for the access log
        if not who.can(role):
            raise Forbidden(f"this needs the {role} role; this key has the {who.role} role")
        return who

    return check
