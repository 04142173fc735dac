"""Review decisions: optimistic concurrency, history and audit in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.audit import record
from app.models import Cluster, ReviewDecision
from app.problems import NotFound, PreconditionFailed, PreconditionRequired
from app.reviews.schemas import ReviewUpdate


def etag(cluster_id: str, version: int) -> str:
    return f'"{cluster_id}.v{version}"'


def apply_review(
    session: Session, cluster_id: str, update: ReviewUpdate, *, actor: str, if_match: str | None
) -> Cluster:
    cluster = session.get(Cluster, cluster_id, with_for_update=True)
    if cluster is None:
        raise NotFound(f"no cluster {cluster_id!r}")
    current = etag(cluster.id, cluster.version)
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the ETag you last read, so changes are never lost silently",
            etag=current,
        )
    if if_match.strip() not in (current, "*"):
        raise PreconditionFailed(
            "the cluster changed since you read it; reload and retry", etag=current
        )
    changes: dict[str, Any] = {}
    for field in ("status", "assignee", "notes", "tags"):
        value = getattr(update, field)
        if field in update.model_fields_set and value != getattr(cluster, field):
            changes[field] = {"from": getattr(cluster, field), "to": value}
            setattr(cluster, field, value)
    now = datetime.now(UTC)
    if changes or update.note:
        cluster.version += 1
        cluster.updated_at = now
        session.add(
            ReviewDecision(
                cluster_id=cluster.id,
                actor=actor,
                at=now,
                from_status=changes.get("status", {}).get("from"),
                to_status=changes.get("status", {}).get("to"),
                note=update.note,
                changes=changes,
            )
        )
        record(
            session,
            actor,
            "cluster.review",
            "cluster",
            cluster.id,
            {"changes": changes, "note": update.note},
        )
    session.flush()
    return cluster
