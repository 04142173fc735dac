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
