"""template signatures: LSH band keys of each distinct template, computed at ingest; prompt
samples indexed by account (ingest caps them per account)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:00:00

Existing templates get no rows here: detection computes the keys of templates without a row
from their skeleton texts (app.detection.loader), so a database ingested before this revision
needs no backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BAND_COLUMNS = tuple(f"band_{i:02d}" for i in range(32))  # app.models.ingest.BAND_COLUMNS


def upgrade() -> None:
    op.create_table(
        "template_signatures",
        sa.Column(
            "template_key",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("signature", sa.SmallInteger(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in BAND_COLUMNS),
        sa.PrimaryKeyConstraint("template_key", name=op.f("pk_template_signatures")),
    )
    with op.batch_alter_table("prompt_samples") as batch:
        batch.create_index(batch.f("ix_prompt_samples_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prompt_samples") as batch:
        batch.drop_index(batch.f("ix_prompt_samples_account_id"))
    op.drop_table("template_signatures")
