"""The net value under the over-seizure guard: a request's encumbrance, a case's costs.

Revision ID: store_0004
Revises: store_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.tables

revision = "store_0004"
down_revision = "store_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    # A database the gateway made itself (create_all) is adopted at an earlier revision by
    # its tables, and may already have what this one adds.
    columns = {c["name"] for c in inspector.get_columns("assistance_requests")}
    if "encumbrance" not in columns:
        op.add_column(
            "assistance_requests",
            sa.Column("encumbrance", gateway.store.tables.Money(length=24), nullable=True),
        )
    if "case_costs" not in inspector.get_table_names():
        op.create_table(
            "case_costs",
            sa.Column("case_number", sa.String(length=64), nullable=False),
            sa.Column("enforcement_costs", gateway.store.tables.Money(length=24), nullable=False),
            sa.Column("late_interest", gateway.store.tables.Money(length=24), nullable=False),
            sa.Column("updated_by", sa.String(length=64), nullable=False),
            sa.Column(
                "updated_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False
            ),
            sa.ForeignKeyConstraint(
                ["case_number"],
                ["cases.number"],
                name=op.f("fk_case_costs_case_number_cases"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("case_number", name=op.f("pk_case_costs")),
        )


def downgrade() -> None:
    op.drop_table("case_costs")
    with op.batch_alter_table("assistance_requests") as batch:
        batch.drop_column("encumbrance")
