"""Query parameters an endpoint does not take are refused, not ignored.

A dashboard polling ``/v1/clusters?flaged=true`` (a typo) got every cluster, flagged or not,
with a 200: nothing told it that its filter was not applied. Every route now answers 422,
in the same problem shape as any other invalid parameter, naming the unknown one.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

# kept on the route itself: a table keyed by id(route) handed a route that is gone to the
# next one with its id (apps are made and dropped, e.g. one per test), and routes are not
# hashable
_TAKES = "_hydrascope_query_names"


def _query_names(dependant: Any) -> set[str]:
    """The query parameters of a route's dependant and of everything it depends on."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _declared(route: Any) -> frozenset[str]:
    names: frozenset[str] | None = getattr(route, _TAKES, None)
    if names is None:
        names = frozenset(_query_names(route.dependant))
        setattr(route, _TAKES, names)
    return names


async def known_query_only(request: Request) -> None:
    """A dependency of every route: 422 for a query parameter an API route does not
    declare."""
    route = request.scope.get("route")
    # the API only: the console's page and the health checks may be opened with anything
    if route is None or not request.query_params or not request.url.path.startswith("/v1/"):
        return
    takes = _declared(route)
    unknown = [name for name in request.query_params if name not in takes]
    if unknown:
        listed = ", ".join(sorted(takes)) or "none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"unknown parameter (this endpoint takes: {listed})",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )
