"""Detection runs and their results.

``clusters`` is the stable entity a reviewer works on (its id survives re-runs); each run's
view of it is a ``cluster_snapshots`` row with its members and strongest edges.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class DetectionRun(Base):
    __tablename__ = "detection_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # running|completed|failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    engine: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(Integer)
    code_version: Mapped[str] = mapped_column(String(64))
    input_digest: Mapped[str | None] = mapped_column(String(64))
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    # written every HEARTBEAT_SECONDS while the run works (app.detection.lease)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Cluster(Base):
    __tablename__ = "clusters"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_run_id: Mapped[str] = mapped_column(ForeignKey("detection_runs.id"))
    last_run_id: Mapped[str] = mapped_column(ForeignKey("detection_runs.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    assignee: Mapped[str | None] = mapped_column(String(128))
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(Float, index=True)
    flagged: Mapped[bool] = mapped_column(Boolean)
    size: Mapped[int] = mapped_column(Integer)
    regrown: Mapped[bool] = mapped_column(Boolean, default=False)
    gone: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # why a gone cluster went: "merged" (into ``successors``) or "vanished"
    gone_reason: Mapped[str | None] = mapped_column(String(16))
    successors: Mapped[list[str] | None] = mapped_column(JSON)
    # position in the change feed: every change takes the next number (see app/core/changes.py)
    change_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_clusters_updated", "updated_at", "id"),)


class ClusterSnapshot(Base):
    __tablename__ = "cluster_snapshots"
    __table_args__ = (  # the review queue's sort orders, read backwards (see page_clusters)
        Index("ix_cluster_snapshots_run_score", "run_id", "score", "cluster_id"),
        Index("ix_cluster_snapshots_run_size", "run_id", "size", "cluster_id"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("detection_runs.id"), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean)
    size: Mapped[int] = mapped_column(Integer)
    signals: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    lineage: Mapped[dict[str, Any]] = mapped_column(JSON)


class ClusterMember(Base):
    __tablename__ = "cluster_members"
    __table_args__ = (Index("ix_cluster_members_account", "account_id", "run_id"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("detection_runs.id"), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    strength: Mapped[float] = mapped_column(Float)


class ClusterEdge(Base):
    """The strongest edges inside a cluster, with the evidence that made them."""

    __tablename__ = "cluster_edges"
    __table_args__ = (
        Index("ix_cluster_edges_source", "source", "run_id"),
        Index("ix_cluster_edges_target", "target", "run_id"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("detection_runs.id"), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    target: Mapped[str] = mapped_column(String(128), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    families: Mapped[dict[str, Any]] = mapped_column(JSON)


class ChangeCounter(Base):
    """The change feed's counter. Writers take numbers under this row's lock, so numbers are
    handed out in commit order and a reader's cursor never skips a later commit."""

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
