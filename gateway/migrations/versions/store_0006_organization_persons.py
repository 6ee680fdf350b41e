"""The persons behind organisations under the court's measures (consumption bans reach them).

Revision ID: store_0006
Revises: store_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.tables

revision = "store_0006"
down_revision = "store_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database the gateway made itself (create_all) is adopted at store_0002 by its tables,
    # and may already have this one.
    if "organization_persons" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "organization_persons",
        sa.Column("organization_id", sa.String(length=18), nullable=False),
        sa.Column("person_id", sa.String(length=18), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "person_id", name=op.f("pk_organization_persons")
        ),
    )


def downgrade() -> None:
    op.drop_table("organization_persons")
