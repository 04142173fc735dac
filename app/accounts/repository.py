"""SQL for looking up one account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from app.models import (
    Account,
    AccountUsage,
    Activity,
    Cluster,
    ClusterEdge,
    ClusterMember,
    ClusterSnapshot,
    DetectionRun,
    Observation,
    ObservedValue,
    PaymentMethod,
)
from graph.types import Kind

TOP_VALUES = 5


def account(session: Session, account_id: str) -> Account | None:
    return session.get(Account, account_id)


def payments(session: Session, account_id: str) -> list[PaymentMethod]:
    q = select(PaymentMethod).where(PaymentMethod.account_id == account_id)
    return list(session.scalars(q.order_by(PaymentMethod.added_at, PaymentMethod.fingerprint_key)))


def usage(session: Session, account_id: str) -> AccountUsage | None:
    return session.get(AccountUsage, account_id)


def observations(session: Session, account_id: str) -> list[Any]:
    """Per kind: distinct values and requests, with the top values (one query, windowed):
    rows of (kind, distinct, requests, value, n, first_seen, last_seen), rank <= TOP_VALUES."""
    inner = (
        select(
            Observation.kind,
            Observation.value_key,
            Observation.n,
            Observation.first_seen,
            Observation.last_seen,
            func.count().over(partition_by=Observation.kind).label("distinct"),
            func.sum(Observation.n).over(partition_by=Observation.kind).label("requests"),
            func.row_number()
            .over(
                partition_by=Observation.kind,
                order_by=(Observation.n.desc(), Observation.value_key),
            )
            .label("rank"),
        )
        .where(Observation.account_id == account_id)
        .subquery()
    )
    q = (
        select(
            inner.c.kind,
            inner.c.distinct,
            inner.c.requests,
            ObservedValue.value,
            inner.c.n,
            inner.c.first_seen,
            inner.c.last_seen,
        )
        .select_from(inner)
        .outerjoin(
            ObservedValue,
            (ObservedValue.kind == inner.c.kind) & (ObservedValue.value_key == inner.c.value_key),
        )
        .where(inner.c.rank <= TOP_VALUES)
        .order_by(inner.c.kind, inner.c.rank)
    )
    return list(session.execute(q))


def templates(session: Session, account_id: str, window_seconds: int) -> list[Any]:
    """The account's most used prompt templates, from its activity windows:
    rows of (distinct, requests, skeleton, n, first_seen, last_seen)."""
    per = (
        select(
            Activity.template_key,
            func.sum(Activity.n).label("n"),
            (func.min(Activity.window) * window_seconds).label("first_seen"),
            ((func.max(Activity.window) + 1) * window_seconds - 1).label("last_seen"),
        )
        .where(Activity.account_id == account_id, Activity.template_key != 0)
        .group_by(Activity.template_key)
        .subquery()
    )
    q = (
        select(
            func.count().over().label("distinct"),
            func.sum(per.c.n).over().label("requests"),
            ObservedValue.value,
            per.c.n,
            per.c.first_seen,
            per.c.last_seen,
        )
        .select_from(per)
        .outerjoin(
            ObservedValue,
            (ObservedValue.kind == int(Kind.TEMPLATE))
            & (ObservedValue.value_key == per.c.template_key),
        )
        .order_by(per.c.n.desc(), per.c.template_key)
        .limit(TOP_VALUES)
    )
    return list(session.execute(q))


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
    out = select(ClusterEdge.target.label("other"), *cols).where(
        ClusterEdge.run_id == run_id, ClusterEdge.source == account_id
    )
    into = select(ClusterEdge.source.label("other"), *cols).where(
        ClusterEdge.run_id == run_id, ClusterEdge.target == account_id
    )
    both = union_all(out, into).subquery()
    q = select(both).order_by(both.c.weight.desc(), both.c.other).limit(limit)
    return list(session.execute(q))
