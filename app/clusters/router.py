"""Clusters over HTTP: the review queue, the change feed, detail, members, graph, review."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.orm import Session

from app.auth.deps import require
from app.auth.keys import Principal
from app.clusters import service
from app.clusters.schemas import (
    ChangePage,
    ClusterDetail,
    ClusterGraph,
    ClusterPage,
    MemberPage,
    Status,
)
from app.context import Context
from app.db import transaction
from app.http_cache import body_etag, model_etag, rendered
from app.problems import AUTHENTICATED, NOT_MODIFIED, responses
from app.reviews.schemas import ReviewUpdate
from app.reviews.service import apply_review

router = APIRouter(prefix="/v1/clusters", tags=["clusters"])
Family = Literal["payment", "network", "timing", "prompts", "identity"]
WITH_404 = {**AUTHENTICATED, **NOT_MODIFIED}
ERRORS = WITH_404


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


@router.get(
    "",
    response_model=ClusterPage,
    responses=ERRORS,
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
    updated_since: datetime | None = None,
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
        "updated_since": updated_since,
    }
    return await rendered(
        request,
        lambda s: service.list_clusters(s, filters, sort, limit, cursor),
        personal=who.can("reviewer"),
    )


@router.get(
    "/changes",
    response_model=ChangePage,
    responses=ERRORS,
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
    updated_since: datetime | None = None,
    cursor: str | None = Query(None, max_length=512),
    limit: int = Query(100, ge=1, le=service.MAX_LIMIT),
    who: Principal = Depends(require("viewer")),
) -> Response:
    return await rendered(
        request,
        lambda s: service.feed(s, cursor, updated_since, limit),
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


@router.patch(
    "/{cluster_id}",
    response_model=ClusterDetail,
    responses={
        **WITH_404,
        **responses(412, 428),
    },
    summary="Record a review decision (status, assignee, notes, tags) with If-Match",
)
def review_cluster(
    request: Request,
    cluster_id: str,
    update: ReviewUpdate,
    if_match: str | None = Header(None, description="The ETag of the detail you reviewed"),
    who: Principal = Depends(require("reviewer")),
) -> Response:
    ctx = _ctx(request)
    with transaction(ctx.sessions) as s:
        apply_review(
            s,
            cluster_id,
            update,
            actor=who.actor,
            if_match=if_match,
            current_etag=lambda sess: model_etag(_detail(sess, cluster_id, who)),
        )
    with ctx.sessions() as s:
        detail = _detail(s, cluster_id, who)
    body = detail.model_dump_json().encode()
    return Response(content=body, media_type="application/json", headers={"ETag": body_etag(body)})


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
    who: Principal = Depends(require("viewer")),
) -> Response:
    return await rendered(
        request,
        lambda s: service.members(s, cluster_id, limit, cursor),
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
