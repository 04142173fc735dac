"""template skeleton texts in their own append-ordered table, out of observed_values;
template signatures append-ordered on SQLite

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 11:00:00

``observed_values`` (a WITHOUT ROWID table keyed on (kind, value_key)) held every distinct
template's skeleton text: on real traffic most of its rows and bytes. Ingest inserted them at
random places of that B-tree, and a detection run that dropped the one-off texts copied every
other observed value to do so. ``template_texts`` is keyed on the template alone; on SQLite it
is a rowid table (new texts go at its end) with the key in a separate index.

``template_signatures`` had its key as the rowid on SQLite (INTEGER PRIMARY KEY), so new
templates landed all over the table too; it becomes a rowid table with a BIGINT key index
(its definition on PostgreSQL does not change).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEMPLATE = 4  # graph.types.Kind.TEMPLATE


def _signatures_keyed(key_type: sa.types.TypeEngine) -> None:
    """SQLite: rebuild template_signatures with ``key_type`` as its key's type (INTEGER makes
    the key the rowid; BIGINT keeps it in a separate index). Nothing to do on PostgreSQL."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.rename_table("template_signatures", "template_signatures_old")
    op.create_table(
        "template_signatures",
        sa.Column("template_key", key_type, autoincrement=False, nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("signature", sa.SmallInteger(), nullable=False),
        sa.Column("bands", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("template_key", name=op.f("pk_template_signatures")),
    )
    op.execute(
        "INSERT INTO template_signatures (template_key, words, signature, bands) "
        "SELECT template_key, words, signature, bands FROM template_signatures_old "
        "ORDER BY template_key"
    )
    op.drop_table("template_signatures_old")


def upgrade() -> None:
    op.create_table(
        "template_texts",
        sa.Column("template_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("template_key", name=op.f("pk_template_texts")),
    )
    op.execute(
        "INSERT INTO template_texts (template_key, value) "
        f"SELECT value_key, value FROM observed_values WHERE kind = {TEMPLATE}"
    )
    op.execute(f"DELETE FROM observed_values WHERE kind = {TEMPLATE}")
    _signatures_keyed(sa.BigInteger())


def downgrade() -> None:
    op.execute(
        "INSERT INTO observed_values (kind, value_key, value) "
        f"SELECT {TEMPLATE}, template_key, value FROM template_texts"
    )
    op.drop_table("template_texts")
    _signatures_keyed(sa.Integer())
