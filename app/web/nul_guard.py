"""Refuse NUL characters in a request's path and query before any route sees them.

No stored id or value holds NUL (PostgreSQL text cannot), so a path with one names nothing
(404) and a query with one is malformed (400); without this guard PostgreSQL raised on the
lookup and the client got a 500.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.problems import problem_response


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            query: bytes = scope.get("query_string", b"")
            if "\x00" in path:
                response = problem_response(404, "Not found", "no such resource", "unmatched")
                await response(scope, receive, send)
                return
            if b"%00" in query and b"\x00" in unquote_to_bytes(query):
                response = problem_response(
                    400, "Bad request", "the query string holds a NUL character", path
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
