"""A lift's written reason on its assistance request.

Revision ID: store_0003
Revises: store_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "store_0003"
down_revision = "store_0002"
branch_labels = None
depends_on = None


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("assistance_requests")}


def upgrade() -> None:
    # A database the gateway made itself (create_all) is adopted at store_0002 by its tables,
    # and may already have the column.
    if "reason" not in _columns():
        op.add_column("assistance_requests", sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistance_requests") as batch:
        batch.drop_column("reason")
