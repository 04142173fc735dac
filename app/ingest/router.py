"""POST /v1/ingest: the same NDJSON as the command line, streamed and size-capped."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.core.context import Context
from app.core.errors import AUTHENTICATED, PayloadTooLarge, Unprocessable, responses
from app.ingest.body import spool_body
from app.ingest.records import json_schema
from app.ingest.service import make_ingestor

router = APIRouter(prefix="/v1", tags=["ingest"])

_SCHEMA = json_schema()


@router.post(
    "/ingest",
    summary="Ingest NDJSON records (accounts, payment methods, requests)",
    description=(
        "The body is NDJSON (one record a line), optionally gzip-compressed. Valid records are "
        "stored even when others are rejected, unless `strict=true`: then a body with any "
        "rejected record stores nothing and answers 422, the summary in the problem's "
        "`summary`. The answer has the same summary as `hydrascope ingest --json`."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}, "x-record-schema": _SCHEMA},
            },
        }
    },
    responses={
        **AUTHENTICATED,
        **responses(
            s413="Body (decompressed) larger than HYDRASCOPE_INGEST_MAX_BODY_BYTES, or a line "
            "longer than HYDRASCOPE_INGEST_MAX_LINE_BYTES"
        ),
    },
)
async def ingest(
    request: Request, strict: bool = False, _who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    ctx: Context = request.app.state.ctx
    cap = ctx.settings.ingest_max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise PayloadTooLarge(f"body of {declared} bytes exceeds the limit of {cap} bytes")
    spool = await spool_body(
        request.stream(), max_body=cap, max_line=ctx.settings.ingest_max_line_bytes
    )
    try:
        ingestor = make_ingestor(ctx, strict=strict, workers=0)
        summary = await run_in_threadpool(ingestor.ingest, spool)  # type: ignore[arg-type]
    finally:
        spool.close()
    if summary.strict_rolled_back:  # the CLI exits 1 here: a client checking the status alone
        # must not read an all-or-nothing ingest that stored nothing as a success
        raise Unprocessable(
            f"strict ingest: {summary.rejected} record(s) refused, so nothing was stored",
            summary=summary.as_dict(),
        )
    return summary.as_dict()
