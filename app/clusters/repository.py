"""SQL for reading a run's clusters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Cluster, ClusterMember, ClusterSnapshot


def iter_run_clusters(
    session: Session, run_id: str, *, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """The run's clusters, highest score first, each with its member ids (sorted)."""
    q = (
        select(
            ClusterSnapshot.cluster_id,
            ClusterSnapshot.score,
            ClusterSnapshot.flagged,
            ClusterSnapshot.size,
            ClusterSnapshot.signals,
            ClusterSnapshot.summary,
            Cluster.status,
        )
        .join(Cluster, Cluster.id == ClusterSnapshot.cluster_id)
        .where(ClusterSnapshot.run_id == run_id)
        .order_by(ClusterSnapshot.score.desc(), ClusterSnapshot.cluster_id)
    )
    rows = session.execute(q).all()
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        ids = [r.cluster_id for r in part]
        members: dict[str, list[str]] = {cid: [] for cid in ids}
        mq = (
            select(ClusterMember.cluster_id, ClusterMember.account_id)
            .where(ClusterMember.run_id == run_id, ClusterMember.cluster_id.in_(ids))
            .order_by(ClusterMember.cluster_id, ClusterMember.account_id)
        )
        for cid, aid in session.execute(mq):
            members[cid].append(aid)
        for r in part:
            yield {
                "id": r.cluster_id,
                "score": round(float(r.score), 6),
                "flagged": bool(r.flagged),
                "size": int(r.size),
                "status": r.status,
                "signals": r.signals,
                "summary": r.summary,
                "members": members[r.cluster_id],
            }


_SUMMARY_COLUMNS = (
    Cluster.id,
    ClusterSnapshot.score,
    ClusterSnapshot.flagged,
    ClusterSnapshot.size,
    Cluster.status,
    ClusterSnapshot.signals,
    ClusterSnapshot.summary,
    Cluster.regrown,
    Cluster.updated_at,
    ClusterSnapshot.run_id,
)


def _summary(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "score": float(row.score),
        "flagged": bool(row.flagged),
        "size": int(row.size),
        "status": row.status,
        "signals": row.signals,
        "summary": row.summary,
        "regrown": bool(row.regrown),
        "updated_at": _aware(row.updated_at),
        "run_id": row.run_id,
    }


def _aware(ts: Any) -> Any:
    from datetime import UTC

    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def page_clusters(
    session: Session,
    run_id: str,
    filters: dict[str, Any],
    sort: str,
    limit: int,
    after: list[Any] | None,
) -> list[dict[str, Any]]:
    """One page of the run's clusters, sorted descending by ``sort`` then by id."""
    from datetime import datetime

    from sqlalchemy import and_, or_

    col = {
        "score": ClusterSnapshot.score,
        "size": ClusterSnapshot.size,
        "updated_at": Cluster.updated_at,
    }[sort]
    q = (
        select(*_SUMMARY_COLUMNS)
        .join(Cluster, Cluster.id == ClusterSnapshot.cluster_id)
        .where(ClusterSnapshot.run_id == run_id)
    )
    f = filters
    if f.get("flagged") is not None:
        q = q.where(ClusterSnapshot.flagged == f["flagged"])
    if f.get("min_score") is not None:
        q = q.where(ClusterSnapshot.score >= f["min_score"])
    if f.get("max_score") is not None:
        q = q.where(ClusterSnapshot.score <= f["max_score"])
    if f.get("min_size") is not None:
        q = q.where(ClusterSnapshot.size >= f["min_size"])
    if f.get("max_size") is not None:
        q = q.where(ClusterSnapshot.size <= f["max_size"])
    if f.get("status"):
        q = q.where(Cluster.status == f["status"])
    if f.get("updated_since") is not None:
        q = q.where(Cluster.updated_at >= f["updated_since"])
    if after is not None:
        key, last_id = after
        if sort == "updated_at":
            key = datetime.fromisoformat(key)
        q = q.where(or_(col < key, and_(col == key, Cluster.id > last_id)))
    if f.get("family"):  # compiles to json_extract (SQLite) or ->> (PostgreSQL)
        q = q.where(ClusterSnapshot.signals[f["family"]].as_float() > 0)
    q = q.order_by(col.desc(), Cluster.id).limit(limit)
    return [_summary(r) for r in session.execute(q)]


def cluster_with_snapshot(session: Session, cluster_id: str) -> dict[str, Any] | None:
    q = (
        select(
            *_SUMMARY_COLUMNS,
            Cluster.assignee,
            Cluster.notes,
            Cluster.tags,
            Cluster.created_at,
            Cluster.version,
            ClusterSnapshot.explanation,
            ClusterSnapshot.lineage,
        )
        .join(
            ClusterSnapshot,
            (ClusterSnapshot.cluster_id == Cluster.id)
            & (ClusterSnapshot.run_id == Cluster.last_run_id),
        )
        .where(Cluster.id == cluster_id)
    )
    row = session.execute(q).first()
    if row is None:
        return None
    out = _summary(row)
    out.update(
        assignee=row.assignee,
        notes=row.notes,
        tags=list(row.tags or []),
        created_at=_aware(row.created_at),
        version=int(row.version),
        explanation=row.explanation,
        lineage=row.lineage,
    )
    return out


def page_members(
    session: Session, run_id: str, cluster_id: str, limit: int, after: str | None
) -> tuple[int, list[tuple[str, float]]]:
    from sqlalchemy import func

    where = (ClusterMember.run_id == run_id, ClusterMember.cluster_id == cluster_id)
    total = int(session.scalar(select(func.count()).select_from(ClusterMember).where(*where)) or 0)
    q = select(ClusterMember.account_id, ClusterMember.strength).where(*where)
    if after is not None:
        q = q.where(ClusterMember.account_id > after)
    rows = session.execute(q.order_by(ClusterMember.account_id).limit(limit)).all()
    return total, [(a, s) for a, s in rows]
