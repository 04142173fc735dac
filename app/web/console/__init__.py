"""The review console: one static page that calls the API with the key the analyst pastes.

The page holds no data and no key; everything it shows comes from the authenticated API.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["console"])
_PAGE = files(__package__).joinpath("index.html").read_text(encoding="utf-8")
_HEADERS = {
    # the page only talks to this origin; inline script and style are the page itself
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
def console() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers=_HEADERS)
