"""What the runs endpoints return (GET /v1/runs, /v1/runs/{id})."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.core.timestamps import UtcDatetime
from app.models import DetectionRun


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

    @classmethod
    def of(cls, r: DetectionRun) -> RunOut:
        # "runner" (host and pid of the process that runs it) is internal bookkeeping
        counts = {k: v for k, v in (r.counts or {}).items() if k != "runner"}
        return cls(
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
