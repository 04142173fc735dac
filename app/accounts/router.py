"""GET /v1/accounts/{id}."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from app.accounts import service
from app.accounts.schemas import AccountView
from app.auth.apikeys import Principal
from app.auth.deps import require
from app.cache.etag import rendered
from app.core.context import Context
from app.core.errors import AUTHENTICATED, NOT_MODIFIED

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get(
    "/{account_id}",
    response_model=AccountView,
    responses={**AUTHENTICATED, **NOT_MODIFIED},
    summary="One account: facts, usage, observations, its clusters now and before, its links",
)
async def get_account(
    request: Request, account_id: str, who: Principal = Depends(require("viewer"))
) -> Response:
    ctx: Context = request.app.state.ctx
    personal = who.can("reviewer")
    return await rendered(
        request,
        lambda s: service.lookup(
            s, account_id, personal=personal, window_seconds=ctx.settings.activity_window_seconds
        ),
        personal=personal,
    )
