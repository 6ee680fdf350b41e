"""One chain per writer: records addressed by (chain, seq), one head row per chain.

The single chain written before becomes the chain ``legacy`` (its records, index rows and
head move over unchanged, so it verifies exactly as before); new writers open chains of
their own beside it.

Revision ID: audit_0003
Revises: audit_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit_0003"
down_revision = "audit_0002"
branch_labels = None
depends_on = None

LEGACY = "legacy"  # gateway.audit.chain.LEGACY_CHAIN, fixed here as the migration wrote it
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    chains = op.create_table(
        "audit_chains",
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", _SEQ, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chains")),
    )
    head = sa.table("audit_head", sa.column("seq", _SEQ), sa.column("hash", sa.String(64)))
    row = op.get_bind().execute(sa.select(head.c.seq, head.c.hash)).first()
    if row is not None:
        op.bulk_insert(chains, [{"chain": LEGACY, "seq": int(row.seq), "hash": str(row.hash)}])
    op.drop_table("audit_head")
    # SQLite cannot change a primary key in place: batch mode copies the table.
    for table, key in (
        ("audit_records", ["chain", "seq"]),
        ("audit_index", ["kind", "value", "chain", "seq"]),
    ):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("chain", sa.String(length=64), nullable=False, server_default=LEGACY)
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("chain", server_default=None)
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", key)


def downgrade() -> None:
    # Only a log that holds nothing but the legacy chain goes back to one chain.
    bind = op.get_bind()
    records = sa.table("audit_records", sa.column("chain", sa.String(64)))
    other = bind.execute(
        sa.select(records.c.chain).where(records.c.chain != LEGACY).limit(1)
    ).first()
    if other is not None:
        raise RuntimeError("the audit log holds chains besides the legacy one")
    for table, key in (
        ("audit_index", ["kind", "value", "seq"]),
        ("audit_records", ["seq"]),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", key)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("chain")
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", _SEQ, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    chains = sa.table(
        "audit_chains",
        sa.column("chain", sa.String(64)),
        sa.column("seq", _SEQ),
        sa.column("hash", sa.String(64)),
    )
    row = bind.execute(
        sa.select(chains.c.seq, chains.c.hash).where(chains.c.chain == LEGACY)
    ).first()
    if row is not None:
        op.bulk_insert(head, [{"id": 1, "seq": int(row.seq), "hash": str(row.hash)}])
    op.drop_table("audit_chains")
