"""Reading the audit log (written by :func:`app.core.audit.record`), newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.timestamps import iso
from app.models import AuditEntry


def audit_page(session: Session, limit: int, before_id: int | None) -> dict[str, Any]:
    """One page of entries older than ``before_id``, and the cursor of the next page."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        q = q.where(AuditEntry.id < before_id)
    rows = list(session.scalars(q))
    items = [
        {
            "id": r.id,
            "at": iso(r.at),  # with its offset, as every other time this API returns
            "actor": r.actor,
            "action": r.action,
            "target_type": r.target_type,
            "target_id": r.target_id,
            "details": r.details,
        }
        for r in rows
    ]
    return {"items": items, "next_before_id": rows[-1].id if len(rows) == limit else None}
