"""data version: a counter every committed unit of work advances (response caches)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.get_bind().execute(sa.text("INSERT INTO change_counters (name, value) VALUES ('data', 0)"))


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM change_counters WHERE name = 'data'"))
