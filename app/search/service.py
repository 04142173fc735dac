"""Search by account id, cluster id, email, IP, device or card fingerprint.

Personal values are never compared in the clear: the query is normalised and keyed with the
deployment's secret exactly as ingest keyed the stored value (app.ingest.normalise), and the
keys are compared. Personal kinds need the reviewer role; viewers may search ids only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from app.core.errors import Forbidden
from app.core.hashing import Hasher
from app.core.timestamps import aware
from app.detection.repository import latest_completed_run
from app.models import (
    Account,
    Cluster,
    ClusterMember,
    ClusterSnapshot,
    DetectionRun,
    Observation,
    PaymentMethod,
)
from app.search.schemas import (
    PERSONAL_KINDS,
    AccountHit,
    ClusterHit,
    ClusterRef,
    SearchQuery,
    SearchResult,
)
from graph.signals.identity import normalise_email
from graph.signals.network import parse_ip
from graph.types import Kind


def guess(query: str, *, personal: bool) -> list[str]:
    """The kinds an ``auto`` query is tried as, in order."""
    if query.startswith("hc_"):
        return ["cluster"]
    if "@" in query:
        return ["email"]
    if parse_ip(query) is not None:
        return ["ip"]
    return ["account", "device", "card"] if personal else ["account"]


def _prefix(session: Session, col: Any, text: str) -> Any:
    """``col`` starts with ``text``. On SQLite (binary collation) also as a range, so the
    primary key index answers it; elsewhere a collation may order a prefix apart, so LIKE
    alone decides (``%`` and ``_`` in ``text`` are escaped)."""
    cond = col.startswith(text, autoescape=True)
    if session.get_bind().dialect.name == "sqlite":
        cond = cond & (col >= text) & (col < text + "\U0010ffff")
    return cond


def _account_ids(session: Session, kind: str, q: str, h: Hasher, limit: int) -> list[str]:
    if kind == "account":
        exact = session.scalars(select(Account.id).where(Account.id == q)).all()
        rest = session.scalars(
            select(Account.id)
            .where(_prefix(session, Account.id, q), Account.id != q)
            .order_by(Account.id)
            .limit(limit)
        ).all()
        return [*exact, *rest]
    if kind == "email":
        key = h("email", normalise_email(q))
        stmt: Any = select(Account.id).where(Account.email_key == key)
    elif kind == "device":
        stmt = select(Account.id).where(Account.device_key == h("device", q))
    elif kind == "card":
        stmt = select(PaymentMethod.account_id).where(PaymentMethod.fingerprint_key == h("card", q))
    else:  # ip: the sign-up address or any request's
        parsed = parse_ip(q)
        if parsed is None:
            return []
        key = h("ip", parsed[0])
        both = union(
            select(Account.id.label("id")).where(Account.signup_ip_key == key),
            select(Observation.account_id.label("id")).where(
                Observation.kind == int(Kind.IP), Observation.value_key == key
            ),
        ).subquery()
        stmt = select(both.c.id)
    return list(session.scalars(stmt.distinct().order_by(*stmt.selected_columns).limit(limit)))


def _accounts(session: Session, ids: list[str], matched: str) -> list[AccountHit]:
    if not ids:
        return []
    facts = {
        a.id: a
        for a in session.execute(
            select(Account.id, Account.created_at, Account.country).where(Account.id.in_(ids))
        )
    }
    clusters: dict[str, ClusterRef] = {}
    run = latest_completed_run(session)
    if run is not None:
        q = (
            select(
                ClusterMember.account_id,
                ClusterMember.cluster_id,
                ClusterSnapshot.score,
                ClusterSnapshot.flagged,
                Cluster.status,
            )
            .join(
                ClusterSnapshot,
                (ClusterSnapshot.run_id == ClusterMember.run_id)
                & (ClusterSnapshot.cluster_id == ClusterMember.cluster_id),
            )
            .join(Cluster, Cluster.id == ClusterMember.cluster_id)
            .where(ClusterMember.run_id == run.id, ClusterMember.account_id.in_(ids))
        )
        for r in session.execute(q):
            clusters[r.account_id] = ClusterRef(
                cluster_id=r.cluster_id,
                score=float(r.score),
                flagged=bool(r.flagged),
                status=r.status,
            )
    out = []
    for a in ids:
        f = facts.get(a)
        if f is None:
            continue
        created = aware(f.created_at)
        out.append(
            AccountHit(
                account_id=a,
                matched=matched,
                created_at=created.isoformat() if created else None,
                country=f.country,
                cluster=clusters.get(a),
            )
        )
    return out


def _clusters(session: Session, q: str, limit: int) -> list[ClusterHit]:
    last = (
        select(ClusterSnapshot.run_id)
        .join(DetectionRun, DetectionRun.id == ClusterSnapshot.run_id)
        .where(ClusterSnapshot.cluster_id == Cluster.id)
        .order_by(DetectionRun.finished_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            Cluster.id,
            Cluster.gone,
            Cluster.status,
            ClusterSnapshot.score,
            ClusterSnapshot.flagged,
            ClusterSnapshot.size,
            ClusterSnapshot.summary,
        )
        .join(
            ClusterSnapshot,
            (ClusterSnapshot.cluster_id == Cluster.id) & (ClusterSnapshot.run_id == last),
        )
        .where(_prefix(session, Cluster.id, q))
        .order_by(Cluster.id)
        .limit(limit)
    )
    return [
        ClusterHit(
            cluster_id=r.id,
            score=float(r.score),
            flagged=bool(r.flagged),
            size=int(r.size),
            status=r.status,
            gone=bool(r.gone),
            summary=r.summary,
        )
        for r in session.execute(stmt)
    ]


def search(session: Session, body: SearchQuery, *, hasher: Hasher, personal: bool) -> SearchResult:
    body = body.model_copy(update={"query": body.query.strip()})
    kinds = guess(body.query, personal=personal) if body.kind == "auto" else [body.kind]
    denied = [k for k in kinds if k in PERSONAL_KINDS]
    if denied and not personal:
        raise Forbidden(
            f"searching by {denied[0]} needs the reviewer role; this key may search by "
            "account or cluster id"
        )
    want = body.limit + 1
    items: list[AccountHit | ClusterHit] = []
    for kind in kinds:
        if kind == "cluster":
            items += _clusters(session, body.query, want - len(items))
        else:
            ids = _account_ids(session, kind, body.query, hasher, want - len(items))
            seen = {i.account_id for i in items if isinstance(i, AccountHit)}
            items += _accounts(session, [a for a in ids if a not in seen], kind)
        if len(items) >= want:
            break
    return SearchResult(kinds=kinds, items=items[: body.limit], truncated=len(items) > body.limit)
