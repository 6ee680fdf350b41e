"""Case status as an enum, security given, restriction decisions, the dormant watch's end.

Revision ID: store_0005
Revises: store_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.tables

revision = "store_0005"
down_revision = "store_0004"
branch_labels = None
depends_on = None

STATUSES = ("ACTIVE", "DORMANT", "FULLY_PERFORMED", "TERMINATED")


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    # A database the gateway made itself (create_all) may already have any of these.
    have = _columns("cases")
    if "security" not in have:
        op.add_column("cases", sa.Column("security", gateway.store.tables.Money(), nullable=True))
    if "status_since" not in have:
        op.add_column("cases", sa.Column("status_since", sa.Date(), nullable=True))
    # The status was free text; the one value ever written was ACTIVE. Anything else is read
    # as a case still being enforced rather than refused at every read.
    cases = sa.table("cases", sa.column("status", sa.String))
    op.execute(cases.update().where(cases.c.status.not_in(STATUSES)).values(status="ACTIVE"))
    if "ends_at" not in _columns("asset_watches"):
        op.add_column(
            "asset_watches",
            sa.Column("ends_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=True),
        )
    if "restriction_decisions" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "restriction_decisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=False),
        sa.Column("debtor_id", sa.String(length=18), nullable=False),
        sa.Column("debtor_kind", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("extension_basis", sa.String(length=32), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("document_number", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("signed_by", sa.String(length=64), nullable=True),
        sa.Column("signed_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("follows", sa.String(length=36), nullable=True),
        sa.Column("created_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restriction_decisions")),
    )
    op.create_index(
        op.f("ix_restriction_decisions_case_number"),
        "restriction_decisions",
        ["case_number"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_restriction_decisions_case_number"), table_name="restriction_decisions")
    op.drop_table("restriction_decisions")
    with op.batch_alter_table("asset_watches") as batch:
        batch.drop_column("ends_at")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("status_since")
        batch.drop_column("security")
