"""A record is indexed once for all its debtors (a debtor set), on SQLite and PostgreSQL.

Look-ups by debtor find exactly the records that name the debtor, in a log written that way
and in one written one index row per debtor key and then migrated (audit_0004); verify
names a record whose set's member rows were edited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gateway.audit.chain import chain_genesis, seal
from gateway.audit.query import AuditFilter, AuditSearch
from gateway.audit.record import debtor_key, prepare
from gateway.audit.store import SqlAuditLog
from gateway.audit.tables import (
    CASE,
    DEBTOR,
    DEBTOR_SET,
    audit_chains,
    audit_debtor_sets,
    audit_index,
    audit_records,
    record_to_row,
)
from gateway.audit.verify import verify_log
from gateway.migrations.runner import alembic_config, upgrade
from gateway.store.cases import SchemaBehind
from tests.audit_entries import make_entry

KEY = b"k" * 32
CHAIN = "s-0"
A, B, C, D = "110101199003071234", "11010119850512002X", "320312198001010017", "91320000MA1X2Y3Z4A"
# The debtors each record names: two records share a set, one debtor is in three sets.
NAMED: list[tuple[str, ...]] = [(A, B, C), (C, B, A), (A,), (B, D), (), (D,)]


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[SqlAuditLog]:
    opened = await SqlAuditLog.open(database_url, KEY, chain=CHAIN)
    try:
        yield opened
    finally:
        await opened.aclose()


async def _count(engine: AsyncEngine, what: Select[Any]) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(what)).scalar_one())


async def _found(engine: AsyncEngine, debtor: str) -> list[int]:
    records, _ = await AuditSearch(engine, KEY).page(AuditFilter(debtor_id=debtor), first=100)
    return sorted(r.seq for r in records)


def _naming(debtor: str, seqs: Sequence[int] | None = None) -> list[int]:
    at = seqs or range(1, len(NAMED) + 1)
    return [seq for seq, named in zip(at, NAMED, strict=True) if debtor in named]


async def test_a_record_costs_one_index_row_and_a_set_is_stored_once(log: SqlAuditLog) -> None:
    for n, named in enumerate(NAMED):
        await log.append(make_entry(n, debtors=named))
    i, s = audit_index.c, audit_debtor_sets.c
    sets = await _count(log.engine, select(func.count()).where(i.kind == DEBTOR_SET))
    per_key = await _count(log.engine, select(func.count()).where(i.kind == DEBTOR))
    members = await _count(log.engine, select(func.count()).select_from(audit_debtor_sets))
    distinct = await _count(log.engine, select(func.count(s.debtor_set.distinct())))
    assert (sets, per_key) == (5, 0)  # every record naming a debtor, once; the empty one not
    assert (members, distinct) == (3 + 1 + 2 + 1, 4)  # {A,B,C} written once for two records
    for debtor in (A, B, C, D, "110101199001010000"):
        assert await _found(log.engine, debtor) == _naming(debtor), debtor
    report = await verify_log(log.engine)
    assert report.ok and report.checked == len(NAMED)


@pytest.mark.parametrize("edit", ["removed", "added"])
async def test_verify_names_a_record_whose_debtor_set_was_edited(
    log: SqlAuditLog, edit: str
) -> None:
    for i, named in enumerate(NAMED):
        await log.append(make_entry(i, debtors=named))
    s = audit_debtor_sets.c
    async with log.engine.begin() as conn:
        holding_d = select(s.debtor_set).where(s.debtor_key == debtor_key(KEY, D))
        lone_d = [x for x in (await conn.execute(holding_d)).scalars() if await _size(conn, x) == 1]
        assert len(lone_d) == 1
        if edit == "removed":  # hides record 6 from look-ups by D
            await conn.execute(delete(audit_debtor_sets).where(s.debtor_set == lone_d[0]))
        else:  # shows record 6 to look-ups by A
            await conn.execute(
                insert(audit_debtor_sets),
                {"debtor_key": debtor_key(KEY, A), "debtor_set": lone_d[0]},
            )
    report = await verify_log(log.engine)
    assert report.broken is not None
    assert (report.broken.chain, report.broken.seq) == (CHAIN, 6)
    assert "debtor set" in report.broken.reason


async def _size(conn: AsyncConnection, set_id: str) -> int:
    s = audit_debtor_sets.c
    stmt = select(func.count()).where(s.debtor_set == set_id)
    return int((await conn.execute(stmt)).scalar_one())


async def _write_per_key_log(url: str) -> list[int]:
    """``NAMED`` as a gateway wrote it at audit_0003: one index row per debtor key."""
    await upgrade(url, "audit", "audit_0003")
    engine = create_async_engine(url)
    prev, seqs = chain_genesis(CHAIN), []
    try:
        async with engine.begin() as conn:
            for n, named in enumerate(NAMED):
                fields = prepare(make_entry(n, debtors=named), KEY)
                record = seal(fields, n + 1, prev, CHAIN)
                prev = record.hash
                seqs.append(record.seq)
                await conn.execute(insert(audit_records), record_to_row(record))
                rows = [(CASE, c) for c in dict.fromkeys(record.cases)]
                rows += [(DEBTOR, k) for k in dict.fromkeys(record.debtor_keys)]
                await conn.execute(
                    insert(audit_index),
                    [{"kind": k, "value": v, "chain": CHAIN, "seq": record.seq} for k, v in rows],
                )
            await conn.execute(
                insert(audit_chains), {"chain": CHAIN, "seq": len(NAMED), "hash": prev}
            )
    finally:
        await engine.dispose()
    return seqs


async def _per_key_look_up(url: str, debtor: str) -> list[int]:
    # What a look-up by debtor found before audit_0004: the index rows under its key.
    i = audit_index.c
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            stmt = select(i.seq).where(i.kind == DEBTOR, i.value == debtor_key(KEY, debtor))
            return sorted(int(s) for s in (await conn.execute(stmt)).scalars())
    finally:
        await engine.dispose()


async def test_the_migration_finds_the_same_records_for_each_debtor(database_url: str) -> None:
    seqs = await _write_per_key_log(database_url)
    before = {d: await _per_key_look_up(database_url, d) for d in (A, B, C, D)}
    assert before == {d: _naming(d, seqs) for d in (A, B, C, D)}
    with pytest.raises(SchemaBehind, match="db upgrade"):
        await SqlAuditLog.open(database_url, KEY, chain="w-1")
    await upgrade(database_url, "audit")
    engine = create_async_engine(database_url)
    try:
        assert {d: await _found(engine, d) for d in (A, B, C, D)} == before
        i = audit_index.c
        assert await _count(engine, select(func.count()).where(i.kind == DEBTOR)) == 0
        report = await verify_log(engine)
        assert report.ok, report.breaks
        assert report.checked == len(NAMED)
    finally:
        await engine.dispose()
    # The migrated log takes new records, and they share the sets the migration made.
    log = await SqlAuditLog.open(database_url, KEY, chain=CHAIN)
    try:
        members = await _count(log.engine, select(func.count()).select_from(audit_debtor_sets))
        await log.append(make_entry(99, debtors=(B, A, C)))
        after = await _count(log.engine, select(func.count()).select_from(audit_debtor_sets))
        assert after == members == 7
        assert await _found(log.engine, A) == [*_naming(A, seqs), len(NAMED) + 1]
    finally:
        await log.aclose()
    # And back (audit_0003): the per-key rows come back from the sets, the new record's too.
    await _downgrade(database_url, "audit_0003")
    added = len(NAMED) + 1
    assert {d: await _per_key_look_up(database_url, d) for d in (A, B, C, D)} == {
        d: [*before[d], *([added] if d in (A, B, C) else [])] for d in (A, B, C, D)
    }


async def _downgrade(url: str, revision: str) -> None:
    engine = create_async_engine(url)

    def down(conn: Connection) -> None:
        config = alembic_config("audit")
        config.attributes["connection"] = conn
        command.downgrade(config, revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(down)
    finally:
        await engine.dispose()
