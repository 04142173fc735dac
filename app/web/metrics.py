"""GET /metrics: Prometheus text format (any API key; Prometheus sends it as a bearer token).

HTTP request counts and latencies come from the middleware in app/web/observability.py; cluster
and run gauges are read from the database at scrape time, so every worker reports the same.
With several uvicorn workers, set PROMETHEUS_MULTIPROC_DIR to aggregate the HTTP metrics.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.core.context import Context
from app.core.errors import AUTHENTICATED
from app.models import Cluster, DetectionRun

router = APIRouter(tags=["operations"])


class _DatabaseGauges:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        clusters = GaugeMetricFamily(
            "hydrascope_clusters",
            "Live clusters by review status and flag",
            labels=["status", "flagged"],
        )
        runs = GaugeMetricFamily("hydrascope_runs", "Detection runs by status", labels=["status"])
        finished = GaugeMetricFamily(
            "hydrascope_last_completed_run_timestamp_seconds", "When the latest run finished"
        )
        with self.ctx.reads() as s:
            q = (
                select(Cluster.status, Cluster.flagged, func.count())
                .where(Cluster.gone.is_(False))
                .group_by(Cluster.status, Cluster.flagged)
            )
            for status, flagged, n in s.execute(q):
                clusters.add_metric([status, str(bool(flagged)).lower()], n)
            for status, n in s.execute(
                select(DetectionRun.status, func.count()).group_by(DetectionRun.status)
            ):
                runs.add_metric([status], n)
            last = s.scalar(
                select(func.max(DetectionRun.finished_at)).where(DetectionRun.status == "completed")
            )
        if last is not None:
            finished.add_metric([], last.timestamp())
        yield clusters
        yield runs
        yield finished


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **AUTHENTICATED},
)
def metrics(request: Request, _who: Principal = Depends(require("viewer"))) -> Response:
    ctx: Context = request.app.state.ctx
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    db = CollectorRegistry()
    db.register(_DatabaseGauges(ctx))
    return Response(body + generate_latest(db), media_type=CONTENT_TYPE_LATEST)
