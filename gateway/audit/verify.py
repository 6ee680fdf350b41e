"""Walking the whole audit log: the chain, the index beside it, the head, optional anchors.

The walk reads the head first and checks records up to it, so it can run while the gateway
keeps appending. It stops at the first broken record and names it: a gap in ``seq``, a
``prev_hash`` that does not match, contents that do not match their hash, index rows that
do not match their record, a head that does not match the last record, or a record whose
hash differs from an anchor (a ``seq:hash`` noted earlier, e.g. from a previous verify).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import GENESIS, Break, ChainWalker, StoredRecord
from gateway.audit.tables import audit_head, audit_index, audit_records, index_rows, record_from_row

__all__ = ["VerifyReport", "verify_log"]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What a walk found: how many records were good, the head, the first break if any."""

    checked: int
    head_seq: int
    head_hash: str
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify_log(
    engine: AsyncEngine, *, anchors: Sequence[tuple[int, str]] = (), chunk: int = 1000
) -> VerifyReport:
    """Check the log in ``engine``; see the module docstring for what is checked."""
    async with engine.connect() as conn:
        head = (
            await conn.execute(
                select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            )
        ).first()
    if head is None:
        last = await _max_seq(engine)
        broken = Break(1, "the head row is missing") if last else None
        return VerifyReport(0, 0, GENESIS, broken)
    head_seq, head_hash = int(head.seq), str(head.hash)
    walker = ChainWalker()
    wanted = dict(anchors)
    broken = await _walk(engine, walker, head_seq, wanted, chunk)
    if broken is None:
        broken = _check_head(walker, head_seq, head_hash)
    if broken is None:
        broken = await _stray_index_rows(engine, head_seq)
    if broken is None and wanted:
        seq = min(wanted)
        broken = Break(seq, "the anchor names a record past the head")
    return VerifyReport(walker.checked, head_seq, head_hash, broken)


async def _walk(
    engine: AsyncEngine, walker: ChainWalker, head_seq: int, anchors: dict[int, str], chunk: int
) -> Break | None:
    after = 0
    while after < head_seq:
        async with engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(audit_records)
                        .where(audit_records.c.seq > after, audit_records.c.seq <= head_seq)
                        .order_by(audit_records.c.seq)
                        .limit(chunk)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                return None
            records = [record_from_row(row) for row in rows]
            indexed = await conn.execute(
                select(audit_index).where(
                    audit_index.c.seq > after, audit_index.c.seq <= records[-1].seq
                )
            )
            index = {(r.kind, r.value, int(r.seq)) for r in indexed}
        for record in records:
            broken = (
                walker.inspect(record)
                or _check_index(record, index)
                or _check_anchor(record, anchors)
            )
            if broken is not None:
                return broken
            walker.accept(record)
        after = records[-1].seq
        if index:
            # Index rows left over point at records that do not claim them.
            return Break(min(seq for _, _, seq in index), "index rows do not match the record")
    return None


def _check_index(record: StoredRecord, index: set[tuple[str, str, int]]) -> Break | None:
    expected = {(row["kind"], row["value"], row["seq"]) for row in index_rows(record)}
    if not expected <= index:
        return Break(record.seq, "index rows do not match the record")
    index -= expected
    return None


def _check_anchor(record: StoredRecord, anchors: dict[int, str]) -> Break | None:
    expected = anchors.pop(record.seq, None)
    if expected is not None and expected != record.hash:
        return Break(record.seq, "hash differs from the anchor")
    return None


def _check_head(walker: ChainWalker, head_seq: int, head_hash: str) -> Break | None:
    last = walker.next_seq - 1
    if last < head_seq:
        return Break(last + 1, f"missing (the head says the log ends at {head_seq})")
    if walker.prev_hash != head_hash:
        return Break(head_seq, "the head's hash does not match the last record")
    return None


async def _stray_index_rows(engine: AsyncEngine, head_seq: int) -> Break | None:
    # Records past the head are simply newer than the walk; index rows pointing at records
    # that do not exist at all would make queries lie.
    async with engine.connect() as conn:
        stray = (
            await conn.execute(
                select(func.min(audit_index.c.seq)).where(
                    audit_index.c.seq <= head_seq,
                    ~audit_index.c.seq.in_(select(audit_records.c.seq)),
                )
            )
        ).scalar()
    return None if stray is None else Break(int(stray), "index rows point at a missing record")


async def _max_seq(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = (await conn.execute(select(func.max(audit_records.c.seq)))).scalar()
    return int(value or 0)
