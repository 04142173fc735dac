"""SQL for looking up one account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Account,
    AccountUsage,
    Cluster,
    ClusterEdge,
    ClusterMember,
    ClusterSnapshot,
    DetectionRun,
    Observation,
    ObservedValue,
    PaymentMethod,
)

TOP_VALUES = 5


def account(session: Session, account_id: str) -> Account | None:
    return session.get(Account, account_id)


def payments(session: Session, account_id: str) -> list[PaymentMethod]:
    q = select(PaymentMethod).where(PaymentMethod.account_id == account_id)
    return list(session.scalars(q.order_by(PaymentMethod.added_at, PaymentMethod.fingerprint_key)))


def usage(session: Session, account_id: str) -> AccountUsage | None:
    return session.get(AccountUsage, account_id)


def observation_kinds(session: Session, account_id: str) -> list[tuple[int, int, int]]:
    """(kind, distinct values, requests) per kind of observed value."""
    q = (
        select(Observation.kind, func.count(), func.sum(Observation.n))
        .where(Observation.account_id == account_id)
        .group_by(Observation.kind)
        .order_by(Observation.kind)
    )
    return [(int(k), int(c), int(n or 0)) for k, c, n in session.execute(q)]


def top_observations(session: Session, account_id: str, kind: int) -> list[Any]:
    q = (
        select(ObservedValue.value, Observation.n, Observation.first_seen, Observation.last_seen)
        .select_from(Observation)
        .outerjoin(
            ObservedValue,
            (ObservedValue.kind == Observation.kind)
            & (ObservedValue.value_key == Observation.value_key),
        )
        .where(Observation.account_id == account_id, Observation.kind == kind)
        .order_by(Observation.n.desc(), Observation.value_key)
        .limit(TOP_VALUES)
    )
    return list(session.execute(q).all())


def memberships(session: Session, account_id: str, limit: int = 51) -> list[Any]:
    """The account's cluster in each completed run, newest run first."""
    q = (
        select(
            ClusterMember.cluster_id,
            ClusterMember.run_id,
            ClusterMember.strength,
            DetectionRun.finished_at,
            ClusterSnapshot.score,
            ClusterSnapshot.flagged,
            Cluster.status,
        )
        .join(DetectionRun, DetectionRun.id == ClusterMember.run_id)
        .join(
            ClusterSnapshot,
            (ClusterSnapshot.run_id == ClusterMember.run_id)
            & (ClusterSnapshot.cluster_id == ClusterMember.cluster_id),
        )
        .join(Cluster, Cluster.id == ClusterMember.cluster_id)
        .where(ClusterMember.account_id == account_id, DetectionRun.status == "completed")
        .order_by(DetectionRun.finished_at.desc(), DetectionRun.id.desc())
        .limit(limit)
    )
    return list(session.execute(q).all())


def links(session: Session, run_id: str, account_id: str, limit: int = 50) -> list[Any]:
    """The account's stored edges in ``run_id``, strongest first: (other, cluster, w, fams)."""
    cols = (ClusterEdge.cluster_id, ClusterEdge.weight, ClusterEdge.families)
    out = list(
        session.execute(
            select(ClusterEdge.target, *cols).where(
                ClusterEdge.run_id == run_id, ClusterEdge.source == account_id
            )
        )
    ) + list(
        session.execute(
            select(ClusterEdge.source, *cols).where(
                ClusterEdge.run_id == run_id, ClusterEdge.target == account_id
            )
        )
    )
    out.sort(key=lambda r: (-float(r[2]), r[0]))
    return out[:limit]
