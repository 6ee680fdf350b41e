"""Alembic's migrations build exactly the schema the code's ``MetaData`` describes.

Each backend: upgrade empty store and audit databases (``liandong db upgrade``'s code),
then Alembic's ``compare_metadata`` finds no difference, and a second upgrade is a no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, column, delete, insert, inspect, select, table, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.audit.chain import GENESIS, LEGACY_CHAIN, StoredRecord, seal
from gateway.audit.record import prepare
from gateway.audit.store import SqlAuditLog
from gateway.audit.tables import (
    CASE,
    DEBTOR,
    audit_chains,
    audit_index,
    audit_records,
    record_from_row,
    record_to_row,
)
from gateway.audit.verify import verify_log
from gateway.cli.main import main
from gateway.migrations.runner import target, upgrade
from gateway.store.cases import SchemaBehind, Store
from tests.audit_entries import make_entry
from tests.servers.fixtures import DbBackend

KEY = b"k" * 32


def _diff(conn: Connection, metadata: MetaData, version_table: str) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "version_table": version_table}
    )
    return list(compare_metadata(context, metadata))


async def _check(url: str, database: str) -> set[str]:
    metadata, version_table = target(database)
    await upgrade(url, database)
    await upgrade(url, database)  # already at head: nothing to do, no error
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff, metadata, version_table)
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == []
    return tables


async def test_upgrade_builds_the_metadata_schema(database_url: str) -> None:
    tables = await _check(database_url, "store")
    assert {"cases", "restrictions", "assistance_requests", "liandong_store_version"} <= tables
    store = await Store.open(database_url)  # a migrated database opens as it is
    await store.close()


async def test_upgrade_builds_the_audit_schema(db_backend: DbBackend, tmp_path: Path) -> None:
    if db_backend.server is None:
        tables = await _check(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}", "audit")
    else:
        async with db_backend.server.database() as url:
            tables = await _check(url, "audit")
    assert {"audit_records", "audit_index", "audit_chains", "liandong_audit_version"} <= tables


def test_db_upgrade_command_migrates_both(tmp_path: Path, capsys: Any) -> None:
    config = tmp_path / "liandong.toml"
    config.write_text(f'data_dir = "{tmp_path.as_posix()}"\n', encoding="utf-8")
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "store database" in out and "audit database" in out
    assert (tmp_path / "liandong.db").exists() and (tmp_path / "audit.db").exists()


async def test_a_database_the_store_created_is_adopted(database_url: str) -> None:
    store = await Store.open(database_url)  # create_all, as an embedded gateway does
    await store.close()
    tables = await _check(database_url, "store")
    assert "liandong_store_version" in tables


async def test_a_store_behind_its_migrations_refuses_to_open(tmp_path: Path) -> None:
    # create_all adds tables, not columns: an earlier version's database must be upgraded,
    # and the gateway says so at start-up rather than failing at the first query.
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "store", "store_0002")
    with pytest.raises(SchemaBehind) as refused:
        await Store.open(url)
    assert "assistance_requests.reason" in str(refused.value)
    assert "liandong db upgrade" in str(refused.value)
    await upgrade(url, "store")
    store = await Store.open(url)
    await store.close()


def _old_index(record: StoredRecord) -> list[tuple[str, str]]:
    """The index rows of a record before audit_0004: one per case, one per debtor key."""
    return [(CASE, c) for c in dict.fromkeys(record.cases)] + [
        (DEBTOR, k) for k in dict.fromkeys(record.debtor_keys)
    ]


async def _write_old_log(url: str, count: int) -> list[StoredRecord]:
    """A log as the gateway wrote it at audit_0001: one chain, one head row."""
    await upgrade(url, "audit", "audit_0001")
    old: list[StoredRecord] = []
    prev = GENESIS
    for i in range(1, count + 1):
        fields = {k: v for k, v in prepare(make_entry(i), KEY).items() if k != "client_request_id"}
        old.append(seal(fields, i, prev))
        prev = old[-1].hash
    unknown = ("client_request_id", "chain")
    head = table("audit_head", column("id"), column("seq"), column("hash"))
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            columns = audit_records.c
            for record in old:
                row = {k: v for k, v in record_to_row(record).items() if k not in unknown}
                records = table("audit_records", *(column(k, columns[k].type) for k in row))
                await conn.execute(insert(records), row)
                index = [{"kind": k, "value": v, "seq": record.seq} for k, v in _old_index(record)]
                await conn.execute(insert(table("audit_index", *map(column, index[0]))), index)
            await conn.execute(insert(head), {"id": 1, "seq": count, "hash": prev})
    finally:
        await engine.dispose()
    return old


async def test_a_log_from_before_chains_upgrades_verifies_and_is_witnessed(
    database_url: str,
) -> None:
    old = await _write_old_log(database_url, 3)
    await upgrade(database_url, "audit", "audit_0002")
    with pytest.raises(SchemaBehind, match="chain"):
        await SqlAuditLog.open(database_url, KEY, chain="w-0")
    await upgrade(database_url, "audit")
    engine = create_async_engine(database_url)
    try:
        report = await verify_log(engine)
        assert report.ok, report.breaks
        assert [(c.chain, c.size, c.head_hash) for c in report.chains] == [
            (LEGACY_CHAIN, 3, old[-1].hash)
        ]
        # A new writer opens its own chain beside the old one and witnesses it at once.
        log = await SqlAuditLog.open(database_url, KEY, chain="w-0", witness_interval_s=0)
        try:
            await log.append(make_entry(4, client_request_id="client-4"))
        finally:
            await log.aclose()
        report = await verify_log(engine)
        assert report.ok, report.breaks
        assert report.checked == 5  # three old, the new record, its chain's witness record
        records = await audit_records_of(engine)
        assert [(r.chain, r.seq, r.client_request_id) for r in records[:4]] == [
            (LEGACY_CHAIN, 1, None),
            (LEGACY_CHAIN, 2, None),
            (LEGACY_CHAIN, 3, None),
            ("w-0", 1, "client-4"),
        ]
        # Cutting the old chain's last record and rewinding its head now contradicts w-0.
        r, h = audit_records.c, audit_chains.c
        async with engine.begin() as conn:
            await conn.execute(delete(audit_records).where(r.chain == LEGACY_CHAIN, r.seq == 3))
            i = audit_index.c
            await conn.execute(delete(audit_index).where(i.chain == LEGACY_CHAIN, i.seq == 3))
            await conn.execute(
                update(audit_chains).where(h.chain == LEGACY_CHAIN).values(seq=2, hash=old[1].hash)
            )
        report = await verify_log(engine)
        assert report.broken is not None
        assert (report.broken.chain, report.broken.seq) == (LEGACY_CHAIN, 3)
        assert "chain w-0 record 2 witnessed it" in report.broken.reason
    finally:
        await engine.dispose()


async def audit_records_of(engine: AsyncEngine) -> list[StoredRecord]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(audit_records).order_by(audit_records.c.chain, audit_records.c.seq)
            )
        ).all()
    return [record_from_row(r._mapping) for r in rows]
