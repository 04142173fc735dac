"""GET /v1/clusters, /v1/clusters/{id}, /v1/clusters/{id}/members."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from app.auth.deps import require
from app.auth.keys import Principal
from app.clusters import service
from app.clusters.schemas import ClusterDetail, ClusterPage, MemberPage, Status
from app.context import Context
from app.db import transaction
from app.reviews.schemas import ReviewUpdate
from app.reviews.service import apply_review, etag

router = APIRouter(prefix="/v1/clusters", tags=["clusters"])
Family = Literal["payment", "network", "timing", "prompts", "identity"]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or bad API key"},
    403: {"description": "Role too low"},
}
WITH_404: dict[int | str, dict[str, Any]] = {**ERRORS, 404: {"description": "No such cluster"}}


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


@router.get(
    "",
    response_model=ClusterPage,
    responses=ERRORS,
    summary="Clusters of the latest completed run, filtered and paginated",
)
def list_clusters(
    request: Request,
    flagged: bool | None = None,
    min_score: float | None = Query(None, ge=0, le=1),
    max_score: float | None = Query(None, ge=0, le=1),
    status: Status | None = None,
    family: Family | None = Query(None, description="Only clusters this evidence family ties"),
    min_size: int | None = Query(None, ge=1),
    max_size: int | None = Query(None, ge=1),
    updated_since: datetime | None = None,
    sort: Literal["score", "size", "updated"] = "score",
    limit: int = Query(50, ge=1, le=service.MAX_LIMIT),
    cursor: str | None = Query(None, max_length=512),
    _who: Principal = Depends(require("viewer")),
) -> ClusterPage:
    filters = {
        "flagged": flagged,
        "min_score": min_score,
        "max_score": max_score,
        "status": status,
        "family": family,
        "min_size": min_size,
        "max_size": max_size,
        "updated_since": updated_since,
    }
    with _ctx(request).sessions() as s:
        return service.list_clusters(s, filters, sort, limit, cursor)


@router.get(
    "/{cluster_id}",
    response_model=ClusterDetail,
    responses={**WITH_404, 304: {}},
    summary="One cluster with its explanation and lineage (ETag / If-None-Match)",
)
def get_cluster(
    request: Request,
    response: Response,
    cluster_id: str,
    if_none_match: str | None = Header(None),
    who: Principal = Depends(require("viewer")),
) -> Any:
    with _ctx(request).sessions() as s:
        detail = service.get_cluster(s, cluster_id, personal=who.can("reviewer"))
    tag = etag(detail.id, detail.version)
    if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return detail


@router.patch(
    "/{cluster_id}",
    response_model=ClusterDetail,
    responses={
        **WITH_404,
        412: {"description": "The cluster changed since it was read"},
        428: {"description": "If-Match is required"},
    },
    summary="Record a review decision (status, assignee, notes, tags) with If-Match",
)
def review_cluster(
    request: Request,
    response: Response,
    cluster_id: str,
    update: ReviewUpdate,
    if_match: str | None = Header(None),
    who: Principal = Depends(require("reviewer")),
) -> ClusterDetail:
    ctx = _ctx(request)
    with transaction(ctx.sessions) as s:
        apply_review(s, cluster_id, update, actor=who.actor, if_match=if_match)
    with ctx.sessions() as s:
        detail = service.get_cluster(s, cluster_id, personal=True)
    response.headers["ETag"] = etag(detail.id, detail.version)
    return detail


@router.get(
    "/{cluster_id}/members",
    response_model=MemberPage,
    responses=WITH_404,
    summary="A cluster's members in the latest run, paginated",
)
def get_members(
    request: Request,
    cluster_id: str,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=512),
    _who: Principal = Depends(require("viewer")),
) -> MemberPage:
    with _ctx(request).sessions() as s:
        return service.members(s, cluster_id, limit, cursor)
