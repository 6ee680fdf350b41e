"""The client's own request id beside the server's, on each audit record.

Revision ID: audit_0002
Revises: audit_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit_0002"
down_revision = "audit_0001"
branch_labels = None
depends_on = None


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("audit_records")}


def upgrade() -> None:
    # A log the gateway made itself (create_all) is adopted at audit_0001 by its tables, and
    # may already have the column.
    if "client_request_id" in _columns():
        return
    op.add_column(
        "audit_records", sa.Column("client_request_id", sa.String(length=128), nullable=True)
    )
    op.create_index(
        op.f("ix_audit_records_client_request_id"),
        "audit_records",
        ["client_request_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_records_client_request_id"), table_name="audit_records")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("client_request_id")
