"""The store's tables, in portable SQLAlchemy Core (SQLite now, PostgreSQL later).

Money is exact: NUMERIC(18, 2) on PostgreSQL, a decimal string on SQLite (whose NUMERIC is
a float in disguise). Timestamps are stored and returned as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "Money",
    "UtcDateTime",
    "case_debtors",
    "case_officers",
    "cases",
    "metadata",
    "restriction_decisions",
    "restrictions",
]

CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """Yuan with two places, exactly; refuses values that would need rounding."""

    impl = String(24)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))
        return dialect.type_descriptor(String(24))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value).quantize(CENT)
        if exact != value:
            raise ValueError(f"amount {value} has more than two decimal places")
        return exact if dialect.name == "postgresql" else str(exact)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(CENT)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, whatever the backend keeps (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

cases = Table(
    "cases",
    metadata,
    Column("number", String(64), primary_key=True),  # normalised 案号
    Column("court", String(200), nullable=False),
    Column("court_code", String(16), nullable=False),  # 苏0312
    Column("applicant", String(400), nullable=False),
    Column("amount_due", Money(), nullable=False),
    Column("status", String(32), nullable=False),  # a CaseStatus
    Column("filed_on", Date, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("security", Money(), nullable=True),  # 担保: security the debtor gave, in yuan
    Column("status_since", Date, nullable=True),  # when the status last changed
)

case_debtors = Table(
    "case_debtors",
    metadata,
    Column(
        "case_number",
        String(64),
        ForeignKey("cases.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("debtor_id", String(18), primary_key=True),
    Column("kind", String(16), nullable=False),
    CheckConstraint("kind IN ('PERSON', 'ORGANIZATION')", name="kind"),
    Index(None, "debtor_id"),
)

case_officers = Table(
    "case_officers",
    metadata,
    Column(
        "case_number",
        String(64),
        ForeignKey("cases.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("officer_id", String(64), primary_key=True),
    Column("role", String(16), primary_key=True),
    CheckConstraint("role IN ('officer', 'judge')", name="role"),
)

restrictions = Table(
    "restrictions",
    metadata,
    Column("id", String(36), primary_key=True),  # uuid4, as text for portability
    Column("debtor_id", String(18), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("case_number", String(64), nullable=False),  # may be another court's case
    Column("court", String(200), nullable=False),
    Column("ground", Text, nullable=True),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=True),
    Column("status", String(16), nullable=False),
    Column("lift_reason", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint("kind IN ('HIGH_CONSUMPTION_BAN', 'DISHONEST_LIST', 'EXIT_BAN')", name="kind"),
    CheckConstraint("status IN ('ACTIVE', 'LIFTED')", name="status"),
    Index(None, "debtor_id"),
)

# One written decision (决定书 / 限制消费令) per court-side restriction. The restriction it
# imposes exists only once the decision is signed, and then has the decision's id.
restriction_decisions = Table(
    "restriction_decisions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_number", String(64), nullable=False),
    Column("court", String(200), nullable=False),
    Column("debtor_id", String(18), nullable=False),
    Column("debtor_kind", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("grounds", Text, nullable=False),  # comma-separated for a listing
    Column("since", Date, nullable=True),  # None: the day it is signed
    Column("until", Date, nullable=True),
    Column("extension_basis", String(32), nullable=True),
    Column("extension_reason", Text, nullable=True),
    Column("document_number", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("signed_by", String(64), nullable=True),
    Column("signed_at", UtcDateTime(), nullable=True),
    Column("follows", String(36), nullable=True),  # the listing a mandatory ban follows
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "case_number"),
)
