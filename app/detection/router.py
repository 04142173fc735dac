"""Detection runs over HTTP: list, detail (with live progress), start in the background."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.core.audit import record
from app.core.context import Context
from app.core.db import transaction
from app.core.errors import AUTHENTICATED, Conflict, NotFound, quoted, responses
from app.detection import repository as runs
from app.detection import service as detection
from app.detection.schemas import RunOut

router = APIRouter(prefix="/v1", tags=["runs"], responses=AUTHENTICATED)


@router.get("/runs", response_model=list[RunOut], summary="Detection runs, newest first")
def list_runs(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    _who: Principal = Depends(require("viewer")),
) -> list[RunOut]:
    ctx: Context = request.app.state.ctx
    with ctx.reads() as s:
        return [RunOut.of(r) for r in runs.newest_runs(s, limit)]


@router.get(
    "/runs/{run_id}", response_model=RunOut, summary="One run: parameters, timings, progress"
)
def get_run(request: Request, run_id: str, _who: Principal = Depends(require("viewer"))) -> RunOut:
    ctx: Context = request.app.state.ctx
    with ctx.reads() as s:
        row = runs.get_run(s, run_id)
        if row is None:
            raise NotFound(f"no run {quoted(run_id)}")
        return RunOut.of(row)


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
