"""Operations over HTTP: the dashboard counts and the audit log."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.cache.etag import cached_body
from app.core.context import Context
from app.core.errors import AUTHENTICATED, NOT_MODIFIED
from app.ops.audit_log import audit_page
from app.ops.stats import collect

router = APIRouter(prefix="/v1", tags=["operations"], responses=AUTHENTICATED)


@router.get(
    "/stats",
    summary="The counts a dashboard shows (ETag / If-None-Match)",
    responses=NOT_MODIFIED,
    response_model=dict[str, Any],
)
def stats(request: Request, _who: Principal = Depends(require("viewer"))) -> Response:
    ctx: Context = request.app.state.ctx
    with ctx.reads() as s:
        body = collect(s)
    return cached_body(request, orjson.dumps(body))


@router.get("/audit", summary="The audit log, newest first (admins)")
def audit(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    before_id: int | None = Query(None, ge=1, le=2**63 - 1),
    _who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    ctx: Context = request.app.state.ctx
    with ctx.reads() as s:
        return audit_page(s, limit, before_id)
