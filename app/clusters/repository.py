"""SQL for reading a run's clusters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from app.core.timestamps import aware
from app.models import (
    Account,
    AccountUsage,
    Cluster,
    ClusterEdge,
    ClusterMember,
    ClusterSnapshot,
    DetectionRun,
    ReviewDecision,
)


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
    Cluster.assignee,
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
        "updated_at": aware(row.updated_at),
        "run_id": row.run_id,
        "assignee": row.assignee,
    }


def page_clusters(
    session: Session,
    run_id: str,
    filters: dict[str, Any],
    sort: str,
    limit: int,
    after: list[Any] | None,
) -> list[dict[str, Any]]:
    """One page of the run's clusters, sorted descending by ``sort`` then by id."""
    col, tie = {
        "score": (ClusterSnapshot.score, ClusterSnapshot.cluster_id),
        "size": (ClusterSnapshot.size, ClusterSnapshot.cluster_id),
        "updated_at": (Cluster.updated_at, Cluster.id),
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
    if f.get("regrown") is not None:
        q = q.where(Cluster.regrown == f["regrown"])
    if f.get("status"):
        q = q.where(Cluster.status == f["status"])
    if f.get("updated_since") is not None:
        q = q.where(Cluster.updated_at >= f["updated_since"])
    if after is not None:
        key, last_id = after
        if sort == "updated_at":
            key = datetime.fromisoformat(key)
        q = q.where(tuple_(col, tie) < tuple_(literal(key), literal(last_id)))
    if f.get("family"):  # compiles to json_extract (SQLite) or ->> (PostgreSQL)
        q = q.where(ClusterSnapshot.signals[f["family"]].as_float() > 0)
    # both keys descending: one backward scan of the (run_id, key, cluster_id) index
    q = q.order_by(col.desc(), tie.desc()).limit(limit)
    return [_summary(r) for r in session.execute(q)]


_DETAIL_COLUMNS = (
    *_SUMMARY_COLUMNS,
    Cluster.notes,
    Cluster.tags,
    Cluster.created_at,
    Cluster.version,
    Cluster.gone,
    Cluster.gone_reason,
    Cluster.successors,
    ClusterSnapshot.explanation,
    ClusterSnapshot.lineage,
    # most clusters were never reviewed: say so here and skip the history query for them
    select(ReviewDecision.id)
    .where(ReviewDecision.cluster_id == Cluster.id)
    .exists()
    .label("reviewed"),
)
# built once: the detail page is the hottest read, and building a select costs as much as
# running it
_DETAIL = (
    select(*_DETAIL_COLUMNS)
    .join(
        ClusterSnapshot,
        (ClusterSnapshot.cluster_id == Cluster.id)
        & (ClusterSnapshot.run_id == Cluster.last_run_id),
    )
    .where(Cluster.id == bindparam("cid"))
)
_DETAIL_GONE = (  # a gone cluster's last snapshot is in an earlier run
    select(*_DETAIL_COLUMNS)
    .join(ClusterSnapshot, ClusterSnapshot.cluster_id == Cluster.id)
    .join(DetectionRun, DetectionRun.id == ClusterSnapshot.run_id)
    .where(Cluster.id == bindparam("cid"))
    .order_by(DetectionRun.finished_at.desc())
    .limit(1)
)


def cluster_with_snapshot(session: Session, cluster_id: str) -> dict[str, Any] | None:
    """A cluster with its latest snapshot (for a gone cluster: the last one it had)."""
    row = session.execute(_DETAIL, {"cid": cluster_id}).first()
    if row is None:
        row = session.execute(_DETAIL_GONE, {"cid": cluster_id}).first()
    if row is None:
        return None
    out = _summary(row)
    out.update(
        notes=row.notes,
        tags=list(row.tags or []),
        created_at=aware(row.created_at),
        version=int(row.version),
        explanation=row.explanation,
        lineage=row.lineage,
        gone=bool(row.gone),
        gone_reason=row.gone_reason if row.gone else None,
        successors=list(row.successors or []) if row.gone else [],
        reviewed=bool(row.reviewed),
    )
    return out


_RID: Any = bindparam("rid")
_CID: Any = bindparam("cid")
_IDS: Any = bindparam("ids", expanding=True)
_IN_CLUSTER = (ClusterMember.run_id == _RID, ClusterMember.cluster_id == _CID)
_MEMBER_COUNT = select(func.count()).select_from(ClusterMember).where(*_IN_CLUSTER)
_MEMBER_PAGE = (
    select(ClusterMember.account_id, ClusterMember.strength)
    .where(*_IN_CLUSTER, ClusterMember.account_id > bindparam("after"))
    .order_by(ClusterMember.account_id)
    .limit(bindparam("lim"))
)
_BY_STRENGTH = (ClusterMember.strength.desc(), ClusterMember.account_id)
_STRONGEST_PAGE = (
    select(ClusterMember.account_id, ClusterMember.strength)
    .where(*_IN_CLUSTER)
    .order_by(*_BY_STRENGTH)
    .limit(bindparam("lim"))
)
_STRONGEST_PAGE_AFTER = (
    select(ClusterMember.account_id, ClusterMember.strength)
    .where(
        *_IN_CLUSTER,
        or_(
            ClusterMember.strength < bindparam("s"),
            (ClusterMember.strength == bindparam("s"))
            & (ClusterMember.account_id > bindparam("after")),
        ),
    )
    .order_by(*_BY_STRENGTH)
    .limit(bindparam("lim"))
)


def page_members(
    session: Session,
    run_id: str,
    cluster_id: str,
    limit: int,
    after: str | None,
    *,
    strongest_after: tuple[float, str] | None = None,
    by_strength: bool = False,
) -> tuple[int, list[tuple[str, float]]]:
    """The member count and one page of (account, strength): by account id after ``after``,
    or with ``by_strength`` strongest first after ``strongest_after`` (strength, account)."""
    conn = session.connection()  # prebuilt Core statements: the members page is a hot path
    total = int(conn.execute(_MEMBER_COUNT, {"rid": run_id, "cid": cluster_id}).scalar() or 0)
    params: dict[str, Any] = {"rid": run_id, "cid": cluster_id, "lim": limit}
    if not by_strength:
        stmt = _MEMBER_PAGE
        params["after"] = after or ""
    elif strongest_after is None:
        stmt = _STRONGEST_PAGE
    else:
        stmt = _STRONGEST_PAGE_AFTER
        params.update(s=strongest_after[0], after=strongest_after[1])
    rows = conn.execute(stmt, params).all()
    return total, [(a, s) for a, s in rows]


_HISTORY = (
    select(
        ReviewDecision.at,
        ReviewDecision.actor,
        ReviewDecision.from_status,
        ReviewDecision.to_status,
        ReviewDecision.note,
        ReviewDecision.changes,
    )
    .where(ReviewDecision.cluster_id == bindparam("cid"))
    .order_by(ReviewDecision.id.desc())
    .limit(bindparam("lim"))
)


def history(session: Session, cluster_id: str, limit: int = 100) -> list[dict[str, Any]]:
    return [
        {
            "at": aware(d.at),
            "actor": d.actor,
            "from_status": d.from_status,
            "to_status": d.to_status,
            "note": d.note,
            "changes": d.changes,
        }
        for d in session.execute(_HISTORY, {"cid": cluster_id, "lim": limit})
    ]


def cluster_edges(session: Session, run_id: str, cluster_id: str) -> list[Any]:
    q = (
        select(ClusterEdge.source, ClusterEdge.target, ClusterEdge.weight, ClusterEdge.families)
        .where(ClusterEdge.run_id == run_id, ClusterEdge.cluster_id == cluster_id)
        .order_by(ClusterEdge.weight.desc(), ClusterEdge.source, ClusterEdge.target)
    )
    return list(session.execute(q).all())


def top_members(
    session: Session, run_id: str, cluster_id: str, limit: int
) -> list[tuple[str, float]]:
    q = (
        select(ClusterMember.account_id, ClusterMember.strength)
        .where(ClusterMember.run_id == run_id, ClusterMember.cluster_id == cluster_id)
        .order_by(ClusterMember.strength.desc(), ClusterMember.account_id)
        .limit(limit)
    )
    return [(a, float(s)) for a, s in session.execute(q)]


_MEMBER_EDGES = select(
    ClusterEdge.source, ClusterEdge.target, ClusterEdge.weight, ClusterEdge.families
).where(
    ClusterEdge.run_id == _RID,
    ClusterEdge.cluster_id == _CID,
    or_(ClusterEdge.source.in_(_IDS), ClusterEdge.target.in_(_IDS)),
)
_BEHAVIOUR = (
    select(
        Account.id,
        Account.created_at,
        Account.country,
        Account.org_id,
        AccountUsage.requests,
        AccountUsage.input_tokens,
        AccountUsage.output_tokens,
        AccountUsage.first_seen,
        AccountUsage.last_seen,
    )
    .select_from(Account)
    .outerjoin(AccountUsage, AccountUsage.account_id == Account.id)
    .where(Account.id.in_(_IDS))
)


def member_edges(session: Session, run_id: str, cluster_id: str, accounts: list[str]) -> list[Any]:
    """The cluster's stored edges that touch any of ``accounts``."""
    if not accounts:
        return []
    params = {"rid": run_id, "cid": cluster_id, "ids": accounts}
    return list(session.connection().execute(_MEMBER_EDGES, params).all())


def behaviour(session: Session, accounts: list[str]) -> dict[str, dict[str, Any]]:
    if not accounts:
        return {}
    rows = session.connection().execute(_BEHAVIOUR, {"ids": accounts})
    return {r.id: r._asdict() for r in rows}


def changes_after(session: Session, after: int, limit: int) -> list[Any]:
    """Clusters whose last change number is above ``after``, oldest change first."""
    q = (
        select(
            Cluster.change_seq,
            Cluster.id,
            Cluster.gone,
            Cluster.gone_reason,
            Cluster.successors,
            Cluster.score,
            Cluster.flagged,
            Cluster.size,
            Cluster.status,
            Cluster.regrown,
            Cluster.version,
            Cluster.updated_at,
            Cluster.last_run_id,
            ClusterSnapshot.signals,
            ClusterSnapshot.summary,
        )
        .outerjoin(
            ClusterSnapshot,
            (ClusterSnapshot.cluster_id == Cluster.id)
            & (ClusterSnapshot.run_id == Cluster.last_run_id),
        )
        .where(Cluster.change_seq > after)
        .order_by(Cluster.change_seq)
        .limit(limit)
    )
    return list(session.execute(q).all())


def first_change_since(session: Session, since: Any) -> int:
    """The feed position just before the first change at or after ``since``."""
    seq = session.scalar(select(func.min(Cluster.change_seq)).where(Cluster.updated_at >= since))
    return (
        int(seq) - 1
        if seq is not None
        else int(session.scalar(select(func.max(Cluster.change_seq))) or 0)
    )


def run_exists(session: Session, run_id: str) -> bool:
    return session.get(DetectionRun, run_id) is not None
