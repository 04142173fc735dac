"""ASGI middleware: answer a GET from the response cache before routing and validation.

A body is in the cache only after its route rendered it with a 200 for the same path and
query string (app.cache.etag.rendered), so parameters were validated then and the key says
the same request again. What still runs for every request: the API key (from the key cache;
a key not in it goes the normal way, which authenticates and fills it), the data version,
the role the route asked for, the key's rate limit (charged here only for answers served
here; an empty bucket goes the normal way, to its 429), and the access log and metrics of
the middleware outside this one. Anything unusual (no key, a miss, a failed version read)
is passed on untouched, so the routes stay the only place that decides what a request
means.

Measured: routing, dependency solving and query validation were a third of a cached
answer's CPU (py-spy, one worker).
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.deps import bearer_token
from app.cache.etag import HITS
from app.cache.store import response_key
from app.core.errors import TooManyRequests
from app.core.etags import matches


class CachedResponses:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: responses, versions, key_cache, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        cache = self.state.responses
        if not cache.enabled or not len(cache):
            await self.app(scope, receive, send)
            return
        auth = ims = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value.decode("latin-1")
            elif name == b"if-none-match":
                ims = value.decode("latin-1")
        token = bearer_token(auth) if auth else None
        who = self.state.key_cache.get(token) if token else None
        if who is None:
            await self.app(scope, receive, send)
            return
        try:
            version = await self.state.versions.current()
        except Exception:  # the database is away: let the route fail with its own problem
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["data_version"] = version  # a miss renders under the version read here
        personal = who.can("reviewer")
        hit = cache.get(response_key(scope, personal), version)
        if hit is None or not who.can(hit.role):
            await self.app(scope, receive, send)  # the route checks and charges the key
            return
        try:
            self.state.limiter.check(who.key_id)
        except TooManyRequests:
            await self.app(scope, receive, send)  # the route answers 429 the usual way
            return
        state["key_id"] = who.key_id  # for the access log
        HITS.inc()
        scope["route"] = hit.route  # the route's template, for the access log and metrics
        tag = hit.etag.encode()
        headers = [
            (b"etag", tag),
            (b"cache-control", b"private, max-age=0, must-revalidate"),
        ]
        if matches(ims, hit.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(hit.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": hit.body})
