"""Reading clusters for the API: filters, keyset pagination, redaction by role."""

from __future__ import annotations

import base64
import copy
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from app.clusters import repository as repo
from app.clusters.schemas import (
    Change,
    ChangePage,
    ClusterDetail,
    ClusterGraph,
    ClusterPage,
    ClusterSummary,
    GraphBounds,
    GraphEdge,
    GraphNode,
    Member,
    MemberBehaviour,
    MemberEvidence,
    MemberPage,
)
from app.core.errors import BadRequest, NotFound, quoted
from app.core.timestamps import aware, from_epoch
from app.detection.repository import latest_completed_run

MAX_LIMIT = 500
SORTS = {"score": "score", "size": "size", "updated": "updated_at"}


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str, length: int = 2) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest("the cursor is not one this API issued") from exc
    if not isinstance(values, list) or len(values) != length:
        raise BadRequest("the cursor is not one this API issued")
    return values


def list_clusters(
    session: Session, filters: dict[str, Any], sort: str, limit: int, cursor: str | None
) -> ClusterPage:
    """A page of one run's clusters. The cursor pins the run it started on, so a detection
    run finishing mid-pagination does not shift the pages (old runs' snapshots are kept)."""
    after: list[Any] | None = None
    if cursor:
        key, last_id, run_id = decode_cursor(cursor, 3)
        if not isinstance(run_id, str) or not repo.run_exists(session, run_id):
            raise BadRequest("the run this cursor pages through was purged; start again")
        after = [key, last_id]
    else:
        run = latest_completed_run(session)
        if run is None:
            return ClusterPage(items=[], next_cursor=None)
        run_id = run.id
    rows = repo.page_clusters(session, run_id, filters, SORTS[sort], limit + 1, after)
    items = [ClusterSummary(**r) for r in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        key = last[SORTS[sort]]
        key = key.isoformat() if hasattr(key, "isoformat") else key
        nxt = encode_cursor([key, last["id"], run_id])
    return ClusterPage(items=items, next_cursor=nxt)


def redact(explanation: dict[str, Any]) -> dict[str, Any]:
    """Viewers see the shape of the evidence, not the personal values behind it."""
    out = copy.deepcopy(explanation)
    for values in out.get("evidence", {}).values():
        for v in values:
            if v.get("kind") not in ("template", "signup_burst", "user_agent"):
                v["value"] = None
    for t in out.get("templates", []):
        t["samples"] = []
    return out


def get_cluster(session: Session, cluster_id: str, *, personal: bool) -> ClusterDetail:
    row = repo.cluster_with_snapshot(session, cluster_id)
    if row is None:
        raise NotFound(f"no cluster {quoted(cluster_id)}")
    if not personal:
        row["explanation"] = redact(row["explanation"])
    row["history"] = repo.history(session, cluster_id) if row.pop("reviewed") else []
    return ClusterDetail(**row)


def _current(session: Session, cluster_id: str) -> dict[str, Any]:
    row = repo.cluster_with_snapshot(session, cluster_id)
    if row is None:
        raise NotFound(f"no cluster {quoted(cluster_id)}")
    return row


def members(
    session: Session, cluster_id: str, limit: int, cursor: str | None, sort: str = "account"
) -> MemberPage:
    """A page of the cluster's members by account id, or strongest first (``sort``)."""
    row = _current(session, cluster_id)
    run_id, after = row["run_id"], None
    if cursor:  # pinned to the run the first page came from
        run_id, after = decode_cursor(cursor)
        if not isinstance(run_id, str) or not repo.run_exists(session, run_id):
            raise BadRequest("the run this cursor pages through was purged; start again")
    by_strength = sort == "strength"
    strongest_after = None
    if after is not None and by_strength:
        if not (
            isinstance(after, list)
            and len(after) == 2
            and isinstance(after[0], int | float)
            and isinstance(after[1], str)
        ):
            raise BadRequest("this cursor pages another sort; start again without it")
        strongest_after, after = (float(after[0]), after[1]), None
    elif after is not None and not isinstance(after, str):
        raise BadRequest("this cursor pages another sort; start again without it")
    total, rows = repo.page_members(
        session,
        run_id,
        cluster_id,
        limit + 1,
        after,
        strongest_after=strongest_after,
        by_strength=by_strength,
    )
    page = rows[:limit]
    ids = [a for a, _ in page]
    evidence: dict[str, dict[str, Any]] = {
        a: {"links": 0, "weight": 0.0, "families": {}} for a in ids
    }
    for src, dst, w, fams in repo.member_edges(session, run_id, cluster_id, ids):
        for a in (src, dst):
            if a in evidence:
                e = evidence[a]
                e["links"] += 1
                e["weight"] += float(w)
                for fam, fw in (fams or {}).items():
                    weight = fw.get("weight", 0.0) if isinstance(fw, dict) else float(fw)
                    e["families"][fam] = round(e["families"].get(fam, 0.0) + weight, 4)
    facts = repo.behaviour(session, ids)
    items = []
    for a, strength in page:
        f = facts.get(a, {})
        ev = evidence[a]
        items.append(
            Member(
                account_id=a,
                strength=round(float(strength), 4),
                evidence=MemberEvidence(
                    links=ev["links"], weight=round(ev["weight"], 4), families=ev["families"]
                ),
                behaviour=MemberBehaviour(
                    signed_up=aware(f.get("created_at")),
                    country=f.get("country"),
                    org_id=f.get("org_id"),
                    requests=int(f.get("requests") or 0),
                    input_tokens=int(f.get("input_tokens") or 0),
                    output_tokens=int(f.get("output_tokens") or 0),
                    first_seen=from_epoch(f.get("first_seen")),
                    last_seen=from_epoch(f.get("last_seen")),
                ),
            )
        )
    nxt = None
    if len(rows) > limit:
        last, strength = rows[limit - 1]
        nxt = encode_cursor([run_id, [float(strength), last] if by_strength else last])
    return MemberPage(
        cluster_id=cluster_id, run_id=run_id, total=total, items=items, next_cursor=nxt
    )


GRAPH_METHOD = (
    "nodes: the endpoints of the cluster's strongest stored edges, then the members with the "
    "highest strength, up to max_nodes; edges: stored edges between kept nodes"
)


def graph(session: Session, cluster_id: str, max_nodes: int) -> ClusterGraph:
    row = _current(session, cluster_id)
    run_id = row["run_id"]
    stored = repo.cluster_edges(session, run_id, cluster_id)
    ranked = repo.top_members(session, run_id, cluster_id, row["size"])
    strength = dict(ranked)
    keep: dict[str, None] = {}
    for src, dst, _w, _f in stored:
        if len(keep) >= max_nodes:
            break
        for a in (src, dst):
            if len(keep) < max_nodes:
                keep.setdefault(a, None)
    for a, _ in ranked:
        if len(keep) >= max_nodes:
            break
        keep.setdefault(a, None)
    edges = [
        GraphEdge(source=s_, target=t, weight=round(float(w), 4), families=f or {})
        for s_, t, w, f in stored
        if s_ in keep and t in keep
    ]
    degree: dict[str, int] = dict.fromkeys(keep, 0)
    for e in edges:
        degree[e.source] += 1
        degree[e.target] += 1
    nodes = [
        GraphNode(id=a, strength=round(strength.get(a, 0.0), 4), degree=degree[a]) for a in keep
    ]
    bounds = GraphBounds(
        total_members=row["size"],
        total_edges=len(stored),
        nodes=len(nodes),
        edges=len(edges),
        truncated=len(nodes) < row["size"] or len(edges) < len(stored),
        method=GRAPH_METHOD,
    )
    return ClusterGraph(
        cluster_id=cluster_id, run_id=run_id, nodes=nodes, edges=edges, bounds=bounds
    )


def feed(session: Session, cursor: str | None, since: datetime | None, limit: int) -> ChangePage:
    """The change feed: every cluster created, changed or gone after a point, in order."""
    if cursor:
        kind, after = decode_cursor(cursor)
        if kind != "feed" or not isinstance(after, int):
            raise BadRequest("the cursor is not one this feed issued")
    elif since is not None:
        after = repo.first_change_since(session, since)
    else:
        after = 0
    rows = repo.changes_after(session, after, limit + 1)
    items = [
        Change(
            seq=int(r.change_seq),
            id=r.id,
            gone=bool(r.gone),
            gone_reason=r.gone_reason if r.gone else None,
            successors=list(r.successors or []) if r.gone else [],
            score=float(r.score),
            flagged=bool(r.flagged),
            size=int(r.size),
            status=r.status,
            regrown=bool(r.regrown),
            version=int(r.version),
            updated_at=aware(r.updated_at),
            run_id=r.last_run_id,
            signals=None if r.gone else r.signals,
            summary=None if r.gone else r.summary,
        )
        for r in rows[:limit]
    ]
    last = items[-1].seq if items else after
    return ChangePage(
        items=items, next_cursor=encode_cursor(["feed", last]), has_more=len(rows) > limit
    )
