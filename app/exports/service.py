"""One export: collect the evidence, render the format, write the audit entry.

The audit entry is written in the same transaction that reads the evidence; the bytes are
handed out only after that transaction commits, so no export leaves unrecorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from app.core.audit import record
from app.core.context import Context
from app.core.db import transaction
from app.core.errors import NotFound, quoted
from app.exports import bundle, graphs, misp, report, signing, stix
from app.exports.evidence import Evidence, collect
from app.exports.formats import EXPORT_FORMATS
from app.models import Cluster


@dataclass(frozen=True)
class Format:
    media_type: str
    extension: str
    render: Callable[[Context, Evidence], bytes]


def _bundle(ctx: Context, ev: Evidence) -> bytes:
    secret = ctx.settings.export_signing_key
    key = signing.load_private(secret.get_secret_value()) if secret else None
    return bundle.render(ev, key)


FORMATS: dict[str, Format] = {
    "bundle": Format("application/zip", "zip", _bundle),
    "graphml": Format("application/graphml+xml", "graphml", lambda _c, ev: graphs.graphml(ev)),
    "gexf": Format("application/gexf+xml", "gexf", lambda _c, ev: graphs.gexf(ev)),
    "stix": Format(
        "application/stix+json;version=2.1", "stix.json", lambda _c, ev: stix.render(ev)
    ),
    "misp": Format("application/json", "misp.json", lambda _c, ev: misp.render(ev)),
    "html": Format("text/html; charset=utf-8", "html", lambda _c, ev: report.html(ev)),
    "pdf": Format("application/pdf", "pdf", lambda _c, ev: report.pdf(ev)),
}
assert set(FORMATS) == set(EXPORT_FORMATS), "every export format has a renderer"


@dataclass(frozen=True)
class Exported:
    content: bytes
    media_type: str
    filename: str
    export_id: str


def export(ctx: Context, cluster_id: str, fmt: str, redaction: str, *, actor: str) -> Exported:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    spec = FORMATS[fmt]
    if spec.extension == "zip" and ctx.settings.export_signing_key is not None:
        signing.load_private(ctx.settings.export_signing_key.get_secret_value())  # fail early
    with transaction(ctx.sessions) as s:
        if s.get(Cluster, cluster_id) is None:
            raise NotFound(f"no cluster {quoted(cluster_id)}")
        ev = collect(s, cluster_id, redaction=redaction, exported_by=actor, keyed=ctx.hasher)
        content = spec.render(ctx, ev)
        record(
            s,
            actor,
            "cluster.export",
            "cluster",
            cluster_id,
            {
                "export_id": ev.export_id,
                "format": fmt,
                "redaction": redaction,
                "run_id": ev.run["id"],
                "bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )
    return Exported(
        content=content,
        media_type=spec.media_type,
        filename=f"{cluster_id}-{redaction}.{spec.extension}",
        export_id=ev.export_id,
    )
