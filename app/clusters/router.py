"""Clusters over HTTP: the review queue, the change feed, detail, members, graph.

Review decisions (PATCH) are in app/reviews/router.py."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.cache.etag import rendered
from app.clusters import service
from app.clusters.schemas import (
    ChangePage,
    ClusterDetail,
    ClusterGraph,
    ClusterPage,
    MemberPage,
    Status,
)
from app.core.errors import AUTHENTICATED, NOT_MODIFIED
from app.core.timestamps import utc

router = APIRouter(prefix="/v1/clusters", tags=["clusters"])
Family = Literal["payment", "network", "timing", "prompts", "identity"]
WITH_404 = {**AUTHENTICATED, **NOT_MODIFIED}


SINCE = "RFC 3339 date-time, any offset; one without an offset is taken as UTC"


@router.get(
    "",
    response_model=ClusterPage,
    responses=WITH_404,
    summary="The review queue: clusters of the latest completed run, filtered and paginated",
)
async def list_clusters(
    request: Request,
    flagged: bool | None = None,
    min_score: float | None = Query(None, ge=0, le=1),
    max_score: float | None = Query(None, ge=0, le=1),
    status: Status | None = None,
    family: Family | None = Query(None, description="Only clusters this evidence family ties"),
    min_size: int | None = Query(None, ge=1, le=10_000_000),
    max_size: int | None = Query(None, ge=1, le=10_000_000),
    regrown: bool | None = Query(None, description="Reviewed clusters that gained members"),
    updated_since: datetime | None = Query(None, description=SINCE),
    sort: Literal["score", "size", "updated"] = "score",
    limit: int = Query(50, ge=1, le=service.MAX_LIMIT),
    cursor: str | None = Query(None, max_length=512),
    who: Principal = Depends(require("viewer")),
) -> Response:
    filters = {
        "flagged": flagged,
        "min_score": min_score,
        "max_score": max_score,
        "status": status,
        "family": family,
        "min_size": min_size,
        "max_size": max_size,
        "regrown": regrown,
        "updated_since": utc(updated_since),
    }
    return await rendered(
        request,
        lambda s: service.list_clusters(s, filters, sort, limit, cursor),
        personal=who.can("reviewer"),
    )


@router.get(
    "/changes",
    response_model=ChangePage,
    responses=WITH_404,
    summary="Change feed: every cluster created, changed or gone (tombstones), in order",
    description=(
        "Start with `updated_since` (or nothing, for everything), then pass the returned "
        "`next_cursor` on every later poll. Each cluster appears once, at its latest change; "
        "gone clusters appear as tombstones (`gone: true`, merged into `successors` or "
        "vanished). Positions follow commit order, so resuming from a cursor never misses a "
        "change."
    ),
)
async def changes(
    request: Request,
    updated_since: datetime | None = Query(None, description=SINCE),
    cursor: str | None = Query(None, max_length=512),
    limit: int = Query(100, ge=1, le=service.MAX_LIMIT),
    who: Principal = Depends(require("viewer")),
) -> Response:
    return await rendered(
        request,
        lambda s: service.feed(s, cursor, utc(updated_since), limit),
        personal=who.can("reviewer"),
    )


def _detail(s: Session, cluster_id: str, who: Principal) -> ClusterDetail:
    return service.get_cluster(s, cluster_id, personal=who.can("reviewer"))


@router.get(
    "/{cluster_id}",
    response_model=ClusterDetail,
    responses=WITH_404,
    summary="One cluster: score breakdown, evidence, behaviour, timeline, lineage, history",
    description="Send the ETag back as If-None-Match to get 304 when nothing changed, and as "
    "If-Match on PATCH.",
)
async def get_cluster(
    request: Request,
    cluster_id: str,
    who: Principal = Depends(require("viewer")),
) -> Response:
    return await rendered(
        request, lambda s: _detail(s, cluster_id, who), personal=who.can("reviewer")
    )


@router.get(
    "/{cluster_id}/members",
    response_model=MemberPage,
    responses=WITH_404,
    summary="A cluster's members in the latest run, with evidence and behaviour, paginated",
)
async def get_members(
    request: Request,
    cluster_id: str,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=512),
    sort: Literal["account", "strength"] = Query(
        "account", description="By account id, or strongest link to the cluster first"
    ),
    who: Principal = Depends(require("viewer")),
) -> Response:
    return await rendered(
        request,
        lambda s: service.members(s, cluster_id, limit, cursor, sort),
        personal=who.can("reviewer"),
    )


@router.get(
    "/{cluster_id}/graph",
    response_model=ClusterGraph,
    responses=WITH_404,
    summary="The cluster's graph: members and strongest edges with evidence, bounded",
)
async def get_graph(
    request: Request,
    cluster_id: str,
    max_nodes: int = Query(200, ge=2, le=2000),
    who: Principal = Depends(require("viewer")),
) -> Response:
    return await rendered(
        request,
        lambda s: service.graph(s, cluster_id, max_nodes),
        personal=who.can("reviewer"),
    )
