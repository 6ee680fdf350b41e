"""No lock is shared by all writers: two gateway instances on one PostgreSQL audit log keep
answering (and recording) while a third writer's transaction holds its own chain's head."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.audit.store import SqlAuditLog
from gateway.audit.tables import audit_chains
from gateway.audit.verify import verify_log
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_entries import make_entry
from tests.audit_reading import audit_records
from tests.harness import open_stack
from tests.servers.postgres import PostgresServer

DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
KEY = b"k" * 32
EACH = 6  # requests per instance while the third writer is held


async def test_two_instances_commit_while_a_third_writer_holds_its_chain(
    postgres_server: PostgresServer, mocks: RunningMocks, cases: list[CaseRecord], tmp_path: Path
) -> None:
    async with postgres_server.database() as url:
        third = await SqlAuditLog.open(url, KEY, chain="third-0")
        holder = create_async_engine(url)
        instances = [
            open_stack(
                tmp_path / name,
                cases,
                mocks=mocks,
                audit={"database_url": url, "chain_id": name},
            )
            for name in ("gw-a", "gw-b")
        ]
        try:
            async with instances[0] as a, instances[1] as b:
                # Inside the instances, so that the hold ends before they stop (stopping
                # flushes their logs): a failure below fails the test, it does not hang it.
                async with holder.connect() as conn:
                    # The third writer is mid-commit: its chain's head row stays locked.
                    await conn.begin()
                    h = audit_chains.c
                    await conn.execute(select(h.seq).where(h.chain == "third-0").with_for_update())
                    waiting = asyncio.ensure_future(third.append(make_entry(1)))
                    variables = {"id": cases[0].debtor_ids[0], "c": cases[0].number}
                    # A lock shared by all writers would hang the requests until the hold
                    # ends: bound the wait so that the test fails instead.
                    async with asyncio.timeout(120):
                        answers = await asyncio.gather(
                            *(gw.post(DEBTOR, variables) for gw in [a, b] * EACH)
                        )
                    assert [status for status, _ in answers] == [200] * (2 * EACH)
                    assert not waiting.done()  # the third writer is still held
                    await conn.rollback()
                assert await waiting == 1
                settings = a.settings
        finally:
            await third.aclose()
            await holder.dispose()
        records = await audit_records(settings)
        by_chain = {c: sum(1 for r in records if r.chain == c) for c in ("gw-a-0", "gw-b-0")}
        assert by_chain == {"gw-a-0": EACH, "gw-b-0": EACH}, by_chain
        engine = create_async_engine(url)
        try:
            report = await verify_log(engine)
        finally:
            await engine.dispose()
        assert report.ok, report.breaks
        assert {c.chain for c in report.chains} == {"gw-a-0", "gw-b-0", "third-0"}
