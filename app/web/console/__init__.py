"""The review console: a static page, its script and its style sheet, which call the API with
the key the analyst pastes.

The page holds no data and no key; everything it shows comes from the authenticated API.
Plain hand-written JavaScript and CSS, served from the package: no build step, nothing
loaded from another host (the Content-Security-Policy says so to the browser too).
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.core.errors import AUTHENTICATED

router = APIRouter(tags=["console"])
_HERE = files(__package__)
_ASSETS = {
    name: (_HERE.joinpath(name).read_bytes(), media)
    for name, media in (
        ("index.html", "text/html; charset=utf-8"),
        ("console.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    )
}
_HEADERS = {
    # the page talks to this origin only, and runs only its own script and style sheet
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidated: a new release is picked up at once
}


def _asset(name: str) -> Response:
    body, media = _ASSETS[name]
    return Response(body, media_type=media, headers=_HEADERS)


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
def console() -> Response:
    return _asset("index.html")


@router.get("/console/console.js", include_in_schema=False)
def script() -> Response:
    return _asset("console.js")


@router.get("/console/console.css", include_in_schema=False)
def style() -> Response:
    return _asset("console.css")


@router.get("/console/icon.svg", include_in_schema=False)
def icon() -> Response:
    return _asset("icon.svg")


class Me(BaseModel):
    key_id: str
    name: str
    role: str


@router.get(
    "/v1/me",
    tags=["operations"],
    response_model=Me,
    responses=AUTHENTICATED,
    summary="The calling key: its id, name and role (the console shows what the role may do)",
)
async def me(who: Principal = Depends(require("viewer"))) -> Me:
    return Me(key_id=who.key_id, name=who.name, role=who.role)
