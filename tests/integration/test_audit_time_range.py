"""A time range finds the records at its very bounds, however the backend keeps times.

On SQLite times are text, and the writer's rendering of an instant ('08:00:03+00:00') and
the one a bound filter value gets ('08:00:03.000000') sort apart: a ``since`` at exactly a
record's time used to miss it. ``since`` is inclusive and ``until`` exclusive, to the
microsecond.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.audit.query import AuditFilter, AuditSearch
from gateway.audit.store import SqlAuditLog
from tests.audit_entries import make_entry

KEY = b"k" * 32
START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
# Whole seconds, and instants with microseconds (each renders differently as text).
OFFSETS = [timedelta(seconds=s, microseconds=us) for s in range(3) for us in (0, 1, 500_000)]


async def _numbers(search: AuditSearch, where: AuditFilter) -> list[int]:
    return [int(r.request_id.removeprefix("req-")) async for r in search.stream(where)]


@pytest.mark.parametrize("at", range(len(OFFSETS)))
async def test_since_and_until_hold_at_a_records_exact_time(database_url: str, at: int) -> None:
    log = await SqlAuditLog.open(database_url, KEY, chain="a-0")
    try:
        for n, offset in enumerate(OFFSETS):
            await log.append(make_entry(n, time=START + offset))
        search = AuditSearch(log.engine, KEY)
        instant = START + OFFSETS[at]
        since = await _numbers(search, AuditFilter(since=instant))
        until = await _numbers(search, AuditFilter(until=instant))
        only = await _numbers(
            search, AuditFilter(since=instant, until=instant + timedelta(microseconds=1))
        )
        page, _ = await search.page(AuditFilter(since=instant, until=instant), first=5)
    finally:
        await log.aclose()
    everyone = list(range(len(OFFSETS)))
    assert since == everyone[at:]
    assert until == everyone[:at]
    assert only == [at]
    assert page == []
