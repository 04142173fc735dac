"""API shapes for clusters (separate from the ORM tables)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.timestamps import UtcDatetime

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
    updated_at: UtcDatetime
    run_id: str
    assignee: str | None = Field(None, description="Who works the cluster (review field)")


class ClusterPage(BaseModel):
    items: list[ClusterSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class Decision(BaseModel):
    at: UtcDatetime
    actor: str
    from_status: Status | None
    to_status: Status | None
    note: str | None
    changes: dict[str, Any]


class ClusterDetail(ClusterSummary):
    notes: str | None
    tags: list[str]
    created_at: UtcDatetime
    version: int
    explanation: dict[str, Any]
    lineage: dict[str, Any]
    history: list[Decision] = Field(description="Review decisions, newest first (at most 100)")
    gone: bool = Field(description="Retired by a later run; the evidence is its last snapshot")
    gone_reason: Literal["merged", "vanished"] | None
    successors: list[str]


class MemberEvidence(BaseModel):
    links: int = Field(description="Stored strongest edges of this member inside the cluster")
    weight: float = Field(description="Sum of those edges' weights")
    families: dict[str, float] = Field(description="Edge weight per evidence family")


class MemberBehaviour(BaseModel):
    signed_up: UtcDatetime | None
    country: str | None
    org_id: str | None
    requests: int
    input_tokens: int
    output_tokens: int
    first_seen: UtcDatetime | None
    last_seen: UtcDatetime | None


class Member(BaseModel):
    account_id: str
    strength: float
    evidence: MemberEvidence
    behaviour: MemberBehaviour


class MemberPage(BaseModel):
    cluster_id: str
    run_id: str
    total: int
    items: list[Member]
    next_cursor: str | None


class Change(BaseModel):
    """One entry of the change feed: a live cluster's current state, or a tombstone."""

    seq: int = Field(description="Position in the feed; strictly increasing")
    id: str
    gone: bool
    gone_reason: Literal["merged", "vanished"] | None = Field(
        description="For tombstones: merged into `successors`, or vanished"
    )
    successors: list[str]
    score: float
    flagged: bool
    size: int
    status: Status
    regrown: bool
    version: int
    updated_at: UtcDatetime
    run_id: str
    signals: dict[str, float] | None
    summary: str | None


class ChangePage(BaseModel):
    items: list[Change]
    next_cursor: str = Field(
        description="Where to resume: pass as `cursor` on the next poll, even when items is empty"
    )
    has_more: bool = Field(description="More changes are waiting now; fetch again at once")


class GraphNode(BaseModel):
    id: str
    strength: float
    degree: int


class GraphEdge(BaseModel):
    source: str
    target: str
    weight: float
    families: dict[str, Any]


class GraphBounds(BaseModel):
    total_members: int
    total_edges: int = Field(description="Edges stored for the cluster (its strongest ones)")
    nodes: int
    edges: int
    truncated: bool
    method: str


class ClusterGraph(BaseModel):
    cluster_id: str
    run_id: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    bounds: GraphBounds
