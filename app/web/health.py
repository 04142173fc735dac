"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.context import Context
from app.core.db import SchemaError, check_schema

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and its schema current",
    responses={503: {"description": "Database unreachable or schema behind"}},
)
def readyz(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        check_schema(ctx.engine)
    except SchemaError as exc:
        return JSONResponse({"status": "schema_behind", "detail": str(exc)}, status_code=503)
    except Exception as exc:  # any driver error means not ready
        return JSONResponse(
            {"status": "database_unreachable", "detail": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ready"})
