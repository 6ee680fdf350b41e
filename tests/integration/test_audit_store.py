"""The SQL audit log on SQLite and PostgreSQL: group commit, tamper evidence, failing closed.

Chains and witnessing between several writers: ``test_audit_chains.py``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from gateway.audit.opening import prepare_tables
from gateway.audit.sqlite_writer import SqliteWriter
from gateway.audit.store import SqlAuditLog, open_audit_engine
from gateway.audit.tables import audit_chains, audit_index, audit_records
from gateway.audit.verify import verify_log
from gateway.audit.witness import WITNESS_OPERATION, WitnessState
from gateway.errors import AuditUnavailable
from tests.audit_entries import make_entry

KEY = b"k" * 32
CHAIN = "a-0"


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[SqlAuditLog]:
    opened = await SqlAuditLog.open(database_url, KEY, chain=CHAIN, max_batch=64)
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_concurrent_appends_share_commits_and_keep_one_chain(log: SqlAuditLog) -> None:
    seqs = await asyncio.gather(*(log.append(make_entry(i)) for i in range(300)))
    assert sorted(seqs) == list(range(1, 301))
    assert log.appended == 300
    assert log.commits <= 300 // 10, f"{log.commits} commits for 300 concurrent appends"
    report = await verify_log(log.engine)
    assert report.ok and report.checked == 300
    assert [(c.chain, c.size) for c in report.chains] == [(CHAIN, 300)]


async def test_two_writers_of_one_chain_serialise_on_its_head(
    log: SqlAuditLog, database_url: str
) -> None:
    other = await SqlAuditLog.open(database_url, KEY, chain=CHAIN, max_batch=8)
    try:
        seqs = await asyncio.gather(
            *(log.append(make_entry(i)) for i in range(60)),
            *(other.append(make_entry(i)) for i in range(60, 120)),
        )
    finally:
        await other.aclose()
    assert sorted(seqs) == list(range(1, 121))
    report = await verify_log(log.engine)
    assert report.ok and report.checked == 120 and len(report.chains) == 1


async def test_writers_of_two_chains_witness_each_other(
    log: SqlAuditLog, database_url: str
) -> None:
    other = await SqlAuditLog.open(database_url, KEY, chain="b-0", witness_interval_s=0)
    try:
        for i in range(3):
            await log.append(make_entry(i))
            await other.append(make_entry(i))
    finally:
        await other.aclose()
    report = await verify_log(log.engine)
    assert report.ok, report.breaks
    assert {c.chain for c in report.chains} == {CHAIN, "b-0"}
    async with log.engine.connect() as conn:
        witnessed = (
            await conn.execute(
                select(audit_records.c.chain, audit_records.c.detail).where(
                    audit_records.c.operation == WITNESS_OPERATION
                )
            )
        ).all()
    # b-0 saw a-0 at 1, 2 and 3; a-0 looks once per 0.25 s, so at most once here.
    assert [d["witness"][CHAIN][0] for c, d in witnessed if c == "b-0"] == [1, 2, 3]
    assert len([c for c, _ in witnessed if c == CHAIN]) <= 1
    assert other.witness.written == 3


async def _tamper(log: SqlAuditLog, how: str) -> None:
    r = audit_records.c
    mine = r.chain == log.chain
    async with log.engine.begin() as conn:
        if how == "edit":
            await conn.execute(
                update(audit_records).where(mine, r.seq == 4).values(outcome="refused")
            )
        elif how == "delete":
            await conn.execute(delete(audit_records).where(mine, r.seq == 4))
        elif how == "reorder":
            await conn.execute(update(audit_records).where(mine, r.seq == 4).values(seq=-4))
            await conn.execute(update(audit_records).where(mine, r.seq == 5).values(seq=4))
            await conn.execute(update(audit_records).where(mine, r.seq == -4).values(seq=5))
        elif how == "unindex":
            await conn.execute(delete(audit_index).where(audit_index.c.seq == 4))
        elif how == "truncate":
            await conn.execute(delete(audit_records).where(mine, r.seq >= 4))


@pytest.mark.parametrize(
    ("how", "broken"),
    [("edit", 4), ("delete", 4), ("reorder", 4), ("unindex", 4), ("truncate", 4)],
)
async def test_tampering_names_the_first_broken_record(
    log: SqlAuditLog, how: str, broken: int
) -> None:
    for i in range(8):
        await log.append(make_entry(i))
    assert (await verify_log(log.engine)).ok
    await _tamper(log, how)
    report = await verify_log(log.engine)
    assert report.broken is not None and report.broken.seq == broken, report
    assert report.broken.chain == CHAIN
    assert report.checked == broken - 1


async def test_an_anchor_catches_a_rewritten_chain(log: SqlAuditLog) -> None:
    for i in range(5):
        await log.append(make_entry(i))
    before = await verify_log(log.engine)
    anchor = (CHAIN, before.chains[0].size, before.chains[0].head_hash)
    assert (await verify_log(log.engine, anchors=[anchor])).ok
    async with log.engine.begin() as conn:
        await conn.execute(update(audit_chains).values(hash="f" * 64))
        await conn.execute(
            update(audit_records).where(audit_records.c.seq == 5).values(hash="f" * 64)
        )
    report = await verify_log(log.engine, anchors=[anchor])
    assert report.broken is not None and report.broken.seq == 5


async def test_a_failed_write_fails_every_waiter_then_recovers(log: SqlAuditLog) -> None:
    await log.append(make_entry(0))
    async with log.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_chains RENAME TO audit_chains_gone"))
    results = await asyncio.gather(
        *(log.append(make_entry(i)) for i in range(1, 6)), return_exceptions=True
    )
    assert all(isinstance(r, AuditUnavailable) for r in results), results
    assert not log.healthy
    async with log.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_chains_gone RENAME TO audit_chains"))
    assert await log.append(make_entry(9)) == 2
    assert log.healthy
    report = await verify_log(log.engine)
    assert report.ok and report.checked == 2


async def test_records_without_a_head_refuse_to_open(log: SqlAuditLog, database_url: str) -> None:
    await log.append(make_entry(0))
    async with log.engine.begin() as conn:
        await conn.execute(delete(audit_chains))
    with pytest.raises(AuditUnavailable, match="no head"):
        await SqlAuditLog.open(database_url, KEY, chain=CHAIN)
    report = await verify_log(log.engine)
    assert report.broken is not None and report.broken.chain == CHAIN
    assert "head row is missing" in report.broken.reason


async def test_close_commits_what_is_queued(database_url: str) -> None:
    log = await SqlAuditLog.open(database_url, KEY, chain=CHAIN)
    pending = [asyncio.ensure_future(log.append(make_entry(i))) for i in range(20)]
    await asyncio.sleep(0)
    await log.aclose()
    assert sorted(await asyncio.gather(*pending)) == list(range(1, 21))
    with pytest.raises(AuditUnavailable):
        await log.append(make_entry(99))


async def _sqlite_log(path: Path, *, busy_timeout_s: float) -> SqlAuditLog:
    engine = open_audit_engine(f"sqlite+aiosqlite:///{path}")
    await prepare_tables(engine, CHAIN)
    witness = WitnessState(CHAIN, 0.25)
    writer = SqliteWriter(str(path), CHAIN, witness, busy_timeout_s=busy_timeout_s)
    await writer.open()
    return SqlAuditLog(engine, KEY, writer, chain=CHAIN, witness=witness)


async def test_sqlite_appends_wait_for_another_writer_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = await _sqlite_log(path, busy_timeout_s=30)
    writer = log._batches
    assert isinstance(writer, SqliteWriter)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        pending = asyncio.gather(*(log.append(make_entry(i)) for i in range(10)))
        for _ in range(1000):  # the loop keeps running while the writer waits
            if writer.lock_waits >= 3:
                break
            await asyncio.sleep(0.005)
        assert writer.lock_waits >= 3 and not pending.done()
        other.execute("COMMIT")
        assert sorted(await pending) == list(range(1, 11))
        assert log.commits == 1 and log.appended == 10
        report = await verify_log(log.engine)
        assert report.ok and report.checked == 10
    finally:
        other.close()
        await log.aclose()


async def test_sqlite_lock_never_released_fails_closed_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = await _sqlite_log(path, busy_timeout_s=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        results = await asyncio.gather(
            *(log.append(make_entry(i)) for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, AuditUnavailable) for r in results), results
        assert not log.healthy
        other.execute("ROLLBACK")
        assert await log.append(make_entry(3)) == 1
        assert log.healthy
        report = await verify_log(log.engine)
        assert report.ok and report.checked == 1
    finally:
        other.close()
        await log.aclose()
