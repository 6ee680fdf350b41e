"""Opening the audit database: the engine, its tables and head rows, and on SQLite with a
file per writer, which file a writer's chain is kept in (``gateway/audit/chain_files.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Connection, event, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.audit.chain import chain_genesis
from gateway.audit.chain_files import (
    MAX_FILES,
    chain_file,
    chain_files,
    keep_attached,
    sqlite_path,
)
from gateway.audit.start_check import HeadSource, refuse_quiet_restart
from gateway.audit.tables import DEBTOR, audit_chains, audit_index, audit_metadata, audit_records
from gateway.audit.writer import WRITER_OPTION, listen_sqlite
from gateway.errors import AuditUnavailable
from gateway.store.cases import SchemaBehind

__all__ = ["open_audit_engine", "prepare_tables", "writer_database"]

logger = logging.getLogger("liandong.audit")

_DDL_LOCK = 0x6C64617564697400  # PostgreSQL advisory lock key serialising the audit DDL


def open_audit_engine(url: str, *, chain_files: bool = True) -> AsyncEngine:
    """An engine for the audit database; SQLite gets WAL, FULL sync and explicit BEGINs, and
    (unless ``chain_files`` is False) reads the per-writer chain files beside the main file
    as one log (``gateway/audit/chain_files.py``)."""
    main = sqlite_path(url)
    if main is not None:
        main.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        listen_sqlite(engine.sync_engine)
    if main is not None and chain_files:

        def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            keep_attached(dbapi_connection, record.info, main)

        event.listen(engine.sync_engine, "checkout", checkout)
    return engine


def _check_columns(conn: Connection) -> None:
    # create_all adds tables, never columns: a log made by an earlier version would fail
    # every append (and so every request) at the first column it lacks. Refuse to open.
    have = {c["name"] for c in inspect(conn).get_columns("audit_records")}
    missing = [c.name for c in audit_records.columns if c.name not in have]
    if missing:
        raise SchemaBehind(
            f"the audit log was made by an earlier version (no audit_records."
            f"{', audit_records.'.join(missing)}): run `liandong db upgrade` first"
        )
    # Index rows per debtor key (before audit_0004) would hide their records from look-ups
    # by debtor, which now go through debtor sets.
    i = audit_index.c
    if conn.execute(select(i.seq).where(i.kind == DEBTOR).limit(1)).first() is not None:
        raise SchemaBehind(
            "the audit log indexes debtors one row per key (an earlier version): "
            "run `liandong db upgrade` first"
        )


async def prepare_tables(
    engine: AsyncEngine,
    chain: str,
    *,
    head: bool = True,
    check: bool = True,
    heads: HeadSource | None = None,
) -> bool:
    """Create missing tables; unless ``head`` is False, also ``chain``'s head row. Return
    whether the chain has a head row in this database (it had one, or has one now). Unless
    ``check`` is False, first refuse a chain that holds less than was seen of it, by the
    other chains or the witness at ``heads`` (``gateway/audit/start_check.py``): ``engine``
    then reads the whole log."""
    # Workers opening a new log together would race CREATE TABLE and the loser would stop
    # its gateway: take the database's write lock first (BEGIN IMMEDIATE on SQLite through
    # the writer option, a transaction-scoped advisory lock on PostgreSQL).
    async with engine.connect() as plain:
        conn = await plain.execution_options(**{WRITER_OPTION: True})
        async with conn.begin():
            if engine.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DDL_LOCK})
            await conn.run_sync(audit_metadata.create_all)
            await conn.run_sync(_check_columns)
    if check:
        await refuse_quiet_restart(engine, chain, heads)
    h = audit_chains.c
    async with engine.begin() as conn:
        found = (await conn.execute(select(h.seq).where(h.chain == chain))).first()
        if found is not None:
            return True
        last = (
            await conn.execute(
                select(func.max(audit_records.c.seq)).where(audit_records.c.chain == chain)
            )
        ).scalar()
        if last is not None:
            # Records without a head: someone removed it. Starting over would hide that.
            raise AuditUnavailable(
                f"the audit chain {chain} has records but no head row; run audit verify"
            )
    if not head:
        return False
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(audit_chains), {"chain": chain, "seq": 0, "hash": chain_genesis(chain)}
            )
    except IntegrityError:
        pass  # another process writing this chain made it first
    return True


async def writer_database(
    url: str, chain: str, *, file_per_writer: bool = True, heads: HeadSource | None = None
) -> str:
    """Where ``chain`` is written on SQLite; returns the URL. A chain stays where it is: in
    the main file (a log from before chain files, or kept with ``file_per_writer`` off) or
    in its own file. A new chain gets its own file, made now, with ``file_per_writer`` and
    fewer than ``MAX_FILES`` chain files; else its head row goes in the main file."""
    main = sqlite_path(url)
    assert main is not None
    own = chain_file(main, chain)
    plain = open_audit_engine(url, chain_files=False)
    try:
        # The main file always exists with its tables: readers open it and attach the rest.
        in_main = await prepare_tables(plain, chain, head=False, check=False)
        await _refuse_quiet_restart(url, chain, heads)
        if in_main:
            return url
        if not own.exists() and not (file_per_writer and len(chain_files(main)) < MAX_FILES):
            if file_per_writer:
                logger.warning(
                    "%d audit chain files exist; %s begins in the main file", MAX_FILES, chain
                )
            await prepare_tables(plain, chain, check=False)
            return url
    finally:
        await plain.dispose()
    await asyncio.to_thread(own.parent.mkdir, exist_ok=True)
    target = make_url(url).set(database=str(own)).render_as_string(hide_password=False)
    engine = open_audit_engine(target, chain_files=False)
    try:
        await prepare_tables(engine, chain, check=False)
    finally:
        await engine.dispose()
    return target


async def _refuse_quiet_restart(url: str, chain: str, heads: HeadSource | None) -> None:
    # Before the chain's file or head row is made: what the other files and the witness
    # say of it is read across the whole log (the main file and every chain file).
    reader = open_audit_engine(url)
    try:
        await refuse_quiet_restart(reader, chain, heads)
    finally:
        await reader.dispose()
