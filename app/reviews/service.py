"""Review decisions: optimistic concurrency, history and audit in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.core import changes
from app.core.audit import record
from app.core.errors import NotFound, PreconditionFailed, PreconditionRequired, quoted
from app.core.etags import matches
from app.models import Cluster, ReviewDecision
from app.reviews.schemas import ReviewUpdate


def apply_review(
    session: Session,
    cluster_id: str,
    update: ReviewUpdate,
    *,
    actor: str,
    if_match: str | None,
    current_etag: Callable[[Session], str],
) -> Cluster:
    """Apply ``update`` when ``if_match`` names the representation the reviewer last read
    (``current_etag`` computes it inside this transaction, after the locks are held)."""
    changes.lock(session)  # counter first, then the row: the one lock order of every writer
    cluster = session.get(Cluster, cluster_id, with_for_update=True)
    if cluster is None:
        raise NotFound(f"no cluster {quoted(cluster_id)}")
    current = current_etag(session)
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the ETag you last read, so changes are never lost silently",
            etag=current,
        )
    if not matches(if_match, current):
        raise PreconditionFailed(
            "the cluster changed since you read it; reload and retry", etag=current
        )
    diff: dict[str, Any] = {}
    for field in ("status", "assignee", "notes", "tags"):
        value = getattr(update, field)
        if field in update.model_fields_set and value != getattr(cluster, field):
            diff[field] = {"from": getattr(cluster, field), "to": value}
            setattr(cluster, field, value)
    now = datetime.now(UTC)
    if diff or update.note:
        cluster.version += 1
        cluster.updated_at = now
        cluster.change_seq = changes.take(session, 1)[0]
        session.add(
            ReviewDecision(
                cluster_id=cluster.id,
                actor=actor,
                at=now,
                from_status=diff.get("status", {}).get("from"),
                to_status=diff.get("status", {}).get("to"),
                note=update.note,
                changes=diff,
            )
        )
        record(
            session,
            actor,
            "cluster.review",
            "cluster",
            cluster.id,
            {"changes": diff, "note": update.note},
        )
    session.flush()
    return cluster
