"""SQL for detection runs: reading the evidence, writing runs and their clusters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import ClusterSnapshot, DetectionRun


def latest_completed_run(session: Session) -> DetectionRun | None:
    q = (
        select(DetectionRun)
        .where(DetectionRun.status == "completed")
        .order_by(DetectionRun.finished_at.desc(), DetectionRun.id.desc())
        .limit(1)
    )
    return session.scalars(q).first()


def run_cluster_counts(session: Session, run_id: str) -> dict[str, int]:
    q = select(
        func.count(), func.coalesce(func.sum(func.cast(ClusterSnapshot.flagged, type_=_int())), 0)
    ).where(ClusterSnapshot.run_id == run_id)
    total, flagged = session.execute(q).one()
    return {"clusters": int(total), "flagged_clusters": int(flagged)}


def _int() -> Any:
    from sqlalchemy import Integer

    return Integer()
