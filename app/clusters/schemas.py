"""API shapes for clusters (separate from the ORM tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["new", "in_review", "confirmed", "dismissed", "actioned"]


class ClusterSummary(BaseModel):
    id: str
    score: float = Field(ge=0, le=1)
    flagged: bool
    size: int
    status: Status
    signals: dict[str, float]
    summary: str
    regrown: bool
    updated_at: datetime
    run_id: str


class ClusterPage(BaseModel):
    items: list[ClusterSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class ClusterDetail(ClusterSummary):
    assignee: str | None
    notes: str | None
    tags: list[str]
    created_at: datetime
    version: int
    explanation: dict[str, Any]
    lineage: dict[str, Any]


class Member(BaseModel):
    account_id: str
    strength: float


class MemberPage(BaseModel):
    cluster_id: str
    run_id: str
    total: int
    items: list[Member]
    next_cursor: str | None
