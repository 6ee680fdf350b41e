"""The GraphQL-over-HTTP specification, checked by its own audit (npm ``graphql-http``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import audit_records
from tests.harness import open_stack
from tests.servers.graphql_http import run_audits


async def test_every_graphql_http_audit_passes(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    async with open_stack(tmp_path, cases, mocks=mocks) as gw:
        results = await _audit(gw.url, gw.token())
        failed = [r for r in results if r["status"] != "ok"]
        assert not failed, failed
        # MUST and SHOULD alike (and the MAYs): every audit the package has ran and passed.
        assert len(results) > 50
        # Each audit request, accepted or refused, left exactly one record of its own.
        records = await audit_records(gw.settings)
        assert len(records) >= len(results)
        assert max(Counter(r.request_id for r in records).values()) == 1
        assert await gw.total_requests() == 0


async def _audit(url: str, token: str) -> list[dict[str, object]]:
    # The audits are a Node.js process; the gateway under test runs on this event loop.
    return await asyncio.to_thread(run_audits, url, token)
