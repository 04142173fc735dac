"""POST /v1/search: find accounts and clusters by id or by a personal value, sent in the
request body so it never reaches a URL, an access log or a browser history."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.core.context import Context
from app.core.errors import AUTHENTICATED
from app.search import service
from app.search.schemas import SearchQuery, SearchResult

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post(
    "/search",
    response_model=SearchResult,
    responses=AUTHENTICATED,
    summary="Search accounts and clusters by id, email, IP, device or card fingerprint",
    description=(
        "Account and cluster ids match exactly or by their start. Personal values (email, "
        "IP, device, card fingerprint) need the reviewer role (403 for viewers) and are "
        "compared by their keyed digest, as ingest stored them: an email matches however "
        "it was written (case, plus-tags, provider dots), an IP matches sign-up and "
        "request addresses. Results carry each account's cluster in the latest run."
    ),
)
async def search(
    request: Request, body: SearchQuery, who: Principal = Depends(require("viewer"))
) -> SearchResult:
    ctx: Context = request.app.state.ctx
    personal = who.can("reviewer")

    def run() -> SearchResult:
        with ctx.reads() as s:
            return service.search(s, body, hasher=ctx.hasher, personal=personal)

    return await run_in_threadpool(run)
