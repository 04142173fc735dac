"""template signatures in one 128-byte value: 8-bit MinHash values, four to a band

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 01:00:00

Revision 0005 stored 32 BIGINT band keys a template (four 16-bit values each): ~340 bytes a
row on SQLite, more than the skeleton text it lets go. A band now keeps the low 8 bits of
each value (b-bit MinHash), and a template's 32 band keys are one little-endian uint32
array of 128 bytes. The low 8 bits of a stored 16-bit value are the value ingest now
computes, so existing rows are converted, not recomputed (the texts of one-off templates
are gone): a template ingested before this revision still groups with one ingested after.
"""

from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_COLUMNS = tuple(f"band_{i:02d}" for i in range(32))
CHUNK = 100_000


def _table(name: str, *band_columns: sa.Column) -> list[sa.Column | sa.Constraint]:
    return [
        sa.Column(
            "template_key",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("signature", sa.SmallInteger(), nullable=False),
        *band_columns,
        sa.PrimaryKeyConstraint("template_key", name=op.f(f"pk_{name}")),
    ]


def _copy(convert_old: bool) -> None:
    """Copy ``template_signatures_old`` into ``template_signatures``, converting the band
    keys a chunk at a time (keyset pagination on the primary key)."""
    conn = op.get_bind()
    cols = ", ".join(OLD_COLUMNS) if convert_old else "bands"
    insert_cols = "template_key, words, signature, " + (
        "bands" if convert_old else ", ".join(OLD_COLUMNS)
    )
    marks = ", ".join(f":p{i}" for i in range(len(insert_cols.split(", "))))
    insert = sa.text(f"INSERT INTO template_signatures ({insert_cols}) VALUES ({marks})")
    last = None
    while True:
        where = "" if last is None else f"WHERE template_key > {int(last)}"
        rows = conn.execute(
            sa.text(
                f"SELECT template_key, words, signature, {cols} FROM template_signatures_old "
                f"{where} ORDER BY template_key LIMIT {CHUNK}"
            )
        ).all()
        if not rows:
            return
        head = np.array([r[:3] for r in rows], dtype=np.int64)
        if convert_old:
            wide = np.array([r[3:] for r in rows], dtype=np.int64)
            low = np.ascontiguousarray(wide).view("<u2").astype(np.uint8)  # (n, 128)
            raw = low.tobytes()
            tail = [(raw[i * 128 : (i + 1) * 128],) for i in range(len(rows))]
        else:  # back to 16-bit columns: the high bits are gone, they come back as zeros
            narrow = np.frombuffer(b"".join(bytes(r[3]) for r in rows), dtype=np.uint8)
            wide16 = narrow.astype("<u2").reshape(len(rows), 128)
            tail = [tuple(r) for r in wide16.view("<i8").tolist()]
        params = [
            {f"p{i}": v for i, v in enumerate((*h, *t))}
            for h, t in zip(head.tolist(), tail, strict=True)
        ]
        conn.execute(insert, params)
        last = head[-1, 0]


def _replace(band_columns: list[sa.Column], convert_old: bool) -> None:
    """The old table steps aside (its primary key renamed too: PostgreSQL names the key's
    index after the constraint), the new one takes the name, the rows move across."""
    op.rename_table("template_signatures", "template_signatures_old")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE template_signatures_old "
            "RENAME CONSTRAINT pk_template_signatures TO pk_template_signatures_old"
        )
    op.create_table("template_signatures", *_table("template_signatures", *band_columns))
    _copy(convert_old)
    op.drop_table("template_signatures_old")


def upgrade() -> None:
    _replace([sa.Column("bands", sa.LargeBinary(), nullable=False)], convert_old=True)


def downgrade() -> None:
    """Back to 16-bit columns. The high 8 bits of each value are gone: converted rows hold
    zeros there, while revision 0005's ingest computes full 16-bit values, so a template
    stored before the downgrade no longer groups with a near-duplicate ingested after it."""
    _replace(
        [sa.Column(name, sa.BigInteger(), nullable=False) for name in OLD_COLUMNS],
        convert_old=False,
    )
