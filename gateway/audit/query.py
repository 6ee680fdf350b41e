"""Reading the audit log: filtered pages (newest first) for auditors, streams for export.

Debtors are found through their keyed hash (the log never holds their ids in the clear),
cases through the index table; officer, time range, outcome and request id are columns.
Every query reads across all chains, merged by time: records are ordered by ``(time, chain,
seq)``, a total order, and pages are keyed on that ``Position``, so a cursor stays valid
while records are appended. Witness records are the log's own; queries leave them out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, String, and_, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import StoredRecord
from gateway.audit.record import debtor_key
from gateway.audit.tables import (
    CASE,
    DEBTOR_SET,
    audit_debtor_sets,
    audit_index,
    audit_records,
    record_from_row,
)
from gateway.audit.witness import WITNESS_OPERATION
from gateway.masking import mask_text

__all__ = ["AuditFilter", "AuditSearch", "Position"]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record stands in the merged order of all chains."""

    time: datetime
    chain: str
    seq: int

    @classmethod
    def of(cls, record: StoredRecord) -> Position:
        return cls(record.time, record.chain, record.seq)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to look for; every given criterion must hold. Values are already validated."""

    case_number: str | None = None
    debtor_id: str | None = None
    officer: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    outcome: str | None = None
    request_id: str | None = None
    client_request_id: str | None = None


class AuditSearch:
    """Queries over one audit database; cheap to make, holds no connection."""

    def __init__(self, engine: AsyncEngine, key: bytes) -> None:
        self.engine = engine
        self.key = key

    def _select(self, where: AuditFilter) -> Select[tuple[object, ...]]:
        r = audit_records.c
        stmt: Select[tuple[object, ...]] = select(audit_records).where(
            r.operation != WITNESS_OPERATION
        )
        if where.case_number is not None:
            stmt = stmt.where(self._indexed(CASE, where.case_number))
        if where.debtor_id is not None:
            stmt = stmt.where(self._names(debtor_key(self.key, where.debtor_id)))
        if where.officer is not None:
            stmt = stmt.where(r.principal == mask_text(where.officer))
        if where.since is not None:
            stmt = stmt.where(r.time >= self._instant(where.since))
        if where.until is not None:
            stmt = stmt.where(r.time < self._instant(where.until))
        if where.outcome is not None:
            stmt = stmt.where(r.outcome == where.outcome)
        if where.request_id is not None:
            stmt = stmt.where(r.request_id == where.request_id)
        if where.client_request_id is not None:
            stmt = stmt.where(r.client_request_id == where.client_request_id)
        return stmt

    def _instant(self, when: datetime) -> ColumnElement[object] | datetime:
        """``when`` as a bound for the time column: inclusive below, exclusive above."""
        if self.engine.dialect.name != "sqlite":
            return when
        # SQLite keeps times as text, and one instant has two renderings there: the writer's
        # '08:00:03+00:00' and Core's '08:00:03.000000' (as its bound values get). Bound as
        # either, one of them sorts on the wrong side. The shortest rendering, without a
        # zone and with microseconds only when there are some, is a prefix of both, so it
        # sorts at or before every rendering of ``when`` and after every earlier instant.
        text = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if when.microsecond:
            text += f".{when.microsecond:06d}"
        return literal(text, String())

    @staticmethod
    def _indexed(kind: str, value: str) -> ColumnElement[bool]:
        i, r = audit_index.c, audit_records.c
        return exists().where(i.kind == kind, i.value == value, i.chain == r.chain, i.seq == r.seq)

    @staticmethod
    def _names(key: str) -> ColumnElement[bool]:
        # A record is indexed once under the set of its debtors; the sets holding ``key``
        # are few (one per distinct group of debtors asked about together).
        i, r, s = audit_index.c, audit_records.c, audit_debtor_sets.c
        sets = select(s.debtor_set).where(s.debtor_key == key)
        return exists().where(
            i.kind == DEBTOR_SET, i.value.in_(sets), i.chain == r.chain, i.seq == r.seq
        )

    async def page(
        self, where: AuditFilter, *, first: int, before: Position | None = None
    ) -> tuple[list[StoredRecord], bool]:
        """Up to ``first`` records, newest first, older than ``before``; and whether more
        follow."""
        r = audit_records.c
        stmt = self._select(where)
        if before is not None:
            stmt = stmt.where(_beyond(before, older=True))
        stmt = stmt.order_by(r.time.desc(), r.chain.desc(), r.seq.desc()).limit(first + 1)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        records = [record_from_row(row) for row in rows[:first]]
        return records, len(rows) > first

    async def stream(self, where: AuditFilter, *, chunk: int = 500) -> AsyncIterator[StoredRecord]:
        """Every matching record of every chain, oldest first, read ``chunk`` at a time."""
        r = audit_records.c
        after: Position | None = None
        while True:
            stmt = self._select(where)
            if after is not None:
                stmt = stmt.where(_beyond(after, older=False))
            stmt = stmt.order_by(r.time, r.chain, r.seq).limit(chunk)
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).mappings().all()
            for row in rows:
                record = record_from_row(row)
                after = Position.of(record)
                yield record
            if len(rows) < chunk:
                return


def _beyond(at: Position, *, older: bool) -> ColumnElement[bool]:
    """Records before ``at`` (``older``) or after it, in ``(time, chain, seq)`` order."""
    r = audit_records.c
    # Compare with the time as stored in the record at ``at``, not as bound anew: on SQLite
    # times are text, and the writer's and Core's renderings of one instant differ.
    stored = audit_records.alias("at")
    time = (
        select(stored.c.time)
        .where(stored.c.chain == at.chain, stored.c.seq == at.seq)
        .scalar_subquery()
    )
    if older:
        return or_(
            r.time < time,
            and_(
                r.time == time,
                or_(r.chain < at.chain, and_(r.chain == at.chain, r.seq < at.seq)),
            ),
        )
    return or_(
        r.time > time,
        and_(r.time == time, or_(r.chain > at.chain, and_(r.chain == at.chain, r.seq > at.seq))),
    )
