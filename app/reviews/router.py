"""Review decisions over HTTP: PATCH /v1/clusters/{id} with If-Match."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy.orm import Session

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.clusters import service as clusters
from app.clusters.schemas import ClusterDetail
from app.core.context import Context
from app.core.db import transaction
from app.core.errors import AUTHENTICATED, NOT_MODIFIED, responses
from app.core.etags import body_etag, model_etag
from app.reviews.schemas import ReviewUpdate
from app.reviews.service import apply_review

router = APIRouter(prefix="/v1/clusters", tags=["clusters"])


def _detail(s: Session, cluster_id: str, who: Principal) -> ClusterDetail:
    return clusters.get_cluster(s, cluster_id, personal=who.can("reviewer"))


@router.patch(
    "/{cluster_id}",
    response_model=ClusterDetail,
    responses={
        **AUTHENTICATED,
        **NOT_MODIFIED,
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
    ctx: Context = request.app.state.ctx
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
