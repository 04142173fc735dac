"""Detection runs over HTTP: list, detail (with live progress), start in the background."""

from __future__ import annotations

import threading
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from app.audit import record
from app.auth.deps import require
from app.auth.keys import Principal
from app.context import Context
from app.db import transaction
from app.detection import service as detection
from app.http_cache import cached_body
from app.models import DetectionRun
from app.problems import AUTHENTICATED, NOT_MODIFIED, Conflict, NotFound, responses
from app.timeutil import UtcDatetime

router = APIRouter(prefix="/v1", tags=["runs"], responses=AUTHENTICATED)


class RunOut(BaseModel):
    id: str
    status: str
    progress: str | None
    started_at: UtcDatetime
    finished_at: UtcDatetime | None
    engine: str
    seed: int
    params: dict[str, Any]
    code_version: str
    input_digest: str | None
    timings: dict[str, Any]
    counts: dict[str, Any]
    error: str | None


def _out(r: DetectionRun) -> RunOut:
    counts = {k: v for k, v in (r.counts or {}).items() if k != "runner"}
    return RunOut(
        id=r.id,
        status=r.status,
        progress=r.progress,
        started_at=r.started_at,
        finished_at=r.finished_at,
        engine=r.engine,
        seed=r.seed,
        params=r.params,
        code_version=r.code_version,
        input_digest=r.input_digest,
        timings=r.timings or {},
        counts=counts,
        error=r.error,
    )


@router.get("/runs", response_model=list[RunOut], summary="Detection runs, newest first")
def list_runs(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    _who: Principal = Depends(require("viewer")),
) -> list[RunOut]:
    ctx: Context = request.app.state.ctx
    with ctx.reads() as s:
        rows = s.scalars(select(DetectionRun).order_by(DetectionRun.started_at.desc()).limit(limit))
        return [_out(r) for r in rows]


@router.get(
    "/runs/{run_id}", response_model=RunOut, summary="One run: parameters, timings, progress"
)
def get_run(request: Request, run_id: str, _who: Principal = Depends(require("viewer"))) -> RunOut:
    ctx: Context = request.app.state.ctx
    with ctx.reads() as s:
        row = s.get(DetectionRun, run_id)
        if row is None:
            raise NotFound(f"no run {run_id!r}")
        return _out(row)


@router.post(
    "/runs",
    status_code=202,
    summary="Start detection in the background",
    responses=responses(s409="A run is already running (its id is in run_id)"),
)
def start_run(request: Request, who: Principal = Depends(require("admin"))) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    params = detection.params_from_settings(ctx.settings)
    try:
        run_id = detection.start_run(ctx, params)
    except detection.RunInProgress as exc:
        raise Conflict(str(exc), run_id=exc.run_id) from exc
    with transaction(ctx.sessions) as s:
        record(s, who.actor, "run.start", "run", run_id, {})

    def work() -> None:
        try:
            detection.execute_run(ctx, run_id, params)
        except Exception:  # recorded on the run as failed; nothing else to do here
            return

    threading.Thread(target=work, name=f"detect-{run_id}", daemon=True).start()
    return JSONResponse(
        {"run_id": run_id, "status": "running"},
        status_code=202,
        headers={"Location": f"/v1/runs/{run_id}"},
    )


@router.get(
    "/stats",
    summary="The counts a dashboard shows (ETag / If-None-Match)",
    responses=NOT_MODIFIED,
    response_model=dict[str, Any],
)
def stats(request: Request, _who: Principal = Depends(require("viewer"))) -> Response:
    from app.stats import collect

    ctx: Context = request.app.state.ctx
    with ctx.reads() as s:
        body = collect(s)
    return cached_body(request, orjson.dumps(body))


@router.get("/audit", summary="The audit log, newest first (admins)")
def audit(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    before_id: int | None = None,
    _who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    from app.models import AuditEntry

    ctx: Context = request.app.state.ctx
    with ctx.reads() as s:
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(AuditEntry.id < before_id)
        rows = list(s.scalars(q))
    items = [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "target_type": r.target_type,
            "target_id": r.target_id,
            "details": r.details,
        }
        for r in rows
    ]
    return {"items": items, "next_before_id": rows[-1].id if len(rows) == limit else None}
