"""change feed: cluster change numbers, tombstone reasons, edge lookup by account,
review queue indexes, template observations folded into activity

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "change_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counters")),
    )
    with op.batch_alter_table("clusters") as batch:
        batch.add_column(sa.Column("gone_reason", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("successors", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("change_seq", SEQ, nullable=True))
    # number existing clusters in the order they last changed
    conn = op.get_bind()
    ids = conn.execute(sa.text("SELECT id FROM clusters ORDER BY updated_at, id")).scalars().all()
    if ids:
        conn.execute(
            sa.text("UPDATE clusters SET change_seq = :seq WHERE id = :id"),
            [{"seq": i, "id": cid} for i, cid in enumerate(ids, 1)],
        )
    conn.execute(
        sa.text("INSERT INTO change_counters (name, value) VALUES ('clusters', :v)"),
        {"v": len(ids)},
    )
    with op.batch_alter_table("clusters") as batch:
        batch.alter_column("change_seq", existing_type=SEQ, nullable=False)
        batch.create_unique_constraint(op.f("uq_clusters_change_seq"), ["change_seq"])
    op.create_index("ix_cluster_edges_source", "cluster_edges", ["source", "run_id"])
    op.create_index("ix_cluster_edges_target", "cluster_edges", ["target", "run_id"])
    # the review queue's sort orders
    op.create_index(
        "ix_cluster_snapshots_run_score", "cluster_snapshots", ["run_id", "score", "cluster_id"]
    )
    op.create_index(
        "ix_cluster_snapshots_run_size", "cluster_snapshots", ["run_id", "size", "cluster_id"]
    )
    # template observations now come from the activity windows (same counts)
    op.execute("DELETE FROM observations WHERE kind = 4")
    op.drop_index("ix_clusters_updated_at", table_name="clusters")
    op.create_index("ix_clusters_updated", "clusters", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_clusters_updated", table_name="clusters")
    op.create_index("ix_clusters_updated_at", "clusters", ["updated_at"])
    op.drop_index("ix_cluster_snapshots_run_size", table_name="cluster_snapshots")
    op.drop_index("ix_cluster_snapshots_run_score", table_name="cluster_snapshots")
    op.drop_index("ix_cluster_edges_target", table_name="cluster_edges")
    op.drop_index("ix_cluster_edges_source", table_name="cluster_edges")
    with op.batch_alter_table("clusters") as batch:
        batch.drop_constraint(op.f("uq_clusters_change_seq"), type_="unique")
        batch.drop_column("change_seq")
        batch.drop_column("successors")
        batch.drop_column("gone_reason")
    op.drop_table("change_counters")
