"""Reading the audit log: filtered pages (newest first) for auditors, streams for export.

Debtors are found through their keyed hash (the log never holds their ids in the clear),
cases through the index table; officer, time range, outcome and request id are columns.
Pages are keyed on ``seq``, so a cursor stays valid while records are appended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import StoredRecord
from gateway.audit.record import debtor_key
from gateway.audit.tables import CASE, DEBTOR, audit_index, audit_records, record_from_row
from gateway.masking import mask_text

__all__ = ["AuditFilter", "AuditSearch"]


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
        stmt: Select[tuple[object, ...]] = select(audit_records)
        if where.case_number is not None:
            stmt = stmt.where(r.seq.in_(self._indexed(CASE, where.case_number)))
        if where.debtor_id is not None:
            stmt = stmt.where(
                r.seq.in_(self._indexed(DEBTOR, debtor_key(self.key, where.debtor_id)))
            )
        if where.officer is not None:
            stmt = stmt.where(r.principal == mask_text(where.officer))
        if where.since is not None:
            stmt = stmt.where(r.time >= where.since)
        if where.until is not None:
            stmt = stmt.where(r.time < where.until)
        if where.outcome is not None:
            stmt = stmt.where(r.outcome == where.outcome)
        if where.request_id is not None:
            stmt = stmt.where(r.request_id == where.request_id)
        if where.client_request_id is not None:
            stmt = stmt.where(r.client_request_id == where.client_request_id)
        return stmt

    @staticmethod
    def _indexed(kind: str, value: str) -> Select[tuple[int]]:
        i = audit_index.c
        return select(i.seq).where(i.kind == kind, i.value == value)

    async def page(
        self, where: AuditFilter, *, first: int, before_seq: int | None = None
    ) -> tuple[list[StoredRecord], bool]:
        """Up to ``first`` records, newest first, older than ``before_seq``; and whether
        more follow."""
        stmt = self._select(where)
        if before_seq is not None:
            stmt = stmt.where(audit_records.c.seq < before_seq)
        stmt = stmt.order_by(audit_records.c.seq.desc()).limit(first + 1)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        records = [record_from_row(row) for row in rows[:first]]
        return records, len(rows) > first

    async def stream(self, where: AuditFilter, *, chunk: int = 500) -> AsyncIterator[StoredRecord]:
        """Every matching record, oldest first, read ``chunk`` at a time."""
        after = 0
        while True:
            stmt = (
                self._select(where)
                .where(audit_records.c.seq > after)
                .order_by(audit_records.c.seq)
                .limit(chunk)
            )
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).mappings().all()
            for row in rows:
                record = record_from_row(row)
                after = record.seq
                yield record
            if len(rows) < chunk:
                return
