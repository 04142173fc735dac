"""SQL for looking up one account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, union_all
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
    TemplateText,
)

TOP_VALUES = 5


# Statements are built once (parameters bound per call) and run on the Core connection: the
# lookup is seven small reads, and building the statements and loading ORM objects cost more
# than PostgreSQL answering them (profiled: ~3 ms of ~15 per lookup).
_AID: Any = bindparam("aid")
_ACCOUNT = (
    select(
        Account.__table__,
        AccountUsage.requests.label("u_requests"),
        AccountUsage.input_tokens.label("u_input_tokens"),
        AccountUsage.output_tokens.label("u_output_tokens"),
        AccountUsage.first_seen.label("u_first_seen"),
        AccountUsage.last_seen.label("u_last_seen"),
    )
    .outerjoin(AccountUsage, AccountUsage.account_id == Account.id)
    .where(Account.id == _AID)
)
_PAYMENTS = (
    select(PaymentMethod.__table__)
    .where(PaymentMethod.account_id == _AID)
    .order_by(PaymentMethod.added_at, PaymentMethod.fingerprint_key)
)


def _run(session: Session, stmt: Any, **params: Any) -> list[Any]:
    return list(session.connection().execute(stmt, params))


def account(session: Session, account_id: str) -> Any | None:
    """The account's row with its usage totals (``u_*``, None without requests)."""
    rows = _run(session, _ACCOUNT, aid=account_id)
    return rows[0] if rows else None


def payments(session: Session, account_id: str) -> list[Any]:
    return _run(session, _PAYMENTS, aid=account_id)


def _observations_stmt() -> Any:
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
        .where(Observation.account_id == _AID)
        .subquery()
    )
    return (
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


_OBSERVATIONS = _observations_stmt()


def observations(session: Session, account_id: str) -> list[Any]:
    """Per kind: distinct values and requests, with the top values (one query, windowed):
    rows of (kind, distinct, requests, value, n, first_seen, last_seen), rank <= TOP_VALUES."""
    return _run(session, _OBSERVATIONS, aid=account_id)


def _templates_stmt() -> Any:
    win: Any = bindparam("win")
    per = (
        select(
            Activity.template_key,
            func.sum(Activity.n).label("n"),
            (func.min(Activity.window) * win).label("first_seen"),
            ((func.max(Activity.window) + 1) * win - 1).label("last_seen"),
        )
        .where(Activity.account_id == _AID, Activity.template_key != 0)
        .group_by(Activity.template_key)
        .subquery()
    )
    return (
        select(
            func.count().over().label("distinct"),
            func.sum(per.c.n).over().label("requests"),
            TemplateText.value,
            per.c.n,
            per.c.first_seen,
            per.c.last_seen,
        )
        .select_from(per)
        .outerjoin(TemplateText, TemplateText.template_key == per.c.template_key)
        .order_by(per.c.n.desc(), per.c.template_key)
        .limit(TOP_VALUES)
    )


_TEMPLATES = _templates_stmt()


def templates(session: Session, account_id: str, window_seconds: int) -> list[Any]:
    """The account's most used prompt templates, from its activity windows:
    rows of (distinct, requests, skeleton, n, first_seen, last_seen)."""
    return _run(session, _TEMPLATES, aid=account_id, win=window_seconds)


_LATEST_RUN = (
    select(DetectionRun.id)
    .where(DetectionRun.status == "completed")
    .order_by(DetectionRun.finished_at.desc(), DetectionRun.id.desc())
    .limit(1)
    .scalar_subquery()
)
_MEMBERSHIPS = (
    select(
        _LATEST_RUN.label("latest_run_id"),
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
    .where(ClusterMember.account_id == _AID, DetectionRun.status == "completed")
    .order_by(DetectionRun.finished_at.desc(), DetectionRun.id.desc())
    .limit(51)
)


def memberships(session: Session, account_id: str) -> list[Any]:
    """The account's cluster in each completed run (at most 51), newest run first; every
    row also carries the latest completed run's id (``latest_run_id``)."""
    return _run(session, _MEMBERSHIPS, aid=account_id)


def _links_stmt() -> Any:
    cols = (ClusterEdge.cluster_id, ClusterEdge.weight, ClusterEdge.families)
    out = select(ClusterEdge.target.label("other"), *cols).where(
        ClusterEdge.run_id == _LATEST_RUN, ClusterEdge.source == _AID
    )
    into = select(ClusterEdge.source.label("other"), *cols).where(
        ClusterEdge.run_id == _LATEST_RUN, ClusterEdge.target == _AID
    )
    both = union_all(out, into).subquery()
    return select(both).order_by(both.c.weight.desc(), both.c.other).limit(50)


_LINKS = _links_stmt()


def links(session: Session, account_id: str) -> list[Any]:
    """The account's stored edges in the latest completed run, strongest first:
    (other, cluster, w, fams)."""
    return _run(session, _LINKS, aid=account_id)
