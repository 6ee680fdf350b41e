# ruff: noqa: E501
"""The store's tables as of the first release: cases, restrictions, assistance requests.

Revision ID: store_0001
Revises: None
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.tables

revision = "store_0001"
down_revision = None
branch_labels = ("store",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=False),
        sa.Column("court_code", sa.String(length=16), nullable=False),
        sa.Column("applicant", sa.String(length=400), nullable=False),
        sa.Column("amount_due", gateway.store.tables.Money(length=24), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("created_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_cases")),
    )
    op.create_table(
        "restrictions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("debtor_id", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=False),
        sa.Column("ground", sa.Text(), nullable=True),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.Column("created_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('HIGH_CONSUMPTION_BAN', 'DISHONEST_LIST', 'EXIT_BAN')",
            name=op.f("ck_restrictions_kind"),
        ),
        sa.CheckConstraint("status IN ('ACTIVE', 'LIFTED')", name=op.f("ck_restrictions_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restrictions")),
    )
    op.create_index(op.f("ix_restrictions_debtor_id"), "restrictions", ["debtor_id"], unique=False)
    op.create_table(
        "assistance_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=False),
        sa.Column("debtor_id", sa.String(length=18), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("target_value", gateway.store.tables.Money(length=24), nullable=True),
        sa.Column("amount", gateway.store.tables.Money(length=24), nullable=True),
        sa.Column("document_number", sa.String(length=100), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("renewal_of", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("ticket", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("queue_position", sa.Integer(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", gateway.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("deadline", gateway.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("lifted_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('SEIZE_REAL_ESTATE', 'LIFT_REAL_ESTATE_SEIZURE', 'FREEZE_EQUITY', 'UNFREEZE_EQUITY', 'SEIZE_VEHICLE', 'LIFT_VEHICLE_SEIZURE', 'EXIT_BAN', 'LIFT_EXIT_BAN')",
            name=op.f("ck_assistance_requests_action"),
        ),
        sa.CheckConstraint(
            "status IN ('PENDING_APPROVAL', 'APPROVED', 'SUBMITTED', 'COMPLETED', 'QUEUED', 'REJECTED', 'FAILED', 'CANCELLED')",
            name=op.f("ck_assistance_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.number"],
            name=op.f("fk_assistance_requests_case_number_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_requests")),
        sa.UniqueConstraint("idempotency_key", name="uq_assistance_requests_idempotency_key"),
    )
    op.create_index(
        op.f("ix_assistance_requests_case_number"),
        "assistance_requests",
        ["case_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_assistance_requests_debtor_id"), "assistance_requests", ["debtor_id"], unique=False
    )
    op.create_index(
        "ix_assistance_requests_work",
        "assistance_requests",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "case_debtors",
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("debtor_id", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.CheckConstraint("kind IN ('PERSON', 'ORGANIZATION')", name=op.f("ck_case_debtors_kind")),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.number"],
            name=op.f("fk_case_debtors_case_number_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_number", "debtor_id", name=op.f("pk_case_debtors")),
    )
    op.create_index(op.f("ix_case_debtors_debtor_id"), "case_debtors", ["debtor_id"], unique=False)
    op.create_table(
        "case_officers",
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint("role IN ('officer', 'judge')", name=op.f("ck_case_officers_role")),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.number"],
            name=op.f("fk_case_officers_case_number_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_number", "officer_id", "role", name=op.f("pk_case_officers")),
    )
    op.create_table(
        "assistance_events",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("at", gateway.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["assistance_requests.id"],
            name=op.f("fk_assistance_events_request_id_assistance_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "seq", name=op.f("pk_assistance_events")),
    )
    op.create_index(
        op.f("ix_assistance_events_case_number"), "assistance_events", ["case_number"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assistance_events_case_number"), table_name="assistance_events")
    op.drop_table("assistance_events")
    op.drop_table("case_officers")
    op.drop_index(op.f("ix_case_debtors_debtor_id"), table_name="case_debtors")
    op.drop_table("case_debtors")
    op.drop_index("ix_assistance_requests_work", table_name="assistance_requests")
    op.drop_index(op.f("ix_assistance_requests_debtor_id"), table_name="assistance_requests")
    op.drop_index(op.f("ix_assistance_requests_case_number"), table_name="assistance_requests")
    op.drop_table("assistance_requests")
    op.drop_index(op.f("ix_restrictions_debtor_id"), table_name="restrictions")
    op.drop_table("restrictions")
    op.drop_table("cases")
