"""Tables of asset watches and the asset events they found, on the store's one MetaData.

Portable Core like ``gateway.store.tables``. A watch is one (case, debtor) pair re-queried
every ``interval_s`` seconds; ``next_due`` orders the scheduler's work and ``claim`` marks
the rows one scheduler pass has taken (so two gateways never re-query the same watch at
once). ``snapshot`` is the canonical JSON of the debtor's assets at the last run.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gateway.store.tables import UtcDateTime, metadata

__all__ = ["asset_events", "asset_watches"]

asset_watches = Table(
    "asset_watches",
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
    Column("interval_s", Integer, nullable=False),
    Column("next_due", UtcDateTime(), nullable=False),
    Column("claim", String(36), nullable=True),
    Column("claimed_until", UtcDateTime(), nullable=True),
    Column("last_run", UtcDateTime(), nullable=True),
    Column("snapshot_hash", String(64), nullable=True),
    Column("snapshot", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # The last moment a run may fall on (a dormant case's five years); None: no end.
    Column("ends_at", UtcDateTime(), nullable=True),
    UniqueConstraint("case_number", "debtor_id", name="uq_asset_watches_case_debtor"),
    Index(None, "next_due"),
    Index(None, "claim"),
)

asset_events = Table(
    "asset_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch_id", String(36), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("debtor_id", String(18), nullable=False),
    Column("asset_id", String(200), nullable=False),
    Column("asset_kind", String(16), nullable=False),
    Column("change", String(32), nullable=False),
    Column("detail", Text, nullable=False),  # JSON: the asset before and after
    Column("at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime(), nullable=True),  # by the webhook
    Column("attempts", Integer, nullable=False, default=0),
    Index(None, "case_number"),
    Index(None, "delivered_at"),
)
