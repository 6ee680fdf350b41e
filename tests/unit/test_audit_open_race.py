"""Several workers opening one new audit database at once must all succeed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import inspect

from gateway.audit.opening import open_audit_engine, prepare_tables


async def _open(url: str) -> None:
    engine = open_audit_engine(url)
    try:
        await prepare_tables(engine, "w-0")
    finally:
        await engine.dispose()


async def test_concurrent_first_opens_do_not_race(tmp_path: Path) -> None:
    for i in range(5):
        url = f"sqlite+aiosqlite:///{tmp_path / f'audit{i}.db'}"
        await asyncio.gather(*(_open(url) for _ in range(4)))
        engine = open_audit_engine(url)
        try:
            async with engine.connect() as conn:
                tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        finally:
            await engine.dispose()
        assert {"audit_records", "audit_chains"} <= set(tables)
