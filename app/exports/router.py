"""GET /v1/clusters/{id}/export?format=F&redaction=R (reviewer role, own rate limit)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.apikeys import Principal
from app.auth.deps import require
from app.auth.ratelimit import RateLimiter
from app.core.context import Context
from app.core.errors import AUTHENTICATED
from app.exports.formats import ExportFormat, Redaction
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
