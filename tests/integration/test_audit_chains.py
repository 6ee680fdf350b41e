"""One audit chain per writer, chains that witness each other, on SQLite and PostgreSQL.

A chain alone cannot show a cut tail whose head row was rewound to match, nor a tail
rewritten with every hash recomputed: it walks clean. Another chain's witness record of a
head past the cut (or of the old hash) contradicts it, and ``liandong audit verify`` exits 1
naming the chain and the record.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, update

from gateway.audit.chain import StoredRecord, record_hash
from gateway.audit.query import AuditFilter, AuditSearch, Position
from gateway.audit.store import SqlAuditLog
from gateway.audit.tables import audit_chains, audit_index, audit_records, record_from_row
from gateway.audit.verify import verify_log
from gateway.audit.witness import WITNESS_OPERATION
from tests.audit_entries import make_entry
from tests.integration.audit_cli import verify_cli

KEY = b"k" * 32


async def _two_chains(url: str, records: int) -> tuple[SqlAuditLog, SqlAuditLog]:
    """Chain a-0 with ``records`` records, then chain b-0, which has witnessed all of them."""
    a = await SqlAuditLog.open(url, KEY, chain="a-0")
    b = await SqlAuditLog.open(url, KEY, chain="b-0", witness_interval_s=0)
    for i in range(records):
        await a.append(make_entry(i))
    await b.append(make_entry(100))
    return a, b


async def _cut_tail(log: SqlAuditLog, keep: int) -> None:
    """Delete the chain's records after ``keep`` and rewind its head row to match."""
    r, i, h = audit_records.c, audit_index.c, audit_chains.c
    async with log.engine.begin() as conn:
        kept = (
            await conn.execute(select(r.hash).where(r.chain == log.chain, r.seq == keep))
        ).scalar_one()
        await conn.execute(delete(audit_records).where(r.chain == log.chain, r.seq > keep))
        await conn.execute(delete(audit_index).where(i.chain == log.chain, i.seq > keep))
        await conn.execute(
            update(audit_chains).where(h.chain == log.chain).values(seq=keep, hash=kept)
        )


async def _rewrite(log: SqlAuditLog, start: int) -> None:
    """Edit record ``start`` and recompute every hash of the chain from it, and its head."""
    r, h = audit_records.c, audit_chains.c
    async with log.engine.begin() as conn:
        await conn.execute(
            update(audit_records)
            .where(r.chain == log.chain, r.seq == start)
            .values(principal="someone-else")
        )
        rows = await conn.execute(
            select(audit_records).where(r.chain == log.chain, r.seq >= start).order_by(r.seq)
        )
        records = [record_from_row(row) for row in rows.mappings()]
        prev = records[0].prev_hash
        for record in records:
            digest = record_hash(prev, record.body())
            await conn.execute(
                update(audit_records)
                .where(r.chain == log.chain, r.seq == record.seq)
                .values(prev_hash=prev, hash=digest)
            )
            prev = digest
        await conn.execute(update(audit_chains).where(h.chain == log.chain).values(hash=prev))


async def test_a_cut_tail_with_its_head_rewound_contradicts_the_witness(
    database_url: str, tmp_path: Path
) -> None:
    a, b = await _two_chains(database_url, 5)
    try:
        code, said = await verify_cli(tmp_path, database_url)
        assert code == 0 and "audit log OK" in said and "chain a-0: head seq 5" in said, said
        await _cut_tail(a, keep=3)
    finally:
        await a.aclose()
        await b.aclose()
    code, said = await verify_cli(tmp_path, database_url)
    assert code == 1, said
    # b-0's record 1 is its own entry; record 2 the witness record of a-0 at 5.
    assert "BROKEN at chain a-0 record 5: missing: cut from the tail" in said, said
    assert "chain b-0 record 2 witnessed it" in said and "the chain now ends at 3" in said


async def test_a_chain_rewritten_end_to_end_contradicts_the_witness(database_url: str) -> None:
    a, b = await _two_chains(database_url, 5)
    try:
        await _rewrite(a, start=1)
        report = await verify_log(a.engine)
    finally:
        await a.aclose()
        await b.aclose()
    # a-0 walks clean on its own: only b-0's witness record shows the rewrite.
    assert [x.chain for x in report.breaks] == ["a-0"], report.breaks
    assert report.breaks[0].seq == 5 and report.breaks[0].reason.startswith("rewritten")
    assert report.checked == 5 + 2


async def test_an_unwitnessed_cut_is_not_claimed_as_witnessed(database_url: str) -> None:
    # The witness vouches for what it saw, nothing more: a cut past its last look is for
    # signed tree heads to catch. The check must not cry wolf either.
    a, b = await _two_chains(database_url, 3)
    try:
        for i in range(3):
            await a.append(make_entry(10 + i))
        await _cut_tail(a, keep=4)
        report = await verify_log(a.engine)
    finally:
        await a.aclose()
        await b.aclose()
    assert report.ok, report.breaks


async def test_witnessing_costs_at_most_one_record_per_interval(database_url: str) -> None:
    a = await SqlAuditLog.open(database_url, KEY, chain="a-0", witness_interval_s=60)
    b = await SqlAuditLog.open(database_url, KEY, chain="b-0", witness_interval_s=60)
    try:
        for i in range(20):  # 20 commits of each, the other chain moving between them
            await a.append(make_entry(i))
            await b.append(make_entry(i))
        assert b.commits == 20 and b.witness.written == 1
        r = audit_records.c
        async with b.engine.connect() as conn:
            witness = (
                await conn.execute(
                    select(r.seq).where(r.chain == "b-0", r.operation == WITNESS_OPERATION)
                )
            ).all()
        assert len(witness) == 1
        report = await verify_log(b.engine)
        assert report.ok and {c.chain: c.size for c in report.chains} == {"a-0": 20, "b-0": 21}
    finally:
        await a.aclose()
        await b.aclose()


async def test_pages_and_export_merge_the_chains_by_time(database_url: str) -> None:
    a = await SqlAuditLog.open(database_url, KEY, chain="a-0", witness_interval_s=0)
    b = await SqlAuditLog.open(database_url, KEY, chain="b-0", witness_interval_s=0)
    try:
        # Times interleave across the chains, and two records share one time.
        for n in (3, 1, 7, 5, 5):
            await a.append(make_entry(n))
        for n in (2, 8, 4, 6, 5):
            await b.append(make_entry(n))
        search = AuditSearch(a.engine, KEY)
        debtor = AuditFilter(debtor_id="110101199003071234")
        exported = [r async for r in search.stream(debtor, chunk=3)]
        pages: list[StoredRecord] = []
        before: Position | None = None
        while True:
            page, more = await search.page(debtor, first=3, before=before)
            pages += page
            if not more:
                break
            before = Position.of(page[-1])
    finally:
        await a.aclose()
        await b.aclose()
    assert all(r.operation != WITNESS_OPERATION for r in exported)  # the log's own records
    assert len(exported) == 10 and len({(r.chain, r.seq) for r in exported}) == 10
    keys = [(r.time, r.chain, r.seq) for r in exported]
    assert keys == sorted(keys)
    assert [int(r.request_id.removeprefix("req-")) for r in exported] == [
        1,
        2,
        3,
        4,
        5,
        5,
        5,
        6,
        7,
        8,
    ]
    assert pages == exported[::-1]  # newest first, page by page, nothing lost or repeated
