"""The audit log's tables: records, the debtor index, the head row.

Revision ID: audit_0001
Revises: None
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.audit.tables
import gateway.store.tables

revision = "audit_0001"
down_revision = None
branch_labels = ("audit",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_index",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "seq", name=op.f("pk_audit_index")),
    )
    op.create_table(
        "audit_records",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("time", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=False),
        sa.Column("roles", gateway.audit.tables.JsonText(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("cases", gateway.audit.tables.JsonText(), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("document_hash", sa.String(length=64), nullable=True),
        sa.Column("variables", gateway.audit.tables.JsonText(), nullable=False),
        sa.Column("debtors", gateway.audit.tables.JsonText(), nullable=False),
        sa.Column("debtor_keys", gateway.audit.tables.JsonText(), nullable=False),
        sa.Column("agencies", gateway.audit.tables.JsonText(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("http_status", sa.SmallInteger(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("detail", gateway.audit.tables.JsonText(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
    )
    op.create_index(
        op.f("ix_audit_records_principal"), "audit_records", ["principal"], unique=False
    )
    op.create_index(
        op.f("ix_audit_records_request_id"), "audit_records", ["request_id"], unique=False
    )
    op.create_index(op.f("ix_audit_records_time"), "audit_records", ["time"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_records_time"), table_name="audit_records")
    op.drop_index(op.f("ix_audit_records_request_id"), table_name="audit_records")
    op.drop_index(op.f("ix_audit_records_principal"), table_name="audit_records")
    op.drop_table("audit_records")
    op.drop_table("audit_index")
    op.drop_table("audit_head")
