"""Reading clusters for the API: filters, keyset pagination, redaction by role."""

from __future__ import annotations

import base64
import copy
from typing import Any

import orjson
from sqlalchemy.orm import Session

from app.clusters import repository as repo
from app.clusters.schemas import ClusterDetail, ClusterPage, ClusterSummary, Member, MemberPage
from app.detection.repository import latest_completed_run
from app.problems import BadRequest, NotFound

MAX_LIMIT = 500
SORTS = {"score": "score", "size": "size", "updated": "updated_at"}


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest("the cursor is not one this API issued") from exc
    if not isinstance(values, list) or len(values) != 2:
        raise BadRequest("the cursor is not one this API issued")
    return values


def list_clusters(
    session: Session, filters: dict[str, Any], sort: str, limit: int, cursor: str | None
) -> ClusterPage:
    run = latest_completed_run(session)
    if run is None:
        return ClusterPage(items=[], next_cursor=None)
    after = decode_cursor(cursor) if cursor else None
    rows = repo.page_clusters(session, run.id, filters, SORTS[sort], limit + 1, after)
    items = [ClusterSummary(**r) for r in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        key = last[SORTS[sort]]
        nxt = encode_cursor([key.isoformat() if hasattr(key, "isoformat") else key, last["id"]])
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
        raise NotFound(f"no cluster {cluster_id!r}")
    if not personal:
        row["explanation"] = redact(row["explanation"])
    return ClusterDetail(**row)


def members(session: Session, cluster_id: str, limit: int, cursor: str | None) -> MemberPage:
    row = repo.cluster_with_snapshot(session, cluster_id)
    if row is None:
        raise NotFound(f"no cluster {cluster_id!r}")
    after = decode_cursor(cursor)[1] if cursor else None
    total, rows = repo.page_members(session, row["run_id"], cluster_id, limit + 1, after)
    items = [Member(account_id=a, strength=round(float(s), 4)) for a, s in rows[:limit]]
    nxt = encode_cursor(["account", rows[limit - 1][0]]) if len(rows) > limit else None
    return MemberPage(
        cluster_id=cluster_id, run_id=row["run_id"], total=total, items=items, next_cursor=nxt
    )
