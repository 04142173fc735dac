"""GET /v1/clusters/{id}/export?format=F&redaction=R (reviewer role, own rate limit), and
GET /v1/clusters/{id}/layout (the laid-out relationship graph the console and report draw)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.auth.ratelimit import RateLimiter
from app.cache.etag import rendered
from app.core.context import Context
from app.core.errors import AUTHENTICATED, NOT_MODIFIED
from app.exports.formats import ExportFormat, Redaction
from app.exports.layout import ClusterLayout, cluster_layout
from app.exports.service import export

router = APIRouter(prefix="/v1/clusters", tags=["exports"])


@router.get(
    "/{cluster_id}/export",
    summary="Export a cluster's evidence (bundle, graphml, gexf, stix, misp, html, pdf)",
    description=(
        "`redaction=internal` keeps everything a reviewer may see; `shareable` (for other "
        "companies) turns IPs into ranges, hashes emails, phones, names, devices and payment "
        "fingerprints, pseudonymises account ids and excerpts prompts. Every export is written "
        "to the audit log; exports have their own per-key rate limit."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The export file (Content-Disposition names it)",
            "content": {
                "application/zip": {},
                "application/graphml+xml": {},
                "application/gexf+xml": {},
                "application/stix+json;version=2.1": {},
                "application/json": {},
                "text/html": {},
                "application/pdf": {},
            },
        },
        **AUTHENTICATED,
    },
)
def export_cluster(
    request: Request,
    cluster_id: str,
    format: ExportFormat = Query("bundle"),  # the public parameter name
    redaction: Redaction = Query("internal"),
    who: Principal = Depends(require("reviewer")),
) -> Response:
    limiter: RateLimiter | None = getattr(request.app.state, "export_limiter", None)
    if limiter is not None:
        limiter.check(who.key_id)
    ctx: Context = request.app.state.ctx
    out = export(ctx, cluster_id, format, redaction, actor=who.actor)
    return Response(
        out.content,
        media_type=out.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{out.filename}"',
            "X-Export-Id": out.export_id,
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/{cluster_id}/layout",
    tags=["clusters"],
    response_model=ClusterLayout,
    responses={**AUTHENTICATED, **NOT_MODIFIED},
    summary="The cluster's relationship graph laid out: members and shared-value hubs with x, y",
    description=(
        "The members of `GET /v1/clusters/{id}/graph` (at most `max_nodes`) and its stored "
        "edges, plus the cluster's top evidence values (cards, devices, IPs, templates...) "
        "as hub nodes linked to the shown members holding them, placed by a deterministic "
        "force-directed layout (python-igraph; components packed side by side). Hub labels "
        "are personal values: null for viewers, except templates, user agents and sign-up "
        "bursts."
    ),
)
async def get_layout(
    request: Request,
    cluster_id: str,
    max_nodes: int = Query(400, ge=2, le=2000),
    who: Principal = Depends(require("viewer")),
) -> Response:
    personal = who.can("reviewer")

    def build(s: Session) -> ClusterLayout:
        return cluster_layout(s, cluster_id, max_nodes=max_nodes, personal=personal)

    return await rendered(request, build, personal=personal)
