"""The counts a dashboard shows (`hydrascope stats`, `GET /v1/stats`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core import changes
from app.detection import repository as runs
from app.ingest.repository import table_counts


def collect(session: Session) -> dict[str, Any]:
    out: dict[str, Any] = table_counts(session)
    run = runs.latest_completed_run(session)
    out["latest_run"] = run.id if run else None
    out.update(
        runs.run_cluster_counts(session, run.id) if run else {"clusters": 0, "flagged_clusters": 0}
    )
    out["review"] = runs.review_counts(session)
    out["change_position"] = changes.position(session)
    return out
