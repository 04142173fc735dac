"""SQL for detection runs: run records, the previous run's clusters, writing results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, cast, func, insert, select, update
from sqlalchemy.orm import Session

from app.models import (
    Cluster,
    ClusterMember,
    ClusterSnapshot,
    DetectionRun,
    PromptSample,
)

_CHUNK = 5_000


def latest_completed_run(session: Session) -> DetectionRun | None:
    q = (
        select(DetectionRun)
        .where(DetectionRun.status == "completed")
        .order_by(DetectionRun.finished_at.desc(), DetectionRun.id.desc())
        .limit(1)
    )
    return session.scalars(q).first()


def running_run(session: Session) -> DetectionRun | None:
    return session.scalars(select(DetectionRun).where(DetectionRun.status == "running")).first()


def run_cluster_counts(session: Session, run_id: str) -> dict[str, int]:
    q = select(
        func.count(), func.coalesce(func.sum(cast(ClusterSnapshot.flagged, Integer)), 0)
    ).where(ClusterSnapshot.run_id == run_id)
    total, flagged = session.execute(q).one()
    return {"clusters": int(total), "flagged_clusters": int(flagged)}


def run_members(session: Session, run_id: str) -> dict[str, list[str]]:
    rows = session.execute(
        select(ClusterMember.cluster_id, ClusterMember.account_id).where(
            ClusterMember.run_id == run_id
        )
    )
    out: dict[str, list[str]] = {}
    for cid, aid in rows:
        out.setdefault(cid, []).append(aid)
    return out


def existing_clusters(session: Session, ids: Sequence[str]) -> dict[str, Cluster]:
    out: dict[str, Cluster] = {}
    for i in range(0, len(ids), _CHUNK):
        part = list(ids[i : i + _CHUNK])
        out.update({c.id: c for c in session.scalars(select(Cluster).where(Cluster.id.in_(part)))})
    return out


def all_cluster_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Cluster.id)))


def prompt_samples(
    session: Session, template_keys: Sequence[int], per_template: int
) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for i in range(0, len(template_keys), _CHUNK):
        part = list(template_keys[i : i + _CHUNK])
        q = (
            select(PromptSample.template_key, PromptSample.text)
            .where(PromptSample.template_key.in_(part), PromptSample.slot < per_template)
            .order_by(PromptSample.template_key, PromptSample.slot)
        )
        for k, t in session.execute(q):
            out.setdefault(int(k), []).append(t)
    return out


def bulk_insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    table = model.__table__
    for i in range(0, len(rows), _CHUNK):
        session.execute(insert(table), rows[i : i + _CHUNK])


def mark_gone(session: Session, ids: Sequence[str], run_id: str, now: datetime) -> None:
    for i in range(0, len(ids), _CHUNK):
        session.execute(
            update(Cluster)
            .where(Cluster.id.in_(list(ids[i : i + _CHUNK])))
            .values(
                gone=True,
                flagged=False,
                last_run_id=run_id,
                updated_at=now,
                version=Cluster.version + 1,
            )
        )
