"""Asset watches and the asset events they found.

Revision ID: store_0002
Revises: store_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.tables

revision = "store_0002"
down_revision = "store_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("watch_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("debtor_id", sa.String(length=18), nullable=False),
        sa.Column("asset_id", sa.String(length=200), nullable=False),
        sa.Column("asset_kind", sa.String(length=16), nullable=False),
        sa.Column("change", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_events")),
    )
    op.create_index(
        op.f("ix_asset_events_case_number"), "asset_events", ["case_number"], unique=False
    )
    op.create_index(
        op.f("ix_asset_events_delivered_at"), "asset_events", ["delivered_at"], unique=False
    )
    op.create_table(
        "asset_watches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=False),
        sa.Column("debtor_id", sa.String(length=18), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("next_due", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("claimed_until", gateway.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_run", gateway.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("snapshot_hash", sa.String(length=64), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.number"],
            name=op.f("fk_asset_watches_case_number_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_watches")),
        sa.UniqueConstraint("case_number", "debtor_id", name="uq_asset_watches_case_debtor"),
    )
    op.create_index(op.f("ix_asset_watches_claim"), "asset_watches", ["claim"], unique=False)
    op.create_index(op.f("ix_asset_watches_next_due"), "asset_watches", ["next_due"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_asset_watches_next_due"), table_name="asset_watches")
    op.drop_index(op.f("ix_asset_watches_claim"), table_name="asset_watches")
    op.drop_table("asset_watches")
    op.drop_index(op.f("ix_asset_events_delivered_at"), table_name="asset_events")
    op.drop_index(op.f("ix_asset_events_case_number"), table_name="asset_events")
    op.drop_table("asset_events")
