"""Tables of assistance requests (协助执行) and their timeline, on the store's one MetaData.

Portable Core, like ``gateway.store.tables``: the unique idempotency key, the indexes the
lifecycle worker scans by and the check constraints are all declared here, so that
``create_all`` and later Alembic migrations make the same schema on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from connectors.control import ControlAction
from gateway.domain.assistance_status import AssistanceStatus
from gateway.store.tables import Money, UtcDateTime, metadata

__all__ = ["assistance_events", "assistance_requests"]


def _in(values: object) -> str:
    return ", ".join(f"'{v}'" for v in values)  # type: ignore[attr-defined]


assistance_requests = Table(
    "assistance_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "case_number",
        String(64),
        ForeignKey("cases.number", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("court", String(200), nullable=False),
    Column("debtor_id", String(18), nullable=False),
    Column("agency", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(200), nullable=False),
    Column("target_value", Money(), nullable=True),  # estimated value when requested
    Column("amount", Money(), nullable=True),  # the value held: all of it, or part of equity
    # Mortgages and earlier seizures' claims ranking ahead when requested (net = value - this).
    Column("encumbrance", Money(), nullable=True),
    Column("document_number", String(100), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=True),
    Column("renewal_of", String(36), nullable=True),
    Column("status", String(20), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # of the order the key stands for
    Column("requested_by", String(64), nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("override_reason", Text, nullable=True),
    Column("reason", Text, nullable=True),  # a lift's written reason, sent to the agency
    Column("ticket", String(100), nullable=True),
    Column("reference", String(100), nullable=True),
    Column("queue_position", Integer, nullable=True),
    Column("reply", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("deadline", UtcDateTime(), nullable=True),
    Column("overdue", Boolean, nullable=False, default=False),
    Column("lifted_by", String(36), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("idempotency_key", name="uq_assistance_requests_idempotency_key"),
    CheckConstraint(f"status IN ({_in(AssistanceStatus)})", name="status"),
    CheckConstraint(f"action IN ({_in(ControlAction)})", name="action"),
    Index(None, "case_number"),
    Index(None, "debtor_id"),
    Index(None, "court"),  # the approval inbox and agencyWorkload filter by court
    Index("ix_assistance_requests_work", "status", "next_attempt_at"),
)

assistance_events = Table(
    "assistance_events",
    metadata,
    Column(
        "request_id",
        String(36),
        ForeignKey("assistance_requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True, autoincrement=False),  # 1, 2, ... per request
    Column("case_number", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("status", String(20), nullable=False),  # the request's status after the event
    Column("actor", String(64), nullable=False),
    Column("note", Text, nullable=True),
    Index(None, "case_number"),
)
