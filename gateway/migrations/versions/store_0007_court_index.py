"""An index on the court of assistance requests: the approval inbox and agencyWorkload filter by it.

Revision ID: store_0007
Revises: store_0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "store_0007"
down_revision = "store_0006"
branch_labels = None
depends_on = None

INDEX = "ix_assistance_requests_court"


def upgrade() -> None:
    # A database the gateway made itself (create_all) is adopted at an earlier revision by
    # its tables, and may already have this index.
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("assistance_requests")}
    if INDEX not in indexes:
        op.create_index(INDEX, "assistance_requests", ["court"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="assistance_requests")
